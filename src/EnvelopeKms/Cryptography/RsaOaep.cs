using System.Security.Cryptography;

namespace EnvelopeKms.Cryptography;

/// <summary>The OAEP variants KMS offers: the OAEP hash and the MGF1 hash are the same.</summary>
internal enum RsaOaepAlgorithm
{
    /// <summary>RSAES_OAEP_SHA_1: OAEP with SHA-1 and MGF1-SHA-1.</summary>
    Sha1,

    /// <summary>RSAES_OAEP_SHA_256: OAEP with SHA-256 and MGF1-SHA-256.</summary>
    Sha256,
}

/// <summary>
/// RSAES-OAEP with the platform's RSA (no label, MGF1 with the OAEP hash), on keys held as PKCS#8
/// (private) and SubjectPublicKeyInfo (public) DER. A ciphertext that does not decrypt is a
/// <see cref="KmsInvalidCiphertextException"/> with one message, whatever check failed.
/// </summary>
internal static class RsaOaep
{
    /// <summary>The RSA key sizes KMS offers (RSA_2048, RSA_3072, RSA_4096).</summary>
    public static bool IsSupportedKeySize(int keySizeInBits) => keySizeInBits is 2048 or 3072 or 4096;

    /// <summary>Generates an RSA key pair of a KMS key size.</summary>
    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair(int keySizeInBits)
    {
        if (!IsSupportedKeySize(keySizeInBits))
        {
            throw new KmsValidationException($"RSA key size {keySizeInBits} is not supported; use 2048, 3072 or 4096.");
        }

        using var rsa = RSA.Create(keySizeInBits);
        return (rsa.ExportPkcs8PrivateKey(), rsa.ExportSubjectPublicKeyInfo());
    }

    /// <summary>
    /// The longest plaintext OAEP can encrypt under a key: k - 2·hLen - 2 bytes (KMS: RSA_2048 214 / 190,
    /// RSA_3072 342 / 318, RSA_4096 470 / 446 bytes for SHA-1 / SHA-256).
    /// </summary>
    public static int MaxPlaintextLength(int keySizeInBits, RsaOaepAlgorithm algorithm)
        => (keySizeInBits / 8) - (2 * HashLength(algorithm)) - 2;

    /// <summary>Encrypts <paramref name="plaintext"/> to the public key; a plaintext over the limit is a validation error.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> spki, ReadOnlySpan<byte> plaintext, RsaOaepAlgorithm algorithm)
    {
        using var rsa = ImportPublicKey(spki);
        return Encrypt(rsa, plaintext, algorithm);
    }

    /// <summary>Encrypts to an imported public key (from <see cref="ImportPublicKey"/>).</summary>
    public static byte[] Encrypt(RSA rsa, ReadOnlySpan<byte> plaintext, RsaOaepAlgorithm algorithm)
    {
        var limit = MaxPlaintextLength(rsa.KeySize, algorithm);
        if (plaintext.Length > limit)
        {
            throw new KmsValidationException($"The plaintext has {plaintext.Length} bytes; this key and algorithm accept at most {limit}.");
        }

        return rsa.Encrypt(plaintext.ToArray(), Padding(algorithm));
    }

    /// <summary>
    /// Decrypts a ciphertext of exactly the modulus length. Every failure (length, integer range, OAEP
    /// padding, wrong key, wrong algorithm) is the same <see cref="KmsInvalidCiphertextException"/>.
    /// </summary>
    public static byte[] Decrypt(ReadOnlySpan<byte> pkcs8, ReadOnlySpan<byte> ciphertext, RsaOaepAlgorithm algorithm)
    {
        using var rsa = ImportPrivateKey(pkcs8);
        return Decrypt(rsa, ciphertext, algorithm);
    }

    /// <summary>Decrypts with an imported private key (from <see cref="ImportPrivateKey"/>); every failure is the same <see cref="KmsInvalidCiphertextException"/>.</summary>
    public static byte[] Decrypt(RSA rsa, ReadOnlySpan<byte> ciphertext, RsaOaepAlgorithm algorithm)
    {
        var modulusLength = (rsa.KeySize + 7) / 8;
        if (ciphertext.Length != modulusLength)
        {
            throw InvalidCiphertext(null);
        }

        var buffer = new byte[modulusLength];
        try
        {
            if (!rsa.TryDecrypt(ciphertext, buffer, Padding(algorithm), out var written))
            {
                throw InvalidCiphertext(null);
            }

            return buffer.AsSpan(0, written).ToArray();
        }
        catch (CryptographicException)
        {
            // Deliberately no inner exception: its message could tell padding failures apart.
            throw InvalidCiphertext(null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    /// <summary>The key size in bits of an RSA SubjectPublicKeyInfo.</summary>
    public static int GetKeySize(ReadOnlySpan<byte> spki)
    {
        using var rsa = ImportPublicKey(spki);
        return rsa.KeySize;
    }

    internal static RSA ImportPrivateKey(ReadOnlySpan<byte> pkcs8)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length)
            {
                throw new KmsValidationException("The RSA private key has trailing data.");
            }

            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new KmsValidationException("The RSA private key could not be read.", e);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    internal static RSA ImportPublicKey(ReadOnlySpan<byte> spki)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read != spki.Length)
            {
                throw new KmsValidationException("The RSA public key has trailing data.");
            }

            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new KmsValidationException("The RSA public key could not be read.", e);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static KmsInvalidCiphertextException InvalidCiphertext(Exception? inner)
        => new("The ciphertext could not be decrypted with this key and algorithm.", inner);

    private static int HashLength(RsaOaepAlgorithm algorithm) => algorithm switch
    {
        RsaOaepAlgorithm.Sha1 => 20,
        RsaOaepAlgorithm.Sha256 => 32,
        _ => throw new KmsValidationException("Unknown OAEP algorithm."),
    };

    private static RSAEncryptionPadding Padding(RsaOaepAlgorithm algorithm) => algorithm switch
    {
        RsaOaepAlgorithm.Sha1 => RSAEncryptionPadding.OaepSHA1,
        RsaOaepAlgorithm.Sha256 => RSAEncryptionPadding.OaepSHA256,
        _ => throw new KmsValidationException("Unknown OAEP algorithm."),
    };
}
