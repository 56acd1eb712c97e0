using System.Buffers.Binary;

namespace EnvelopeKms.Envelope;

/// <summary>
/// The segmented stream format, suite 0x02 (see <c>docs/envelope-streaming.md</c>):
/// <code>
/// header (suite 0x02, with its segment size) | stream number (4, BE) | segment 0 | ... | segment n-1
/// segment i = AES-256-GCM ciphertext | tag (16)
/// nonce i    = stream number (4, BE) | i (4, BE) | last flag (1: 0x01 on the last segment, else 0x00) | 0x00 0x00 0x00
/// AAD        = SHA-256(header) (32) | stream number (4, BE)
/// </code>
/// Every segment but the last holds exactly the segment size of plaintext; the last holds 0 to the
/// segment size (an empty stream is one empty last segment).
/// </summary>
internal static class EnvelopeStreamFormat
{
    public const int AssociatedDataSize = EnvelopeFormat.HeaderHashSize + EnvelopeFormat.StreamNumberSize;

    /// <summary>The most segments in one stream: the segment index is 4 bytes.</summary>
    public const long MaxSegments = 1L << 32;

    public static void WriteNonce(Span<byte> nonce, uint streamNumber, uint segmentIndex, bool last)
    {
        BinaryPrimitives.WriteUInt32BigEndian(nonce, streamNumber);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[4..], segmentIndex);
        nonce[8] = last ? (byte)1 : (byte)0;
        nonce[9..12].Clear();
    }

    private static void WriteAssociatedData(Span<byte> aad, byte[] headerHash, uint streamNumber)
    {
        headerHash.CopyTo(aad);
        BinaryPrimitives.WriteUInt32BigEndian(aad[EnvelopeFormat.HeaderHashSize..], streamNumber);
    }

    /// <summary>Seals one segment; <paramref name="ciphertextAndTag"/> is exactly the plaintext's length plus 16.</summary>
    public static void SealSegment(DataKeyEntry entry, uint streamNumber, uint segmentIndex, bool last, ReadOnlySpan<byte> plaintext, Span<byte> ciphertextAndTag)
    {
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        Span<byte> aad = stackalloc byte[AssociatedDataSize];
        WriteNonce(nonce, streamNumber, segmentIndex, last);
        WriteAssociatedData(aad, entry.HeaderHash, streamNumber);
        entry.Key.Seal(nonce, plaintext, aad, ciphertextAndTag);
    }

    /// <summary>Opens one segment; false (with <paramref name="plaintext"/> zeroed) when it does not authenticate.</summary>
    public static bool TryOpenSegment(DataKeyEntry entry, uint streamNumber, uint segmentIndex, bool last, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        Span<byte> aad = stackalloc byte[AssociatedDataSize];
        WriteNonce(nonce, streamNumber, segmentIndex, last);
        WriteAssociatedData(aad, entry.HeaderHash, streamNumber);
        return entry.Key.TryOpen(nonce, ciphertextAndTag, aad, plaintext);
    }

    /// <summary>The segments of a stream of <paramref name="plaintextLength"/> bytes (at least one).</summary>
    public static long SegmentCount(long plaintextLength, int segmentSize)
        => plaintextLength == 0 ? 1 : ((plaintextLength - 1) / segmentSize) + 1;

    /// <summary>The bytes after the header: stream number and segments.</summary>
    public static long BodyLength(long plaintextLength, int segmentSize)
        => EnvelopeFormat.StreamNumberSize + plaintextLength + (SegmentCount(plaintextLength, segmentSize) * EnvelopeFormat.TagSize);

    /// <summary>
    /// Splits the bytes of segments (after the stream number) into a segment count and a plaintext
    /// length; false when no stream has that length.
    /// </summary>
    public static bool TryGetSegmentLayout(long segmentBytes, int segmentSize, out long segmentCount, out long plaintextLength)
    {
        var full = (long)segmentSize + EnvelopeFormat.TagSize;
        segmentCount = (segmentBytes + full - 1) / full;
        var lastLength = segmentBytes - ((segmentCount - 1) * full);
        plaintextLength = segmentBytes - (segmentCount * EnvelopeFormat.TagSize);
        return segmentBytes >= EnvelopeFormat.TagSize && lastLength >= EnvelopeFormat.TagSize && segmentCount <= MaxSegments;
    }

    /// <summary>Reads and checks a suite-0x02 header and the stream number that follows it.</summary>
    /// <exception cref="KmsInvalidCiphertextException">The stream does not start with a well-formed stream header.</exception>
    public static async ValueTask<(byte[] Header, uint StreamNumber, int SegmentSize)> ReadHeaderAsync(Stream source, CancellationToken cancellationToken)
    {
        // magic, version, suite, key-id length
        var buffer = new byte[5];
        await ReadExactlyOrInvalidAsync(source, buffer, 0, cancellationToken).ConfigureAwait(false);
        if (buffer[0] != EnvelopeFormat.Magic0 || buffer[1] != EnvelopeFormat.Magic1 || buffer[2] != EnvelopeFormat.Version1
            || buffer[3] != EnvelopeFormat.SuiteStreaming || buffer[4] is 0 or > EnvelopeFormat.MaxKeyIdLength)
        {
            throw Invalid();
        }

        // key id, then the encrypted-data-key length
        buffer = await GrowAsync(source, buffer, buffer[4] + 2, cancellationToken).ConfigureAwait(false);
        int edkLength = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(buffer.Length - 2));
        if (edkLength is < 1 or > EnvelopeFormat.MaxEncryptedDataKeyLength)
        {
            throw Invalid();
        }

        // encrypted data key, then the context length
        buffer = await GrowAsync(source, buffer, edkLength + 2, cancellationToken).ConfigureAwait(false);
        int contextLength = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(buffer.Length - 2));
        if (contextLength > KeyManagement.EncryptionContextEncoding.MaxEncodedLength)
        {
            throw Invalid();
        }

        // context, salt, commitment, segment size, then the stream number
        buffer = await GrowAsync(source, buffer, contextLength + EnvelopeFormat.SaltSize + EnvelopeFormat.CommitmentSize + 4 + EnvelopeFormat.StreamNumberSize, cancellationToken).ConfigureAwait(false);
        var headerLength = buffer.Length - EnvelopeFormat.StreamNumberSize;
        if (!EnvelopeFormat.TryGetHeaderLength(buffer, out var parsedLength, out _) || parsedLength != headerLength)
        {
            throw Invalid();
        }

        var header = buffer[..headerLength];
        var segmentSize = EnvelopeFormat.ReadFields(header).SegmentSize;
        var streamNumber = BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(headerLength));
        if (segmentSize is < EnvelopeFormat.MinSegmentSize or > EnvelopeFormat.MaxSegmentSize || streamNumber == 0)
        {
            throw Invalid();
        }

        return (header, streamNumber, segmentSize);
    }

    private static async ValueTask<byte[]> GrowAsync(Stream source, byte[] buffer, int more, CancellationToken cancellationToken)
    {
        var grown = new byte[buffer.Length + more];
        buffer.CopyTo(grown, 0);
        await ReadExactlyOrInvalidAsync(source, grown, buffer.Length, cancellationToken).ConfigureAwait(false);
        return grown;
    }

    private static async ValueTask ReadExactlyOrInvalidAsync(Stream source, byte[] buffer, int offset, CancellationToken cancellationToken)
    {
        var count = buffer.Length - offset;
        if (await source.ReadAtLeastAsync(buffer.AsMemory(offset), count, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) != count)
        {
            throw Invalid();
        }
    }

    public static KmsInvalidCiphertextException Invalid() => new(EnvelopeErrors.InvalidEnvelope);
}
