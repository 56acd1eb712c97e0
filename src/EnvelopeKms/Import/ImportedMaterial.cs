using System.Security.Cryptography;
using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.Import;

/// <summary>
/// What AWS KMS accepts as imported key material, per key spec: symmetric bytes of a fixed length
/// (SYMMETRIC_DEFAULT), HMAC keys of a length range, and asymmetric private keys as DER PKCS#8
/// (<c>PrivateKeyInfo</c>, unencrypted). Asymmetric material is checked against the key spec with the
/// platform's parsers (BouncyCastle's for Ed25519 and ML-DSA), re-encoded to the canonical PKCS#8 that
/// generated keys use, and given a pair-wise consistency test before it is stored.
/// </summary>
internal static class ImportedMaterial
{
    /// <summary>The shortest and longest HMAC key KMS imports for an HMAC spec: from the digest length to the hash's block size.</summary>
    public static (int Min, int Max) HmacLengthRange(KeySpec spec) => spec switch
    {
        KeySpec.Hmac224 => (28, 64),
        KeySpec.Hmac256 => (32, 64),
        KeySpec.Hmac384 => (48, 128),
        KeySpec.Hmac512 => (64, 128),
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an HMAC key spec."),
    };

    /// <summary>The asymmetric specs whose private key can be imported (every asymmetric KMS key spec this library offers; ML-KEM is not a KMS key spec).</summary>
    public static bool IsImportableAsymmetric(KeySpec spec)
        => KeySpecs.IsAsymmetric(spec) && spec is not (KeySpec.MlKem512 or KeySpec.MlKem768 or KeySpec.MlKem1024);

    /// <summary>
    /// Checks that a wrapping algorithm and wrapping key can carry a spec's material, as KMS restricts
    /// them: an RSA private key needs an RSA_AES_KEY_WRAP algorithm (it is larger than RSA-OAEP can
    /// encrypt), and ECC_NIST_P521 material does not fit RSA-OAEP under an RSA_2048 wrapping key.
    /// </summary>
    /// <exception cref="KmsValidationException">The combination is not allowed.</exception>
    public static void CheckWrapping(KeySpec spec, ImportWrappingAlgorithm algorithm, WrappingKeySpec wrappingKeySpec)
    {
        var direct = algorithm is ImportWrappingAlgorithm.RsaesOaepSha1 or ImportWrappingAlgorithm.RsaesOaepSha256;
        if (direct && spec is KeySpec.Rsa2048 or KeySpec.Rsa3072 or KeySpec.Rsa4096)
        {
            throw new KmsValidationException($"{spec.ToKmsName()} key material (an RSA private key) must be wrapped with RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256.");
        }

        if (direct && spec == KeySpec.EccNistP521 && wrappingKeySpec == WrappingKeySpec.Rsa2048)
        {
            throw new KmsValidationException("ECC_NIST_P521 key material cannot be wrapped with RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 under an RSA_2048 wrapping key; use a larger wrapping key or an RSA_AES_KEY_WRAP algorithm.");
        }
    }

    /// <summary>
    /// Checks unwrapped material against the key spec and returns what is stored (a new array; the
    /// caller zeroes both): symmetric and HMAC material as given, an asymmetric private key as the
    /// canonical PKCS#8 encoding of the same key.
    /// </summary>
    /// <exception cref="KmsIncorrectKeyMaterialException">The material does not fit the key spec.</exception>
    public static byte[] Accept(KeySpec spec, byte[] material)
    {
        if (KeySpecs.IsHmac(spec))
        {
            var (min, max) = HmacLengthRange(spec);
            if (material.Length < min || material.Length > max)
            {
                throw new KmsIncorrectKeyMaterialException($"The key material has {material.Length} bytes; {spec.ToKmsName()} key material must have {min} to {max} bytes.");
            }

            return material.ToArray();
        }

        if (!KeySpecs.IsAsymmetric(spec))
        {
            var length = KeySpecs.MaterialLength(spec);
            if (material.Length != length)
            {
                throw new KmsIncorrectKeyMaterialException($"The key material has {material.Length} bytes; {spec.ToKmsName()} key material must have {length}.");
            }

            return material.ToArray();
        }

        return AcceptPrivateKey(spec, material);
    }

    private static byte[] AcceptPrivateKey(KeySpec spec, byte[] pkcs8)
    {
        byte[] canonical;
        try
        {
            canonical = spec switch
            {
                KeySpec.Rsa2048 => CanonicalRsa(pkcs8, 2048),
                KeySpec.Rsa3072 => CanonicalRsa(pkcs8, 3072),
                KeySpec.Rsa4096 => CanonicalRsa(pkcs8, 4096),
                KeySpec.EccNistP256 or KeySpec.EccNistP384 or KeySpec.EccNistP521 or KeySpec.EccSecgP256k1 => CanonicalEc(spec, pkcs8),
                // Ed25519 and ML-DSA: BouncyCastle parses and checks them (PublicKeyOf below); they are stored as given.
                _ => pkcs8.ToArray(),
            };
        }
        catch (Exception e) when (e is CryptographicException or KmsValidationException or PlatformNotSupportedException)
        {
            throw Incorrect(spec);
        }

        try
        {
            var (min, max) = KeySpecs.MaterialLengthRange(spec);
            if (canonical.Length < min || canonical.Length > max)
            {
                throw Incorrect(spec);
            }

            CheckPair(spec, canonical);
            return canonical;
        }
        catch
        {
            CryptographicOperations.ZeroMemory(canonical);
            throw;
        }
    }

    private static byte[] CanonicalRsa(byte[] pkcs8, int bits)
    {
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out var read);
        if (read != pkcs8.Length || rsa.KeySize != bits)
        {
            throw new KmsValidationException("Not an RSA key of the key spec's size.");
        }

        return rsa.ExportPkcs8PrivateKey();
    }

    private static byte[] CanonicalEc(KeySpec spec, byte[] pkcs8)
    {
        // Checks the whole input is one PKCS#8 key on the spec's named curve (explicit curves are refused).
        using var ec = Cryptography.EcdsaSignatures.ImportPrivate(pkcs8, KeySpecs.CurveOf(spec));
        return ec.ExportPkcs8PrivateKey();
    }

    /// <summary>A pair-wise consistency test: the key's public key verifies a signature the private key made.</summary>
    private static void CheckPair(KeySpec spec, byte[] pkcs8)
    {
        try
        {
            var spki = KeySpecs.PublicKeyOf(spec, pkcs8);
            var algorithm = KeySpecs.SigningAlgorithmsOf(spec)[0];
            var probe = RandomNumberGenerator.GetBytes(32);
            var signature = KeySpecs.Sign(spec, pkcs8, algorithm, probe, MessageType.Raw);
            if (!KeySpecs.Verify(spec, spki, algorithm, probe, MessageType.Raw, signature))
            {
                throw Incorrect(spec);
            }
        }
        catch (Exception e) when (e is CryptographicException or KmsValidationException or PlatformNotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw Incorrect(spec);
        }
    }

    private static KmsIncorrectKeyMaterialException Incorrect(KeySpec spec)
        => new($"The key material is not a DER PKCS#8 private key of key spec {spec.ToKmsName()} (wrong algorithm, curve or size, or an inconsistent key).");
}
