using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

/// <summary>
/// Wycheproof ML-KEM through <see cref="MlKem"/> (BouncyCastle; the platform's MLKem is not supported on
/// OpenSSL 3.0). Covered, every case of, for ML-KEM-512/768/1024:
/// mlkem_*_test (key pair from the 64-byte seed, its encapsulation key compared, then Decapsulate;
/// wrong seed lengths and wrong ciphertext lengths must be rejected), mlkem_*_encaps_test (deterministic
/// encapsulation with the given m through <see cref="MlKem.EncapsulateDeterministic"/>; encapsulation
/// keys of the wrong length or failing the modulus check must be rejected), mlkem_*_semi_expanded_decaps_test
/// (expanded decapsulation key import with its length and hash checks, then Decapsulate) and
/// mlkem_*_keygen_seed_test (seeded key generation, both the encapsulation key and the expanded
/// decapsulation key compared). Nothing is excluded.
/// </summary>
public sealed class MlKemVectorTests
{
    [Theory]
    [InlineData("mlkem_512_test.json", "MlKem512", 193)]
    [InlineData("mlkem_768_test.json", "MlKem768", 193)]
    [InlineData("mlkem_1024_test.json", "MlKem1024", 193)]
    public void Seeded_keys_decapsulate_every_vector(string file, string setName, int expected)
    {
        var set = Enum.Parse<MlKemParameterSet>(setName);
        var passed = Wycheproof.Run(file, c =>
        {
            try
            {
                var (pkcs8, spki) = MlKem.GenerateKeyPairFromSeed(set, c.Hex("seed"));
                Assert.Equal(c.Hex("ek"), MlKem.ExportEncapsulationKey(set, spki));
                return Matches(c, MlKem.Decapsulate(set, pkcs8, c.Hex("c")));
            }
            catch (Exception e) when (e is KmsValidationException or KmsInvalidCiphertextException)
            {
                return false;
            }
        });
        Assert.Equal(expected, passed);
    }

    [Theory]
    [InlineData("mlkem_512_encaps_test.json", "MlKem512", 261)]
    [InlineData("mlkem_768_encaps_test.json", "MlKem768", 265)]
    [InlineData("mlkem_1024_encaps_test.json", "MlKem1024", 269)]
    public void Encapsulation_with_a_given_message_matches_every_vector(string file, string setName, int expected)
    {
        var set = Enum.Parse<MlKemParameterSet>(setName);
        var passed = Wycheproof.Run(file, c =>
        {
            try
            {
                var (secret, ciphertext) = MlKem.EncapsulateDeterministic(set, c.Hex("ek"), c.Hex("m"));
                if (c.Result == "valid")
                {
                    Assert.Equal(c.Hex("c"), ciphertext);
                }

                return ciphertext.AsSpan().SequenceEqual(c.Hex("c")) && Matches(c, secret);
            }
            catch (KmsValidationException)
            {
                return false;
            }
        });
        Assert.Equal(expected, passed);
    }

    [Theory]
    [InlineData("mlkem_512_semi_expanded_decaps_test.json", "MlKem512", 9)]
    [InlineData("mlkem_768_semi_expanded_decaps_test.json", "MlKem768", 9)]
    [InlineData("mlkem_1024_semi_expanded_decaps_test.json", "MlKem1024", 9)]
    public void Expanded_decapsulation_keys_are_checked_and_decapsulate_every_vector(string file, string setName, int expected)
    {
        var set = Enum.Parse<MlKemParameterSet>(setName);
        var passed = Wycheproof.Run(file, c =>
        {
            try
            {
                var pkcs8 = MlKem.ImportDecapsulationKey(set, c.Hex("dk"));
                var secret = MlKem.Decapsulate(set, pkcs8, c.Hex("c"));
                Assert.Equal(32, secret.Length);
                return !c.Test.TryGetProperty("K", out _) || Matches(c, secret);
            }
            catch (Exception e) when (e is KmsValidationException or KmsInvalidCiphertextException)
            {
                return false;
            }
        });
        Assert.Equal(expected, passed);
    }

    [Theory]
    [InlineData("mlkem_512_keygen_seed_test.json", "MlKem512", 100)]
    [InlineData("mlkem_768_keygen_seed_test.json", "MlKem768", 100)]
    [InlineData("mlkem_1024_keygen_seed_test.json", "MlKem1024", 100)]
    public void Seeded_key_generation_matches_every_vector(string file, string setName, int expected)
    {
        var set = Enum.Parse<MlKemParameterSet>(setName);
        var passed = Wycheproof.Run(file, c =>
        {
            var (pkcs8, spki) = MlKem.GenerateKeyPairFromSeed(set, c.Hex("seed"));
            return MlKem.ExportEncapsulationKey(set, spki).AsSpan().SequenceEqual(c.Hex("ek"))
                && MlKem.ExportDecapsulationKey(set, pkcs8).AsSpan().SequenceEqual(c.Hex("dk"));
        });
        Assert.Equal(expected, passed);
    }

    private static bool Matches(WycheproofCase c, byte[] secret)
    {
        if (c.Result == "valid")
        {
            Assert.Equal(c.Hex("K"), secret);
        }

        return secret.AsSpan().SequenceEqual(c.Hex("K"));
    }
}
