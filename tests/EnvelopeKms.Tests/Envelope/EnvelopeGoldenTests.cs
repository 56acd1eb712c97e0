using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EnvelopeKms.Envelope;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// Golden envelopes (issue 3: "Golden envelopes are committed as test data"): envelopes of format
/// version 1, committed with the file store that holds their KMS key under
/// <c>tests/EnvelopeKms.Tests/Golden/envelope-v1/</c>, must decrypt in every later version. Never
/// regenerate a committed set: a new format gets a new folder, and every older folder keeps being tested.
/// </summary>
/// <remarks>
/// To create a new set, change <see cref="GeneratorFolder"/>, run the explicit generator once and commit its output:
/// <c>dotnet test tests/EnvelopeKms.Tests --filter "FullyQualifiedName~Generate_golden_envelopes" -- xUnit.Explicit=only</c>.
/// </remarks>
public sealed class EnvelopeGoldenTests
{
    private const string GeneratorFolder = "envelope-v1";
    private const string StoreDirectoryName = GoldenData.StoreDirectoryName;
    private const string ManifestFileName = GoldenData.ManifestFileName;

    /// <summary>Every committed golden-envelope folder under <c>Golden/</c>; each must keep decrypting.</summary>
    public static TheoryData<string> CommittedFolders { get; } = ["envelope-v1"];

    private static byte[] TestOnlyRootKey() => GoldenData.TestOnlyRootKey();

    private static JsonSerializerOptions ManifestJson => GoldenData.ManifestJson;

    public sealed record GoldenEnvelopeManifest
    {
        public required string Comment { get; init; }
        public required int EnvelopeFormatVersion { get; init; }
        public required string TestOnlyRootKeyHex { get; init; }
        public required string KeyId { get; init; }
        public required IReadOnlyList<GoldenEnvelope> Envelopes { get; init; }
    }

    public sealed record GoldenEnvelope
    {
        public required string Name { get; init; }
        public required string EnvelopeBase64 { get; init; }
        public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
        public string? AssociatedDataBase64 { get; init; }
        public string? PlaintextBase64 { get; init; }
        public required int PlaintextLength { get; init; }
        public required string PlaintextSha256 { get; init; }

        public byte[] Envelope() => Convert.FromBase64String(EnvelopeBase64);

        public byte[]? AssociatedData() => AssociatedDataBase64 is null ? null : Convert.FromBase64String(AssociatedDataBase64);
    }

    [Theory]
    [MemberData(nameof(CommittedFolders))]
    public async Task Every_golden_envelope_decrypts_with_a_fresh_encryptor_on_both_backends(string folder)
    {
        var ct = TestContext.Current.CancellationToken;
        var (manifest, storeCopy) = LoadGolden(folder);
        try
        {
            Assert.Equal(Convert.ToHexStringLower(TestOnlyRootKey()), manifest.TestOnlyRootKeyHex);
            Assert.NotEmpty(manifest.Envelopes);
            foreach (var backend in new[] { AeadBackend.Platform, AeadBackend.Libsodium })
            {
                using var manager = OpenGoldenStore(storeCopy);
                using var encryptor = new EnvelopeEncryptor(manager, new EnvelopeOptions { Backend = backend });
                foreach (var golden in manifest.Envelopes)
                {
                    var envelope = golden.Envelope();
                    var aad = golden.AssociatedData();
                    Assert.Equal(golden.PlaintextLength, EnvelopeEncryptor.GetPlaintextLength(envelope));
                    AssertExpectedPlaintext(golden, encryptor.Decrypt(envelope, aad));
                    AssertExpectedPlaintext(golden, await encryptor.DecryptAsync(envelope, aad, ct));
                    AssertExpectedPlaintext(golden, encryptor.CreateProtector(manifest.KeyId, golden.EncryptionContext).DecryptToArray(envelope, aad));

                    // Still bound: other associated data, or a protector for another context, fails.
                    EnvelopeAssert.FailsAsInvalid(() => encryptor.Decrypt(envelope, [.. aad ?? [], 0]), golden.Name);
                    var changed = new Dictionary<string, string>(golden.EncryptionContext ?? new Dictionary<string, string>(), StringComparer.Ordinal) { ["golden"] = "changed" };
                    EnvelopeAssert.FailsAsInvalid(() => encryptor.CreateProtector(manifest.KeyId, changed).DecryptToArray(envelope, aad), golden.Name);
                }

                Assert.Equal(manifest.Envelopes.Count, encryptor.CacheStatistics.DecryptMisses);
            }
        }
        finally
        {
            Directory.Delete(storeCopy, recursive: true);
        }
    }

    [Fact]
    public async Task Every_golden_v1_envelope_has_the_documented_version_1_header()
    {
        var ct = TestContext.Current.CancellationToken;
        var (manifest, storeCopy) = LoadGolden("envelope-v1");
        try
        {
            using var manager = OpenGoldenStore(storeCopy);
            foreach (var golden in manifest.Envelopes)
            {
                var envelope = golden.Envelope();

                // magic "EK" | version 0x01 | suite 0x01 | key-id length n | key id (n, ASCII)
                Assert.Equal("EK"u8.ToArray(), envelope[..2]);
                Assert.Equal(0x01, envelope[2]);
                Assert.Equal(0x01, envelope[3]);
                Assert.Equal(36, envelope[4]);
                Assert.Equal(manifest.KeyId, Encoding.ASCII.GetString(envelope, 5, 36));
                var offset = 5 + 36;

                // encrypted-data-key length m (2, BE) | encrypted data key: a KMS ciphertext (format 1) naming the key
                int edkLength = BinaryPrimitives.ReadUInt16BigEndian(envelope.AsSpan(offset));
                var edk = envelope.AsMemory(offset + 2, edkLength);
                offset += 2 + edkLength;
                Assert.True(SymmetricCiphertext.TryReadHeader(edk.Span, out var kmsHeader), golden.Name);
                Assert.Equal(manifest.KeyId, kmsHeader.KeyId);
                Assert.Equal(EnvelopeFormat.DataKeySize, kmsHeader.PlaintextLength);

                // context length c (2, BE) | canonical encryption context
                int contextLength = BinaryPrimitives.ReadUInt16BigEndian(envelope.AsSpan(offset));
                Assert.Equal(EncryptionContextEncoding.Encode(golden.EncryptionContext), envelope.AsSpan(offset + 2, contextLength).ToArray());
                offset += 2 + contextLength;

                // data-key salt (32) | key commitment (32): the commitment is HKDF-SHA-512 of the unwrapped data key.
                var salt = envelope.AsSpan(offset, 32).ToArray();
                var commitment = envelope.AsSpan(offset + 32, 32).ToArray();
                var headerLength = offset + 64;
                using (var dataKey = await manager.DecryptAsync(new DecryptRequest { CiphertextBlob = edk, EncryptionContext = golden.EncryptionContext, KeyId = manifest.KeyId }, ct))
                {
                    var expected = new byte[32];
                    EnvelopeFormat.DeriveKeys(dataKey.Plaintext, salt, EnvelopeFormat.SuiteOneShot, new byte[32], expected);
                    Assert.Equal(expected, commitment);
                }

                // nonce (12): four zero bytes and the message counter (each golden envelope is the first under its data key)
                Assert.Equal(new byte[4], envelope[headerLength..(headerLength + 4)]);
                Assert.Equal(1, BinaryPrimitives.ReadInt64BigEndian(envelope.AsSpan(headerLength + 4)));

                // ciphertext | tag (16)
                Assert.Equal(headerLength + 12 + golden.PlaintextLength + 16, envelope.Length);
                Assert.True(EnvelopeFormat.TryGetHeaderLength(envelope, out var parsed, out _));
                Assert.Equal(headerLength, parsed);
            }

            // Every envelope has its own data key.
            Assert.Equal(manifest.Envelopes.Count, manifest.Envelopes.Select(g => Convert.ToBase64String(g.Envelope().AsSpan(0, 200))).Distinct().Count());
        }
        finally
        {
            Directory.Delete(storeCopy, recursive: true);
        }
    }

    [Fact]
    public void The_golden_envelope_v1_set_covers_each_kind_of_envelope()
    {
        var (manifest, storeCopy) = LoadGolden("envelope-v1");
        Directory.Delete(storeCopy, recursive: true);

        Assert.Equal(1, manifest.EnvelopeFormatVersion);
        Assert.Contains(manifest.Envelopes, g => g.PlaintextLength == 0);
        Assert.Contains(manifest.Envelopes, g => g.PlaintextLength == 1);
        Assert.Contains(manifest.Envelopes, g => g.PlaintextLength == 5000);
        Assert.Contains(manifest.Envelopes, g => g.EncryptionContext is { Count: > 1 });
        Assert.Contains(manifest.Envelopes, g => g.AssociatedDataBase64 is not null && g.AssociatedData()!.Length <= 480);
        Assert.Contains(manifest.Envelopes, g => g.AssociatedDataBase64 is not null && g.AssociatedData()!.Length > 480);
    }

    /// <summary>
    /// Writes a new golden set to <c>tests/EnvelopeKms.Tests/Golden/</c><see cref="GeneratorFolder"/> in the source tree.
    /// Refuses to overwrite a committed set.
    /// </summary>
    [Fact(Explicit = true)]
    public async Task Generate_golden_envelopes()
    {
        var ct = TestContext.Current.CancellationToken;
        var target = Path.Combine(RepositoryLocator.RequireRepositoryRoot(), "tests", "EnvelopeKms.Tests", "Golden", GeneratorFolder);
        Assert.False(Directory.Exists(target), $"{target} exists. Golden envelopes are never regenerated; add a new folder instead.");

        var work = Directory.CreateTempSubdirectory("envelopekms-golden-envelope-").FullName;
        try
        {
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            GoldenEnvelopeManifest manifest;
            using (var manager = new KeyManager(new FileSystemKeyStore(work), new StaticRootKeyProvider(TestOnlyRootKey()), timeProvider: clock))
            using (var encryptor = new EnvelopeEncryptor(manager, timeProvider: clock))
            {
                var key = (await manager.CreateKeyAsync(new CreateKeyRequest { Description = "Golden envelopes v1 (test data)" }, ct)).KeyMetadata;
                var envelopes = new List<GoldenEnvelope>();

                void Add(string name, byte[] plaintext, Dictionary<string, string>? context, byte[]? aad, bool recordPlaintext)
                {
                    encryptor.ClearCache(); // Each golden envelope gets its own data key.
                    var envelope = encryptor.CreateProtector(key.KeyId, context).EncryptToArray(plaintext, aad);
                    envelopes.Add(new GoldenEnvelope
                    {
                        Name = name,
                        EnvelopeBase64 = Convert.ToBase64String(envelope),
                        EncryptionContext = context,
                        AssociatedDataBase64 = aad is null ? null : Convert.ToBase64String(aad),
                        PlaintextBase64 = recordPlaintext ? Convert.ToBase64String(plaintext) : null,
                        PlaintextLength = plaintext.Length,
                        PlaintextSha256 = Convert.ToHexStringLower(SHA256.HashData(plaintext)),
                    });
                }

                Add("empty plaintext, no context", [], null, null, recordPlaintext: true);
                Add("1-byte plaintext, one-pair context", [0x2A], new Dictionary<string, string> { ["purpose"] = "golden" }, null, recordPlaintext: true);
                Add("5000-byte plaintext, no context", LargePlaintext(), null, null, recordPlaintext: false);
                Add(
                    "short plaintext, multi-pair context",
                    "Golden envelope v1: bound to a context."u8.ToArray(),
                    new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        ["tenant"] = "acme",
                        ["purpose"] = "golden test",
                        ["Purpose"] = "case matters",
                        ["caf\u00E9"] = "\u00FCn\u00EFc\u00F6d\u00E9 \u2713 \U0001F511",
                        ["empty"] = "",
                    },
                    null,
                    recordPlaintext: true);
                Add("short plaintext with caller associated data", "Golden envelope v1: with associated data."u8.ToArray(), new Dictionary<string, string> { ["table"] = "orders" }, "orders/row/17"u8.ToArray(), recordPlaintext: true);
                Add("short plaintext with 1000 bytes of caller associated data", "Golden envelope v1: with long associated data."u8.ToArray(), null, [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 7))], recordPlaintext: true);

                manifest = new GoldenEnvelopeManifest
                {
                    Comment = "Golden envelopes of envelope format version 1, made by EnvelopeKms and committed as test data. They must decrypt in every later version. The root key below is TEST-ONLY and protects nothing else. Never regenerate this folder.",
                    EnvelopeFormatVersion = EnvelopeFormat.Version1,
                    TestOnlyRootKeyHex = Convert.ToHexStringLower(TestOnlyRootKey()),
                    KeyId = key.KeyId,
                    Envelopes = envelopes,
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

    /// <summary>The 5000-byte golden plaintext: a fixed pattern, so its hash is reproducible from the code.</summary>
    private static byte[] LargePlaintext() => [.. Enumerable.Range(0, 5000).Select(i => (byte)((i * 31) + 7))];

    private static void AssertExpectedPlaintext(GoldenEnvelope golden, byte[] plaintext)
    {
        Assert.Equal(golden.PlaintextLength, plaintext.Length);
        Assert.Equal(golden.PlaintextSha256, Convert.ToHexStringLower(SHA256.HashData(plaintext)));
        if (golden.PlaintextBase64 is { } expected)
        {
            Assert.Equal(expected, Convert.ToBase64String(plaintext));
        }

        if (golden.PlaintextLength == 5000)
        {
            Assert.Equal(LargePlaintext(), plaintext);
        }
    }

    private static KeyManager OpenGoldenStore(string directory) => GoldenData.OpenStore(directory);

    private static (GoldenEnvelopeManifest Manifest, string StoreCopy) LoadGolden(string folder) => GoldenData.Load<GoldenEnvelopeManifest>(folder);
}
