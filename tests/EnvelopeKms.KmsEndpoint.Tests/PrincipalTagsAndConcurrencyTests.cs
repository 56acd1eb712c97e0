using System.Text;
using Amazon.KeyManagementService;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Storage;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>Principal tags of an access key reach policy conditions; many clients at once are served independently.</summary>
public sealed class PrincipalTagsAndConcurrencyTests : IAsyncLifetime
{
    private const string Account = "111122223333";
    private const string TaggedKeyId = "AKIATAGGED0000000001";
    private const string UntaggedKeyId = "AKIAUNTAGGED00000001";
    private const string Secret = "tagged-role-secret-access-key-0000000000";
    private KeyManager _kms = null!;
    private EndpointHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kms = KeyManagerFactory.Create(b => b.UseKeyStore(_ => new InMemoryKeyStore())
            .ProtectKeysWithRootKey(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)))
            .Configure(o => o.AccountId = Account));
        _host = await EndpointHost.StartAsync(_kms, o => o
            .AddAccessKey(TaggedKeyId, Secret, new CallerIdentity($"arn:aws:iam::{Account}:role/tagged")
            {
                Tags = new Dictionary<string, string> { ["team"] = "payments" },
            })
            .AddAccessKey(UntaggedKeyId, Secret, $"arn:aws:iam::{Account}:role/untagged"));
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _kms.Dispose();
    }

    [Fact]
    public async Task A_policy_condition_on_a_principal_tag_sees_the_tags_of_the_access_keys_principal()
    {
        using var admin = _host.Client();
        var key = (await admin.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        var policy = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::ACCOUNT:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"Team","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*",
               "Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments","aws:PrincipalAccount":"ACCOUNT"}}}]}
            """.Replace("ACCOUNT", Account, StringComparison.Ordinal);
        await admin.PutKeyPolicyAsync(key, policy, "default", Ct);

        using var tagged = _host.Client(TaggedKeyId, Secret);
        await tagged.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = new MemoryStream([1]) }, Ct);
        using var untagged = _host.Client(UntaggedKeyId, Secret);
        var denied = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(
            () => untagged.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = new MemoryStream([1]) }, Ct));
        Assert.Equal("AccessDeniedException", denied.ErrorCode);
    }

    [Fact]
    public async Task Many_concurrent_requests_from_several_clients_each_get_their_own_answer()
    {
        using var admin = _host.Client();
        var key = (await admin.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        using var other = _host.Client();
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(async i =>
        {
            var client = i % 2 == 0 ? admin : other;
            var message = $"message {i}";
            var context = new Dictionary<string, string> { ["i"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var blob = (await client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = new MemoryStream(Encoding.UTF8.GetBytes(message)), EncryptionContext = context }, Ct)).CiphertextBlob;
            var plain = (await client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = blob, EncryptionContext = context }, Ct)).Plaintext;
            return (message, Encoding.UTF8.GetString(plain.ToArray()));
        }));
        Assert.All(results, r => Assert.Equal(r.message, r.Item2));
    }
}
