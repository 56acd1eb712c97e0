using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.KeyManagement;

/// <summary>
/// The symmetric ciphertext blob, format version 1 (see <c>docs/ciphertext-format.md</c>):
/// <code>
/// version (1 byte, 0x01) | algorithm (1 byte, 0x01 = AES-256-GCM) | key-id length n (1 byte) |
/// key id (n ASCII bytes) | key-material id (32 bytes) | nonce (12 bytes) | ciphertext | tag (16 bytes)
/// </code>
/// The associated data is the header (everything before the nonce) followed by the canonical
/// encryption context, so any change to the header, the key id, the material id or the context
/// fails authentication.
/// </summary>
internal static class SymmetricCiphertext
{
    public const byte Version1 = 0x01;
    public const byte AlgorithmAes256Gcm = 0x01;
    public const int MaterialIdSize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int KeySize = 32;
    private const int MaxKeyIdLength = 64;

    /// <summary>The one message every decrypt failure carries, so that failures are no oracle.</summary>
    public const string InvalidMessage = "The ciphertext is invalid: it is corrupt or truncated, was made under another key or key store, or the encryption context does not match.";

    public static int GetCiphertextLength(int keyIdLength, int plaintextLength)
        => 3 + keyIdLength + MaterialIdSize + NonceSize + plaintextLength + TagSize;

    /// <summary>Encrypts under <paramref name="key"/>; the caller validated every input.</summary>
    public static byte[] Encrypt(ReadOnlySpan<byte> key, string keyId, string keyMaterialId, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> encodedContext)
    {
        var blob = new byte[GetCiphertextLength(keyId.Length, plaintext.Length)];
        var span = blob.AsSpan();
        span[0] = Version1;
        span[1] = AlgorithmAes256Gcm;
        span[2] = (byte)keyId.Length;
        Encoding.ASCII.GetBytes(keyId, span[3..]);
        var headerLength = 3 + keyId.Length + MaterialIdSize;
        Convert.FromHexString(keyMaterialId, span.Slice(3 + keyId.Length, MaterialIdSize), out _, out _);
        var nonce = span.Slice(headerLength, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        var body = span.Slice(headerLength + NonceSize, plaintext.Length);
        var tag = span[^TagSize..];

        var aad = BuildAssociatedData(span[..headerLength], encodedContext);
        Seal(key, nonce, plaintext, aad, body, tag);
        return blob;
    }

    /// <summary>Reads the header of a blob; returns false for anything malformed.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> blob, out Header header)
    {
        header = default;
        if (blob.Length < 3 || blob[0] != Version1 || blob[1] != AlgorithmAes256Gcm)
        {
            return false;
        }

        int keyIdLength = blob[2];
        var headerLength = 3 + keyIdLength + MaterialIdSize;
        if (keyIdLength is 0 or > MaxKeyIdLength || blob.Length < headerLength + NonceSize + TagSize)
        {
            return false;
        }

        var keyIdBytes = blob.Slice(3, keyIdLength);
        foreach (var b in keyIdBytes)
        {
            if (!(char.IsAsciiDigit((char)b) || char.IsAsciiLetterLower((char)b) || b == (byte)'-'))
            {
                return false;
            }
        }

        header = new Header(
            Encoding.ASCII.GetString(keyIdBytes),
            Convert.ToHexStringLower(blob.Slice(3 + keyIdLength, MaterialIdSize)),
            headerLength,
            blob.Length - headerLength - NonceSize - TagSize);
        return true;
    }

    /// <summary>Decrypts a blob whose header was read; returns false when authentication fails.</summary>
    public static bool TryDecrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> blob, in Header header, ReadOnlySpan<byte> encodedContext, Span<byte> plaintext)
    {
        var aad = BuildAssociatedData(blob[..header.HeaderLength], encodedContext);
        return TryOpen(
            key,
            blob.Slice(header.HeaderLength, NonceSize),
            blob.Slice(header.HeaderLength + NonceSize, header.PlaintextLength),
            blob[^TagSize..],
            aad,
            plaintext);
    }

    /// <summary>
    /// The AES-256-GCM step of format version 1: encrypts <paramref name="plaintext"/> into
    /// <paramref name="ciphertext"/> (same length) and writes the 16-byte tag. Only our parameters are
    /// accepted — a 32-byte key, a 12-byte nonce and a 16-byte tag — so that no other key size, nonce
    /// size or truncated tag can ever be produced.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter has another size than format version 1 uses.</exception>
    internal static void Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, Span<byte> ciphertext, Span<byte> tag)
    {
        CheckParameters(key, nonce, tag);
        if (ciphertext.Length != plaintext.Length)
        {
            throw new ArgumentException($"The ciphertext buffer must be as long as the plaintext ({plaintext.Length} bytes); it has {ciphertext.Length}.", nameof(ciphertext));
        }

        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, aad);
    }

    /// <summary>
    /// The inverse of <see cref="Seal"/>: authenticates and decrypts into <paramref name="plaintext"/>
    /// (same length as <paramref name="ciphertext"/>). Returns <see langword="false"/>, with
    /// <paramref name="plaintext"/> zeroed, when authentication fails.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter has another size than format version 1 uses.</exception>
    internal static bool TryOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, Span<byte> plaintext)
    {
        CheckParameters(key, nonce, tag);
        if (plaintext.Length != ciphertext.Length)
        {
            throw new ArgumentException($"The plaintext buffer must be as long as the ciphertext ({ciphertext.Length} bytes); it has {plaintext.Length}.", nameof(plaintext));
        }

        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
    }

    private static void CheckParameters(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> tag)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"The key must be {KeySize} bytes (AES-256); it has {key.Length}.", nameof(key));
        }

        if (nonce.Length != NonceSize)
        {
            throw new ArgumentException($"The nonce must be {NonceSize} bytes (96 bits); it has {nonce.Length}.", nameof(nonce));
        }

        if (tag.Length != TagSize)
        {
            throw new ArgumentException($"The tag must be {TagSize} bytes (128 bits); it has {tag.Length}.", nameof(tag));
        }
    }

    private static byte[] BuildAssociatedData(ReadOnlySpan<byte> header, ReadOnlySpan<byte> encodedContext)
    {
        var aad = new byte[header.Length + encodedContext.Length];
        header.CopyTo(aad);
        encodedContext.CopyTo(aad.AsSpan(header.Length));
        return aad;
    }

    /// <summary>The parsed header of a blob.</summary>
    public readonly record struct Header(string KeyId, string KeyMaterialId, int HeaderLength, int PlaintextLength);
}
