using System.Buffers;
using System.Security.Cryptography;

namespace EnvelopeKms.Envelope;

// Streaming (suite 0x02): see EnvelopeStreamFormat and docs/envelope-streaming.md.
#pragma warning disable RS0026 // The stream overloads differ from the memory overloads by parameter types.
public partial interface IEnvelopeEncryptor
{
    /// <summary>
    /// Encrypts a stream of any length in constant memory under a KMS key and an encryption context
    /// (see <see cref="EnvelopeProtector.EncryptAsync(Stream, Stream, IProgress{long}?, CancellationToken)"/>).
    /// </summary>
    Task EncryptAsync(string keyId, Stream source, Stream destination, IReadOnlyDictionary<string, string>? encryptionContext = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decrypts an encrypted stream in constant memory, writing each segment's plaintext only after
    /// that segment authenticates.
    /// </summary>
    /// <param name="source">The encrypted stream, read to its end; it need not be seekable.</param>
    /// <param name="destination">Receives the plaintext.</param>
    /// <param name="progress">Receives the plaintext bytes written so far, after each segment.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="KmsInvalidCiphertextException">
    /// The stream is invalid: corrupt, truncated, extended, reordered, or made for another key or context.
    /// The segments before the invalid one have already been written to <paramref name="destination"/>.
    /// </exception>
    Task DecryptAsync(Stream source, Stream destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens an encrypted stream for random access: reads its header (at the stream's current position)
    /// and unwraps its data key; the segments are read one at a time, on demand.
    /// </summary>
    /// <param name="seekableSource">A readable, seekable stream positioned at the start of the encrypted stream, which runs to its end.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    Task<EnvelopeStreamReader> OpenStreamReaderAsync(Stream seekableSource, CancellationToken cancellationToken = default);

    /// <summary>
    /// Decrypts segment <paramref name="segmentIndex"/> of a seekable encrypted stream, reading only its
    /// header and that segment; returns the plaintext bytes written.
    /// </summary>
    Task<int> DecryptSegmentAsync(Stream seekableSource, long segmentIndex, Memory<byte> destination, CancellationToken cancellationToken = default);
}
#pragma warning restore RS0026

#pragma warning disable RS0026
public sealed partial class EnvelopeEncryptor
{
    /// <summary>
    /// The length of the encrypted stream of a plaintext of <paramref name="plaintextLength"/> bytes, for a
    /// header of <paramref name="headerLength"/> bytes and the given segment size.
    /// </summary>
    public static long GetStreamCiphertextLength(long plaintextLength, int headerLength, int segmentSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        ArgumentOutOfRangeException.ThrowIfNegative(headerLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentSize, EnvelopeFormat.MinSegmentSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(segmentSize, EnvelopeFormat.MaxSegmentSize);
        if (EnvelopeStreamFormat.SegmentCount(plaintextLength, segmentSize) > EnvelopeStreamFormat.MaxSegments)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintextLength), plaintextLength, "A stream holds at most 2^32 segments.");
        }

        return headerLength + EnvelopeStreamFormat.BodyLength(plaintextLength, segmentSize);
    }

    /// <inheritdoc />
    public Task EncryptAsync(string keyId, Stream source, Stream destination, IReadOnlyDictionary<string, string>? encryptionContext = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        => CreateProtector(keyId, encryptionContext).EncryptAsync(source, destination, progress, cancellationToken);

    /// <inheritdoc />
    public async Task DecryptAsync(Stream source, Stream destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var (header, streamNumber, segmentSize) = await EnvelopeStreamFormat.ReadHeaderAsync(source, cancellationToken).ConfigureAwait(false);
        var entry = await AcquireDecryptEntryAsync(header, cancellationToken).ConfigureAwait(false);
        var full = segmentSize + EnvelopeFormat.TagSize;
        byte[]? current = null, next = null, plaintext = null, plaintextOther = null;
        var pending = Task.CompletedTask;
        var pendingAwaited = true;
        try
        {
            current = ArrayPool<byte>.Shared.Rent(full);
            next = ArrayPool<byte>.Shared.Rent(full);
            plaintext = ArrayPool<byte>.Shared.Rent(segmentSize);
            plaintextOther = ArrayPool<byte>.Shared.Rent(segmentSize);
            var currentLength = await ReadFullAsync(source, current, full, cancellationToken).ConfigureAwait(false);
            var nextLength = currentLength == full ? await ReadFullAsync(source, next, full, cancellationToken).ConfigureAwait(false) : 0;
            long total = 0;
            long pendingLength = -1;
            for (long index = 0; ; index++)
            {
                // A segment shorter than a full one, or one that nothing follows, is the last: it must carry the last flag.
                var last = currentLength < full || nextLength == 0;
                if (currentLength < EnvelopeFormat.TagSize || index >= EnvelopeStreamFormat.MaxSegments)
                {
                    throw EnvelopeStreamFormat.Invalid();
                }

                var length = currentLength - EnvelopeFormat.TagSize;
                if (!EnvelopeStreamFormat.TryOpenSegment(entry, streamNumber, (uint)index, last, current.AsSpan(0, currentLength), plaintext.AsSpan(0, length)))
                {
                    throw EnvelopeStreamFormat.Invalid();
                }

                // Only now, authenticated, is the segment written; the previous segment's write overlapped its opening.
                pendingAwaited = true;
                await pending.ConfigureAwait(false);
                if (pendingLength >= 0)
                {
                    total += pendingLength;
                    progress?.Report(total);
                }

                pendingAwaited = false;
                pending = destination.WriteAsync(plaintext.AsMemory(0, length), cancellationToken).AsTask();
                pendingLength = length;
                (plaintext, plaintextOther) = (plaintextOther, plaintext);
                if (last)
                {
                    break;
                }

                (current, next) = (next, current);
                currentLength = nextLength;
                nextLength = currentLength == full ? await ReadFullAsync(source, next, full, cancellationToken).ConfigureAwait(false) : 0;
            }

            pendingAwaited = true;
            await pending.ConfigureAwait(false);
            total += pendingLength;
            progress?.Report(total);
        }
        finally
        {
            await DrainAsync(pending, pendingAwaited).ConfigureAwait(false);
            entry.Release();
            ReturnBuffer(current, clear: false);
            ReturnBuffer(next, clear: false);
            ReturnBuffer(plaintext, clear: true);
            ReturnBuffer(plaintextOther, clear: true);
        }
    }

    /// <summary>After a failure, lets a write still in flight finish before its buffer goes back to the pool; the first failure is the one reported.</summary>
    internal static async ValueTask DrainAsync(Task pending, bool awaited)
    {
        if (awaited)
        {
            return;
        }

        try
        {
            await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The first failure is the one reported.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <inheritdoc />
    public async Task<EnvelopeStreamReader> OpenStreamReaderAsync(Stream seekableSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seekableSource);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!seekableSource.CanSeek || !seekableSource.CanRead)
        {
            throw new ArgumentException("Random access needs a readable, seekable stream.", nameof(seekableSource));
        }

        var start = seekableSource.Position;
        var (header, streamNumber, segmentSize) = await EnvelopeStreamFormat.ReadHeaderAsync(seekableSource, cancellationToken).ConfigureAwait(false);
        var segmentsStart = start + header.Length + EnvelopeFormat.StreamNumberSize;
        if (!EnvelopeStreamFormat.TryGetSegmentLayout(seekableSource.Length - segmentsStart, segmentSize, out var segmentCount, out var plaintextLength))
        {
            throw EnvelopeStreamFormat.Invalid();
        }

        var entry = await AcquireDecryptEntryAsync(header, cancellationToken).ConfigureAwait(false);
        return new EnvelopeStreamReader(seekableSource, entry, segmentsStart, streamNumber, segmentSize, segmentCount, plaintextLength);
    }

    /// <inheritdoc />
    public async Task<int> DecryptSegmentAsync(Stream seekableSource, long segmentIndex, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        using var reader = await OpenStreamReaderAsync(seekableSource, cancellationToken).ConfigureAwait(false);
        return await reader.ReadSegmentAsync(segmentIndex, destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The streaming slot beside a one-shot slot: same key and context, its own data keys.</summary>
    internal EncryptSlot GetStreamingSlot(EncryptSlot slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _slots.GetOrAdd(
            (slot.KeyId, Convert.ToBase64String(slot.EncodedContext), EnvelopeFormat.SuiteStreaming),
            static (k, context) => new EncryptSlot(k.KeyId, context, EnvelopeFormat.SuiteStreaming),
            slot.EncodedContext);
    }

    /// <summary>Reads until <paramref name="count"/> bytes or the end of the stream.</summary>
    internal static ValueTask<int> ReadFullAsync(Stream source, byte[] buffer, int count, CancellationToken cancellationToken)
        => source.ReadAtLeastAsync(buffer.AsMemory(0, count), count, throwOnEndOfStream: false, cancellationToken);

    internal static void ReturnBuffer(byte[]? buffer, bool clear)
    {
        if (buffer is not null)
        {
            if (clear)
            {
                CryptographicOperations.ZeroMemory(buffer);
            }

            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
#pragma warning restore RS0026
