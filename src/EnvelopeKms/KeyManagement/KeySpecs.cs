using EnvelopeKms.Cryptography;

namespace EnvelopeKms.KeyManagement;

/// <summary>What each supported key spec is: its usage, its material and its algorithms.</summary>
internal static class KeySpecs
{
    /// <summary>The usage a spec's keys get when the request names none that fits: the spec's first usage.</summary>
    public static KeyUsage UsageOf(KeySpec spec)
        => IsHmac(spec) ? KeyUsage.GenerateVerifyMac
        : IsMlKem(spec) ? KeyUsage.EncapsulateDecapsulate
        : IsAsymmetric(spec) ? KeyUsage.SignVerify
        : KeyUsage.EncryptDecrypt;

    /// <summary>Whether a spec takes a usage (as AWS KMS allows them; ML-KEM is not offered yet).</summary>
    public static bool AllowsUsage(KeySpec spec, KeyUsage usage) => usage switch
    {
        KeyUsage.EncryptDecrypt => spec is KeySpec.SymmetricDefault || IsRsa(spec),
        KeyUsage.SignVerify => IsAsymmetric(spec) && !IsMlKem(spec),
        KeyUsage.EncapsulateDecapsulate => IsMlKem(spec),
        KeyUsage.GenerateVerifyMac => IsHmac(spec),
        KeyUsage.KeyAgreement => IsEcc(spec),
        _ => false,
    };

    /// <summary>The usages a spec takes, for error messages.</summary>
    public static string UsagesOf(KeySpec spec)
        => string.Join(" or ", Enum.GetValues<KeyUsage>().Where(u => AllowsUsage(spec, u)).Select(u => u.ToKmsName()));

    public static bool IsMlKem(KeySpec spec) => spec is KeySpec.MlKem512 or KeySpec.MlKem768 or KeySpec.MlKem1024;

    public static MlKemParameterSet MlKemSetOf(KeySpec spec) => spec switch
    {
        KeySpec.MlKem512 => MlKemParameterSet.MlKem512,
        KeySpec.MlKem768 => MlKemParameterSet.MlKem768,
        KeySpec.MlKem1024 => MlKemParameterSet.MlKem1024,
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an ML-KEM key spec."),
    };

    public static bool IsRsa(KeySpec spec) => spec is KeySpec.Rsa2048 or KeySpec.Rsa3072 or KeySpec.Rsa4096;

    /// <summary>The Weierstrass-curve specs (ECDSA signing or ECDH key agreement).</summary>
    public static bool IsEcc(KeySpec spec) => spec is KeySpec.EccNistP256 or KeySpec.EccNistP384 or KeySpec.EccNistP521 or KeySpec.EccSecgP256k1;

    /// <summary>An RSA key for RSAES-OAEP encryption.</summary>
    public static bool IsRsaEncryption(KeySpec spec, KeyUsage usage) => usage == KeyUsage.EncryptDecrypt && IsRsa(spec);

    /// <summary>The encryption algorithms of a key, as AWS KMS lists them.</summary>
    public static IReadOnlyList<EncryptionAlgorithm> EncryptionAlgorithmsOf(KeySpec spec, KeyUsage usage)
        => usage != KeyUsage.EncryptDecrypt ? []
        : IsRsa(spec) ? [EncryptionAlgorithm.RsaesOaepSha1, EncryptionAlgorithm.RsaesOaepSha256]
        : [EncryptionAlgorithm.SymmetricDefault];

    /// <summary>The key agreement algorithms of a key.</summary>
    public static IReadOnlyList<KeyAgreementAlgorithm> KeyAgreementAlgorithmsOf(KeySpec spec, KeyUsage usage)
        => usage == KeyUsage.KeyAgreement && IsEcc(spec) ? [KeyAgreementAlgorithm.Ecdh] : [];

    public static RsaOaepAlgorithm ToPrimitive(EncryptionAlgorithm algorithm)
        => algorithm == EncryptionAlgorithm.RsaesOaepSha1 ? RsaOaepAlgorithm.Sha1 : RsaOaepAlgorithm.Sha256;

    /// <summary>The ECDH curve of an ECC spec.</summary>
    public static EcdhCurve EcdhCurveOf(KeySpec spec) => spec switch
    {
        KeySpec.EccNistP256 => EcdhCurve.P256,
        KeySpec.EccNistP384 => EcdhCurve.P384,
        KeySpec.EccNistP521 => EcdhCurve.P521,
        KeySpec.EccSecgP256k1 => EcdhCurve.Secp256k1,
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an ECC key spec."),
    };

    /// <summary>The length of symmetric (AES or HMAC) key material in bytes.</summary>
    public static int MaterialLength(KeySpec spec) => spec switch
    {
        KeySpec.Hmac224 => 28,
        KeySpec.Hmac256 => 32,
        KeySpec.Hmac384 => 48,
        KeySpec.Hmac512 => 64,
        _ => SymmetricCiphertext.KeySize,
    };

    /// <summary>
    /// The lengths a spec's unwrapped material may have: one length for symmetric material, a range for a
    /// PKCS#8 private key (DER lengths vary by a few bytes with the key's integers).
    /// </summary>
    public static (int Min, int Max) MaterialLengthRange(KeySpec spec) => spec switch
    {
        // PKCS#8 RSAPrivateKey: n, d and the CRT values; about 4.6 times the modulus length.
        KeySpec.Rsa2048 => (1100, 1400),
        KeySpec.Rsa3072 => (1650, 2000),
        KeySpec.Rsa4096 => (2200, 2600),
        // PKCS#8 ECPrivateKey with curve parameters and (optionally) the public point.
        KeySpec.EccNistP256 or KeySpec.EccSecgP256k1 => (60, 160),
        KeySpec.EccNistP384 => (80, 220),
        KeySpec.EccNistP521 => (100, 280),
        // PKCS#8 of a 32-byte seed (v1), optionally with the public key (v2).
        KeySpec.EccNistEdwards25519 => (46, 90),
        // PKCS#8 of the 32-byte seed (as generated here), up to the expanded form with the seed.
        KeySpec.MlDsa44 => (50, 2700),
        KeySpec.MlDsa65 => (50, 4200),
        KeySpec.MlDsa87 => (50, 5000),
        // PKCS#8 of the 64-byte seed (as generated here), up to the expanded decapsulation key with the seed.
        KeySpec.MlKem512 => (80, 1800),
        KeySpec.MlKem768 => (80, 2600),
        KeySpec.MlKem1024 => (80, 3400),
        // HMAC keys: generated at the digest length; imported ones up to the hash's block size.
        KeySpec.Hmac224 or KeySpec.Hmac256 or KeySpec.Hmac384 or KeySpec.Hmac512 => Import.ImportedMaterial.HmacLengthRange(spec),
        _ => (MaterialLength(spec), MaterialLength(spec)),
    };

    public static bool IsHmac(KeySpec spec) => spec is KeySpec.Hmac224 or KeySpec.Hmac256 or KeySpec.Hmac384 or KeySpec.Hmac512;

    /// <summary>The asymmetric specs: the private key is stored as PKCS#8, the public key derived from it.</summary>
    public static bool IsAsymmetric(KeySpec spec) => spec is >= KeySpec.Rsa2048 and <= KeySpec.MlKem1024;

    /// <summary>The one MAC algorithm of an HMAC spec.</summary>
    public static MacAlgorithm MacAlgorithmOf(KeySpec spec) => spec switch
    {
        KeySpec.Hmac224 => MacAlgorithm.HmacSha224,
        KeySpec.Hmac256 => MacAlgorithm.HmacSha256,
        KeySpec.Hmac384 => MacAlgorithm.HmacSha384,
        KeySpec.Hmac512 => MacAlgorithm.HmacSha512,
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an HMAC key spec."),
    };

    public static HmacAlgorithm ToPrimitive(MacAlgorithm algorithm) => algorithm switch
    {
        MacAlgorithm.HmacSha224 => HmacAlgorithm.Sha224,
        MacAlgorithm.HmacSha256 => HmacAlgorithm.Sha256,
        MacAlgorithm.HmacSha384 => HmacAlgorithm.Sha384,
        _ => HmacAlgorithm.Sha512,
    };

    private static readonly SigningAlgorithm[] Rsa =
    [
        SigningAlgorithm.RsassaPssSha256, SigningAlgorithm.RsassaPssSha384, SigningAlgorithm.RsassaPssSha512,
        SigningAlgorithm.RsassaPkcs1V15Sha256, SigningAlgorithm.RsassaPkcs1V15Sha384, SigningAlgorithm.RsassaPkcs1V15Sha512,
    ];

    /// <summary>The signing algorithms of a spec, as AWS KMS lists them; empty for specs that do not sign.</summary>
    public static IReadOnlyList<SigningAlgorithm> SigningAlgorithmsOf(KeySpec spec) => spec switch
    {
        KeySpec.Rsa2048 or KeySpec.Rsa3072 or KeySpec.Rsa4096 => Rsa,
        KeySpec.EccNistP256 or KeySpec.EccSecgP256k1 => [SigningAlgorithm.EcdsaSha256],
        KeySpec.EccNistP384 => [SigningAlgorithm.EcdsaSha384],
        KeySpec.EccNistP521 => [SigningAlgorithm.EcdsaSha512],
        KeySpec.EccNistEdwards25519 => [SigningAlgorithm.Ed25519Sha512, SigningAlgorithm.Ed25519PhSha512],
        KeySpec.MlDsa44 or KeySpec.MlDsa65 or KeySpec.MlDsa87 => [SigningAlgorithm.MlDsaShake256],
        _ => [],
    };

    /// <summary>Generates the key pair of an asymmetric spec; returns the private key as PKCS#8 DER (the caller zeroes it). The same PKCS#8 serves every usage of the spec.</summary>
    public static byte[] GenerateAsymmetricKey(KeySpec spec) => GenerateAsymmetricKeyPair(spec).Pkcs8;

    /// <summary>Generates the key pair of an asymmetric spec: the private key as PKCS#8 DER (the caller zeroes it) and the public key as SPKI DER.</summary>
    public static (byte[] Pkcs8, byte[] Spki) GenerateAsymmetricKeyPair(KeySpec spec) => spec switch
    {
        KeySpec.Rsa2048 => RsaSignatures.GenerateKeyPair(2048),
        KeySpec.Rsa3072 => RsaSignatures.GenerateKeyPair(3072),
        KeySpec.Rsa4096 => RsaSignatures.GenerateKeyPair(4096),
        KeySpec.EccNistEdwards25519 => Ed25519Signatures.GenerateKeyPair(),
        KeySpec.MlDsa44 or KeySpec.MlDsa65 or KeySpec.MlDsa87 => MlDsaSignatures.GenerateKeyPair(ParameterSet(spec)),
        KeySpec.MlKem512 or KeySpec.MlKem768 or KeySpec.MlKem1024 => MlKem.GenerateKeyPair(MlKemSetOf(spec)),
        _ => GenerateEcdsa(spec),
    };

    private static (byte[], byte[]) GenerateEcdsa(KeySpec spec)
    {
        var curve = CurveOf(spec);
        if (!EcdsaSignatures.IsSupported(curve))
        {
            throw new KmsUnsupportedOperationException($"{spec.ToKmsName()} keys need a curve this platform's cryptography does not offer.");
        }

        return EcdsaSignatures.GenerateKeyPair(curve);
    }

    /// <summary>The public key (SPKI DER) of an asymmetric key's PKCS#8 private key.</summary>
    public static byte[] PublicKeyOf(KeySpec spec, byte[] pkcs8)
    {
        switch (spec)
        {
            case KeySpec.Rsa2048 or KeySpec.Rsa3072 or KeySpec.Rsa4096:
                using (var rsa = RsaSignatures.ImportPrivate(pkcs8))
                {
                    return rsa.ExportSubjectPublicKeyInfo();
                }

            case KeySpec.EccNistP256 or KeySpec.EccNistP384 or KeySpec.EccNistP521 or KeySpec.EccSecgP256k1:
                using (var ec = EcdsaSignatures.ImportPrivate(pkcs8, CurveOf(spec)))
                {
                    return ec.ExportSubjectPublicKeyInfo();
                }

            case KeySpec.EccNistEdwards25519:
                return Ed25519Signatures.PublicKeyOf(pkcs8);
            case KeySpec.MlKem512 or KeySpec.MlKem768 or KeySpec.MlKem1024:
                return MlKem.PublicKeyOf(MlKemSetOf(spec), pkcs8);
            default:
                return MlDsaSignatures.PublicKeyOf(pkcs8, ParameterSet(spec));
        }
    }

    /// <summary>Signs with the primitive of the key's family (the algorithm is the key's; checked by the caller).</summary>
    public static byte[] Sign(KeySpec spec, byte[] pkcs8, SigningAlgorithm algorithm, ReadOnlySpan<byte> message, MessageType type)
    {
        var messageType = ToPrimitive(type);
        return algorithm switch
        {
            SigningAlgorithm.EcdsaSha256 or SigningAlgorithm.EcdsaSha384 or SigningAlgorithm.EcdsaSha512 => EcdsaSignatures.Sign(pkcs8, CurveOf(spec), message, messageType),
            SigningAlgorithm.Ed25519Sha512 => Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Pure, message, messageType),
            SigningAlgorithm.Ed25519PhSha512 => Ed25519Signatures.Sign(pkcs8, Ed25519Variant.Prehash, message, messageType),
            SigningAlgorithm.MlDsaShake256 => MlDsaSignatures.Sign(pkcs8, ParameterSet(spec), message, messageType),
            _ => RsaSignatures.Sign(pkcs8, RsaScheme(algorithm), RsaHash(algorithm), message, messageType),
        };
    }

    /// <summary>Verifies with the primitive of the key's family; a wrong signature is <c>false</c>.</summary>
    public static bool Verify(KeySpec spec, byte[] spki, SigningAlgorithm algorithm, ReadOnlySpan<byte> message, MessageType type, ReadOnlySpan<byte> signature)
    {
        var messageType = ToPrimitive(type);
        return algorithm switch
        {
            SigningAlgorithm.EcdsaSha256 or SigningAlgorithm.EcdsaSha384 or SigningAlgorithm.EcdsaSha512 => EcdsaSignatures.Verify(spki, CurveOf(spec), message, messageType, signature),
            SigningAlgorithm.Ed25519Sha512 => Ed25519Signatures.Verify(spki, Ed25519Variant.Pure, message, messageType, signature),
            SigningAlgorithm.Ed25519PhSha512 => Ed25519Signatures.Verify(spki, Ed25519Variant.Prehash, message, messageType, signature),
            SigningAlgorithm.MlDsaShake256 => MlDsaSignatures.Verify(spki, ParameterSet(spec), message, messageType, signature),
            _ => RsaSignatures.Verify(spki, RsaScheme(algorithm), RsaHash(algorithm), message, messageType, signature),
        };
    }

    public static SignatureMessageType ToPrimitive(MessageType type) => type switch
    {
        MessageType.Raw => SignatureMessageType.Raw,
        MessageType.Digest => SignatureMessageType.Digest,
        _ => SignatureMessageType.ExternalMu,
    };

    /// <summary>The ECDSA curve of an ECC spec.</summary>
    public static EcdsaCurve CurveOf(KeySpec spec) => spec switch
    {
        KeySpec.EccNistP256 => EcdsaCurve.P256,
        KeySpec.EccNistP384 => EcdsaCurve.P384,
        KeySpec.EccNistP521 => EcdsaCurve.P521,
        KeySpec.EccSecgP256k1 => EcdsaCurve.Secp256k1,
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an ECDSA key spec."),
    };

    private static MlDsaParameterSet ParameterSet(KeySpec spec) => spec switch
    {
        KeySpec.MlDsa44 => MlDsaParameterSet.MlDsa44,
        KeySpec.MlDsa65 => MlDsaParameterSet.MlDsa65,
        KeySpec.MlDsa87 => MlDsaParameterSet.MlDsa87,
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an ML-DSA key spec."),
    };

    /// <summary>The scheme and hash of an RSA signing algorithm.</summary>
    public static (RsaSignatureScheme Scheme, SignatureHash Hash) RsaSchemeOf(SigningAlgorithm algorithm) => (RsaScheme(algorithm), RsaHash(algorithm));

    private static RsaSignatureScheme RsaScheme(SigningAlgorithm algorithm)
        => algorithm is SigningAlgorithm.RsassaPssSha256 or SigningAlgorithm.RsassaPssSha384 or SigningAlgorithm.RsassaPssSha512
            ? RsaSignatureScheme.Pss
            : RsaSignatureScheme.Pkcs1;

    private static SignatureHash RsaHash(SigningAlgorithm algorithm) => algorithm switch
    {
        SigningAlgorithm.RsassaPssSha256 or SigningAlgorithm.RsassaPkcs1V15Sha256 => SignatureHash.Sha256,
        SigningAlgorithm.RsassaPssSha384 or SigningAlgorithm.RsassaPkcs1V15Sha384 => SignatureHash.Sha384,
        SigningAlgorithm.RsassaPssSha512 or SigningAlgorithm.RsassaPkcs1V15Sha512 => SignatureHash.Sha512,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not an RSA signing algorithm."),
    };
}
