using EnvelopeKms.Authorization;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.Authorization;

/// <summary>Principals and policies the authorization tests share.</summary>
internal static class Principals
{
    public static readonly CallerIdentity Root = CallerIdentity.AccountRoot(Kms.AccountId);
    public static readonly CallerIdentity Admin = new("arn:aws:iam::000000000000:role/admin");
    public static readonly CallerIdentity App = new("arn:aws:iam::000000000000:role/app");
    public static readonly CallerIdentity Auditor = new("arn:aws:iam::000000000000:role/auditor");
    public static readonly CallerIdentity Partner = new("arn:aws:iam::111122223333:role/partner");
    public static readonly CallerIdentity PartnerRoot = CallerIdentity.AccountRoot("111122223333");

    /// <summary>The seed's example: an administrator with <c>kms:*</c>, an application role with Encrypt and GenerateDataKey only.</summary>
    public const string SeedPolicy = """
        {
          "Version": "2012-10-17",
          "Statement": [
            { "Sid": "Admin", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::000000000000:role/admin" }, "Action": "kms:*", "Resource": "*" },
            { "Sid": "App", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::000000000000:role/app" },
              "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*" }
          ]
        }
        """;

    public static TestKeyManager WithIdentityPolicies(out InMemoryIdentityPolicies identities)
    {
        identities = new InMemoryIdentityPolicies();
        return new TestKeyManager(authorizer: new KeyPolicyAuthorizer(Kms.AccountId, "aws", identities));
    }

    public static async Task<KeyMetadata> KeyWithPolicyAsync(this IKeyManager km, string policy, bool bypass = false)
        => (await km.CreateKeyAsync(new CreateKeyRequest { Description = "policy test", Policy = policy, BypassPolicyLockoutSafetyCheck = bypass }, Kms.Ct)).KeyMetadata;

    public static Task<EncryptResponse> EncryptAsAsync(this IKeyManager km, CallerIdentity caller, string keyId, IReadOnlyDictionary<string, string>? context = null)
        => km.EncryptAsync(new EncryptRequest { Caller = caller, KeyId = keyId, Plaintext = new byte[] { 1, 2, 3 }, EncryptionContext = context }, Kms.Ct);

    public static async Task DecryptAsAsync(this IKeyManager km, CallerIdentity caller, byte[] blob, IReadOnlyDictionary<string, string>? context = null)
        => (await km.DecryptAsync(new DecryptRequest { Caller = caller, CiphertextBlob = blob, EncryptionContext = context }, Kms.Ct)).Dispose();
}
