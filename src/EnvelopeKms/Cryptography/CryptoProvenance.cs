using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.Cryptography;

/// <summary>Which implementation runs an algorithm here.</summary>
internal enum CryptoProvider
{
    /// <summary>The platform's cryptography: .NET's System.Security.Cryptography over OpenSSL on Linux.</summary>
    Platform,

    /// <summary>BouncyCastle (managed code in this process), used only where the platform lacks the algorithm.</summary>
    BouncyCastle,

    /// <summary>Nowhere: the platform lacks it and no fallback is used (secp256k1 where the OS lacks the curve).</summary>
    Unavailable,
}

/// <summary>Where an algorithm runs and whether it is FIPS-approved.</summary>
/// <param name="Algorithm">The algorithm, as the documentation names it.</param>
/// <param name="Provider">Where it runs here.</param>
/// <param name="FipsApproved">Whether NIST approves it (the standard is in <paramref name="Standard"/>).</param>
/// <param name="Standard">The approving standard, or why it is not approved.</param>
internal readonly record struct AlgorithmProvenance(string Algorithm, CryptoProvider Provider, bool FipsApproved, string Standard)
{
    /// <summary>
    /// Whether a key manager restricted by <see cref="EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly"/> may
    /// use it: FIPS-approved and run by the platform's cryptographic module.
    /// </summary>
    public bool AllowedInFipsMode => FipsApproved && Provider == CryptoProvider.Platform;

    /// <summary>Why it is refused in FIPS mode (empty when it is allowed).</summary>
    public string RefusalReason
        => !FipsApproved ? $"{Algorithm} is not FIPS-approved ({Standard})"
        : Provider == CryptoProvider.BouncyCastle ? $"{Algorithm} is FIPS-approved ({Standard}) but runs in BouncyCastle here, not in the platform's cryptographic module (OpenSSL)"
        : Provider == CryptoProvider.Unavailable ? $"{Algorithm} is not available from the platform's cryptographic module here"
        : string.Empty;
}

/// <summary>
/// The one table of where each key spec and algorithm runs and whether it is FIPS-approved, which
/// <see cref="EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly"/> enforces. The provider of each entry
/// comes from the primitive that implements it (<c>Provider</c> of <see cref="Ed25519Signatures"/>,
/// <see cref="MlDsaSignatures"/>, <see cref="MlKem"/>, <see cref="Hmac.ProviderOf"/>, and the platform's
/// own curve support), so moving an algorithm to the platform moves its row. docs/design.md ("FIPS
/// mode") shows the same table; <c>FipsModeTests</c> check both.
/// </summary>
internal static class CryptoProvenance
{
    private const string Option = "EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly";

    private static readonly AlgorithmProvenance AesGcm = new("AES-256-GCM", CryptoProvider.Platform, true, "FIPS 197, SP 800-38D");
    private static readonly AlgorithmProvenance Rsa = new("RSA (RSASSA-PSS, RSASSA-PKCS1-v1_5, RSAES-OAEP)", CryptoProvider.Platform, true, "FIPS 186-5, SP 800-56B");
    private static readonly AlgorithmProvenance NistCurve = new("ECDSA and ECDH on a NIST curve", CryptoProvider.Platform, true, "FIPS 186-5, SP 800-56A, SP 800-186");

    /// <summary>Where the algorithms of a key spec run (all algorithms of a spec run in the same place).</summary>
    public static AlgorithmProvenance Of(KeySpec spec) => spec switch
    {
        KeySpec.SymmetricDefault => AesGcm,
        KeySpec.Hmac224 or KeySpec.Hmac256 or KeySpec.Hmac384 or KeySpec.Hmac512 => Of(KeySpecs.MacAlgorithmOf(spec)),
        KeySpec.Rsa2048 or KeySpec.Rsa3072 or KeySpec.Rsa4096 => Rsa,
        KeySpec.EccNistP256 or KeySpec.EccNistP384 or KeySpec.EccNistP521 => NistCurve,
        KeySpec.EccSecgP256k1 => new(
            "secp256k1 (ECDSA and ECDH)",
            Ecdh.IsSupported(EcdhCurve.Secp256k1) ? CryptoProvider.Platform : CryptoProvider.Unavailable,
            false,
            "not a curve of FIPS 186-5 or SP 800-186"),
        KeySpec.EccNistEdwards25519 => new("Ed25519", Ed25519Signatures.Provider, true, "FIPS 186-5"),
        KeySpec.MlDsa44 or KeySpec.MlDsa65 or KeySpec.MlDsa87 => new("ML-DSA", MlDsaSignatures.Provider, true, "FIPS 204"),
        KeySpec.MlKem512 or KeySpec.MlKem768 or KeySpec.MlKem1024 => new("ML-KEM", MlKem.Provider, true, "FIPS 203"),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not a key spec."),
    };

    /// <summary>Where a signing algorithm runs (on a key whose spec allows it; the curve is the spec's).</summary>
    public static AlgorithmProvenance Of(SigningAlgorithm algorithm) => algorithm switch
    {
        SigningAlgorithm.RsassaPssSha256 or SigningAlgorithm.RsassaPssSha384 or SigningAlgorithm.RsassaPssSha512
            or SigningAlgorithm.RsassaPkcs1V15Sha256 or SigningAlgorithm.RsassaPkcs1V15Sha384 or SigningAlgorithm.RsassaPkcs1V15Sha512 => Rsa,
        SigningAlgorithm.EcdsaSha256 or SigningAlgorithm.EcdsaSha384 or SigningAlgorithm.EcdsaSha512 => new("ECDSA", CryptoProvider.Platform, true, "FIPS 186-5"),
        SigningAlgorithm.Ed25519Sha512 => new("Ed25519", Ed25519Signatures.Provider, true, "FIPS 186-5"),
        SigningAlgorithm.Ed25519PhSha512 => new("Ed25519ph", Ed25519Signatures.Provider, true, "FIPS 186-5"),
        SigningAlgorithm.MlDsaShake256 => new("ML-DSA", MlDsaSignatures.Provider, true, "FIPS 204"),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not a signing algorithm."),
    };

    /// <summary>Where a MAC algorithm runs.</summary>
    public static AlgorithmProvenance Of(MacAlgorithm algorithm) => algorithm switch
    {
        MacAlgorithm.HmacSha224 or MacAlgorithm.HmacSha256 or MacAlgorithm.HmacSha384 or MacAlgorithm.HmacSha512
            => new(algorithm.ToKmsName().Replace('_', '-'), Hmac.ProviderOf(KeySpecs.ToPrimitive(algorithm)), true, "FIPS 198-1, FIPS 180-4"),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not a MAC algorithm."),
    };

    /// <summary>Where an encryption algorithm runs.</summary>
    public static AlgorithmProvenance Of(EncryptionAlgorithm algorithm) => algorithm switch
    {
        EncryptionAlgorithm.SymmetricDefault => AesGcm,
        // SP 800-56B Rev. 2 (7.2.2) allows any approved hash in OAEP, SHA-1 included (SP 800-131A Rev. 2).
        EncryptionAlgorithm.RsaesOaepSha1 => new("RSAES-OAEP with SHA-1", CryptoProvider.Platform, true, "SP 800-56B"),
        EncryptionAlgorithm.RsaesOaepSha256 => new("RSAES-OAEP with SHA-256", CryptoProvider.Platform, true, "SP 800-56B"),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not an encryption algorithm."),
    };

    /// <summary>Where a key agreement algorithm runs (the curve is the key spec's).</summary>
    public static AlgorithmProvenance Of(KeyAgreementAlgorithm algorithm) => algorithm switch
    {
        KeyAgreementAlgorithm.Ecdh => new("ECDH", CryptoProvider.Platform, true, "SP 800-56A"),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not a key agreement algorithm."),
    };

    /// <summary>Refuses creating a key of a spec the FIPS option does not allow.</summary>
    /// <exception cref="KmsUnsupportedOperationException">The spec is not allowed.</exception>
    public static void RequireAllowedForNewKey(KeySpec spec)
    {
        var provenance = Of(spec);
        if (!provenance.AllowedInFipsMode)
        {
            throw new KmsUnsupportedOperationException($"KeySpec {spec.ToKmsName()} is not allowed: {Option} is set, and {provenance.RefusalReason}.");
        }
    }

    /// <summary>Refuses using an existing key of a spec the FIPS option does not allow, before any of its cryptography runs.</summary>
    /// <exception cref="KmsUnsupportedOperationException">The spec is not allowed.</exception>
    public static void RequireAllowedForUse(KeySpec spec, string keyArn)
    {
        var provenance = Of(spec);
        if (!provenance.AllowedInFipsMode)
        {
            throw new KmsUnsupportedOperationException($"{keyArn} is a {spec.ToKmsName()} key, which cannot be used: {Option} is set, and {provenance.RefusalReason}.");
        }
    }
}
