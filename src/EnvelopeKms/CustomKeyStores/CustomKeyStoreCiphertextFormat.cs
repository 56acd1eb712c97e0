using System.Text;
using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.CustomKeyStores;

/// <summary>
/// The ciphertext blob of a key in a custom key store, format version 2 (see <c>docs/custom-key-stores.md</c>). The
/// layout is version 1's (<see cref="SymmetricCiphertext"/>) with another version byte and algorithm:
/// <code>
/// version (0x02) | algorithm (0x02 = AES-256-GCM in an HSM key store, 0x03 = double encryption in an external key store) |
/// key-id length n | key id | key-material id (32 bytes) | IV (12) | ciphertext | tag (16)
/// </code>
/// The IV, ciphertext and tag come from the backend. The associated data given to the backend is the header followed by
/// the canonical encryption context, as in version 1. With algorithm 0x03 the backend's plaintext is itself a version 1
/// body (nonce | ciphertext | tag) made with the key manager's own key material for the key and the same associated
/// data: KMS's double encryption for external key stores.
/// </summary>
internal static class CustomKeyStoreCiphertextFormat
{
    public const byte Version2 = 0x02;
    public const byte AlgorithmHsm = 0x02;
    public const byte AlgorithmExternalDouble = 0x03;
    private const int MaxKeyIdLength = 64;

    /// <summary>The 3 + n + 32 byte header.</summary>
    public static byte[] Header(byte algorithm, string keyId, string keyMaterialId)
    {
        var header = new byte[3 + keyId.Length + SymmetricCiphertext.MaterialIdSize];
        header[0] = Version2;
        header[1] = algorithm;
        header[2] = (byte)keyId.Length;
        Encoding.ASCII.GetBytes(keyId, header.AsSpan(3));
        Convert.FromHexString(keyMaterialId, header.AsSpan(3 + keyId.Length), out _, out _);
        return header;
    }

    /// <summary>header | IV | ciphertext | tag.</summary>
    public static byte[] Compose(ReadOnlySpan<byte> header, CustomKeyStoreCiphertext body)
    {
        var blob = new byte[header.Length + body.Iv.Length + body.Ciphertext.Length + body.Tag.Length];
        var span = blob.AsSpan();
        header.CopyTo(span);
        body.Iv.Span.CopyTo(span[header.Length..]);
        body.Ciphertext.Span.CopyTo(span[(header.Length + CustomKeyStoreCiphertext.IvSize)..]);
        body.Tag.Span.CopyTo(span[^CustomKeyStoreCiphertext.TagSize..]);
        return blob;
    }

    /// <summary>Reads a version 2 header; false for anything else (including every version 1 blob).</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> blob, out SymmetricCiphertext.Header header, out byte algorithm)
    {
        header = default;
        algorithm = 0;
        if (blob.Length < 3 || blob[0] != Version2 || blob[1] is not (AlgorithmHsm or AlgorithmExternalDouble))
        {
            return false;
        }

        int keyIdLength = blob[2];
        var headerLength = 3 + keyIdLength + SymmetricCiphertext.MaterialIdSize;
        if (keyIdLength is 0 or > MaxKeyIdLength || blob.Length < headerLength + CustomKeyStoreCiphertext.IvSize + CustomKeyStoreCiphertext.TagSize)
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

        algorithm = blob[1];
        header = new SymmetricCiphertext.Header(
            Encoding.ASCII.GetString(keyIdBytes),
            Convert.ToHexStringLower(blob.Slice(3 + keyIdLength, SymmetricCiphertext.MaterialIdSize)),
            headerLength,
            blob.Length - headerLength - CustomKeyStoreCiphertext.IvSize - CustomKeyStoreCiphertext.TagSize);
        return true;
    }

    /// <summary>The backend body (IV, ciphertext, tag) of a blob whose header was read.</summary>
    public static CustomKeyStoreCiphertext Body(ReadOnlyMemory<byte> blob, in SymmetricCiphertext.Header header)
        => new(
            blob.Slice(header.HeaderLength, CustomKeyStoreCiphertext.IvSize),
            blob.Slice(header.HeaderLength + CustomKeyStoreCiphertext.IvSize, header.PlaintextLength),
            blob[^CustomKeyStoreCiphertext.TagSize..]);

    /// <summary>header || encoded encryption context.</summary>
    public static byte[] AssociatedData(ReadOnlySpan<byte> header, ReadOnlySpan<byte> encodedContext)
    {
        var aad = new byte[header.Length + encodedContext.Length];
        header.CopyTo(aad);
        encodedContext.CopyTo(aad.AsSpan(header.Length));
        return aad;
    }
}
