using System.Net;
using System.Text;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Aws = Amazon.KeyManagementService.Model;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Storage;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>
/// SigV4 verification: requests signed by the official AWS SDK are accepted, and every way of getting
/// the signature wrong fails with AWS's error code, which the SDK surfaces as an exception.
/// </summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private readonly RecordingKmsService _service = RecordingKmsService.Create();
    private KeyManager _kms = null!;
    private EndpointHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kms = KeyManagerFactory.Create(b => b.UseKeyStore(_ => new InMemoryKeyStore()).ProtectKeysWithRootKey(Convert.ToBase64String(new byte[32])));
        _host = await StartAsync();
    }

    private Task<EndpointHost> StartAsync(Action<AspNetCore.KmsEndpoint.KmsEndpointOptions>? configure = null, TimeProvider? time = null, string pattern = "/")
        => EndpointHost.StartAsync(_kms, o =>
        {
            o.ClientFactory = (_, _, _) => _service.AsService();
            configure?.Invoke(o);
        }, time: time, pattern: pattern);

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _kms.Dispose();
    }

    private static async Task<AmazonKeyManagementServiceException> FailsAsync(Func<Task> call)
        => await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(call);

    [Fact]
    public async Task A_request_signed_by_the_AWS_SDK_is_accepted()
    {
        using var client = _host.Client();
        var response = await client.ListKeysAsync(new Aws.ListKeysRequest(), Ct);
        Assert.Equal(HttpStatusCode.OK, response.HttpStatusCode);
        Assert.Single(_service.Requests);
    }

    [Fact]
    public async Task A_request_signed_with_the_wrong_secret_fails_with_InvalidSignatureException()
    {
        using var client = _host.Client(secretAccessKey: "not-the-secret-access-key-000000000000000");
        var e = await FailsAsync(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.StartsWith("The request signature we calculated does not match the signature you provided.", e.Message, StringComparison.Ordinal);
        Assert.Empty(_service.Requests);
    }

    [Fact]
    public async Task An_unknown_access_key_fails_with_UnrecognizedClientException()
    {
        using var client = _host.Client(accessKeyId: "AKIAUNKNOWN000000000");
        var e = await FailsAsync(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal("UnrecognizedClientException", e.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Empty(_service.Requests);
    }

    [Fact]
    public async Task A_body_changed_after_signing_fails_with_InvalidSignatureException()
    {
        using var client = _host.Client(wrap: inner => new TamperingHandler(inner, async request =>
        {
            var body = await request.Content!.ReadAsStringAsync();
            var contentType = request.Content.Headers.ContentType;
            request.Content = new StringContent(body.Replace("alias/a", "alias/b", StringComparison.Ordinal), Encoding.UTF8);
            request.Content.Headers.ContentType = contentType;
        }));
        var e = await FailsAsync(() => client.DeleteAliasAsync(new Aws.DeleteAliasRequest { AliasName = "alias/a" }, Ct));
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.Empty(_service.Requests);
    }

    [Theory]
    [InlineData("X-Amz-Target", "TrentService.ListAliases")]
    [InlineData("X-Amz-Date", "20200101T000000Z")]
    [InlineData("Host", "kms.us-east-1.amazonaws.com")]
    public async Task A_signed_header_changed_after_signing_fails(string header, string value)
    {
        using var client = _host.Client(wrap: inner => new TamperingHandler(inner, request =>
        {
            if (header == "Host")
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.Remove(header);
                request.Headers.TryAddWithoutValidation(header, value);
            }

            return Task.CompletedTask;
        }));
        var e = await FailsAsync(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.Empty(_service.Requests);
    }

    [Fact]
    public async Task A_request_signed_more_than_15_minutes_ago_fails_with_Signature_expired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(20));
        await using var host = await StartAsync(time: time);
        using var client = host.Client();
        var e = await FailsAsync(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.StartsWith("Signature expired: ", e.Message, StringComparison.Ordinal);
        Assert.Empty(_service.Requests);
    }

    [Fact]
    public async Task A_request_signed_within_the_clock_skew_is_accepted_and_one_outside_it_is_not()
    {
        using var http = new HttpClient();
        using var recent = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}", DateTimeOffset.UtcNow.AddMinutes(-14)), Ct);
        Assert.Equal(HttpStatusCode.OK, recent.StatusCode);

        using var old = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}", DateTimeOffset.UtcNow.AddMinutes(-16)), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, old.StatusCode);
        Assert.StartsWith("Signature expired", (await ErrorOf(old)).Message, StringComparison.Ordinal);

        using var future = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}", DateTimeOffset.UtcNow.AddMinutes(16)), Ct);
        Assert.Equal("InvalidSignatureException", (await ErrorOf(future)).Code);
    }

    [Fact]
    public async Task A_request_signed_for_a_Region_the_endpoint_does_not_accept_fails_with_InvalidSignatureException()
    {
        await using var host = await StartAsync(o => o.SigningRegions.Add("us-east-1"));
        using var good = host.Client(region: "us-east-1");
        await good.ListKeysAsync(new Aws.ListKeysRequest(), Ct);

        using var client = host.Client(region: "eu-west-1");
        var e = await FailsAsync(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal("InvalidSignatureException", e.ErrorCode);
        Assert.Contains("region", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_request_without_an_Authorization_header_fails_with_MissingAuthenticationTokenException_and_403()
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}", sign: false), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("MissingAuthenticationTokenException", error.Code);
        Assert.Equal("MissingAuthenticationTokenException", response.Headers.GetValues("x-amzn-ErrorType").Single());
    }

    [Theory]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAENDPOINTTEST0001/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date")]
    [InlineData("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAENDPOINTTEST0001/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")]
    [InlineData("AWS4-HMAC-SHA1 Credential=AKIAENDPOINTTEST0001/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")]
    [InlineData("AWS4-HMAC-SHA256 garbage")]
    [InlineData("Bearer abc")]
    public async Task A_malformed_Authorization_header_fails_with_IncompleteSignatureException(string authorization)
    {
        using var http = new HttpClient();
        using var request = TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}");
        request.Headers.Remove("Authorization");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("IncompleteSignatureException", (await ErrorOf(response)).Code);
    }

    [Fact]
    public async Task A_signature_that_does_not_sign_the_host_header_is_refused()
    {
        using var http = new HttpClient();
        using var request = TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}");
        var authorization = request.Headers.GetValues("Authorization").Single();
        request.Headers.Remove("Authorization");
        request.Headers.TryAddWithoutValidation("Authorization", authorization.Replace("SignedHeaders=host;", "SignedHeaders=", StringComparison.Ordinal));
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal("InvalidSignatureException", (await ErrorOf(response)).Code);
    }

    [Fact]
    public async Task An_x_amz_content_sha256_header_that_does_not_match_the_body_fails()
    {
        using var http = new HttpClient();
        using var request = TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}");
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", new string('0', 64));
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal("InvalidSignatureException", (await ErrorOf(response)).Code);
        Assert.Contains("x-amz-content-sha256", (await ErrorOf(response)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_endpoint_also_serves_under_a_path_and_verifies_the_path_in_the_signature()
    {
        await using var host = await StartAsync(pattern: "/kms");
        using var client = host.Client(path: "/kms");
        var response = await client.ListKeysAsync(new Aws.ListKeysRequest(), Ct);
        Assert.Equal(HttpStatusCode.OK, response.HttpStatusCode);
    }

    [Fact]
    public async Task No_secret_appears_in_the_logs_or_in_any_error()
    {
        using (var wrong = _host.Client(secretAccessKey: "not-the-secret-access-key-000000000000000"))
        {
            await FailsAsync(() => wrong.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        }

        using var client = _host.Client();
        await client.ListKeysAsync(new Aws.ListKeysRequest(), Ct);
        var logs = string.Join("\n", _host.Logs.Entries);
        Assert.Contains(EndpointHost.AccessKeyId, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(EndpointHost.SecretAccessKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret-access-key", logs, StringComparison.Ordinal);
    }

    internal static async Task<(string Code, string Message)> ErrorOf(HttpResponseMessage response)
    {
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("x-amzn-RequestId"));
        Assert.Equal("application/x-amz-json-1.1", response.Content.Headers.ContentType?.MediaType);
        var code = json.RootElement.GetProperty("__type").GetString()!;
        Assert.Equal(code, response.Headers.GetValues("x-amzn-ErrorType").Single());
        return (code, json.RootElement.GetProperty("message").GetString()!);
    }
}
