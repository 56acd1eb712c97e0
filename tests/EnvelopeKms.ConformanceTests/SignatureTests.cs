using System.Security.Cryptography;
using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

/// <summary>Round trips, tampering and input validation of the signature primitives.</summary>
public sealed class SignatureTests
{
    private static readonly byte[] Message = "EnvelopeKms signature test"u8.ToArray();

    private static byte[] Tamper(byte[] bytes, int index = 0)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= 0x01;
        return copy;
    }

    [Theory]
    [InlineData(2048, "Pss", "Sha256")]
    [InlineData(2048, "Pkcs1", "Sha512")]
    [InlineData(3072, "Pss", "Sha384")]
    [InlineData(4096, "Pkcs1", "Sha256")]
    public void Rsa_signatures_round_trip_and_reject_tampering(int bits, string schemeName, string hashName)
    {
        var scheme = Enum.Parse<RsaSignatureScheme>(schemeName);
        var hash = Enum.Parse<SignatureHash>(hashName);
        var (pkcs8, spki) = RsaSignatures.GenerateKeyPair(bits);
        using (var rsa = RSA.Create())
        {
            rsa.ImportSubjectPublicKeyInfo(spki, out _);
            Assert.Equal(bits, rsa.KeySize);
        }

        var signature = RsaSignatures.Sign(pkcs8, scheme, hash, Message, SignatureMessageType.Raw);
        Assert.Equal(bits / 8, signature.Length);
        Assert.True(RsaSignatures.Verify(spki, scheme, hash, Message, SignatureMessageType.Raw, signature));
        Assert.False(RsaSignatures.Verify(spki, scheme, hash, Tamper(Message), SignatureMessageType.Raw, signature));
        Assert.False(RsaSignatures.Verify(spki, scheme, hash, Message, SignatureMessageType.Raw, Tamper(signature, 10)));
        Assert.False(RsaSignatures.Verify(spki, scheme, hash, Message, SignatureMessageType.Raw, signature.AsSpan(..^1)));
        Assert.False(RsaSignatures.Verify(spki, scheme, hash, Message, SignatureMessageType.Raw, [.. signature, 0]));

        // A DIGEST of the message verifies the same signature, and signs one that verifies over the RAW message.
        var digest = SignatureInput.ToDigest(Message, SignatureMessageType.Raw, hash);
        Assert.True(RsaSignatures.Verify(spki, scheme, hash, digest, SignatureMessageType.Digest, signature));
        var fromDigest = RsaSignatures.Sign(pkcs8, scheme, hash, digest, SignatureMessageType.Digest);
        Assert.True(RsaSignatures.Verify(spki, scheme, hash, Message, SignatureMessageType.Raw, fromDigest));
    }

    [Fact]
    public void Rsa_pss_and_pkcs1_signatures_do_not_verify_as_each_other()
    {
        var (pkcs8, spki) = RsaSignatures.GenerateKeyPair(2048);
        var pss = RsaSignatures.Sign(pkcs8, RsaSignatureScheme.Pss, SignatureHash.Sha256, Message, SignatureMessageType.Raw);
        Assert.False(RsaSignatures.Verify(spki, RsaSignatureScheme.Pkcs1, SignatureHash.Sha256, Message, SignatureMessageType.Raw, pss));
        Assert.False(RsaSignatures.Verify(spki, RsaSignatureScheme.Pss, SignatureHash.Sha384, Message, SignatureMessageType.Raw, pss));
    }

    [Fact]
    public void Rsa_verify_with_another_key_of_the_same_size_is_false()
    {
        var (pkcs8, _) = RsaSignatures.GenerateKeyPair(2048);
        var (_, otherSpki) = RsaSignatures.GenerateKeyPair(2048);
        var signature = RsaSignatures.Sign(pkcs8, RsaSignatureScheme.Pss, SignatureHash.Sha256, Message, SignatureMessageType.Raw);
        Assert.False(RsaSignatures.Verify(otherSpki, RsaSignatureScheme.Pss, SignatureHash.Sha256, Message, SignatureMessageType.Raw, signature));
    }

    [Fact]
    public void Rsa_key_sizes_other_than_2048_3072_4096_are_refused()
    {
        Assert.Throws<KmsValidationException>(() => RsaSignatures.GenerateKeyPair(1024));
        using var small = RSA.Create(1024);
        Assert.Throws<KmsValidationException>(() => RsaSignatures.Verify(small.ExportSubjectPublicKeyInfo(), RsaSignatureScheme.Pss, SignatureHash.Sha256, Message, SignatureMessageType.Raw, new byte[128]));
        Assert.Throws<KmsValidationException>(() => RsaSignatures.Sign(small.ExportPkcs8PrivateKey(), RsaSignatureScheme.Pss, SignatureHash.Sha256, Message, SignatureMessageType.Raw));
    }

    [Theory]
    [InlineData("Sha256", 31)]
    [InlineData("Sha256", 33)]
    [InlineData("Sha384", 32)]
    [InlineData("Sha512", 48)]
    [InlineData("Sha512", 0)]
    public void A_digest_whose_length_does_not_match_the_hash_is_a_validation_error(string hashName, int length)
    {
        var hash = Enum.Parse<SignatureHash>(hashName);
        var (pkcs8, spki) = RsaSignatures.GenerateKeyPair(2048);
        Assert.Throws<KmsValidationException>(() => RsaSignatures.Sign(pkcs8, RsaSignatureScheme.Pkcs1, hash, new byte[length], SignatureMessageType.Digest));
        Assert.Throws<KmsValidationException>(() => RsaSignatures.Verify(spki, RsaSignatureScheme.Pkcs1, hash, new byte[length], SignatureMessageType.Digest, new byte[256]));
    }

    [Fact]
    public void A_raw_message_above_4096_bytes_is_a_validation_error_for_every_family()
    {
        var large = new byte[SignatureInput.MaxRawMessageLength + 1];
        var atLimit = new byte[SignatureInput.MaxRawMessageLength];
        var (rsaKey, rsaPublic) = RsaSignatures.GenerateKeyPair(2048);
        Assert.Throws<KmsValidationException>(() => RsaSignatures.Sign(rsaKey, RsaSignatureScheme.Pss, SignatureHash.Sha256, large, SignatureMessageType.Raw));
        Assert.True(RsaSignatures.Verify(rsaPublic, RsaSignatureScheme.Pss, SignatureHash.Sha256, atLimit, SignatureMessageType.Raw,
            RsaSignatures.Sign(rsaKey, RsaSignatureScheme.Pss, SignatureHash.Sha256, atLimit, SignatureMessageType.Raw)));

        var (ecKey, _) = EcdsaSignatures.GenerateKeyPair(EcdsaCurve.P256);
        Assert.Throws<KmsValidationException>(() => EcdsaSignatures.Sign(ecKey, EcdsaCurve.P256, large, SignatureMessageType.Raw));
        var (edKey, _) = Ed25519Signatures.GenerateKeyPair();
        Assert.Throws<KmsValidationException>(() => Ed25519Signatures.Sign(edKey, Ed25519Variant.Pure, large, SignatureMessageType.Raw));
        Assert.Throws<KmsValidationException>(() => Ed25519Signatures.Sign(edKey, Ed25519Variant.Prehash, large, SignatureMessageType.Raw));
        var (mlKey, _) = MlDsaSignatures.GenerateKeyPair(MlDsaParameterSet.MlDsa44);
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Sign(mlKey, MlDsaParameterSet.MlDsa44, large, SignatureMessageType.Raw));
    }

    [Theory]
    [InlineData("P256", 32)]
    [InlineData("P384", 48)]
    [InlineData("P521", 66)]
    [InlineData("Secp256k1", 32)]
    public void Ecdsa_signatures_are_der_round_trip_and_reject_tampering(string curveName, int fieldLength)
    {
        var curve = Enum.Parse<EcdsaCurve>(curveName);
        SignatureVectorTests.SkipIfCurveMissing(curve);
        Assert.Equal(fieldLength, EcdsaSignatures.FieldLength(curve));
        var (pkcs8, spki) = EcdsaSignatures.GenerateKeyPair(curve);
        var signature = EcdsaSignatures.Sign(pkcs8, curve, Message, SignatureMessageType.Raw);
        Assert.Equal(0x30, signature[0]); // DER SEQUENCE, as KMS returns
        Assert.True(EcdsaSignatures.Verify(spki, curve, Message, SignatureMessageType.Raw, signature));
        Assert.False(EcdsaSignatures.Verify(spki, curve, Tamper(Message), SignatureMessageType.Raw, signature));
        Assert.False(EcdsaSignatures.Verify(spki, curve, Message, SignatureMessageType.Raw, Tamper(signature, signature.Length - 1)));
        Assert.False(EcdsaSignatures.Verify(spki, curve, Message, SignatureMessageType.Raw, [.. signature, 0]));
        Assert.False(EcdsaSignatures.Verify(spki, curve, Message, SignatureMessageType.Raw, []));

        // The same signature as r || s verifies on the P1363 path; a wrong length there is false.
        var p1363 = new byte[2 * fieldLength];
        Assert.True(EcdsaDer.TryToP1363(signature, fieldLength, p1363));
        Assert.True(EcdsaSignatures.VerifyP1363(spki, curve, Message, SignatureMessageType.Raw, p1363));
        Assert.False(EcdsaSignatures.VerifyP1363(spki, curve, Message, SignatureMessageType.Raw, p1363.AsSpan(..^1)));

        var digest = SignatureInput.ToDigest(Message, SignatureMessageType.Raw, EcdsaSignatures.HashFor(curve));
        Assert.True(EcdsaSignatures.Verify(spki, curve, digest, SignatureMessageType.Digest, signature));
        Assert.Throws<KmsValidationException>(() => EcdsaSignatures.Sign(pkcs8, curve, digest.AsSpan(..^1), SignatureMessageType.Digest));
    }

    [Fact]
    public void Ecdsa_der_with_a_non_minimal_integer_or_length_is_rejected_though_the_value_is_right()
    {
        var (pkcs8, spki) = EcdsaSignatures.GenerateKeyPair(EcdsaCurve.P256);
        var p1363 = new byte[64];
        Assert.True(EcdsaDer.TryToP1363(EcdsaSignatures.Sign(pkcs8, EcdsaCurve.P256, Message, SignatureMessageType.Raw), 32, p1363));
        byte[] r = p1363[..32], s = p1363[32..];

        static byte[] Integer(byte[] value, bool extraZero) => [0x02, (byte)(value.Length + (extraZero ? 1 : 0)), .. extraZero ? new byte[] { 0 } : [], .. value];
        byte[] Minimal(byte[] v)
        {
            var trimmed = v.AsSpan(v.AsSpan().IndexOfAnyExcept((byte)0)).ToArray();
            return (trimmed[0] & 0x80) != 0 ? [0, .. trimmed] : trimmed;
        }

        byte[] body = [.. Integer(Minimal(r), false), .. Integer(Minimal(s), false)];
        byte[] good = [0x30, (byte)body.Length, .. body];
        Assert.True(EcdsaSignatures.Verify(spki, EcdsaCurve.P256, Message, SignatureMessageType.Raw, good));

        byte[] paddedR = [.. Integer(Minimal(r), true), .. Integer(Minimal(s), false)];
        Assert.False(EcdsaSignatures.Verify(spki, EcdsaCurve.P256, Message, SignatureMessageType.Raw, [0x30, (byte)paddedR.Length, .. paddedR]));
        Assert.False(EcdsaSignatures.Verify(spki, EcdsaCurve.P256, Message, SignatureMessageType.Raw, [0x30, 0x81, (byte)body.Length, .. body]));
        Assert.False(EcdsaSignatures.Verify(spki, EcdsaCurve.P256, Message, SignatureMessageType.Raw, [0x31, (byte)body.Length, .. body]));
    }

    [Fact]
    public void Ecdsa_refuses_a_public_key_on_another_curve()
    {
        var (_, p384) = EcdsaSignatures.GenerateKeyPair(EcdsaCurve.P384);
        var (pkcs8, _) = EcdsaSignatures.GenerateKeyPair(EcdsaCurve.P256);
        var signature = EcdsaSignatures.Sign(pkcs8, EcdsaCurve.P256, Message, SignatureMessageType.Raw);
        Assert.Throws<KmsValidationException>(() => EcdsaSignatures.Verify(p384, EcdsaCurve.P256, Message, SignatureMessageType.Raw, signature));
        Assert.Throws<KmsValidationException>(() => EcdsaSignatures.Sign(pkcs8, EcdsaCurve.P384, Message, SignatureMessageType.Raw));
    }

    [Fact]
    public void Ed25519_signatures_round_trip_in_both_variants_and_reject_tampering()
    {
        var (pkcs8, spki) = Ed25519Signatures.GenerateKeyPair();
        foreach (var variant in new[] { Ed25519Variant.Pure, Ed25519Variant.Prehash })
        {
            var signature = Ed25519Signatures.Sign(pkcs8, variant, Message, SignatureMessageType.Raw);
            Assert.Equal(64, signature.Length);
            Assert.True(Ed25519Signatures.Verify(spki, variant, Message, SignatureMessageType.Raw, signature));
            Assert.False(Ed25519Signatures.Verify(spki, variant, Tamper(Message), SignatureMessageType.Raw, signature));
            Assert.False(Ed25519Signatures.Verify(spki, variant, Message, SignatureMessageType.Raw, Tamper(signature, 40)));
            Assert.False(Ed25519Signatures.Verify(spki, variant, Message, SignatureMessageType.Raw, signature.AsSpan(..^1)));
        }

        var pure = Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Pure, Message, SignatureMessageType.Raw);
        Assert.False(Ed25519Signatures.Verify(spki, Ed25519Variant.Prehash, Message, SignatureMessageType.Raw, pure));
        Assert.Throws<KmsValidationException>(() => Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Pure, SHA512.HashData(Message), SignatureMessageType.Digest));

        // ED25519_PH_SHA_512 over a DIGEST equals the signature over the RAW message.
        var ph = Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Prehash, Message, SignatureMessageType.Raw);
        Assert.Equal(ph, Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Prehash, SHA512.HashData(Message), SignatureMessageType.Digest));
        Assert.Throws<KmsValidationException>(() => Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Prehash, SHA256.HashData(Message), SignatureMessageType.Digest));
    }

    [Fact]
    public void Ed25519ph_matches_the_rfc_8032_test_vector()
    {
        // RFC 8032 section 7.3, TEST abc: secret key, public key, message "abc", signature.
        var secret = Convert.FromHexString("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        var expected = Convert.FromHexString("98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406");
        var privateKey = new Org.BouncyCastle.Crypto.Parameters.Ed25519PrivateKeyParameters(secret);
        var pkcs8 = Org.BouncyCastle.Pkcs.PrivateKeyInfoFactory.CreatePrivateKeyInfo(privateKey).GetDerEncoded();
        var spki = Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(privateKey.GeneratePublicKey()).GetDerEncoded();
        Assert.Equal("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", Convert.ToHexStringLower(spki[^32..]));
        Assert.Equal(expected, Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Prehash, "abc"u8, SignatureMessageType.Raw));
        Assert.True(Ed25519Signatures.Verify(spki, Ed25519Variant.Prehash, "abc"u8, SignatureMessageType.Raw, expected));
    }

    [Theory]
    [InlineData("MlDsa44", 2420)]
    [InlineData("MlDsa65", 3309)]
    [InlineData("MlDsa87", 4627)]
    public void Ml_dsa_signatures_round_trip_and_reject_tampering(string setName, int signatureLength)
    {
        var set = Enum.Parse<MlDsaParameterSet>(setName);
        var (pkcs8, spki) = MlDsaSignatures.GenerateKeyPair(set);
        var signature = MlDsaSignatures.Sign(pkcs8, set, Message, SignatureMessageType.Raw);
        Assert.Equal(signatureLength, signature.Length);
        Assert.True(MlDsaSignatures.Verify(spki, set, Message, SignatureMessageType.Raw, signature));
        Assert.False(MlDsaSignatures.Verify(spki, set, Tamper(Message), SignatureMessageType.Raw, signature));
        Assert.False(MlDsaSignatures.Verify(spki, set, Message, SignatureMessageType.Raw, Tamper(signature, 5)));
        Assert.False(MlDsaSignatures.Verify(spki, set, Message, SignatureMessageType.Raw, signature.AsSpan(..^1)));

        // Hedged by default: two signatures differ; deterministic ones repeat.
        Assert.NotEqual(signature, MlDsaSignatures.Sign(pkcs8, set, Message, SignatureMessageType.Raw));
        Assert.Equal(
            MlDsaSignatures.Sign(pkcs8, set, Message, SignatureMessageType.Raw, deterministic: true),
            MlDsaSignatures.Sign(pkcs8, set, Message, SignatureMessageType.Raw, deterministic: true));
    }

    [Fact]
    public void Ml_dsa_refuses_digest_and_external_mu_messages_and_keys_of_another_parameter_set()
    {
        var (pkcs8, spki) = MlDsaSignatures.GenerateKeyPair(MlDsaParameterSet.MlDsa44);
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Sign(pkcs8, MlDsaParameterSet.MlDsa44, new byte[63], SignatureMessageType.ExternalMu));
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Sign(pkcs8, MlDsaParameterSet.MlDsa44, new byte[32], SignatureMessageType.Digest));
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Sign(pkcs8, MlDsaParameterSet.MlDsa65, Message, SignatureMessageType.Raw));
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Verify(spki, MlDsaParameterSet.MlDsa65, Message, SignatureMessageType.Raw, new byte[3309]));
    }

    [Fact]
    public void Malformed_key_material_is_a_validation_error()
    {
        byte[] junk = [0x30, 0x03, 0x02, 0x01, 0x00];
        Assert.Throws<KmsValidationException>(() => RsaSignatures.Sign(junk, RsaSignatureScheme.Pss, SignatureHash.Sha256, Message, SignatureMessageType.Raw));
        Assert.Throws<KmsValidationException>(() => EcdsaSignatures.Verify(junk, EcdsaCurve.P256, Message, SignatureMessageType.Raw, new byte[8]));
        Assert.Throws<KmsValidationException>(() => Ed25519Signatures.Sign(junk, Ed25519Variant.Pure, Message, SignatureMessageType.Raw));
        Assert.Throws<KmsValidationException>(() => Ed25519Signatures.Verify(junk, Ed25519Variant.Pure, Message, SignatureMessageType.Raw, new byte[64]));
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Sign(junk, MlDsaParameterSet.MlDsa44, Message, SignatureMessageType.Raw));
        Assert.Throws<KmsValidationException>(() => MlDsaSignatures.Verify(junk, MlDsaParameterSet.MlDsa44, Message, SignatureMessageType.Raw, new byte[2420]));
    }
}
