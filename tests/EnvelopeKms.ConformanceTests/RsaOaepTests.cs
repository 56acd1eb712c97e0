using System.Security.Cryptography;
using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

public sealed class RsaOaepTests
{
    [Theory]
    [InlineData(2048, "SHA-1", 214)]
    [InlineData(2048, "SHA-256", 190)]
    [InlineData(3072, "SHA-1", 342)]
    [InlineData(3072, "SHA-256", 318)]
    [InlineData(4096, "SHA-1", 470)]
    [InlineData(4096, "SHA-256", 446)]
    public void Plaintext_limits_are_those_of_KMS(int keySize, string hash, int expected)
        => Assert.Equal(expected, RsaOaep.MaxPlaintextLength(keySize, Parse(hash)));

    private static RsaOaepAlgorithm Parse(string hash) => hash == "SHA-1" ? RsaOaepAlgorithm.Sha1 : RsaOaepAlgorithm.Sha256;

    [Theory]
    [InlineData("SHA-1")]
    [InlineData("SHA-256")]
    public void A_plaintext_at_the_limit_round_trips_and_one_byte_more_is_a_validation_error(string hash)
    {
        var algorithm = Parse(hash);
        var (pkcs8, spki) = RsaOaep.GenerateKeyPair(2048);
        var limit = RsaOaep.MaxPlaintextLength(2048, algorithm);
        var plaintext = RandomNumberGenerator.GetBytes(limit);

        var ciphertext = RsaOaep.Encrypt(spki, plaintext, algorithm);

        Assert.Equal(256, ciphertext.Length);
        Assert.Equal(plaintext, RsaOaep.Decrypt(pkcs8, ciphertext, algorithm));
        Assert.Throws<KmsValidationException>(() => RsaOaep.Encrypt(spki, new byte[limit + 1], algorithm));
    }

    [Fact]
    public void A_ciphertext_decrypted_with_the_other_hash_or_tampered_or_of_the_wrong_length_is_invalid_ciphertext()
    {
        var (pkcs8, spki) = RsaOaep.GenerateKeyPair(2048);
        var ciphertext = RsaOaep.Encrypt(spki, "secret"u8, RsaOaepAlgorithm.Sha256);
        var tampered = (byte[])ciphertext.Clone();
        tampered[100] ^= 1;

        Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(pkcs8, ciphertext, RsaOaepAlgorithm.Sha1));
        Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(pkcs8, tampered, RsaOaepAlgorithm.Sha256));
        Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(pkcs8, ciphertext.AsSpan(1), RsaOaepAlgorithm.Sha256));
        Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(pkcs8, [.. ciphertext, 0], RsaOaepAlgorithm.Sha256));
        Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(pkcs8, [], RsaOaepAlgorithm.Sha256));
    }

    [Fact]
    public void A_ciphertext_for_another_key_is_invalid_ciphertext_with_the_same_message_as_tampering()
    {
        var (_, spki) = RsaOaep.GenerateKeyPair(2048);
        var (otherPkcs8, _) = RsaOaep.GenerateKeyPair(2048);
        var ciphertext = RsaOaep.Encrypt(spki, "secret"u8, RsaOaepAlgorithm.Sha1);
        var wrongKey = Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(otherPkcs8, ciphertext, RsaOaepAlgorithm.Sha1));
        var wrongLength = Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(otherPkcs8, ciphertext.AsSpan(2), RsaOaepAlgorithm.Sha1));

        Assert.Equal(wrongLength.Message, wrongKey.Message);
        Assert.Null(wrongKey.InnerException);
    }

    [Fact]
    public void Key_sizes_other_than_those_of_KMS_are_refused()
        => Assert.Throws<KmsValidationException>(() => RsaOaep.GenerateKeyPair(1024));
}
