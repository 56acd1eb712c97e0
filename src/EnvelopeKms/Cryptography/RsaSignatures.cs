using System.Security.Cryptography;

namespace EnvelopeKms.Cryptography;

/// <summary>RSA signature schemes offered by KMS (RSASSA_PSS_* with salt length = hash length and MGF1 with the same hash, RSASSA_PKCS1_V1_5_*).</summary>
internal enum RsaSignatureScheme
{
    Pss,
    Pkcs1,
}

/// <summary>
/// RSA signing on the platform (OpenSSL): key generation for RSA_2048/3072/4096 as PKCS#8/SPKI, and
/// RSASSA-PSS / PKCS#1 v1.5 with SHA-256/384/512 over a RAW message or a precomputed DIGEST.
/// A signature that does not verify (wrong value, wrong length, malformed padding) is <c>false</c>.
/// </summary>
internal static class RsaSignatures
{
    public static bool IsSupportedKeySize(int bits) => bits is 2048 or 3072 or 4096;

    /// <summary>Generates a key pair; returns the private key as PKCS#8 DER and the public key as SPKI DER.</summary>
    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair(int bits)
    {
        if (!IsSupportedKeySize(bits))
        {
            throw new KmsValidationException($"RSA key size {bits} is not supported; use 2048, 3072 or 4096.");
        }

        using var rsa = RSA.Create(bits);
        var pkcs8 = rsa.ExportPkcs8PrivateKey();
        var spki = rsa.ExportSubjectPublicKeyInfo();

        // Pair-wise consistency test before the key is handed out.
        Span<byte> probe = stackalloc byte[32];
        RandomNumberGenerator.Fill(probe);
        var signature = rsa.SignHash(probe, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        if (!Verify(spki, RsaSignatureScheme.Pss, SignatureHash.Sha256, probe, SignatureMessageType.Digest, signature))
        {
            CryptographicOperations.ZeroMemory(pkcs8);
            throw new CryptographicException("The generated RSA key pair failed its pair-wise consistency test.");
        }

        return (pkcs8, spki);
    }

    public static byte[] Sign(ReadOnlySpan<byte> pkcs8, RsaSignatureScheme scheme, SignatureHash hash, ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        SignatureInput.ToDigest(message, type, hash); // input errors before the key is read
        using var rsa = ImportPrivate(pkcs8);
        return Sign(rsa, scheme, hash, message, type);
    }

    /// <summary>Signs with an imported private key (from <see cref="ImportPrivate"/>).</summary>
    public static byte[] Sign(RSA rsa, RsaSignatureScheme scheme, SignatureHash hash, ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        var digest = SignatureInput.ToDigest(message, type, hash);
        return rsa.SignHash(digest, SignatureInput.Name(hash), Padding(scheme));
    }

    /// <summary>Verifies; a wrong signature is <c>false</c>. Bad inputs (key, message length) throw <see cref="KmsValidationException"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> spki, RsaSignatureScheme scheme, SignatureHash hash, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> signature)
    {
        SignatureInput.ToDigest(message, type, hash); // input errors before the key is read
        using var rsa = ImportPublic(spki);
        return Verify(rsa, scheme, hash, message, type, signature);
    }

    /// <summary>Verifies with an imported public key (from <see cref="ImportPublic"/>); a wrong signature is <c>false</c>.</summary>
    public static bool Verify(RSA rsa, RsaSignatureScheme scheme, SignatureHash hash, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> signature)
    {
        var digest = SignatureInput.ToDigest(message, type, hash);
        if (signature.Length != (rsa.KeySize + 7) / 8)
        {
            return false;
        }

        try
        {
            return rsa.VerifyHash(digest, signature, SignatureInput.Name(hash), Padding(scheme));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static RSASignaturePadding Padding(RsaSignatureScheme scheme) => scheme switch
    {
        // The platform's PSS uses MGF1 with the signing hash and salt length = hash length, as KMS.
        RsaSignatureScheme.Pss => RSASignaturePadding.Pss,
        RsaSignatureScheme.Pkcs1 => RSASignaturePadding.Pkcs1,
        _ => throw new KmsValidationException("Unsupported RSA signature scheme."),
    };

    internal static RSA ImportPrivate(ReadOnlySpan<byte> pkcs8)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || !IsSupportedKeySize(rsa.KeySize))
            {
                throw new KmsValidationException("The RSA private key is not a supported PKCS#8 key.");
            }

            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new KmsValidationException("The RSA private key is not a valid PKCS#8 key.", e);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    internal static RSA ImportPublic(ReadOnlySpan<byte> spki)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read != spki.Length || !IsSupportedKeySize(rsa.KeySize))
            {
                throw new KmsValidationException("The RSA public key is not a supported SubjectPublicKeyInfo.");
            }

            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new KmsValidationException("The RSA public key is not a valid SubjectPublicKeyInfo.", e);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}
