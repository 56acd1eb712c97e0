using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Envelope;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>
/// docs/envelope-format.md describes what the code writes: envelopes of both backends are taken
/// apart at the documented offsets and decrypted by the documented recipe with plain
/// <see cref="HKDF"/>, <see cref="SHA256"/> and <see cref="AesGcm"/>; the worked example parses with
/// the library's reader; the documented cache defaults are the code's.
/// </summary>
public sealed class EnvelopeFormatDocumentationTests
{
    private const string Document = "docs/envelope-format.md";

    [Theory]
    [InlineData(AeadBackend.Platform)]
    [InlineData(AeadBackend.Libsodium)]
    public async Task An_envelope_decrypts_by_the_documented_recipe_with_plain_HKDF_and_AesGcm(AeadBackend backend)
    {
        var ct = TestContext.Current.CancellationToken;
        using var kms = new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("envelope format", ct);
        await kms.Manager.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/format", TargetKeyId = key.KeyId }, ct);
        using var encryptor = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { Backend = backend }, kms.Clock);
        var context = new Dictionary<string, string> { ["tenant"] = "acme" };
        var protector = encryptor.CreateProtector("alias/format", context);
        var plaintext = "hello, envelope"u8.ToArray();
        var associatedData = "row 17"u8.ToArray();

        var first = new byte[protector.GetCiphertextLength(plaintext.Length)];
        var second = new byte[first.Length];
        Assert.Equal(first.Length, protector.Encrypt(plaintext, first, associatedData));
        Assert.Equal(second.Length, protector.Encrypt(plaintext, second, associatedData));

        // The header table: magic, version, suite, key id (the bare id behind the alias), encrypted data key, context, salt, commitment.
        Assert.Equal("EK"u8.ToArray(), first[..2]);
        Assert.Equal(0x01, first[2]);
        Assert.Equal(0x01, first[3]);
        int n = first[4];
        Assert.Equal(key.KeyId, Encoding.ASCII.GetString(first, 5, n));
        int m = BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(5 + n));
        var encryptedDataKey = first.AsSpan(7 + n, m).ToArray();
        Assert.Equal(131, m);
        int c = BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(7 + n + m));
        Assert.Equal(EncryptionContextEncoding.Encode(context), first.AsSpan(9 + n + m, c).ToArray());
        var salt = first.AsSpan(9 + n + m + c, 32).ToArray();
        var commitment = first.AsSpan(41 + n + m + c, 32).ToArray();
        var h = 73 + n + m + c;
        Assert.Equal(256, h);
        Assert.Equal(h + 12 + plaintext.Length + 16, first.Length);
        Assert.Equal(first.Length, protector.GetCiphertextLength(plaintext.Length));

        // One header per data key; the nonce is 4 zero bytes and the message number, from 1.
        Assert.Equal(first[..h], second[..h]);
        Assert.Equal(Convert.FromHexString("000000000000000000000001"), first[h..(h + 12)]);
        Assert.Equal(Convert.FromHexString("000000000000000000000002"), second[h..(h + 12)]);

        // Unwrap the data key with the key manager, then derive by the documented HKDF recipe.
        using var dataKey = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = encryptedDataKey, EncryptionContext = context }, ct);
        Assert.Equal(32, dataKey.Plaintext.Length);
        var prk = HKDF.Extract(HashAlgorithmName.SHA512, dataKey.Plaintext, salt);
        var dekInfo = Convert.FromHexString("456e76656c6f70654b6d7320656e76656c6f70652076313a20646174612d656e6372797074696f6e206b6579" + "00" + "01");
        var commitmentInfo = Convert.FromHexString("456e76656c6f70654b6d7320656e76656c6f70652076313a206b657920636f6d6d69746d656e74" + "00" + "01");
        Assert.Equal("EnvelopeKms envelope v1: data-encryption key\0\u0001", Encoding.ASCII.GetString(dekInfo));
        Assert.Equal("EnvelopeKms envelope v1: key commitment\0\u0001", Encoding.ASCII.GetString(commitmentInfo));
        var document = RepositoryFiles.ReadText(Document);
        Assert.Contains($"`{Convert.ToHexStringLower(dekInfo[..^2])}` `00` `01` | {dekInfo.Length} |", document, StringComparison.Ordinal);
        Assert.Contains($"`{Convert.ToHexStringLower(commitmentInfo[..^2])}` `00` `01` | {commitmentInfo.Length} |", document, StringComparison.Ordinal);
        var dek = HKDF.Expand(HashAlgorithmName.SHA512, prk, 32, dekInfo);
        Assert.Equal(commitment, HKDF.Expand(HashAlgorithmName.SHA512, prk, 32, commitmentInfo));

        // AAD = SHA-256(header) || caller's associated data.
        byte[] aad = [.. SHA256.HashData(first.AsSpan(0, h)), .. associatedData];
        foreach (var envelope in new[] { first, second })
        {
            var decrypted = new byte[plaintext.Length];
            using var aes = new AesGcm(dek, 16);
            aes.Decrypt(envelope.AsSpan(h, 12), envelope.AsSpan(h + 12, plaintext.Length), envelope.AsSpan(envelope.Length - 16), decrypted, aad);
            Assert.Equal(plaintext, decrypted);

            // Without the caller's associated data the tag does not verify.
            Assert.ThrowsAny<CryptographicException>(() => aes.Decrypt(envelope.AsSpan(h, 12), envelope.AsSpan(h + 12, plaintext.Length), envelope.AsSpan(envelope.Length - 16), decrypted, aad.AsSpan(0, 32)));
        }

        // Standard AES-GCM output: plain AesGcm with the documented key, nonce and AAD writes the same bytes.
        var body = new byte[plaintext.Length + 16];
        using (var aes = new AesGcm(dek, 16))
        {
            aes.Encrypt(first.AsSpan(h, 12), plaintext, body.AsSpan(0, plaintext.Length), body.AsSpan(plaintext.Length), aad);
        }

        Assert.Equal(body, first[(h + 12)..]);
    }

    [Fact]
    public async Task Envelopes_of_one_backend_decrypt_with_the_other()
    {
        var ct = TestContext.Current.CancellationToken;
        using var kms = new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("backends", ct);
        using var platform = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Platform }, kms.Clock);
        using var sodium = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Libsodium }, kms.Clock);
        var plaintext = RandomNumberGenerator.GetBytes(1000);

        Assert.Equal(plaintext, sodium.Decrypt(platform.CreateProtector(key.KeyId).Encrypt(plaintext)));
        Assert.Equal(plaintext, platform.Decrypt(sodium.CreateProtector(key.KeyId).Encrypt(plaintext)));
    }

    [Fact]
    public void The_worked_example_parses_with_the_library_reader_as_its_table_says()
    {
        var document = RepositoryFiles.ReadText(Document);
        var start = document.IndexOf("<!-- worked-example -->\n```\n", StringComparison.Ordinal);
        var end = document.IndexOf("```\n<!-- /worked-example -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "The worked example block was not found.");
        var hex = document[(start + "<!-- worked-example -->\n```\n".Length)..end].Replace("\n", string.Empty, StringComparison.Ordinal);
        var envelope = Convert.FromHexString(hex);

        Assert.Equal(299, envelope.Length);
        Assert.True(EnvelopeFormat.TryGetHeaderLength(envelope, out var headerLength, out var suite));
        Assert.Equal(256, headerLength);
        Assert.Equal(EnvelopeFormat.SuiteOneShot, suite);
        var header = envelope.AsSpan(0, headerLength);
        var fields = EnvelopeFormat.ReadFields(header);
        Assert.Equal("edc9cce4-9241-49a7-9a2f-7ac6dcf5dc5b", fields.KeyId(header));
        Assert.Equal((43, 131), (fields.EncryptedDataKeyStart, fields.EncryptedDataKeyLength));
        Assert.Equal((176, 16), (fields.ContextStart, fields.ContextLength));
        Assert.Equal(192, fields.SaltStart);
        Assert.Equal(224, fields.CommitmentStart);
        Assert.True(EncryptionContextEncoding.TryDecode(header.Slice(fields.ContextStart, fields.ContextLength), out var context));
        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "acme" }, context);

        // The encrypted data key is a version-1 KMS blob of a 32-byte key under the same key id.
        var encryptedDataKey = header.Slice(fields.EncryptedDataKeyStart, fields.EncryptedDataKeyLength);
        Assert.Equal(0x01, encryptedDataKey[0]);
        Assert.Equal("edc9cce4-9241-49a7-9a2f-7ac6dcf5dc5b", Encoding.ASCII.GetString(encryptedDataKey.Slice(3, encryptedDataKey[2])));
        Assert.Equal(99 + 32, encryptedDataKey.Length);

        Assert.Equal(Convert.FromHexString("000000000000000000000001"), envelope[256..268]);
        Assert.Equal(15, EnvelopeEncryptor.GetPlaintextLength(envelope));
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(header)), document, StringComparison.Ordinal);
        Assert.Contains($"| `{Convert.ToHexStringLower(envelope.AsSpan(268, 15))}` |", document, StringComparison.Ordinal);
        Assert.Contains($"| `{Convert.ToHexStringLower(envelope.AsSpan(283, 16))}` |", document, StringComparison.Ordinal);
    }

    [Fact]
    public void The_documented_cache_defaults_are_the_code_defaults()
    {
        var options = new EnvelopeOptions();
        Assert.Equal(TimeSpan.FromMinutes(5), options.MaxDataKeyAge);
        Assert.Equal(1L << 24, options.MaxMessagesPerDataKey);
        Assert.Equal(1L << 36, options.MaxBytesPerDataKey);
        Assert.Equal(1000, options.CacheCapacity);
        Assert.Equal(AeadBackend.Automatic, options.Backend);

        var document = RepositoryFiles.ReadText(Document);
        Assert.Contains("| `MaxDataKeyAge` | 5 minutes |", document, StringComparison.Ordinal);
        Assert.Contains("| `MaxMessagesPerDataKey` | 2^24 (16,777,216) |", document, StringComparison.Ordinal);
        Assert.Contains("| `MaxBytesPerDataKey` | 2^36 bytes (64 GiB) |", document, StringComparison.Ordinal);
        Assert.Contains("| `CacheCapacity` | 1000 |", document, StringComparison.Ordinal);
        Assert.Contains("| `Backend` | `Automatic` |", document, StringComparison.Ordinal);
    }
}
