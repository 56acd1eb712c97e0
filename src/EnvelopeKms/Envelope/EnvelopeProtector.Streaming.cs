using System.Buffers;
using System.Buffers.Binary;

namespace EnvelopeKms.Envelope;

// Streaming (suite 0x02): see EnvelopeStreamFormat and docs/envelope-streaming.md.
#pragma warning disable RS0026, RS0027
public sealed partial class EnvelopeProtector
{
    private EncryptSlot? _streamSlot;

    private EncryptSlot StreamSlot => _streamSlot ??= _owner.GetStreamingSlot(_slot);

    /// <summary>
    /// The length of the encrypted stream of a plaintext of <paramref name="plaintextLength"/> bytes. The
    /// header's size is fixed once the first streaming data key exists, so the first call may generate one.
    /// </summary>
    public long GetStreamCiphertextLength(long plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        var entry = StreamSlot.Current is { } current && current.TryAcquire() ? current : _owner.AcquireEncryptEntry(StreamSlot, 0, out _);
        try
        {
            return EnvelopeEncryptor.GetStreamCiphertextLength(plaintextLength, entry.Header.Length, EnvelopeFormat.ReadFields(entry.Header).SegmentSize);
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>
    /// Encrypts a stream of any length in constant memory: the plaintext is cut into segments of
    /// <see cref="EnvelopeOptions.StreamSegmentSize"/> bytes, each sealed with its index and a
    /// last-segment flag bound in, after a header that carries the wrapped data key (see
    /// <c>docs/envelope-streaming.md</c>). Memory use is a few segment-sized pooled buffers, whatever
    /// the stream's length; the write of one segment overlaps the reading and sealing of the next.
    /// </summary>
    /// <param name="source">The plaintext, read to its end; it need not be seekable.</param>
    /// <param name="destination">Receives the encrypted stream.</param>
    /// <param name="progress">Receives the plaintext bytes encrypted and written so far, after each segment.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="KmsValidationException">The source holds more than 2^32 segments.</exception>
    public async Task EncryptAsync(Stream source, Stream destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var (entry, messageNumber) = await _owner.AcquireEncryptEntryAsync(StreamSlot, 0, cancellationToken).ConfigureAwait(false);
        var streamNumber = checked((uint)messageNumber);
        var segmentSize = EnvelopeFormat.ReadFields(entry.Header).SegmentSize;
        byte[]? plainCurrent = null, plainNext = null, sealedCurrent = null, sealedOther = null;
        var pending = Task.CompletedTask;
        var pendingAwaited = true;
        long pendingLength = 0;
        try
        {
            plainCurrent = ArrayPool<byte>.Shared.Rent(segmentSize);
            plainNext = ArrayPool<byte>.Shared.Rent(segmentSize);
            sealedCurrent = ArrayPool<byte>.Shared.Rent(segmentSize + EnvelopeFormat.TagSize);
            sealedOther = ArrayPool<byte>.Shared.Rent(segmentSize + EnvelopeFormat.TagSize);

            await destination.WriteAsync(entry.Header, cancellationToken).ConfigureAwait(false);
            BinaryPrimitives.WriteUInt32BigEndian(sealedCurrent, streamNumber);
            await destination.WriteAsync(sealedCurrent.AsMemory(0, EnvelopeFormat.StreamNumberSize), cancellationToken).ConfigureAwait(false);

            var currentLength = await EnvelopeEncryptor.ReadFullAsync(source, plainCurrent, segmentSize, cancellationToken).ConfigureAwait(false);
            var nextLength = currentLength == segmentSize ? await EnvelopeEncryptor.ReadFullAsync(source, plainNext, segmentSize, cancellationToken).ConfigureAwait(false) : 0;
            long total = 0;
            for (long index = 0; ; index++)
            {
                if (index >= EnvelopeStreamFormat.MaxSegments)
                {
                    throw new KmsValidationException("A stream holds at most 2^32 segments; use a larger EnvelopeOptions.StreamSegmentSize.");
                }

                var last = currentLength < segmentSize || nextLength == 0;
                EnvelopeStreamFormat.SealSegment(entry, streamNumber, (uint)index, last, plainCurrent.AsSpan(0, currentLength), sealedCurrent.AsSpan(0, currentLength + EnvelopeFormat.TagSize));
                entry.CountBytes(currentLength);

                // The previous segment's write has had the sealing of this one to proceed.
                pendingAwaited = true;
                await pending.ConfigureAwait(false);
                if (pendingLength > 0 || index > 0)
                {
                    total += pendingLength;
                    progress?.Report(total);
                }

                pendingAwaited = false;
                pending = destination.WriteAsync(sealedCurrent.AsMemory(0, currentLength + EnvelopeFormat.TagSize), cancellationToken).AsTask();
                pendingLength = currentLength;
                (sealedCurrent, sealedOther) = (sealedOther, sealedCurrent);
                if (last)
                {
                    break;
                }

                (plainCurrent, plainNext) = (plainNext, plainCurrent);
                currentLength = nextLength;
                nextLength = currentLength == segmentSize ? await EnvelopeEncryptor.ReadFullAsync(source, plainNext, segmentSize, cancellationToken).ConfigureAwait(false) : 0;
            }

            pendingAwaited = true;
            await pending.ConfigureAwait(false);
            total += pendingLength;
            progress?.Report(total);
        }
        finally
        {
            await EnvelopeEncryptor.DrainAsync(pending, pendingAwaited).ConfigureAwait(false);
            entry.Release();
            EnvelopeEncryptor.ReturnBuffer(plainCurrent, clear: true);
            EnvelopeEncryptor.ReturnBuffer(plainNext, clear: true);
            EnvelopeEncryptor.ReturnBuffer(sealedCurrent, clear: false);
            EnvelopeEncryptor.ReturnBuffer(sealedOther, clear: false);
        }
    }
}
#pragma warning restore RS0026, RS0027
