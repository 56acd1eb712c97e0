using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>
/// docs/ciphertext-format.md and the key-material wrapping of docs/storage.md describe what the code
/// writes: their examples and recipes are checked against the code with plain <see cref="AesGcm"/> and <see cref="HKDF"/>.
/// </summary>
public sealed class CiphertextFormatDocumentationTests
{
    private const string Document = "docs/ciphertext-format.md";

    public static TheoryData<string, string[]> Examples => new()
    {
        { "00 00", [] },
        { "00 01 00 01 61 00 02 62 63", ["a", "bc"] },
        { "00 01 00 02 61 62 00 01 63", ["ab", "c"] },
        { "00 02 00 07 70 75 72 70 6f 73 65 00 02 64 62 00 06 74 65 6e 61 6e 74 00 07 63 6f 6e 74 6f 73 6f", ["tenant", "contoso", "purpose", "db"] },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void The_documented_context_encodings_are_what_the_code_writes(string hex, string[] pairs)
    {
        Assert.Contains($"| `{hex}` |", RepositoryFiles.ReadText(Document), StringComparison.Ordinal);
        var context = pairs.Chunk(2).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(hex, Convert.ToHexStringLower(EncryptionContextEncoding.Encode(context)).Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + " " + b));
    }

    [Fact]
    public async Task A_blob_decrypts_by_the_documented_recipe_with_plain_AesGcm()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        using var kms = new TestKeyManager(rootKeyProvider: new StaticRootKeyProvider(rootKey));
        var ct = TestContext.Current.CancellationToken;
        var key = await kms.Manager.CreateKeyAsync("format", ct);
        var context = new Dictionary<string, string> { ["tenant"] = "contoso", ["purpose"] = "db" };
        var plaintext = "by the book"u8.ToArray();
        var encrypted = await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = plaintext, EncryptionContext = context }, ct);
        var blob = encrypted.CiphertextBlob;

        // The layout table: version, algorithm, key-id length, key id, key-material id, nonce, ciphertext, tag.
        var n = blob[2];
        Assert.Equal(0x01, blob[0]);
        Assert.Equal(0x01, blob[1]);
        Assert.Equal(36, n);
        Assert.Equal(key.KeyId, Encoding.ASCII.GetString(blob, 3, n));
        Assert.Equal(encrypted.KeyMaterialId, Convert.ToHexStringLower(blob.AsSpan(3 + n, 32)));
        Assert.Equal(99 + plaintext.Length, blob.Length);

        // The recipe, with the key material unwrapped from the store by hand.
        var material = await OpenMaterialAsync(kms, rootKey, key.KeyId, encrypted.KeyMaterialId, ct);
        var aad = blob.AsSpan(0, 35 + n).ToArray().Concat(EncryptionContextEncoding.Encode(context)).ToArray();
        var decrypted = new byte[blob.Length - 99];
        using (var aes = new AesGcm(material, 16))
        {
            aes.Decrypt(blob.AsSpan(35 + n, 12), blob.AsSpan(47 + n, decrypted.Length), blob.AsSpan(blob.Length - 16), decrypted, aad);
        }

        Assert.Equal(plaintext, decrypted);

        // The header is in the AAD: the same bytes with another context fail.
        var otherAad = blob.AsSpan(0, 35 + n).ToArray().Concat(EncryptionContextEncoding.Encode(null)).ToArray();
        using (var aes = new AesGcm(material, 16))
        {
            Assert.ThrowsAny<CryptographicException>(() => aes.Decrypt(blob.AsSpan(35 + n, 12), blob.AsSpan(47 + n, decrypted.Length), blob.AsSpan(blob.Length - 16), decrypted, otherAad));
        }
    }

    /// <summary>
    /// Unwraps a key's material as docs/storage.md describes, without the library's code: the KEK is
    /// HKDF-Expand-SHA256 of the root key, the wrap is version | nonce | encrypted material | tag,
    /// and the associated data names key id, material id, spec and usage.
    /// </summary>
    private static async Task<byte[]> OpenMaterialAsync(TestKeyManager kms, byte[] rootKey, string keyId, string materialId, CancellationToken ct)
    {
        var record = await kms.Store.GetKeyAsync(keyId, ct);
        var wrapped = record!.KeyMaterials.Single(m => m.KeyMaterialId == materialId).WrappedMaterial;
        Assert.Equal(1 + 12 + 32 + 16, wrapped.Length);
        Assert.Equal(0x01, wrapped[0]);

        var metadata = await kms.Store.GetMetadataAsync(ct);
        var checkValue = HKDF.Expand(HashAlgorithmName.SHA256, rootKey, 16, "EnvelopeKms root key: key check value v1"u8.ToArray());
        Assert.Equal(Convert.ToHexStringLower(checkValue), metadata!.RootKeyCheckValue);

        var kek = HKDF.Expand(HashAlgorithmName.SHA256, rootKey, 32, "EnvelopeKms root key: key-material wrapping v1"u8.ToArray());
        var associatedData = Encoding.UTF8.GetBytes($"EnvelopeKms key material v1\n{keyId}\n{materialId}\nSYMMETRIC_DEFAULT\nENCRYPT_DECRYPT");
        var material = new byte[32];
        using var aes = new AesGcm(kek, 16);
        aes.Decrypt(wrapped.AsSpan(1, 12), wrapped.AsSpan(13, 32), wrapped.AsSpan(45, 16), material, associatedData);
        return material;
    }
}
