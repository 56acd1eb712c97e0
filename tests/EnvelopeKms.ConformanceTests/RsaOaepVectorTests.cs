using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

/// <summary>
/// Wycheproof RSAES-OAEP decryption through <see cref="RsaOaep"/> (the platform's RSA).
/// Covered: rsa_oaep_2048_sha1_mgf1sha1 (RSAES_OAEP_SHA_1), rsa_oaep_{2048,3072,4096}_sha256_mgf1sha256
/// (RSAES_OAEP_SHA_256), and the SHA-1/SHA-1 and SHA-256/SHA-256 groups of rsa_oaep_misc.
/// Excluded cases, counted exactly: those with a non-empty OAEP label (KMS never uses one and the
/// platform cannot decrypt with one, RELIABILITY finding 3), and in rsa_oaep_misc the groups whose
/// OAEP/MGF1 hashes are not SHA-1/SHA-1 or SHA-256/SHA-256 (no KMS algorithm uses them).
/// The mixed files (rsa_oaep_*_sha256_mgf1sha1) are not run as vectors: no KMS algorithm is OAEP-SHA-256
/// with MGF1-SHA-1. Instead a test asserts that RSAES_OAEP_SHA_256 rejects every one of their
/// ciphertexts with the invalid-ciphertext error, never returning plaintext.
/// </summary>
public sealed class RsaOaepVectorTests
{
    [Theory]
    [InlineData("rsa_oaep_2048_sha1_mgf1sha1_test.json", 29, 7)]
    [InlineData("rsa_oaep_2048_sha256_mgf1sha256_test.json", 29, 8)]
    [InlineData("rsa_oaep_3072_sha256_mgf1sha256_test.json", 29, 8)]
    [InlineData("rsa_oaep_4096_sha256_mgf1sha256_test.json", 29, 8)]
    [InlineData("rsa_oaep_misc_test.json", 30, 365)]
    public void Oaep_decryption_matches_every_vector_of_a_KMS_hash_pair_without_label(string file, int expectedPassed, int expectedExcluded)
    {
        var (passed, excluded) = Wycheproof.RunSubset(file, c => Algorithm(c) is null || c.Test.GetProperty("label").GetString() is { Length: > 0 }, Decrypts);
        Assert.Equal((expectedPassed, expectedExcluded), (passed, excluded));
    }

    [Theory]
    [InlineData("rsa_oaep_2048_sha256_mgf1sha1_test.json", 31)]
    [InlineData("rsa_oaep_3072_sha256_mgf1sha1_test.json", 32)]
    [InlineData("rsa_oaep_4096_sha256_mgf1sha1_test.json", 32)]
    public void Oaep_sha256_rejects_every_ciphertext_made_with_mgf1_sha1(string file, int expectedRejected)
    {
        var rejected = 0;
        foreach (var c in Wycheproof.Load(file))
        {
            Assert.Throws<KmsInvalidCiphertextException>(() => RsaOaep.Decrypt(c.GroupHex("privateKeyPkcs8"), c.Hex("ct"), RsaOaepAlgorithm.Sha256));
            rejected++;
        }

        Assert.Equal(expectedRejected, rejected);
    }

    private static bool Decrypts(WycheproofCase c)
    {
        try
        {
            var plaintext = RsaOaep.Decrypt(c.GroupHex("privateKeyPkcs8"), c.Hex("ct"), Algorithm(c)!.Value);
            Assert.Equal(c.Hex("msg"), plaintext);
            return true;
        }
        catch (KmsInvalidCiphertextException)
        {
            return false;
        }
    }

    private static RsaOaepAlgorithm? Algorithm(WycheproofCase c) => (c.GroupString("sha"), c.GroupString("mgfSha")) switch
    {
        ("SHA-1", "SHA-1") => RsaOaepAlgorithm.Sha1,
        ("SHA-256", "SHA-256") => RsaOaepAlgorithm.Sha256,
        _ => null,
    };
}
