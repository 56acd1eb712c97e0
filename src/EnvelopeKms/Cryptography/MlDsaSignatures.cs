using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

// SignMu, VerifyMu and the PKCS#8/SPKI imports of the platform's MLDsa are marked experimental in .NET 10
// (their ASN.1 forms follow drafts of the ML-DSA key encodings). They serve EXTERNAL_MU only.
#pragma warning disable SYSLIB5006

namespace EnvelopeKms.Cryptography;

/// <summary>The ML-DSA parameter sets KMS offers (ML_DSA_44/65/87).</summary>
internal enum MlDsaParameterSet
{
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

/// <summary>
/// ML-DSA (FIPS 204, pure, ML_DSA_SHAKE_256) via BouncyCastle: the platform's <c>MLDsa</c> needs OpenSSL
/// 3.5 and reports unsupported here. Keys are PKCS#8 (seed-only form) and SPKI with the NIST OIDs.
/// Signing is hedged (randomised) unless <c>deterministic</c> is asked for (used to reproduce vectors).
/// Message types: RAW (at most 4096 bytes) through BouncyCastle, and EXTERNAL_MU (a 64-byte µ) through
/// the platform's <c>MLDsa.SignMu</c>/<c>VerifyMu</c> when <c>MLDsa.IsSupported</c> (OpenSSL 3.5 or later):
/// BouncyCastle 2.7 computes µ only inside its signer and has no public API to sign or verify from µ.
/// Without platform ML-DSA, EXTERNAL_MU is <see cref="KmsUnsupportedOperationException"/> (after the length
/// check). DIGEST is not an ML-DSA message type in KMS.
/// </summary>
internal static class MlDsaSignatures
{
    /// <summary>Where ML-DSA runs here (see <see cref="CryptoProvenance"/>).</summary>
    public const CryptoProvider Provider = CryptoProvider.BouncyCastle;

    public static MLDsaParameters Parameters(MlDsaParameterSet set) => set switch
    {
        MlDsaParameterSet.MlDsa44 => MLDsaParameters.ml_dsa_44,
        MlDsaParameterSet.MlDsa65 => MLDsaParameters.ml_dsa_65,
        MlDsaParameterSet.MlDsa87 => MLDsaParameters.ml_dsa_87,
        _ => throw new KmsValidationException("Unsupported ML-DSA parameter set."),
    };

    private static string Oid(MlDsaParameterSet set) => set switch
    {
        MlDsaParameterSet.MlDsa44 => "2.16.840.1.101.3.4.3.17",
        MlDsaParameterSet.MlDsa65 => "2.16.840.1.101.3.4.3.18",
        MlDsaParameterSet.MlDsa87 => "2.16.840.1.101.3.4.3.19",
        _ => throw new KmsValidationException("Unsupported ML-DSA parameter set."),
    };

    public static int SignatureLength(MlDsaParameterSet set) => set switch
    {
        MlDsaParameterSet.MlDsa44 => 2420,
        MlDsaParameterSet.MlDsa65 => 3309,
        MlDsaParameterSet.MlDsa87 => 4627,
        _ => throw new KmsValidationException("Unsupported ML-DSA parameter set."),
    };

    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair(MlDsaParameterSet set)
    {
        var generator = new MLDsaKeyPairGenerator();
        generator.Init(new MLDsaKeyGenerationParameters(new SecureRandom(), Parameters(set)));
        var pair = generator.GenerateKeyPair();
        var privateKey = ((MLDsaPrivateKeyParameters)pair.Private).WithPreferredFormat(MLDsaPrivateKeyParameters.Format.SeedOnly);
        var pkcs8 = PrivateKeyInfoFactory.CreatePrivateKeyInfo(privateKey).GetDerEncoded();
        var spki = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(pair.Public).GetDerEncoded();
        return (pkcs8, spki);
    }

    public static byte[] Sign(ReadOnlySpan<byte> pkcs8, MlDsaParameterSet set, ReadOnlySpan<byte> message, SignatureMessageType type, bool deterministic = false)
        => Sign(pkcs8, set, message, type, context: [], deterministic);

    /// <summary>Signs with an FIPS 204 context string (KMS uses the empty one; others are for conformance vectors).</summary>
    internal static byte[] Sign(ReadOnlySpan<byte> pkcs8, MlDsaParameterSet set, ReadOnlySpan<byte> message, SignatureMessageType type, byte[] context, bool deterministic)
    {
        CheckMessage(message, type);
        if (type == SignatureMessageType.ExternalMu)
        {
            // µ already binds the public key, the (empty) context and the message.
            using var platformKey = ImportPlatformPrivate(pkcs8, set);
            return platformKey.SignMu(message);
        }

        CheckContext(context);
        var privateKey = ImportPrivate(pkcs8, set);
        var signer = new MLDsaSigner(Parameters(set), deterministic);
        signer.Init(true, new ParametersWithContext(privateKey, context));
        signer.BlockUpdate(message);
        return signer.GenerateSignature();
    }

    public static bool Verify(ReadOnlySpan<byte> spki, MlDsaParameterSet set, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> signature)
        => Verify(spki, set, message, type, signature, context: []);

    internal static bool Verify(ReadOnlySpan<byte> spki, MlDsaParameterSet set, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> signature, byte[] context)
    {
        CheckMessage(message, type);
        if (type == SignatureMessageType.ExternalMu)
        {
            using var platformKey = ImportPlatformPublic(spki, set);
            return signature.Length == SignatureLength(set) && platformKey.VerifyMu(message, signature);
        }

        CheckContext(context);
        var publicKey = ImportPublic(spki, set);
        if (signature.Length != SignatureLength(set))
        {
            return false;
        }

        var verifier = new MLDsaSigner(Parameters(set), deterministic: false);
        verifier.Init(false, new ParametersWithContext(publicKey, context));
        verifier.BlockUpdate(message);
        return verifier.VerifySignature(signature.ToArray());
    }

    private static void CheckMessage(ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        switch (type)
        {
            case SignatureMessageType.Raw:
                SignatureInput.CheckRaw(message);
                return;
            case SignatureMessageType.ExternalMu:
                if (message.Length != MuLength)
                {
                    throw new KmsValidationException($"An EXTERNAL_MU message is the {MuLength}-byte ML-DSA µ; it has {message.Length} bytes.");
                }

                if (!MLDsa.IsSupported)
                {
                    throw new KmsUnsupportedOperationException(ExternalMuUnsupportedMessage);
                }

                return;
            default:
                throw new KmsValidationException($"Message type {type} is not supported for ML-DSA; use RAW.");
        }
    }

    /// <summary>The length of µ, FIPS 204's message representative (SHAKE256 output of 64 bytes).</summary>
    public const int MuLength = 64;

    /// <summary>Why EXTERNAL_MU fails where the platform has no ML-DSA.</summary>
    internal const string ExternalMuUnsupportedMessage =
        "EXTERNAL_MU is not supported on this platform: signing and verifying from µ needs the platform's ML-DSA "
        + "(System.Security.Cryptography.MLDsa), which needs OpenSSL 3.5 or later, and BouncyCastle 2.7 exposes no API "
        + "to sign or verify from µ. Sign the RAW message instead.";

    private static MLDsaAlgorithm PlatformAlgorithm(MlDsaParameterSet set) => set switch
    {
        MlDsaParameterSet.MlDsa44 => MLDsaAlgorithm.MLDsa44,
        MlDsaParameterSet.MlDsa65 => MLDsaAlgorithm.MLDsa65,
        MlDsaParameterSet.MlDsa87 => MLDsaAlgorithm.MLDsa87,
        _ => throw new KmsValidationException("Unsupported ML-DSA parameter set."),
    };

    /// <summary>The platform's ML-DSA key of a PKCS#8 private key (checked like <see cref="ImportPrivate"/> first).</summary>
    private static MLDsa ImportPlatformPrivate(ReadOnlySpan<byte> pkcs8, MlDsaParameterSet set)
    {
        _ = ImportPrivate(pkcs8, set);
        MLDsa key;
        try
        {
            key = MLDsa.ImportPkcs8PrivateKey(pkcs8);
        }
        catch (CryptographicException e)
        {
            throw new KmsValidationException($"The private key is not a valid {set} key.", e);
        }

        return key.Algorithm == PlatformAlgorithm(set) ? key : DisposeAndFail(key, set);
    }

    private static MLDsa ImportPlatformPublic(ReadOnlySpan<byte> spki, MlDsaParameterSet set)
    {
        _ = ImportPublic(spki, set);
        MLDsa key;
        try
        {
            key = MLDsa.ImportSubjectPublicKeyInfo(spki);
        }
        catch (CryptographicException e)
        {
            throw new KmsValidationException($"The public key is not a valid {set} key.", e);
        }

        return key.Algorithm == PlatformAlgorithm(set) ? key : DisposeAndFail(key, set);
    }

    private static MLDsa DisposeAndFail(MLDsa key, MlDsaParameterSet set)
    {
        key.Dispose();
        throw new KmsValidationException($"The key is not an {set} key.");
    }

    /// <summary>The SPKI of the public key of a PKCS#8 private key of <paramref name="set"/>.</summary>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> pkcs8, MlDsaParameterSet set)
        => SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ImportPrivate(pkcs8, set).GetPublicKey()).GetDerEncoded();

    private static void CheckContext(byte[] context)
    {
        if (context.Length > 255)
        {
            throw new KmsValidationException("An ML-DSA context string is at most 255 bytes.");
        }
    }

    private static MLDsaPrivateKeyParameters ImportPrivate(ReadOnlySpan<byte> pkcs8, MlDsaParameterSet set)
    {
        AsymmetricKeyParameter key;
        var copy = pkcs8.ToArray();
        try
        {
            key = PrivateKeyFactory.CreateKey(copy);
        }
        catch (Exception e)
        {
            throw new KmsValidationException("The private key is not a valid ML-DSA PKCS#8 key.", e);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(copy);
        }

        if (key is not MLDsaPrivateKeyParameters mlDsa || mlDsa.Parameters != Parameters(set))
        {
            throw new KmsValidationException($"The private key is not an {set} key.");
        }

        if (mlDsa.GetSeed() is null)
        {
            // An expanded key without its seed: BouncyCastle signs with whatever it holds, so check the
            // encoding (FIPS 204 skDecode) ourselves: s1 and s2 coefficients must lie in [-η, η].
            var encoded = mlDsa.GetEncoded();
            try
            {
                if (!HasSecretVectorsInRange(encoded, set))
                {
                    throw new KmsValidationException($"The private key is not a valid {set} key.");
                }
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(encoded);
            }
        }

        return mlDsa;
    }

    /// <summary>
    /// Reads the packed s1 || s2 of an expanded private key (after ρ, K and tr: 128 bytes); each
    /// coefficient is stored as η − c in bitlen(2η) bits (little-endian bit order), so a stored value
    /// above 2η is out of range.
    /// </summary>
    internal static bool HasSecretVectorsInRange(ReadOnlySpan<byte> expanded, MlDsaParameterSet set)
    {
        var (k, l, eta) = set switch
        {
            MlDsaParameterSet.MlDsa44 => (4, 4, 2),
            MlDsaParameterSet.MlDsa65 => (6, 5, 4),
            MlDsaParameterSet.MlDsa87 => (8, 7, 2),
            _ => throw new KmsValidationException("Unsupported ML-DSA parameter set."),
        };
        var bits = eta == 2 ? 3 : 4;
        var coefficients = (k + l) * 256;
        var packed = coefficients * bits / 8;
        if (expanded.Length != 128 + packed + (k * 416))
        {
            return false;
        }

        var data = expanded.Slice(128, packed);
        ulong accumulator = 0;
        int available = 0, index = 0;
        var mask = (1UL << bits) - 1;
        for (var i = 0; i < coefficients; i++)
        {
            while (available < bits)
            {
                accumulator |= (ulong)data[index++] << available;
                available += 8;
            }

            if ((accumulator & mask) > (ulong)(2 * eta))
            {
                return false;
            }

            accumulator >>= bits;
            available -= bits;
        }

        return true;
    }

    private static MLDsaPublicKeyParameters ImportPublic(ReadOnlySpan<byte> spki, MlDsaParameterSet set)
    {
        var encoded = SubjectPublicKeyInfoReader.ReadKey(spki, Oid(set), parameterOid: null);
        try
        {
            return MLDsaPublicKeyParameters.FromEncoding(Parameters(set), encoded);
        }
        catch (ArgumentException e)
        {
            throw new KmsValidationException($"The public key is not a valid {set} key.", e);
        }
    }
}
