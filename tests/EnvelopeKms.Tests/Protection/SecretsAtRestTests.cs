using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;

namespace EnvelopeKms.Tests.Protection;

/// <summary>
/// The issue's secrets-at-rest test: after a full workout on a file store, no key material, root key,
/// plaintext or data key appears anywhere in the store directory — raw, base64 (at any alignment),
/// base64url or hex.
/// </summary>
public sealed class SecretsAtRestTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("secrets");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task After_a_full_workout_no_key_material_plaintext_or_data_key_is_stored_in_any_form()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var secrets = new List<(string What, byte[] Bytes)> { ("the root key", rootKey) };
        var materials = new Dictionary<(string KeyId, string MaterialId), byte[]>();
        var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "t-1", ["purpose"] = "at-rest" };

        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(rootKey)))
        {
            var m = kms.Manager;
            var keys = new List<string>();
            for (var i = 0; i < 8; i++)
            {
                var key = await m.CreateKeyAsync(new CreateKeyRequest { Description = $"workout key {i}", Tags = [new KeyTag("index", $"{i}")] }, Ct);
                keys.Add(key.KeyMetadata.KeyId);
                await m.CreateAliasAsync(new CreateAliasRequest { AliasName = $"alias/workout/{i}", TargetKeyId = key.KeyMetadata.KeyId }, Ct);
            }

            foreach (var keyId in keys)
            {
                foreach (var length in new[] { 1, 31, 32, 33, 100, 4096 })
                {
                    var plaintext = RandomNumberGenerator.GetBytes(length);
                    if (length >= 16)
                    {
                        secrets.Add(($"a {length}-byte plaintext under {keyId}", plaintext));
                    }

                    var blob = await m.EncryptAsync(keyId, plaintext, length % 2 == 0 ? context : null, Ct);
                    Assert.Equal(plaintext, await m.DecryptAsync(blob, length % 2 == 0 ? context : null, Ct));
                }

                using var dataKey = await m.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = context }, Ct);
                secrets.Add(($"an AES-256 data key under {keyId}", dataKey.Plaintext.ToArray()));
                using var shortKey = await m.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes128 }, Ct);
                secrets.Add(($"an AES-128 data key under {keyId}", shortKey.Plaintext.ToArray()));
                var hidden = await m.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = keyId, NumberOfBytes = 64 }, Ct);
                using var revealed = await m.DecryptAsync(new DecryptRequest { CiphertextBlob = hidden.CiphertextBlob }, Ct);
                secrets.Add(($"a data key generated without plaintext under {keyId}", revealed.Plaintext.ToArray()));
                var moved = await m.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = hidden.CiphertextBlob, DestinationKeyId = keys[0], DestinationEncryptionContext = context }, Ct);
                Assert.Equal(revealed.Plaintext, await m.DecryptAsync(moved.CiphertextBlob, context, Ct));
                using var random = await m.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32 }, Ct);
            }

            await m.TagResourceAsync(new TagResourceRequest { KeyId = keys[1], Tags = [new KeyTag("extra", "value")] }, Ct);
            await m.UntagResourceAsync(new UntagResourceRequest { KeyId = keys[1], TagKeys = ["index"] }, Ct);
            await m.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = keys[2], Description = "renamed" }, Ct);
            await m.DisableKeyAsync(new DisableKeyRequest { KeyId = keys[3] }, Ct);
            await m.EnableKeyAsync(new EnableKeyRequest { KeyId = keys[3] }, Ct);
            await m.DisableKeyAsync(new DisableKeyRequest { KeyId = keys[4] }, Ct);
            await m.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/workout/5", TargetKeyId = keys[0] }, Ct);
            await m.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/workout/6" }, Ct);
            await m.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keys[6], PendingWindowInDays = 30 }, Ct);
            await m.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keys[7], PendingWindowInDays = 7 }, Ct);
            await m.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = keys[6] }, Ct);

            // Remember the material of the key about to be purged: it must not linger either.
            await CollectMaterialsAsync(kms.Store, rootKey, materials);
            kms.Clock.Advance(TimeSpan.FromDays(8));
            Assert.Equal(1, await m.PurgeExpiredKeysAsync(Ct));
        }

        await CollectMaterialsAsync(new FileSystemKeyStore(_directory.Path), rootKey, materials);
        Assert.Equal(8, materials.Count);
        secrets.AddRange(materials.Select(p => ($"the key material {p.Key.MaterialId} of key {p.Key.KeyId}", p.Value)));

        var files = StoreFiles.ReadAll(_directory.Path).ToList();
        Assert.Equal(7, files.Count(f => f.Path.Contains($"{Path.DirectorySeparatorChar}keys{Path.DirectorySeparatorChar}", StringComparison.Ordinal)));

        var hits = (from secret in secrets
                    from form in Encodings(secret.Bytes)
                    from file in files
                    where file.Bytes.AsSpan().IndexOf(form.Bytes) >= 0
                    select $"{secret.What} as {form.Name} in {Path.GetRelativePath(_directory.Path, file.Path)}").ToList();
        Assert.Empty(hits);

        // The scan can see: every wrapped material is found in base64 in its key's document.
        var store = new FileSystemKeyStore(_directory.Path);
        foreach (var key in await store.ListKeysAsync(null, 100, Ct))
        {
            var document = await File.ReadAllBytesAsync(Path.Combine(_directory.Path, "keys", key.KeyId + ".json"), Ct);
            var wrapped = key.KeyMaterials.Single().WrappedMaterial;
            Assert.Contains(Encodings(wrapped), form => form.Name == "base64" && document.AsSpan().IndexOf(form.Bytes) >= 0);
        }
    }

    [Fact]
    public void The_scan_finds_a_secret_in_each_encoding_at_any_offset()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        foreach (var prefix in new[] { 0, 1, 2 })
        {
            var padded = RandomNumberGenerator.GetBytes(prefix).Concat(secret).Concat(RandomNumberGenerator.GetBytes(5)).ToArray();
            string[] documents =
            [
                Convert.ToBase64String(padded),
                Base64Url.EncodeToString(padded),
                Convert.ToHexString(padded),
                Convert.ToHexStringLower(padded),
            ];
            foreach (var document in documents)
            {
                var bytes = Encoding.UTF8.GetBytes($"{{\"x\":\"{document}\"}}");
                Assert.Contains(Encodings(secret), form => bytes.AsSpan().IndexOf(form.Bytes) >= 0);
            }

            Assert.Contains(Encodings(secret), form => padded.AsSpan().IndexOf(form.Bytes) >= 0);
        }
    }

    /// <summary>Unwraps every key's material with the known root key, as an attacker with the root key could.</summary>
    private static async Task CollectMaterialsAsync(IKeyStore store, byte[] rootKey, Dictionary<(string, string), byte[]> materials)
    {
        using var root = new AesGcmRootKey(rootKey, parameters: null);
        foreach (var key in await store.ListKeysAsync(null, 1000, Ct))
        {
            foreach (var record in key.KeyMaterials)
            {
                var material = new byte[root.GetUnwrappedLength(record.WrappedMaterial)];
                root.Unwrap(record.WrappedMaterial, KeyManager.WrapAssociatedData(key, record.KeyMaterialId), material);
                Assert.Equal(32, material.Length);
                materials[(key.KeyId, record.KeyMaterialId)] = material;
            }
        }
    }

    /// <summary>
    /// The forms a secret could take in a file: raw; hex in either case; base64 and base64url as it
    /// would appear at each of the three alignments inside a longer encoded value (whole 3-byte groups only).
    /// </summary>
    private static IEnumerable<(string Name, byte[] Bytes)> Encodings(byte[] secret)
    {
        yield return ("raw bytes", secret);
        yield return ("lowercase hex", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret)));
        yield return ("uppercase hex", Encoding.ASCII.GetBytes(Convert.ToHexString(secret)));
        yield return ("base64", Encoding.ASCII.GetBytes(Convert.ToBase64String(secret)));
        for (var skip = 0; skip < 3; skip++)
        {
            var aligned = secret[skip..];
            aligned = aligned[..(aligned.Length / 3 * 3)];
            yield return ($"base64 (offset {skip})", Encoding.ASCII.GetBytes(Convert.ToBase64String(aligned)));
            yield return ($"base64url (offset {skip})", Encoding.ASCII.GetBytes(Base64Url.EncodeToString(aligned)));
        }
    }
}
