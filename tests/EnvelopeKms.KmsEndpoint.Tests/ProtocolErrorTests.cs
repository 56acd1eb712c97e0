using System.Net;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Aws = Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Storage;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>
/// Errors in AWS's JSON 1.1 shape: protocol errors (unknown operation, malformed body, too large), and
/// the adapter's errors passed through with their code, message and status, which the SDK turns back
/// into its typed exceptions.
/// </summary>
public sealed class ProtocolErrorTests : IAsyncLifetime
{
    private readonly RecordingKmsService _service = RecordingKmsService.Create();
    private KeyManager _kms = null!;
    private EndpointHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kms = KeyManagerFactory.Create(b => b.UseKeyStore(_ => new InMemoryKeyStore()).ProtectKeysWithRootKey(Convert.ToBase64String(new byte[32])));
        _host = await EndpointHost.StartAsync(_kms, o =>
        {
            o.ClientFactory = (_, _, _) => _service.AsService();
            o.MaxRequestBodySize = 4096;
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _kms.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Code, string Message)> SendAsync(string? target, string body, string contentType = "application/x-amz-json-1.1")
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(TestSigner.Request(_host.Url, target, body, contentType: contentType), Ct);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return (response.StatusCode, "", "");
        }

        var (code, message) = await AuthenticationTests.ErrorOf(response);
        return (response.StatusCode, code, message);
    }

    [Theory]
    [InlineData("TrentService.NoSuchOperation")]
    [InlineData("TrentService.")]
    [InlineData("TrentService.listkeys")]
    [InlineData("KMS.ListKeys")]
    [InlineData(null)]
    public async Task A_missing_or_unknown_target_fails_with_UnknownOperationException(string? target)
    {
        var (status, code, _) = await SendAsync(target, "{}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("UnknownOperationException", code);
        Assert.Empty(_service.Requests);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "JSON object")]
    [InlineData("{\"Limit\":\"ten\"}", "'Limit'")]
    [InlineData("{\"Limit\":1.5}", "'Limit'")]
    [InlineData("{\"Marker\":7}", "'Marker'")]
    public async Task A_malformed_body_or_a_member_of_the_wrong_type_fails_with_SerializationException(string body, string inMessage)
    {
        var (status, code, message) = await SendAsync("TrentService.ListKeys", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("SerializationException", code);
        Assert.Contains(inMessage, message, StringComparison.Ordinal);
        Assert.Empty(_service.Requests);
    }

    [Theory]
    [InlineData("{\"KeyId\":\"k\",\"Plaintext\":\"not base64!\"}", "'Plaintext'")]
    [InlineData("{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":[]}", "'EncryptionContext'")]
    [InlineData("{\"KeyId\":\"k\",\"Plaintext\":\"AA==\",\"EncryptionContext\":{\"a\":1}}", "'EncryptionContext'")]
    public async Task A_blob_or_a_map_of_the_wrong_shape_fails_with_SerializationException(string body, string inMessage)
    {
        var (_, code, message) = await SendAsync("TrentService.Encrypt", body);
        Assert.Equal("SerializationException", code);
        Assert.Contains(inMessage, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Members_the_endpoint_does_not_know_and_null_members_are_ignored()
    {
        var (status, _, _) = await SendAsync("TrentService.ListKeys", "{\"Limit\":5,\"FutureMember\":{\"x\":[1]},\"Marker\":null}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(_service.Requests.TryDequeue(out var request));
        Assert.Equal("ListKeysRequest{Limit=5;}", request);
    }

    [Fact]
    public async Task An_empty_body_is_an_empty_request()
    {
        var (status, _, _) = await SendAsync("TrentService.ListKeys", "");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task A_body_that_is_not_AWS_JSON_fails_with_SerializationException()
    {
        var (_, code, _) = await SendAsync("TrentService.ListKeys", "{}", contentType: "text/plain");
        Assert.Equal("SerializationException", code);
    }

    [Fact]
    public async Task A_body_over_the_limit_fails_with_413_and_ValidationException()
    {
        using var client = _host.Client();
        var e = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => client.EncryptAsync(
            new Aws.EncryptRequest { KeyId = "alias/a", Plaintext = new MemoryStream(new byte[4096]) }, Ct));
        Assert.Equal("ValidationException", e.ErrorCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, e.StatusCode);
        Assert.Empty(_service.Requests);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_fails_with_413_without_a_declared_length()
    {
        using var http = new HttpClient();
        using var request = TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}");
        request.Content = new StreamContent(new MemoryStream(new byte[5000]));
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TransferEncodingChunked = true;
        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("ValidationException", (await AuthenticationTests.ErrorOf(response)).Code);
    }

    public static TheoryData<string, HttpStatusCode> AdapterErrors() => new()
    {
        { nameof(NotFoundException), HttpStatusCode.BadRequest },
        { nameof(KMSInvalidStateException), HttpStatusCode.BadRequest },
        { nameof(DisabledException), HttpStatusCode.BadRequest },
        { nameof(InvalidCiphertextException), HttpStatusCode.BadRequest },
        { nameof(IncorrectKeyException), HttpStatusCode.BadRequest },
        { nameof(KMSInternalException), HttpStatusCode.InternalServerError },
    };

    [Theory]
    [MemberData(nameof(AdapterErrors))]
    public async Task An_error_of_the_adapter_that_the_operation_models_arrives_as_the_SDKs_typed_exception_with_its_code_message_and_status(string errorCode, HttpStatusCode status)
    {
        var type = typeof(NotFoundException).Assembly.GetType($"Amazon.KeyManagementService.Model.{errorCode}")!;
        _service.Failure = _ =>
        {
            var e = (AmazonServiceException)Activator.CreateInstance(type, $"The {errorCode} message.")!;
            e.ErrorCode = errorCode;
            e.StatusCode = status;
            return e;
        };

        using var client = _host.Client();
        var thrown = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = new MemoryStream([1, 2, 3]) }, Ct));
        Assert.IsType(type, thrown);
        Assert.Equal(errorCode, thrown.ErrorCode);
        Assert.Equal(status, thrown.StatusCode);
        Assert.Equal($"The {errorCode} message.", thrown.Message);
        Assert.False(string.IsNullOrEmpty(thrown.RequestId));
    }

    [Fact]
    public async Task An_error_the_SDK_has_no_type_for_arrives_with_its_code()
    {
        _service.Failure = _ => new AmazonKeyManagementServiceException("1 validation error detected.") { ErrorCode = "ValidationException", StatusCode = HttpStatusCode.BadRequest };
        using var client = _host.Client();
        var thrown = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal("ValidationException", thrown.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, thrown.StatusCode);
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_KMSInternalException_that_does_not_reveal_its_details()
    {
        _service.Failure = _ => new InvalidOperationException("internal detail that must stay inside");
        using var client = _host.Client();
        var thrown = await Assert.ThrowsAsync<KMSInternalException>(() => client.ListKeysAsync(new Aws.ListKeysRequest(), Ct));
        Assert.Equal(HttpStatusCode.InternalServerError, thrown.StatusCode);
        Assert.DoesNotContain("internal detail", thrown.Message, StringComparison.Ordinal);
        Assert.Contains(_host.Logs.Entries, e => e.Contains("[6004]", StringComparison.Ordinal) && e.Contains("internal detail", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_response_carries_a_request_id()
    {
        using var http = new HttpClient();
        using var ok = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}"), Ct);
        using var failed = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.Nope", "{}"), Ct);
        using var unsigned = await http.SendAsync(TestSigner.Request(_host.Url, "TrentService.ListKeys", "{}", sign: false), Ct);
        var ids = new[] { ok, failed, unsigned }.Select(r => r.Headers.GetValues("x-amzn-RequestId").Single()).ToArray();
        Assert.Equal(3, ids.Distinct().Count());
        Assert.Equal("application/x-amz-json-1.1", ok.Content.Headers.ContentType?.MediaType);
    }
}
