using System.Buffers;

namespace EnvelopeKms.Envelope;

/// <summary>
/// Random access to an encrypted stream on a seekable stream: decrypts any one segment, reading only
/// that segment (the header was read when the reader was opened). Each segment is authenticated on
/// its own, with its index and whether it is the last bound in, so a segment read here is exactly
/// segment N of the stream that was encrypted. Not safe for concurrent use (it seeks its stream).
/// Open one with <see cref="IEnvelopeEncryptor.OpenStreamReaderAsync"/>.
/// </summary>
/// <remarks>
/// The segment count and plaintext length are computed from the stream's length; a stream cut
/// short still yields its intact segments here (the segment that has become the last fails), whereas
/// <see cref="IEnvelopeEncryptor.DecryptAsync(Stream, Stream, IProgress{long}?, CancellationToken)"/>
/// rejects it as a whole.
/// </remarks>
public sealed class EnvelopeStreamReader : IDisposable
{
    private readonly Stream _source;
    private readonly DataKeyEntry _entry;
    private readonly long _segmentsStart;
    private readonly uint _streamNumber;
    private bool _disposed;

    internal EnvelopeStreamReader(Stream source, DataKeyEntry entry, long segmentsStart, uint streamNumber, int segmentSize, long segmentCount, long plaintextLength)
    {
        var fields = EnvelopeFormat.ReadFields(entry.Header);
        KeyId = fields.KeyId(entry.Header);
        EncryptedDataKeyLength = fields.EncryptedDataKeyLength;
        EncryptionContext = KeyManagement.EncryptionContextEncoding.TryDecode(entry.Header.AsSpan(fields.ContextStart, fields.ContextLength), out var context) ? context : new Dictionary<string, string>();
        HeaderLength = entry.Header.Length;
        _source = source;
        _entry = entry;
        _segmentsStart = segmentsStart;
        _streamNumber = streamNumber;
        SegmentSize = segmentSize;
        SegmentCount = segmentCount;
        PlaintextLength = plaintextLength;
    }

    /// <summary>The id of the KMS key that wraps the stream's data key, from the header.</summary>
    public string KeyId { get; }

    /// <summary>The encryption context stored in (and authenticated with) the header.</summary>
    public IReadOnlyDictionary<string, string> EncryptionContext { get; }

    /// <summary>The length of the encrypted data key in the header.</summary>
    public int EncryptedDataKeyLength { get; }

    /// <summary>The length of the header (the stream number and the segments follow it).</summary>
    public int HeaderLength { get; }

    /// <summary>The stream's number under its data key (1 to 2^32 − 1), bound into every segment.</summary>
    public long StreamNumber => _streamNumber;

    /// <summary>The plaintext bytes of every segment but the last.</summary>
    public int SegmentSize { get; }

    /// <summary>The number of segments (at least 1; an empty stream has one empty segment).</summary>
    public long SegmentCount { get; }

    /// <summary>The plaintext length of the whole stream.</summary>
    public long PlaintextLength { get; }

    /// <summary>The plaintext length of segment <paramref name="segmentIndex"/>.</summary>
    public int GetSegmentLength(long segmentIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(segmentIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(segmentIndex, SegmentCount);
        return segmentIndex < SegmentCount - 1 ? SegmentSize : (int)(PlaintextLength - ((SegmentCount - 1) * SegmentSize));
    }

    /// <summary>Decrypts segment <paramref name="segmentIndex"/> into <paramref name="destination"/>; returns its plaintext length.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the segment (see <see cref="GetSegmentLength"/>).</exception>
    /// <exception cref="KmsInvalidCiphertextException">The segment does not authenticate (nothing is written then).</exception>
    public async Task<int> ReadSegmentAsync(long segmentIndex, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var length = GetSegmentLength(segmentIndex);
        if (destination.Length < length)
        {
            throw new ArgumentException($"The destination is too small for segment {segmentIndex} ({length} bytes).", nameof(destination));
        }

        var sealedLength = length + EnvelopeFormat.TagSize;
        var buffer = ArrayPool<byte>.Shared.Rent(sealedLength);
        var plaintext = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            _source.Position = _segmentsStart + (segmentIndex * ((long)SegmentSize + EnvelopeFormat.TagSize));
            if (await EnvelopeEncryptor.ReadFullAsync(_source, buffer, sealedLength, cancellationToken).ConfigureAwait(false) != sealedLength
                || !EnvelopeStreamFormat.TryOpenSegment(_entry, _streamNumber, (uint)segmentIndex, segmentIndex == SegmentCount - 1, buffer.AsSpan(0, sealedLength), plaintext.AsSpan(0, length)))
            {
                throw EnvelopeStreamFormat.Invalid();
            }

            plaintext.AsSpan(0, length).CopyTo(destination.Span);
            return length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            EnvelopeEncryptor.ReturnBuffer(plaintext, clear: true);
        }
    }

    /// <summary>Releases the data key (the stream is not disposed).</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _entry.Release();
        }
    }
}
