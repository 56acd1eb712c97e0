using System.Text.Json;
using System.Text.Json.Serialization;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Infrastructure;

/// <summary>
/// The committed golden data under <c>tests/EnvelopeKms.Tests/Golden/&lt;folder&gt;/</c>: a manifest
/// (<c>golden.json</c>) and a file key store (<c>store/</c>) protected by a test-only root key.
/// </summary>
internal static class GoldenData
{
    public const string StoreDirectoryName = "store";
    public const string ManifestFileName = "golden.json";

    /// <summary>How manifests are written and read.</summary>
    public static JsonSerializerOptions ManifestJson { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// TEST-ONLY root key: the bytes 0x01..0x20. It protects nothing but the committed golden stores;
    /// it must never be used anywhere else.
    /// </summary>
    public static byte[] TestOnlyRootKey() => [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    /// <summary>A key manager over a (copied) golden store.</summary>
    public static KeyManager OpenStore(string directory)
        => new(new FileSystemKeyStore(directory), new StaticRootKeyProvider(TestOnlyRootKey()));

    /// <summary>
    /// Reads the manifest from the test output directory and copies the committed store to a temporary
    /// directory, so that a test never changes committed data. The caller deletes the copy.
    /// </summary>
    public static (TManifest Manifest, string StoreCopy) Load<TManifest>(string folder)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Golden", folder);
        var manifestPath = Path.Combine(directory, ManifestFileName);
        Assert.True(File.Exists(manifestPath), $"The golden manifest {manifestPath} is missing from the test output.");
        var manifest = JsonSerializer.Deserialize<TManifest>(File.ReadAllBytes(manifestPath), ManifestJson)
            ?? throw new InvalidOperationException($"{manifestPath} is empty.");

        var source = Path.Combine(directory, StoreDirectoryName);
        var copy = Directory.CreateTempSubdirectory($"envelopekms-golden-{folder}-").FullName;
        var files = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var destination = Path.Combine(copy, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return (manifest, copy);
    }
}
