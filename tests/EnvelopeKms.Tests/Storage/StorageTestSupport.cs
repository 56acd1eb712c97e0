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
