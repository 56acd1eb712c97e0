using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.Envelope;

/// <summary>
/// The envelope message format, version 1 (see <c>docs/envelope-format.md</c>). A header that is
/// the same for every message under one data key, then the body:
/// <code>
/// magic "EK" (2) | version 0x01 (1) | suite (1) | key-id length n (1) | key id (n, ASCII) |
/// encrypted-data-key length m (2, BE) | encrypted data key (m) | context length c (2, BE) |
/// canonical encryption context (c) | data-key salt (32) | key commitment (32) |
/// [suite 0x02 only: segment size (4, BE)]
/// </code>
/// One-shot body (suite 0x01): nonce (12) | ciphertext | tag (16). The data-encryption key and the
/// commitment are derived from the data key with HKDF-SHA-512 (salt = the data-key salt, info naming
/// the purpose and the suite); the AES-GCM associated data of every message is SHA-256(header)
/// followed by the caller's associated data, so the whole header is authenticated.
/// </summary>
internal static class EnvelopeFormat
{
    public const byte Magic0 = (byte)'E';
    public const byte Magic1 = (byte)'K';
    public const byte Version1 = 0x01;
    public const byte SuiteOneShot = 0x01;
    public const byte SuiteStreaming = 0x02;
    public const int SaltSize = 32;
    public const int CommitmentSize = 32;
    public const int HeaderHashSize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int DataKeySize = 32;
    public const int MaxKeyIdLength = 64;
    public const int MaxEncryptedDataKeyLength = 6144;

    /// <summary>The smallest and largest segment sizes of a stream (suite 0x02).</summary>
    public const int MinSegmentSize = 4 * 1024;
    public const int MaxSegmentSize = 16 * 1024 * 1024;

    /// <summary>The size of a stream's stream number, after its header.</summary>
    public const int StreamNumberSize = 4;

    /// <summary>The bytes a one-shot message adds to its plaintext besides the header.</summary>
    public const int OneShotOverhead = NonceSize + TagSize;

    private static readonly byte[] DataKeyInfo = Encoding.ASCII.GetBytes("EnvelopeKms envelope v1: data-encryption key\0");
    private static readonly byte[] CommitmentInfo = Encoding.ASCII.GetBytes("EnvelopeKms envelope v1: key commitment\0");

    /// <summary>Builds a header.</summary>
    public static byte[] BuildHeader(byte suite, string keyId, ReadOnlySpan<byte> encryptedDataKey, ReadOnlySpan<byte> encodedContext, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> commitment, int segmentSize = 0)
    {
        var length = 5 + keyId.Length + 2 + encryptedDataKey.Length + 2 + encodedContext.Length + SaltSize + CommitmentSize + (suite == SuiteStreaming ? 4 : 0);
        var header = new byte[length];
        var span = header.AsSpan();
        span[0] = Magic0;
        span[1] = Magic1;
        span[2] = Version1;
        span[3] = suite;
        span[4] = (byte)keyId.Length;
        var offset = 5 + Encoding.ASCII.GetBytes(keyId, span[5..]);
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)encryptedDataKey.Length);
        encryptedDataKey.CopyTo(span[(offset + 2)..]);
        offset += 2 + encryptedDataKey.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[offset..], (ushort)encodedContext.Length);
        encodedContext.CopyTo(span[(offset + 2)..]);
        offset += 2 + encodedContext.Length;
        salt.CopyTo(span[offset..]);
        offset += SaltSize;
        commitment.CopyTo(span[offset..]);
        offset += CommitmentSize;
        if (suite == SuiteStreaming)
        {
            BinaryPrimitives.WriteInt32BigEndian(span[offset..], segmentSize);
        }

        return header;
    }

    /// <summary>
    /// Finds the end of the header by walking its length fields, without allocating. Returns false
    /// for anything that is not a well-formed version-1 header of a known suite.
    /// </summary>
    public static bool TryGetHeaderLength(ReadOnlySpan<byte> envelope, out int headerLength, out byte suite)
    {
        headerLength = 0;
        suite = 0;
        if (envelope.Length < 5 || envelope[0] != Magic0 || envelope[1] != Magic1 || envelope[2] != Version1
            || envelope[3] is not (SuiteOneShot or SuiteStreaming))
        {
            return false;
        }

        suite = envelope[3];
        int keyIdLength = envelope[4];
        if (keyIdLength is 0 or > MaxKeyIdLength)
        {
            return false;
        }

        var offset = 5 + keyIdLength;
        if (!TrySkipField(envelope, ref offset, 1, MaxEncryptedDataKeyLength)
            || !TrySkipField(envelope, ref offset, 2, KeyManagement.EncryptionContextEncoding.MaxEncodedLength))
        {
            return false;
        }

        offset += SaltSize + CommitmentSize + (suite == SuiteStreaming ? 4 : 0);
        if (offset > envelope.Length)
        {
            return false;
        }

        headerLength = offset;
        return true;
    }

    private static bool TrySkipField(ReadOnlySpan<byte> envelope, ref int offset, int minLength, int maxLength)
    {
        if (envelope.Length - offset < 2)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(envelope[offset..]);
        if (length < minLength || length > maxLength || envelope.Length - offset - 2 < length)
        {
            return false;
        }

        offset += 2 + length;
        return true;
    }

    /// <summary>Splits a header (already length-checked by <see cref="TryGetHeaderLength"/>) into its fields.</summary>
    public static Fields ReadFields(ReadOnlySpan<byte> header)
    {
        int keyIdLength = header[4];
        var keyIdEnd = 5 + keyIdLength;
        int edkLength = BinaryPrimitives.ReadUInt16BigEndian(header[keyIdEnd..]);
        var edkStart = keyIdEnd + 2;
        var contextLengthOffset = edkStart + edkLength;
        int contextLength = BinaryPrimitives.ReadUInt16BigEndian(header[contextLengthOffset..]);
        var contextStart = contextLengthOffset + 2;
        var saltStart = contextStart + contextLength;
        var commitmentStart = saltStart + SaltSize;
        var segmentSize = header[3] == SuiteStreaming ? BinaryPrimitives.ReadInt32BigEndian(header[(commitmentStart + CommitmentSize)..]) : 0;
        return new Fields(header[3], 5, keyIdLength, edkStart, edkLength, contextStart, contextLength, saltStart, commitmentStart, segmentSize);
    }

    /// <summary>Derives the data-encryption key and the key commitment from a data key (HKDF-SHA-512).</summary>
    public static void DeriveKeys(ReadOnlySpan<byte> dataKey, ReadOnlySpan<byte> salt, byte suite, Span<byte> dataEncryptionKey, Span<byte> commitment)
    {
        Span<byte> prk = stackalloc byte[64];
        Span<byte> info = stackalloc byte[Math.Max(DataKeyInfo.Length, CommitmentInfo.Length) + 1];
        try
        {
            HKDF.Extract(HashAlgorithmName.SHA512, dataKey, salt, prk);
            DataKeyInfo.CopyTo(info);
            info[DataKeyInfo.Length] = suite;
            HKDF.Expand(HashAlgorithmName.SHA512, prk, dataEncryptionKey, info[..(DataKeyInfo.Length + 1)]);
            CommitmentInfo.CopyTo(info);
            info[CommitmentInfo.Length] = suite;
            HKDF.Expand(HashAlgorithmName.SHA512, prk, commitment, info[..(CommitmentInfo.Length + 1)]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(prk);
        }
    }

    /// <summary>The fields of a header, as offsets into it.</summary>
    public readonly record struct Fields(
        byte Suite,
        int KeyIdStart,
        int KeyIdLength,
        int EncryptedDataKeyStart,
        int EncryptedDataKeyLength,
        int ContextStart,
        int ContextLength,
        int SaltStart,
        int CommitmentStart,
        int SegmentSize)
    {
        public string KeyId(ReadOnlySpan<byte> header) => Encoding.ASCII.GetString(header.Slice(KeyIdStart, KeyIdLength));
    }
}
