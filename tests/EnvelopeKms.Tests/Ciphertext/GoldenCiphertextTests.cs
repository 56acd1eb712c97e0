using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>
/// Golden ciphertexts (issue 2, item 4): ciphertexts made by version 1 and committed with the file
/// store that holds their key, under <c>tests/EnvelopeKms.Tests/Golden/v1/</c>, must decrypt in every
/// later version. Never regenerate a committed set: a new format gets a new folder (<c>v2</c>, ...),
/// and every older folder keeps being tested.
/// </summary>
/// <remarks>
/// To create a new set, run the explicit generator once and commit its output:
/// <c>dotnet test tests/EnvelopeKms.Tests --filter "FullyQualifiedName~Generate_golden_ciphertexts" -- xUnit.Explicit=only</c>.
/// </remarks>
public sealed class GoldenCiphertextTests
{
    /// <summary>The folder the explicit generator writes. Change it only when the format changes, and add the new folder to <see cref="CommittedVersions"/>.</summary>
    private const string GeneratorVersion = "v1";
    private const string StoreDirectoryName = GoldenData.StoreDirectoryName;
    private const string ManifestFileName = GoldenData.ManifestFileName;
    private const string AliasName = "alias/golden-v1";

    private static byte[] TestOnlyRootKey() => GoldenData.TestOnlyRootKey();

    private static JsonSerializerOptions ManifestJson => GoldenData.ManifestJson;

    public sealed record GoldenManifest
    {
        public required string Comment { get; init; }
        public required int CiphertextFormatVersion { get; init; }
        public required string TestOnlyRootKeyHex { get; init; }
        public required string KeyId { get; init; }
        public required string KeyMaterialId { get; init; }
        public required string AliasName { get; init; }
        public required IReadOnlyList<GoldenCiphertext> Ciphertexts { get; init; }
    }

    public sealed record GoldenCiphertext
    {
        public required string Name { get; init; }
        public required string Operation { get; init; }
        public required string CiphertextBase64 { get; init; }
        public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
        public string? PlaintextBase64 { get; init; }
        public required int PlaintextLength { get; init; }
        public required string PlaintextSha256 { get; init; }
    }

    /// <summary>Every committed golden-ciphertext folder; each must keep decrypting in every later version (golden envelopes are listed in <c>EnvelopeGoldenTests</c>).</summary>
    public static TheoryData<string> CommittedVersions { get; } = ["v1"];

    [Fact]
    public void Every_golden_folder_in_the_test_output_is_tested()
    {
        var folders = Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "Golden")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        var tested = CommittedVersions.Select(row => row.Data).Concat(Envelope.EnvelopeGoldenTests.CommittedFolders.Select(row => row.Data));
        Assert.Equal(tested.Order(StringComparer.Ordinal), folders);
    }

    [Theory]
    [MemberData(nameof(CommittedVersions))]
    public async Task Every_golden_ciphertext_decrypts_to_its_expected_plaintext(string version)
    {
        var ct = TestContext.Current.CancellationToken;
        var (manifest, storeCopy) = LoadGolden(version);
        try
        {
            Assert.Equal(Convert.ToHexStringLower(TestOnlyRootKey()), manifest.TestOnlyRootKeyHex);
            Assert.NotEmpty(manifest.Ciphertexts);
            using var manager = OpenGoldenStore(storeCopy);
            var key = await manager.DescribeKeyAsync(manifest.KeyId, ct);
            Assert.Equal(KeyState.Enabled, key.KeyState);
            Assert.Equal(manifest.KeyMaterialId, key.CurrentKeyMaterialId);

            foreach (var golden in manifest.Ciphertexts)
            {
                var blob = Convert.FromBase64String(golden.CiphertextBase64);
                var context = golden.EncryptionContext;

                var plaintext = await manager.DecryptAsync(blob, context, ct);
                AssertExpectedPlaintext(golden, plaintext);

                // Naming the key explicitly, by id, ARN or alias, gives the same result.
                foreach (var keyId in new[] { manifest.KeyId, key.Arn, manifest.AliasName })
                {
                    using var response = await manager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context, KeyId = keyId }, ct);
                    AssertExpectedPlaintext(golden, response.Plaintext);
                    Assert.Equal(manifest.KeyMaterialId, response.KeyMaterialId);
                }

                // The context is still bound: any change fails.
                var changed = new Dictionary<string, string>(context ?? new Dictionary<string, string>(), StringComparer.Ordinal) { ["golden"] = "changed" };
                await CiphertextAssert.DecryptFailsAsInvalidAsync(manager, blob, changed);
            }
        }
        finally
        {
            Directory.Delete(storeCopy, recursive: true);
        }
    }

    [Fact]
    public void Every_golden_v1_ciphertext_has_the_documented_version_1_header()
    {
        var (manifest, storeCopy) = LoadGolden("v1");
        Directory.Delete(storeCopy, recursive: true);

        Assert.Equal(4, manifest.Ciphertexts.Count);
        foreach (var golden in manifest.Ciphertexts)
        {
            var blob = Convert.FromBase64String(golden.CiphertextBase64);
            var keyIdLength = manifest.KeyId.Length;

            // version (0x01) | algorithm (0x01 = AES-256-GCM) | key-id length | key id (ASCII) |
            // key-material id (32 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)
            Assert.Equal(0x01, blob[0]);
            Assert.Equal(0x01, blob[1]);
            Assert.Equal(36, blob[2]);
            Assert.Equal(keyIdLength, blob[2]);
            Assert.Equal(manifest.KeyId, Encoding.ASCII.GetString(blob, 3, keyIdLength));
            Assert.Equal(manifest.KeyMaterialId, Convert.ToHexStringLower(blob.AsSpan(3 + keyIdLength, 32)));
            Assert.Equal(3 + keyIdLength + 32 + 12 + golden.PlaintextLength + 16, blob.Length);

            Assert.True(SymmetricCiphertext.TryReadHeader(blob, out var header), golden.Name);
            Assert.Equal(manifest.KeyId, header.KeyId);
            Assert.Equal(manifest.KeyMaterialId, header.KeyMaterialId);
            Assert.Equal(golden.PlaintextLength, header.PlaintextLength);
        }
    }

    [Fact]
    public void The_golden_v1_set_covers_each_kind_of_ciphertext()
    {
        var (manifest, storeCopy) = LoadGolden("v1");
        Directory.Delete(storeCopy, recursive: true);

        Assert.Equal(1, manifest.CiphertextFormatVersion);
        Assert.Contains(manifest.Ciphertexts, c => c.Operation == "Encrypt" && c.EncryptionContext is null && c.PlaintextLength < 64);
        Assert.Contains(manifest.Ciphertexts, c => c.Operation == "Encrypt" && c.EncryptionContext is { Count: > 1 });
        Assert.Contains(manifest.Ciphertexts, c => c.Operation == "Encrypt" && c.PlaintextLength == 4096);
        Assert.Contains(manifest.Ciphertexts, c => c.Operation == "GenerateDataKey" && c.PlaintextLength == 32);
    }

    /// <summary>
    /// Writes a new golden set to <c>tests/EnvelopeKms.Tests/Golden/</c><see cref="GeneratorVersion"/> in the source tree. Refuses to
    /// overwrite a committed set.
    /// </summary>
    [Fact(Explicit = true)]
    public async Task Generate_golden_ciphertexts()
    {
        var ct = TestContext.Current.CancellationToken;
        var target = Path.Combine(RepositoryLocator.RequireRepositoryRoot(), "tests", "EnvelopeKms.Tests", "Golden", GeneratorVersion);
        Assert.False(Directory.Exists(target), $"{target} exists. Golden ciphertexts are never regenerated; add a new version folder instead.");

        var work = Directory.CreateTempSubdirectory("envelopekms-golden-").FullName;
        try
        {
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            GoldenManifest manifest;
            using (var manager = new KeyManager(new FileSystemKeyStore(work), new StaticRootKeyProvider(TestOnlyRootKey()), timeProvider: clock))
            {
                var key = (await manager.CreateKeyAsync(new CreateKeyRequest { Description = "Golden ciphertexts v1 (test data)" }, ct)).KeyMetadata;
                await manager.CreateAliasAsync(new CreateAliasRequest { AliasName = AliasName, TargetKeyId = key.KeyId }, ct);
                var ciphertexts = new List<GoldenCiphertext>();

                async Task AddEncrypted(string name, byte[] plaintext, Dictionary<string, string>? context, bool recordPlaintext)
                {
                    var response = await manager.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = plaintext, EncryptionContext = context }, ct);
                    ciphertexts.Add(Describe(name, "Encrypt", response.CiphertextBlob, plaintext, context, recordPlaintext));
                }

                await AddEncrypted("short plaintext, no context", "Golden ciphertext v1: no context."u8.ToArray(), null, recordPlaintext: true);
                await AddEncrypted(
                    "short plaintext, multi-pair context",
                    "Golden ciphertext v1: bound to a context."u8.ToArray(),
                    new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        ["tenant"] = "acme",
                        ["purpose"] = "golden test",
                        ["Purpose"] = "case matters",
                        ["caf\u00E9"] = "\u00FCn\u00EFc\u00F6d\u00E9 \u2713 \U0001F511",
                        ["empty"] = "",
                    },
                    recordPlaintext: true);
                await AddEncrypted("4096-byte plaintext, no context", MaxPlaintext(), null, recordPlaintext: false);

                var dataKeyContext = new Dictionary<string, string>(StringComparer.Ordinal) { ["purpose"] = "data key" };
                using (var dataKey = await manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = dataKeyContext }, ct))
                {
                    ciphertexts.Add(Describe("GenerateDataKey AES_256 blob", "GenerateDataKey", dataKey.CiphertextBlob, dataKey.Plaintext, dataKeyContext, recordPlaintext: true));
                }

                manifest = new GoldenManifest
                {
                    Comment = "Golden ciphertexts of format version 1, made by EnvelopeKms and committed as test data. They must decrypt in every later version. The root key below is TEST-ONLY and protects nothing else. Never regenerate this folder.",
                    CiphertextFormatVersion = SymmetricCiphertext.Version1,
                    TestOnlyRootKeyHex = Convert.ToHexStringLower(TestOnlyRootKey()),
                    KeyId = key.KeyId,
                    KeyMaterialId = key.CurrentKeyMaterialId!,
                    AliasName = AliasName,
                    Ciphertexts = ciphertexts,
                };
            }

            var storeTarget = Path.Combine(target, StoreDirectoryName);
            foreach (var file in Directory.EnumerateFiles(work, "*.json", SearchOption.AllDirectories))
            {
                var destination = Path.Combine(storeTarget, Path.GetRelativePath(work, file));
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Copy(file, destination);
            }

            await File.WriteAllTextAsync(Path.Combine(target, ManifestFileName), JsonSerializer.Serialize(manifest, ManifestJson) + "\n", ct);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The 4096-byte golden plaintext: a fixed pattern, so its hash is reproducible from the code.</summary>
    private static byte[] MaxPlaintext() => [.. Enumerable.Range(0, 4096).Select(i => (byte)((i * 31) + 7))];

    private static GoldenCiphertext Describe(string name, string operation, byte[] blob, byte[] plaintext, Dictionary<string, string>? context, bool recordPlaintext) => new()
    {
        Name = name,
        Operation = operation,
        CiphertextBase64 = Convert.ToBase64String(blob),
        EncryptionContext = context,
        PlaintextBase64 = recordPlaintext ? Convert.ToBase64String(plaintext) : null,
        PlaintextLength = plaintext.Length,
        PlaintextSha256 = Convert.ToHexStringLower(SHA256.HashData(plaintext)),
    };

    private static void AssertExpectedPlaintext(GoldenCiphertext golden, byte[] plaintext)
    {
        Assert.Equal(golden.PlaintextLength, plaintext.Length);
        Assert.Equal(golden.PlaintextSha256, Convert.ToHexStringLower(SHA256.HashData(plaintext)));
        if (golden.PlaintextBase64 is { } expected)
        {
            Assert.Equal(expected, Convert.ToBase64String(plaintext));
        }

        if (golden.PlaintextLength == 4096)
        {
            Assert.Equal(MaxPlaintext(), plaintext);
        }
    }

    private static KeyManager OpenGoldenStore(string directory) => GoldenData.OpenStore(directory);

    private static (GoldenManifest Manifest, string StoreCopy) LoadGolden(string folder) => GoldenData.Load<GoldenManifest>(folder);
}
