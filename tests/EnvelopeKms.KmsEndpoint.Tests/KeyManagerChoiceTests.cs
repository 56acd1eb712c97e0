using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Storage;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>Which key manager the endpoint serves: the container's, or the one the options name.</summary>
public sealed class KeyManagerChoiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static KeyManager NewKms() => KeyManagerFactory.Create(b => b.UseKeyStore(_ => new InMemoryKeyStore())
        .ProtectKeysWithRootKey(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)))
        .Configure(o => o.AccountId = "111122223333"));

    [Fact]
    public async Task The_endpoint_serves_the_key_manager_the_options_name_instead_of_the_containers()
    {
        using var registered = NewKms();
        using var chosen = NewKms();
        await using var host = await EndpointHost.StartAsync(registered, o => o.KeyManager = _ => chosen);
        using var client = host.Client();
        var key = (await client.CreateKeyAsync(new Aws.CreateKeyRequest { Description = "chosen" }, Ct)).KeyMetadata.KeyId;

        Assert.Equal("chosen", (await chosen.DescribeKeyAsync(key, Ct)).Description);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => registered.DescribeKeyAsync(key, Ct));
    }
}
