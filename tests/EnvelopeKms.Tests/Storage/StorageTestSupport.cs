using EnvelopeKms.Storage;
using System.Security.Cryptography;

namespace EnvelopeKms.Tests.Storage;

/// <summary>A fresh temporary directory, deleted (with everything in it) on dispose.</summary>
internal sealed class TemporaryStoreDirectory : IDisposable
{
    public TemporaryStoreDirectory(string purpose = "store")
    {
        Parent = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "envelopekms-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Parent);
        Path = System.IO.Path.Combine(Parent, "store");
    }

    /// <summary>A directory created for this instance; <see cref="Path"/> lives inside it.</summary>
    public string Parent { get; }

    /// <summary>A path inside <see cref="Parent"/> that does not exist yet: the store directory.</summary>
    public string Path { get; }

    public void Dispose()
    {
        try
        {
            RestoreWritable(Parent);
            Directory.Delete(Parent, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temporary directory must not fail a test.
        }
    }

    private static void RestoreWritable(string directory)
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(directory))
        {
            return;
        }

        foreach (var sub in Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories).Prepend(directory))
        {
            File.SetUnixFileMode(sub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

/// <summary>Byte-level views of a store directory.</summary>
internal static class StoreFiles
{
    /// <summary>The SHA-256 of every file under <paramref name="directory"/>, keyed by relative path; directories are listed with an empty hash.</summary>
    public static SortedDictionary<string, string> Snapshot(string directory)
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(directory))
        {
            return snapshot;
        }

        foreach (var sub in Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories))
        {
            snapshot[Path.GetRelativePath(directory, sub) + "/"] = "";
        }

        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            snapshot[Path.GetRelativePath(directory, file)] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        }

        return snapshot;
    }

    /// <summary>Every file under <paramref name="directory"/> with its bytes.</summary>
    public static IEnumerable<(string Path, byte[] Bytes)> ReadAll(string directory)
        => Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => (f, File.ReadAllBytes(f)));

    public static string[] TemporaryFiles(string directory)
        => Directory.Exists(directory) ? Directory.GetFiles(directory, "*.tmp", SearchOption.AllDirectories) : [];
}

/// <summary>Key records for store-level tests.</summary>
internal static class StoreRecords
{
    /// <summary>A symmetric key record with only the required fields set.</summary>
    public static KeyRecord MinimalKey(string keyId, DateTimeOffset? created = null) => new()
    {
        KeyId = keyId,
        AccountId = "000000000000",
        CreationDate = created ?? new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
        KeyState = KeyState.Enabled,
        KeySpec = KeySpec.SymmetricDefault,
        KeyUsage = KeyUsage.EncryptDecrypt,
        Origin = KeyOrigin.AwsKms,
    };
}

/// <summary>Grant records and a sealing view for grant tests.</summary>
internal static class StoreGrants
{
    /// <summary>A test-only root key: the 32 bytes 0x01..0x20.</summary>
    public static EnvelopeKms.Protection.RootKey TestRootKey()
        => new EnvelopeKms.Protection.AesGcmRootKey([.. Enumerable.Range(1, 32).Select(i => (byte)i)], null);

    /// <summary>A sealing view of <paramref name="inner"/> whose root key is open (a sealed store, format 2).</summary>
    public static SealingKeyStore Sealing(IKeyStore inner, EnvelopeKms.Protection.RootKey? rootKey = null)
    {
        var sealing = new SealingKeyStore(inner);
        sealing.Open(rootKey ?? TestRootKey(), RecordSeal.SealedFormatVersion);
        return sealing;
    }

    /// <summary>The <paramref name="n"/>-th grant id: 64 lowercase hex characters.</summary>
    public static string GrantId(int n) => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(n)));

    /// <summary>A grant with the optional fields set.</summary>
    public static GrantRecord Grant(string keyId, string grantId, string grantee = "arn:aws:iam::111122223333:role/Alice") => new()
    {
        KeyId = keyId,
        GrantId = grantId,
        Name = "app-grant",
        GranteePrincipal = grantee,
        RetiringPrincipal = "arn:aws:iam::111122223333:role/Retiree",
        IssuingAccount = "arn:aws:iam::111122223333:root",
        Operations = ["Decrypt", "Encrypt"],
        EncryptionContextSubset = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "a", ["app"] = "b" },
        CreationDate = new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero),
    };
}
