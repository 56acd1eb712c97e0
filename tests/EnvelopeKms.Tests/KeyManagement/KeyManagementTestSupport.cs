using System.Text;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>Shared helpers of the key-manager tests: names, ARNs and short forms of common calls.</summary>
internal static class Kms
{
    public const string AccountId = "000000000000";
    public const string RootArn = "arn:aws:iam::000000000000:root";
    public const string RoleArn = "arn:aws:iam::000000000000:role/app";
    public const string OtherAccountRootArn = "arn:aws:iam::111122223333:root";

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The key manager under test, seen only through <see cref="IKeyManager"/>.</summary>
    public static IKeyManager Api(this TestKeyManager kms) => kms.Manager;

    /// <summary>A key manager seen only through <see cref="IKeyManager"/>.</summary>
    public static IKeyManager Api(this KeyManager manager) => manager;

    public static string KeyArn(string keyId) => $"arn:aws:kms:local:000000000000:key/{keyId}";

    public static string AliasArn(string aliasName) => $"arn:aws:kms:local:000000000000:{aliasName}";

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static async Task<KeyMetadata> NewKeyAsync(this IKeyManager keyManager, string? description = null, KeyOrigin origin = KeyOrigin.AwsKms)
        => (await keyManager.CreateKeyAsync(new CreateKeyRequest { Description = description, Origin = origin }, Ct)).KeyMetadata;

    public static Task<KeyMetadata> DescribeAsync(this IKeyManager keyManager, string keyId)
        => keyManager.DescribeKeyAsync(keyId, Ct);

    public static async Task<byte[]> EncryptBlobAsync(this IKeyManager keyManager, string keyId, byte[] plaintext, IReadOnlyDictionary<string, string>? context = null)
        => (await keyManager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionContext = context }, Ct)).CiphertextBlob;

    public static async Task<byte[]> DecryptBlobAsync(this IKeyManager keyManager, byte[] blob, IReadOnlyDictionary<string, string>? context = null, string? keyId = null)
    {
        using var response = await keyManager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context, KeyId = keyId }, Ct);
        return [.. response.Plaintext];
    }

    public static Task CreateAliasAsync(this IKeyManager keyManager, string aliasName, string targetKeyId)
        => keyManager.CreateAliasAsync(new CreateAliasRequest { AliasName = aliasName, TargetKeyId = targetKeyId }, Ct);

    public static async Task<List<AliasListEntry>> AllAliasesAsync(this IKeyManager keyManager, string? keyId = null)
    {
        var all = new List<AliasListEntry>();
        string? marker = null;
        do
        {
            var page = await keyManager.ListAliasesAsync(new ListAliasesRequest { KeyId = keyId, Marker = marker, Limit = 100 }, Ct);
            all.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);
        return all;
    }

    public static async Task<List<string>> AllKeyIdsAsync(this IKeyManager keyManager)
    {
        var all = new List<string>();
        string? marker = null;
        do
        {
            var page = await keyManager.ListKeysAsync(new ListKeysRequest { Marker = marker, Limit = 1000 }, Ct);
            all.AddRange(page.Items.Select(i => i.KeyId));
            marker = page.NextMarker;
        }
        while (marker is not null);
        return all;
    }

    public static async Task<IReadOnlyList<KeyTag>> AllTagsAsync(this IKeyManager keyManager, string keyId)
    {
        var all = new List<KeyTag>();
        string? marker = null;
        do
        {
            var page = await keyManager.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId, Marker = marker }, Ct);
            all.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);
        return all;
    }

    /// <summary>A copy of <paramref name="blob"/> whose header names <paramref name="keyId"/> (same length) instead.</summary>
    public static byte[] WithHeaderKeyId(byte[] blob, string keyId)
    {
        var copy = (byte[])blob.Clone();
        Assert.Equal(keyId.Length, copy[2]);
        Encoding.ASCII.GetBytes(keyId, copy.AsSpan(3, keyId.Length));
        return copy;
    }
}
