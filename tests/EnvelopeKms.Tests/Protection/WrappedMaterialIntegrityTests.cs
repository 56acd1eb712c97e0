using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;

namespace EnvelopeKms.Tests.Protection;

/// <summary>
/// RELIABILITY rows 35 and 36: a stored wrapped key that was modified, or copied from another key,
/// fails with the typed <see cref="KmsStorageIntegrityException"/>; nothing is deleted or
/// re-created, and other keys keep working. The tampered records are re-sealed here (as if the record
/// seal had been defeated), so that these tests prove the second line of defence: the wrap's own
/// associated data. <see cref="RecordSealTests"/> covers the seal.
/// </summary>
public sealed class WrappedMaterialIntegrityTests : IDisposable
{
    private static readonly byte[] RootKey = RandomNumberGenerator.GetBytes(32);
    private readonly TemporaryStoreDirectory _directory = new("integrity");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_bit_flip_in_a_stored_wrapped_key_fails_with_storage_integrity_keeps_the_record_and_spares_other_keys()
    {
        var (a, aBlob, b, bBlob) = await CreateTwoKeysAsync(new FileSystemKeyStore(_directory.Path));
        var store = new FileSystemKeyStore(_directory.Path);
        var original = (await store.GetKeyAsync(a, Ct))!;
        var wrapped = original.KeyMaterials[0].WrappedMaterial;
        var flipped = wrapped.ToArray();
        flipped[wrapped.Length / 2] ^= 0x10;
        await UpdateSealedAsync(store, WithWrapped(original, flipped), Ct);

        using (var kms = Open(new FileSystemKeyStore(_directory.Path)))
        {
            await AssertIntegrityFailureAsync(kms, a, aBlob);
            await AssertWorksAsync(kms, b, bBlob);
            Assert.Equal(KeyState.Enabled, (await kms.Manager.DescribeKeyAsync(a, Ct)).KeyState);
        }

        // Nothing was deleted or re-created: the record still holds the flipped bytes.
        var kept = (await store.GetKeyAsync(a, Ct))!;
        Assert.Equal(flipped, kept.KeyMaterials.Single().WrappedMaterial);
        Assert.Equal(original.CurrentKeyMaterialId, kept.CurrentKeyMaterialId);

        // Repairing the bytes (restoring a backup) makes the key and its old ciphertexts usable again.
        await UpdateSealedAsync(store, WithWrapped(kept, wrapped), Ct);
        using (var kms = Open(new FileSystemKeyStore(_directory.Path)))
        {
            await AssertWorksAsync(kms, a, aBlob);
        }
    }

    [Fact]
    public async Task Every_single_bit_flip_of_a_wrapped_key_is_detected()
    {
        var store = new InMemoryKeyStore();
        var (a, aBlob, b, bBlob) = await CreateTwoKeysAsync(store);
        var original = (await store.GetKeyAsync(a, Ct))!;
        var wrapped = original.KeyMaterials[0].WrappedMaterial;
        var current = original;

        for (var bit = 0; bit < wrapped.Length * 8; bit++)
        {
            var flipped = wrapped.ToArray();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            current = await UpdateSealedAsync(store, WithWrapped(current, flipped), Ct);

            // A new key manager each time: nothing is cached from an earlier, intact read.
            using var kms = Open(store);
            var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DecryptAsync(aBlob, cancellationToken: Ct));
            Assert.Equal(KmsErrorCodes.StorageIntegrity, error.ErrorCode);
        }

        using (var kms = Open(store))
        {
            await AssertWorksAsync(kms, b, bBlob);
        }
    }

    public static TheoryData<string> Malformations => new() { "empty", "one byte", "truncated tag", "one byte appended", "unknown wrap version", "all zero" };

    [Theory]
    [MemberData(nameof(Malformations))]
    public async Task A_malformed_wrapped_key_fails_with_storage_integrity(string malformation)
    {
        var store = new InMemoryKeyStore();
        var (a, aBlob, b, bBlob) = await CreateTwoKeysAsync(store);
        var record = (await store.GetKeyAsync(a, Ct))!;
        var wrapped = record.KeyMaterials[0].WrappedMaterial;
        byte[] bad = malformation switch
        {
            "empty" => [],
            "one byte" => wrapped[..1],
            "truncated tag" => wrapped[..^1],
            "one byte appended" => [.. wrapped, 0],
            "unknown wrap version" => [2, .. wrapped[1..]],
            _ => new byte[wrapped.Length],
        };
        await UpdateSealedAsync(store, WithWrapped(record, bad), Ct);

        using var kms = Open(store);
        await AssertIntegrityFailureAsync(kms, a, aBlob);
        await AssertWorksAsync(kms, b, bBlob);
    }

    [Fact]
    public async Task Wrapped_material_copied_from_another_key_fails_with_storage_integrity()
    {
        var (a, aBlob, b, bBlob) = await CreateTwoKeysAsync(new FileSystemKeyStore(_directory.Path));
        var store = new FileSystemKeyStore(_directory.Path);
        var recordA = (await store.GetKeyAsync(a, Ct))!;
        var recordB = (await store.GetKeyAsync(b, Ct))!;
        Assert.Equal(recordA.KeySpec, recordB.KeySpec);
        Assert.Equal(recordA.KeyUsage, recordB.KeyUsage);

        // B keeps its own material id but gets A's wrapped bytes.
        await UpdateSealedAsync(store, WithWrapped(recordB, recordA.KeyMaterials[0].WrappedMaterial), Ct);

        using (var kms = Open(new FileSystemKeyStore(_directory.Path)))
        {
            await AssertIntegrityFailureAsync(kms, b, bBlob);
            await AssertWorksAsync(kms, a, aBlob);
        }
    }

    [Fact]
    public async Task A_whole_material_record_copied_from_another_key_fails_with_storage_integrity()
    {
        var (a, aBlob, b, bBlob) = await CreateTwoKeysAsync(new FileSystemKeyStore(_directory.Path));
        var store = new FileSystemKeyStore(_directory.Path);
        var recordA = (await store.GetKeyAsync(a, Ct))!;
        var recordB = (await store.GetKeyAsync(b, Ct))!;

        // B now names A's material id and holds A's wrapped bytes: only the key id in the wrap's associated data differs.
        await UpdateSealedAsync(store, recordB with { CurrentKeyMaterialId = recordA.CurrentKeyMaterialId, KeyMaterials = recordA.KeyMaterials }, Ct);

        using (var kms = Open(new FileSystemKeyStore(_directory.Path)))
        {
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.EncryptAsync(b, "x"u8.ToArray(), cancellationToken: Ct));
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = b, KeySpec = DataKeySpec.Aes256 }, Ct));
            // A ciphertext of A presented as B's (its header names A) goes to A and still decrypts.
            await AssertWorksAsync(kms, a, aBlob);
            // B's old ciphertext names a material B no longer has: the uniform invalid-ciphertext error.
            await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Manager.DecryptAsync(bBlob, cancellationToken: Ct));
        }
    }

    [Fact]
    public async Task A_renamed_material_id_fails_with_storage_integrity()
    {
        var store = new InMemoryKeyStore();
        var (a, _, b, bBlob) = await CreateTwoKeysAsync(store);
        var record = (await store.GetKeyAsync(a, Ct))!;
        var otherId = new string('0', 64);
        await UpdateSealedAsync(store, record with
        {
            CurrentKeyMaterialId = otherId,
            KeyMaterials = [record.KeyMaterials[0] with { KeyMaterialId = otherId }],
        }, Ct);

        using var kms = Open(store);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.EncryptAsync(a, "x"u8.ToArray(), cancellationToken: Ct));
        await AssertWorksAsync(kms, b, bBlob);
    }

    private static async Task<KeyRecord> UpdateSealedAsync(IKeyStore store, KeyRecord record, CancellationToken cancellationToken)
    {
        using var rootKey = await new StaticRootKeyProvider(RootKey).GetRootKeyAsync("", cancellationToken);
        return await store.UpdateKeyAsync(RecordSeal.Seal(rootKey, record), cancellationToken);
    }

    private static async Task<(string A, byte[] ABlob, string B, byte[] BBlob)> CreateTwoKeysAsync(IKeyStore store)
    {
        using var kms = Open(store);
        var a = (await kms.Manager.CreateKeyAsync("a", Ct)).KeyId;
        var b = (await kms.Manager.CreateKeyAsync("b", Ct)).KeyId;
        return (a, await kms.Manager.EncryptAsync(a, "plaintext of a"u8.ToArray(), cancellationToken: Ct),
                b, await kms.Manager.EncryptAsync(b, "plaintext of b"u8.ToArray(), cancellationToken: Ct));
    }

    private static TestKeyManager Open(IKeyStore store) => new(store, new StaticRootKeyProvider(RootKey));

    private static KeyRecord WithWrapped(KeyRecord key, byte[] wrapped)
        => key with { KeyMaterials = [key.KeyMaterials.Single() with { WrappedMaterial = wrapped }] };

    private static async Task AssertIntegrityFailureAsync(TestKeyManager kms, string keyId, byte[] oldCiphertext)
    {
        var encrypt = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.EncryptAsync(keyId, "x"u8.ToArray(), cancellationToken: Ct));
        var decrypt = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DecryptAsync(oldCiphertext, cancellationToken: Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes256 }, Ct));
        Assert.Equal(KmsErrorCodes.StorageIntegrity, encrypt.ErrorCode);
        Assert.Equal(KmsErrorCodes.StorageIntegrity, decrypt.ErrorCode);
        Assert.Contains(kms.Audit.Events, e => e.Operation == KmsOperation.Decrypt && e.KeyId == keyId && e.ErrorCode == KmsErrorCodes.StorageIntegrity);
    }

    private static async Task AssertWorksAsync(TestKeyManager kms, string keyId, byte[] oldCiphertext)
    {
        Assert.NotEmpty(await kms.Manager.DecryptAsync(oldCiphertext, cancellationToken: Ct));
        var blob = await kms.Manager.EncryptAsync(keyId, "fresh"u8.ToArray(), cancellationToken: Ct);
        Assert.Equal("fresh"u8.ToArray(), await kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
    }
}
