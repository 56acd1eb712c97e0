using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

/// <summary>
/// Wycheproof ECDH through <see cref="Ecdh"/> (the platform's curves; secp256k1 is skipped with the reason
/// where the platform lacks it, never reported passed). Covered, every case of: ecdh_secp256r1_test,
/// ecdh_secp384r1_test, ecdh_secp521r1_test, ecdh_secp256k1_test (peer key as SubjectPublicKeyInfo: only
/// DER named-curve id-ecPublicKey SPKIs on the key's own curve with an uncompressed point pass, so the
/// "acceptable" InvalidAsn / UnusedParam / UnnamedCurve / CompressedPublic cases are rejected), and
/// ecdh_secp256r1/384r1/521r1_ecpoint_test (peer key as a raw point; compressed points, "acceptable",
/// are rejected). No ecpoint file exists for secp256k1. A check passes when the derived secret equals
/// "shared" exactly. Nothing is excluded.
/// </summary>
public sealed class EcdhVectorTests
{
    [Theory]
    [InlineData("ecdh_secp256r1_test.json", "P256", 612)]
    [InlineData("ecdh_secp384r1_test.json", "P384", 1047)]
    [InlineData("ecdh_secp521r1_test.json", "P521", 916)]
    [InlineData("ecdh_secp256k1_test.json", "Secp256k1", 752)]
    public void Derivation_with_a_peer_SubjectPublicKeyInfo_matches_every_vector(string file, string curveName, int expected)
    {
        var curve = Enum.Parse<EcdhCurve>(curveName);
        Assert.SkipUnless(Ecdh.IsSupported(curve), $"The platform has no {curve} here.");
        var passed = Wycheproof.Run(file, c => Derives(c, curve, (pkcs8, pub) => Ecdh.DeriveSharedSecret(curve, pkcs8, pub)));
        Assert.Equal(expected, passed);
    }

    [Theory]
    [InlineData("ecdh_secp256r1_ecpoint_test.json", "P256", 355)]
    [InlineData("ecdh_secp384r1_ecpoint_test.json", "P384", 790)]
    [InlineData("ecdh_secp521r1_ecpoint_test.json", "P521", 661)]
    public void Derivation_with_a_peer_point_matches_every_vector(string file, string curveName, int expected)
    {
        var curve = Enum.Parse<EcdhCurve>(curveName);
        var passed = Wycheproof.Run(file, c => Derives(c, curve, (pkcs8, pub) => Ecdh.DeriveSharedSecretFromPoint(curve, pkcs8, pub)));
        Assert.Equal(expected, passed);
    }

    private static bool Derives(WycheproofCase c, EcdhCurve curve, Func<byte[], byte[], byte[]> derive)
    {
        var pkcs8 = Ecdh.ImportPrivateScalar(curve, c.Hex("private"));
        byte[] shared;
        try
        {
            shared = derive(pkcs8, c.Hex("public"));
        }
        catch (KmsValidationException)
        {
            return false;
        }

        if (c.Result == "valid")
        {
            Assert.Equal(c.Hex("shared"), shared);
        }

        return shared.AsSpan().SequenceEqual(c.Hex("shared"));
    }
}
