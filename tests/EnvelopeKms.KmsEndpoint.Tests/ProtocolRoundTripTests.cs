using System.Reflection;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using EnvelopeKms.AspNetCore.KmsEndpoint;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Storage;
using FsCheck;
using FsCheck.Fluent;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>
/// The JSON 1.1 protocol layer on its own: every operation the AWS SDK knows goes from the official
/// client through the endpoint to a recording stand-in of the adapter and back, with a value in every
/// member of its request and response; both arrive unchanged.
/// </summary>
public sealed class ProtocolRoundTripTests : IAsyncLifetime
{
    private readonly RecordingKmsService _service = RecordingKmsService.Create();
    private KeyManager _kms = null!;
    private EndpointHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kms = KeyManagerFactory.Create(b => b.UseKeyStore(_ => new InMemoryKeyStore()).ProtectKeysWithRootKey(Convert.ToBase64String(new byte[32])));
        _host = await EndpointHost.StartAsync(_kms, o => o.ClientFactory = (_, _, caller) =>
        {
            _service.Caller = caller;
            return _service.AsService();
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _kms.Dispose();
    }

    /// <summary>Every operation of the SDK's IAmazonKeyManagementService (the request-object overloads).</summary>
    public static TheoryData<string> Operations()
    {
        var data = new TheoryData<string>();
        foreach (var name in SdkOperations().Select(m => m.Name[..^"Async".Length]).Order(StringComparer.Ordinal))
        {
            data.Add(name);
        }

        return data;
    }

    private static IEnumerable<MethodInfo> SdkOperations()
        => typeof(IAmazonKeyManagementService).GetMethods()
            .Where(m => m.Name.EndsWith("Async", StringComparison.Ordinal) && m.GetParameters() is [var p, var c]
                && typeof(AmazonWebServiceRequest).IsAssignableFrom(p.ParameterType) && c.ParameterType == typeof(CancellationToken));

    [Fact]
    public void The_endpoint_serves_every_operation_of_the_AWS_SDK()
    {
        var sdk = SdkOperations().Select(m => m.Name[..^"Async".Length]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(56, sdk.Length);
        Assert.Equal(sdk, KmsOperations.All.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Every_member_of_the_request_and_the_response_survives_the_trip_through_the_endpoint(string operation)
    {
        var method = SdkOperations().Single(m => m.Name == operation + "Async");
        var request = ModelValues.Fill(method.GetParameters()[0].ParameterType);
        var expectedRequest = ModelValues.Render(request);

        using var client = _host.Client();
        var task = (Task)method.Invoke(client, [request, Ct])!;
        await task;
        var response = (AmazonWebServiceResponse)task.GetType().GetProperty("Result")!.GetValue(task)!;

        Assert.True(_service.Requests.TryDequeue(out var received));
        Assert.Equal(expectedRequest, received);
        Assert.True(_service.Responses.TryDequeue(out var sent));
        Assert.Equal(ModelValues.Render(sent), ModelValues.Render(response));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.HttpStatusCode);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", response.ResponseMetadata.RequestId);
    }

    [Fact]
    public async Task The_caller_is_the_access_keys_principal_with_the_callers_address_and_an_insecure_transport()
    {
        using var client = _host.Client();
        try
        {
            await client.ListKeysAsync(new Amazon.KeyManagementService.Model.ListKeysRequest(), Ct);
        }
        catch (AmazonServiceException)
        {
            Assert.Fail(string.Join("\n", _host.Logs.Entries));
        }

        Assert.Equal("arn:aws:iam::111122223333:root", _service.Caller!.PrincipalArn);
        Assert.Equal(System.Net.IPAddress.Loopback, _service.Caller.SourceIp);
        Assert.False(_service.Caller.SecureTransport);
    }

    [Fact]
    public void Any_text_and_bytes_survive_the_trip_through_the_SDK_and_the_endpoint()
    {
        // Valid Unicode only (a lone surrogate cannot be sent as UTF-8 by any client).
        var text = ArbMap.Default.GeneratorFor<string>()
            .Where(s => s is not null && System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(s)) == s);
        var context = text.SelectMany(k => text.Select(v => (k, v))).ListOf()
            .Select(pairs => pairs.DistinctBy(p => p.k).ToDictionary(p => p.k, p => p.v));
        var cases = text.Where(s => s.Length > 0)
            .SelectMany(keyId => ArbMap.Default.GeneratorFor<byte[]>().Select(bytes => (keyId, bytes)))
            .SelectMany(c => context.Select(ctx => (c.keyId, c.bytes, ctx)));
        using var client = _host.Client();
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var request = new Amazon.KeyManagementService.Model.EncryptRequest
            {
                KeyId = c.keyId,
                Plaintext = new MemoryStream(c.bytes),
                EncryptionContext = c.ctx,
            };
            var expected = ModelValues.Render(request);
            client.EncryptAsync(request, Ct).GetAwaiter().GetResult();
            return _service.Requests.TryDequeue(out var received) && Equals(received, expected);
        }).QuickCheckThrowOnFailure();
    }
}
