using System.Security.Cryptography;
using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

public sealed class EcdhTests
{
    [Theory]
    [InlineData("P256", 32)]
    [InlineData("P384", 48)]
    [InlineData("P521", 66)]
    [InlineData("Secp256k1", 32)]
    public void Both_parties_derive_the_same_secret_of_the_field_length(string curveName, int length)
    {
        var curve = Enum.Parse<EcdhCurve>(curveName);
        Assert.SkipUnless(Ecdh.IsSupported(curve), $"The platform has no {curve} here.");
        var (alicePrivate, alicePublic) = Ecdh.GenerateKeyPair(curve);
        var (bobPrivate, bobPublic) = Ecdh.GenerateKeyPair(curve);

        var alice = Ecdh.DeriveSharedSecret(curve, alicePrivate, bobPublic);
        var bob = Ecdh.DeriveSharedSecret(curve, bobPrivate, alicePublic);

        Assert.Equal(length, alice.Length);
        Assert.Equal(alice, bob);
    }

    [Fact]
    public void A_peer_key_with_explicit_curve_parameters_is_a_validation_error_though_the_platform_accepts_it()
    {
        var (ours, _) = Ecdh.GenerateKeyPair(EcdhCurve.P256);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var explicitParameters = peer.ExportExplicitParameters(false);
        using var explicitPeer = ECDiffieHellman.Create();
        explicitPeer.ImportParameters(explicitParameters);
        var explicitSpki = explicitPeer.ExportSubjectPublicKeyInfo();

        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecret(EcdhCurve.P256, ours, explicitSpki));
        Assert.Equal(32, Ecdh.DeriveSharedSecret(EcdhCurve.P256, ours, peer.ExportSubjectPublicKeyInfo()).Length);
    }

    [Fact]
    public void A_peer_key_on_another_curve_or_an_rsa_key_or_trailing_bytes_is_a_validation_error()
    {
        var (ours, _) = Ecdh.GenerateKeyPair(EcdhCurve.P256);
        var (_, p384Public) = Ecdh.GenerateKeyPair(EcdhCurve.P384);
        var (_, p256Public) = Ecdh.GenerateKeyPair(EcdhCurve.P256);
        using var rsa = RSA.Create(2048);

        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecret(EcdhCurve.P256, ours, p384Public));
        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecret(EcdhCurve.P256, ours, rsa.ExportSubjectPublicKeyInfo()));
        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecret(EcdhCurve.P256, ours, [.. p256Public, 0]));
        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecret(EcdhCurve.P256, ours, []));
    }

    [Fact]
    public void A_private_key_of_another_curve_is_a_validation_error()
    {
        var (p384Private, _) = Ecdh.GenerateKeyPair(EcdhCurve.P384);
        var (_, p256Public) = Ecdh.GenerateKeyPair(EcdhCurve.P256);

        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecret(EcdhCurve.P256, p384Private, p256Public));
    }

    [Fact]
    public void A_point_off_the_curve_or_at_infinity_or_compressed_is_a_validation_error()
    {
        var (ours, _) = Ecdh.GenerateKeyPair(EcdhCurve.P256);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var q = peer.ExportParameters(false).Q;
        byte[] point = [0x04, .. q.X!, .. q.Y!];
        var offCurve = (byte[])point.Clone();
        offCurve[^1] ^= 1;

        Assert.Equal(32, Ecdh.DeriveSharedSecretFromPoint(EcdhCurve.P256, ours, point).Length);
        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecretFromPoint(EcdhCurve.P256, ours, offCurve));
        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecretFromPoint(EcdhCurve.P256, ours, [0x00]));
        Assert.Throws<KmsValidationException>(() => Ecdh.DeriveSharedSecretFromPoint(EcdhCurve.P256, ours, [(byte)(0x02 | (q.Y![^1] & 1)), .. q.X!]));
    }
}
