using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

public sealed class MlKemTests
{
    [Theory]
    [InlineData("MlKem512", 768)]
    [InlineData("MlKem768", 1088)]
    [InlineData("MlKem1024", 1568)]
    public void Encapsulate_and_decapsulate_agree_on_a_32_byte_secret(string setName, int ciphertextLength)
    {
        var set = Enum.Parse<MlKemParameterSet>(setName);
        var (pkcs8, spki) = MlKem.GenerateKeyPair(set);

        var (secret, ciphertext) = MlKem.Encapsulate(set, spki);

        Assert.Equal(32, secret.Length);
        Assert.Equal(ciphertextLength, ciphertext.Length);
        Assert.Equal(ciphertextLength, MlKem.CiphertextLength(set));
        Assert.Equal(secret, MlKem.Decapsulate(set, pkcs8, ciphertext));
    }

    [Fact]
    public void A_tampered_ciphertext_of_the_right_length_yields_another_32_byte_secret_not_an_error()
    {
        var (pkcs8, spki) = MlKem.GenerateKeyPair(MlKemParameterSet.MlKem768);
        var (secret, ciphertext) = MlKem.Encapsulate(MlKemParameterSet.MlKem768, spki);
        ciphertext[10] ^= 1;

        var rejected = MlKem.Decapsulate(MlKemParameterSet.MlKem768, pkcs8, ciphertext);

        Assert.Equal(32, rejected.Length);
        Assert.NotEqual(secret, rejected);
        Assert.Equal(rejected, MlKem.Decapsulate(MlKemParameterSet.MlKem768, pkcs8, ciphertext));
    }

    [Fact]
    public void A_ciphertext_of_the_wrong_length_is_invalid_ciphertext()
    {
        var (pkcs8, spki) = MlKem.GenerateKeyPair(MlKemParameterSet.MlKem512);
        var (_, ciphertext) = MlKem.Encapsulate(MlKemParameterSet.MlKem512, spki);

        Assert.Throws<KmsInvalidCiphertextException>(() => MlKem.Decapsulate(MlKemParameterSet.MlKem512, pkcs8, ciphertext.AsSpan(1)));
        Assert.Throws<KmsInvalidCiphertextException>(() => MlKem.Decapsulate(MlKemParameterSet.MlKem512, pkcs8, [.. ciphertext, 0]));
        Assert.Throws<KmsInvalidCiphertextException>(() => MlKem.Decapsulate(MlKemParameterSet.MlKem512, pkcs8, []));
    }

    [Fact]
    public void Keys_of_another_parameter_set_or_malformed_keys_are_validation_errors()
    {
        var (pkcs8, spki) = MlKem.GenerateKeyPair(MlKemParameterSet.MlKem512);
        var (_, ciphertext) = MlKem.Encapsulate(MlKemParameterSet.MlKem512, spki);

        Assert.Throws<KmsValidationException>(() => MlKem.Encapsulate(MlKemParameterSet.MlKem768, spki));
        Assert.Throws<KmsValidationException>(() => MlKem.Decapsulate(MlKemParameterSet.MlKem768, pkcs8, ciphertext));
        Assert.Throws<KmsValidationException>(() => MlKem.Encapsulate(MlKemParameterSet.MlKem512, spki.AsSpan(0, spki.Length - 1)));
        Assert.Throws<KmsValidationException>(() => MlKem.Encapsulate(MlKemParameterSet.MlKem512, [.. spki, 0]));
        Assert.Throws<KmsValidationException>(() => MlKem.Decapsulate(MlKemParameterSet.MlKem512, [0x30, 0x00], ciphertext));
        Assert.Throws<KmsValidationException>(() => MlKem.GenerateKeyPairFromSeed(MlKemParameterSet.MlKem512, new byte[63]));
    }

    [Fact]
    public void The_same_seed_gives_the_same_key_pair()
    {
        var seed = new byte[64];
        seed[0] = 7;
        var first = MlKem.GenerateKeyPairFromSeed(MlKemParameterSet.MlKem1024, seed);
        var second = MlKem.GenerateKeyPairFromSeed(MlKemParameterSet.MlKem1024, seed);

        Assert.Equal(first.Pkcs8, second.Pkcs8);
        Assert.Equal(first.Spki, second.Spki);
    }
}
