using System.Buffers.Binary;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EnvelopeKms.Tests.Envelope;

public sealed class StreamingTests
{
    private const int Segment = StreamingFixture.SegmentSize;

    public static TheoryData<AeadBackend, int> BackendsAndSizes()
    {
        var data = new TheoryData<AeadBackend, int>();
        foreach (var backend in new[] { AeadBackend.Platform, AeadBackend.Libsodium })
        {
            foreach (var size in new[] { 0, 1, Segment - 1, Segment, Segment + 1, 3 * Segment, (17 * Segment) + 123 })
            {
                data.Add(backend, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BackendsAndSizes))]
    public async Task Streams_round_trip_at_segment_boundaries_with_the_documented_length_and_layout(AeadBackend backend, int size)
    {
        using var f = await StreamingFixture.CreateAsync(backend);
        var plaintext = StreamingFixture.Plaintext(size);

        var ciphertext = await f.EncryptAsync(plaintext);

        Assert.Equal(f.Protector.GetStreamCiphertextLength(size), ciphertext.Length);
        var layout = StreamLayout.Of(ciphertext);
        Assert.Equal(Segment, layout.SegmentSize);
        var expectedSegments = size == 0 ? 1 : ((size - 1) / Segment) + 1;
        Assert.Equal(expectedSegments, layout.SegmentCount);
        Assert.Equal(layout.SegmentsStart + size + (16 * expectedSegments), ciphertext.Length);
        Assert.Equal(plaintext, await f.DecryptAsync(ciphertext));

        // Random access agrees with sequential decryption, segment by segment.
        using var reader = await f.Encryptor.OpenStreamReaderAsync(new MemoryStream(ciphertext), TestContext.Current.CancellationToken);
        Assert.Equal(size, reader.PlaintextLength);
        Assert.Equal(expectedSegments, reader.SegmentCount);
        var buffer = new byte[Segment];
        var reassembled = new List<byte>();
        for (var i = 0; i < reader.SegmentCount; i++)
        {
            var read = await reader.ReadSegmentAsync(i, buffer, TestContext.Current.CancellationToken);
            reassembled.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        Assert.Equal(plaintext, reassembled.ToArray());
    }

    [Fact]
    public async Task Streaming_uses_its_own_data_key_and_neither_decrypt_path_accepts_the_other_format()
    {
        using var f = await StreamingFixture.CreateAsync();
        var plaintext = StreamingFixture.Plaintext(100);
        var oneShot = f.Protector.Encrypt(plaintext);
        var stream = await f.EncryptAsync(plaintext);
        var stream2 = await f.EncryptAsync(plaintext);

        Assert.Equal(2, f.Encryptor.CacheStatistics.EncryptMisses);
        Assert.True(EnvelopeFormat.TryGetHeaderLength(oneShot, out var oneShotHeader, out _));
        var layout = StreamLayout.Of(stream);
        Assert.False(oneShot.AsSpan(0, oneShotHeader).SequenceEqual(stream.AsSpan(0, layout.HeaderLength)));

        // Two streams under the cached streaming data key share the header and differ in stream number (1, 2).
        Assert.Equal(stream.AsSpan(0, layout.HeaderLength).ToArray(), stream2.AsSpan(0, layout.HeaderLength).ToArray());
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(stream.AsSpan(layout.HeaderLength)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32BigEndian(stream2.AsSpan(layout.HeaderLength)));

        await f.AssertRejectedAsync(oneShot, "a one-shot envelope given to the stream decryptor");
        var e = Assert.Throws<KmsInvalidCiphertextException>(() => f.Encryptor.Decrypt(stream));
        Assert.Equal(EnvelopeErrors.InvalidEnvelope, e.Message);
    }

    [Fact]
    public async Task Changing_any_byte_of_the_header_or_stream_number_fails_before_any_plaintext_is_released()
    {
        using var f = await StreamingFixture.CreateAsync();
        var ciphertext = await f.EncryptAsync(StreamingFixture.Plaintext((2 * Segment) + 10));
        var layout = StreamLayout.Of(ciphertext);

        for (var position = 0; position < layout.SegmentsStart; position++)
        {
            foreach (var mask in new byte[] { 0x01, 0x80 })
            {
                var tampered = (byte[])ciphertext.Clone();
                tampered[position] ^= mask;
                var released = await f.AssertRejectedAsync(tampered, $"byte {position} ^ 0x{mask:x2}");
                Assert.Empty(released);
            }
        }
    }

    [Fact]
    public async Task Changing_any_segment_ciphertext_or_tag_fails_and_only_the_segments_before_it_are_released()
    {
        using var f = await StreamingFixture.CreateAsync();
        var plaintext = StreamingFixture.Plaintext((3 * Segment) + 777);
        var ciphertext = await f.EncryptAsync(plaintext);
        var layout = StreamLayout.Of(ciphertext);
        Assert.Equal(4, layout.SegmentCount);

        for (var segment = 0; segment < layout.SegmentCount; segment++)
        {
            var start = layout.SegmentStart(segment);
            var end = layout.SegmentEnd(ciphertext, segment);
            foreach (var position in new[] { start, (start + end) / 2, end - 17, end - 16, end - 1 })
            {
                var tampered = (byte[])ciphertext.Clone();
                tampered[position] ^= 0x01;
                var released = await f.AssertRejectedAsync(tampered, $"segment {segment}, byte {position}");
                Assert.Equal(plaintext.AsSpan(0, segment * Segment).ToArray(), released);
            }
        }
    }

    [Theory]
    [InlineData(3 * Segment)]
    [InlineData((3 * Segment) + 100)]
    public async Task Truncation_at_every_segment_boundary_mid_segment_and_inside_the_header_fails(int size)
    {
        using var f = await StreamingFixture.CreateAsync();
        var ciphertext = await f.EncryptAsync(StreamingFixture.Plaintext(size));
        var layout = StreamLayout.Of(ciphertext);

        var cuts = new SortedSet<int> { 0, 1, layout.HeaderLength / 2, layout.HeaderLength, layout.SegmentsStart - 1, layout.SegmentsStart, ciphertext.Length - 1 };
        for (var segment = 0; segment < layout.SegmentCount; segment++)
        {
            cuts.Add(layout.SegmentStart(segment));
            cuts.Add(layout.SegmentStart(segment) + 15);
            cuts.Add(layout.SegmentStart(segment) + 16);
            cuts.Add((layout.SegmentStart(segment) + layout.SegmentEnd(ciphertext, segment)) / 2);
        }

        foreach (var cut in cuts.Where(c => c < ciphertext.Length))
        {
            await f.AssertRejectedAsync(ciphertext[..cut], $"truncated to {cut} of {ciphertext.Length} bytes");
        }
    }

    [Theory]
    [InlineData(3 * Segment)]
    [InlineData((3 * Segment) + 100)]
    public async Task Dropping_the_last_segment_fails_because_the_previous_one_is_not_flagged_last(int size)
    {
        using var f = await StreamingFixture.CreateAsync();
        var ciphertext = await f.EncryptAsync(StreamingFixture.Plaintext(size));
        var layout = StreamLayout.Of(ciphertext);
        var withoutLast = ciphertext[..layout.SegmentStart(layout.SegmentCount - 1)];

        // The remainder is a well-formed layout of whole segments; only the last flag betrays it.
        Assert.Equal(0, (withoutLast.Length - layout.SegmentsStart) % layout.SealedSegmentSize);
        await f.AssertRejectedAsync(withoutLast, "last segment dropped");
    }

    [Fact]
    public async Task Appending_bytes_or_a_segment_after_the_last_segment_fails()
    {
        using var f = await StreamingFixture.CreateAsync();
        var ciphertext = await f.EncryptAsync(StreamingFixture.Plaintext(2 * Segment));
        var layout = StreamLayout.Of(ciphertext);

        await f.AssertRejectedAsync([.. ciphertext, 0], "one byte appended");
        await f.AssertRejectedAsync([.. ciphertext, .. ciphertext.AsSpan(layout.SegmentStart(1))], "last segment repeated");
    }

    [Fact]
    public async Task Reordering_or_duplicating_segments_fails()
    {
        using var f = await StreamingFixture.CreateAsync();
        var ciphertext = await f.EncryptAsync(StreamingFixture.Plaintext((3 * Segment) + 5));
        var layout = StreamLayout.Of(ciphertext);
        var s0 = ciphertext[layout.SegmentStart(0)..layout.SegmentStart(1)];
        var s1 = ciphertext[layout.SegmentStart(1)..layout.SegmentStart(2)];
        var prefix = ciphertext[..layout.SegmentsStart];
        var rest = ciphertext[layout.SegmentStart(2)..];

        await f.AssertRejectedAsync([.. prefix, .. s1, .. s0, .. rest], "segments 0 and 1 swapped");
        var released = await f.AssertRejectedAsync([.. prefix, .. s0, .. s1, .. s1, .. rest], "segment 1 duplicated");
        Assert.Equal(2 * Segment, released.Length);
        await f.AssertRejectedAsync([.. prefix, .. s0, .. s0, .. s1, .. rest], "segment 0 duplicated");
    }

    [Fact]
    public async Task A_segment_moved_between_two_streams_under_the_same_cached_data_key_fails()
    {
        using var f = await StreamingFixture.CreateAsync();
        var a = await f.EncryptAsync(StreamingFixture.Plaintext(3 * Segment));
        var b = await f.EncryptAsync(StreamingFixture.Plaintext(3 * Segment));
        var layout = StreamLayout.Of(a);
        Assert.Equal(1, f.Encryptor.CacheStatistics.EncryptMisses);
        Assert.Equal(a[..layout.HeaderLength], b[..layout.HeaderLength]);

        for (var segment = 0; segment < layout.SegmentCount; segment++)
        {
            var mixed = (byte[])a.Clone();
            b.AsSpan(layout.SegmentStart(segment), layout.SealedSegmentSize).CopyTo(mixed.AsSpan(layout.SegmentStart(segment)));
            await f.AssertRejectedAsync(mixed, $"segment {segment} taken from another stream");
        }

        // Nor does another stream's number make a stream accept its segments.
        var renumbered = (byte[])a.Clone();
        b.AsSpan(layout.HeaderLength, 4).CopyTo(renumbered.AsSpan(layout.HeaderLength));
        await f.AssertRejectedAsync(renumbered, "stream number of another stream");
    }

    [Fact]
    public async Task Random_access_reads_only_the_header_and_segment_N_and_rejects_a_tampered_segment_N_alone()
    {
        using var f = await StreamingFixture.CreateAsync(AeadBackend.Platform);
        var plaintext = StreamingFixture.Plaintext((9 * Segment) + 321);
        var ciphertext = await f.EncryptAsync(plaintext);
        var layout = StreamLayout.Of(ciphertext);
        var buffer = new byte[Segment];

        foreach (var n in new[] { 0, 1, 4, 8, 9 })
        {
            using var source = new ReadRecordingStream(ciphertext);
            var read = await f.Encryptor.DecryptSegmentAsync(source, n, buffer, TestContext.Current.CancellationToken);
            var expected = plaintext.AsSpan(n * Segment, Math.Min(Segment, plaintext.Length - (n * Segment)));
            Assert.Equal(expected.ToArray(), buffer.AsSpan(0, read).ToArray());
            Assert.All(source.Reads, r => Assert.True(r.Start + r.Count <= layout.SegmentsStart || (r.Start >= layout.SegmentStart(n) && r.Start + r.Count <= layout.SegmentEnd(ciphertext, n)), $"read {r} outside the header and segment {n}"));
            Assert.Equal(layout.SegmentsStart + (layout.SegmentEnd(ciphertext, n) - layout.SegmentStart(n)), source.Reads.Sum(r => r.Count));
        }

        var tampered = (byte[])ciphertext.Clone();
        tampered[layout.SegmentStart(4) + 100] ^= 0x01;
        using (var source = new ReadRecordingStream(tampered))
        using (var reader = await f.Encryptor.OpenStreamReaderAsync(source, TestContext.Current.CancellationToken))
        {
            var before = source.Reads.Count;
            buffer.AsSpan().Fill(0xAA);
            var e = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => reader.ReadSegmentAsync(4, buffer, TestContext.Current.CancellationToken));
            Assert.Equal(EnvelopeErrors.InvalidEnvelope, e.Message);
            Assert.All(buffer, b => Assert.Equal(0xAA, b));
            Assert.All(source.Reads.Skip(before), r => Assert.True(r.Start >= layout.SegmentStart(4) && r.Start + r.Count <= layout.SegmentStart(5)));

            // The other segments still decrypt.
            var read = await reader.ReadSegmentAsync(5, buffer, TestContext.Current.CancellationToken);
            Assert.Equal(plaintext.AsSpan(5 * Segment, Segment).ToArray(), buffer.AsSpan(0, read).ToArray());
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => reader.ReadSegmentAsync(10, buffer, TestContext.Current.CancellationToken));
            await Assert.ThrowsAsync<ArgumentException>(() => reader.ReadSegmentAsync(0, new byte[Segment - 1], TestContext.Current.CancellationToken));
        }

        // A reader on a stream cut short at a segment boundary: the segment that became last fails.
        using var cut = new MemoryStream(ciphertext[..layout.SegmentStart(5)]);
        using var cutReader = await f.Encryptor.OpenStreamReaderAsync(cut, TestContext.Current.CancellationToken);
        Assert.Equal(5, cutReader.SegmentCount);
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => cutReader.ReadSegmentAsync(4, buffer, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Random_access_refuses_a_stream_whose_length_no_stream_can_have()
    {
        using var f = await StreamingFixture.CreateAsync();
        var ciphertext = await f.EncryptAsync(StreamingFixture.Plaintext(2 * Segment));
        var layout = StreamLayout.Of(ciphertext);
        foreach (var length in new[] { layout.SegmentsStart, layout.SegmentsStart + 15, layout.SegmentStart(1) + 15 })
        {
            await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => f.Encryptor.OpenStreamReaderAsync(new MemoryStream(ciphertext[..length]), TestContext.Current.CancellationToken));
        }

        await Assert.ThrowsAsync<ArgumentException>(() => f.Encryptor.OpenStreamReaderAsync(new NonSeekableStream(new MemoryStream(ciphertext)), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Segment)]
    [InlineData((5 * Segment) + 1)]
    public async Task Progress_is_monotone_and_ends_at_the_plaintext_length_on_both_sides(int size)
    {
        using var f = await StreamingFixture.CreateAsync();
        var plaintext = StreamingFixture.Plaintext(size);
        var encryptProgress = new RecordingProgress();
        var decryptProgress = new RecordingProgress();

        var ciphertext = await f.EncryptAsync(plaintext, encryptProgress);
        Assert.Equal(plaintext, await f.DecryptAsync(ciphertext, decryptProgress));

        var segments = size == 0 ? 1 : ((size - 1) / Segment) + 1;
        foreach (var values in new[] { encryptProgress.Values, decryptProgress.Values })
        {
            Assert.Equal(segments, values.Count);
            Assert.Equal(size, values[^1]);
            Assert.True(values.Zip(values.Skip(1)).All(p => p.First <= p.Second), string.Join(", ", values));
        }
    }

    [Fact]
    public async Task Encrypting_and_decrypting_64_MiB_through_non_seekable_streams_allocates_far_less_than_the_data()
    {
        const long size = 64L << 20;
        using var f = await StreamingFixture.CreateAsync(segmentSize: 64 * 1024);
        var ct = TestContext.Current.CancellationToken;

        // Warm up: data keys, pools, JIT.
        using var warm = new MemoryStream();
        await f.Protector.EncryptAsync(new PatternStream(200_000), warm, null, ct);
        warm.Position = 0;
        await f.Encryptor.DecryptAsync(new NonSeekableStream(warm), new SinkStream(), null, ct);

        // Everything completes synchronously on this thread, so the thread's allocation counter sees it all.
        var thread = Environment.CurrentManagedThreadId;
        var sink = new SinkStream();
        var before = GC.GetAllocatedBytesForCurrentThread();
        await f.Protector.EncryptAsync(new PatternStream(size), sink, null, ct);
        Assert.Equal(thread, Environment.CurrentManagedThreadId);
        var encryptAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(f.Protector.GetStreamCiphertextLength(size), sink.BytesWritten);
        Assert.True(encryptAllocated < 64 * 1024, $"Encrypting 64 MiB allocated {encryptAllocated} bytes.");

        // Decrypt from a ciphertext made beforehand, so only the decryption is measured.
        var ciphertext = new MemoryStream(checked((int)f.Protector.GetStreamCiphertextLength(size)));
        await f.Protector.EncryptAsync(new PatternStream(size), ciphertext, null, ct);
        ciphertext.Position = 0;
        var checking = new SinkStream(checkPattern: true);
        before = GC.GetAllocatedBytesForCurrentThread();
        await f.Encryptor.DecryptAsync(new NonSeekableStream(ciphertext), checking, null, ct);
        Assert.Equal(thread, Environment.CurrentManagedThreadId);
        var decryptAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(size, checking.BytesWritten);
        Assert.True(checking.PatternMatched);
        Assert.True(decryptAllocated < 64 * 1024, $"Decrypting 64 MiB allocated {decryptAllocated} bytes.");
    }

    [Fact]
    public async Task Streams_written_by_one_key_manager_decrypt_in_another_sharing_the_file_store()
    {
        var directory = Path.Combine(Path.GetTempPath(), "envelopekms-streaming-" + Guid.NewGuid().ToString("N"));
        var rootKey = new byte[32];
        rootKey[0] = 42;
        try
        {
            using var first = new KeyManager(new FileSystemKeyStore(directory), new StaticRootKeyProvider(rootKey));
            using var second = new KeyManager(new FileSystemKeyStore(directory), new StaticRootKeyProvider(rootKey));
            var key = await first.CreateKeyAsync("shared", TestContext.Current.CancellationToken);
            var options = new EnvelopeOptions { StreamSegmentSize = Segment };
            using var a = new EnvelopeEncryptor(first, options);
            using var b = new EnvelopeEncryptor(second, options);
            var context = new Dictionary<string, string> { ["tenant"] = "acme" };
            var plaintext = StreamingFixture.Plaintext((2 * Segment) + 9);

            foreach (var (writer, reader) in new[] { (a, b), (b, a) })
            {
                using var encrypted = new MemoryStream();
                await writer.EncryptAsync(key.KeyId, new MemoryStream(plaintext), encrypted, context, null, TestContext.Current.CancellationToken);
                encrypted.Position = 0;
                using var decrypted = new MemoryStream();
                await reader.DecryptAsync(encrypted, decrypted, null, TestContext.Current.CancellationToken);
                Assert.Equal(plaintext, decrypted.ToArray());
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(AeadBackend.Platform)]
    [InlineData(AeadBackend.Libsodium)]
    public async Task Writes_still_in_flight_while_the_next_segment_is_processed_never_see_a_reused_buffer(AeadBackend backend)
    {
        using var f = await StreamingFixture.CreateAsync(backend);
        var plaintext = StreamingFixture.Plaintext((12 * Segment) + 7);
        var ct = TestContext.Current.CancellationToken;

        var encrypted = new DelayedWriteStream();
        await f.Protector.EncryptAsync(new NonSeekableStream(new MemoryStream(plaintext)), encrypted, null, ct);
        var ciphertext = encrypted.Inner.ToArray();
        Assert.Equal(f.Protector.GetStreamCiphertextLength(plaintext.Length), ciphertext.Length);

        var decrypted = new DelayedWriteStream();
        await f.Encryptor.DecryptAsync(new NonSeekableStream(new MemoryStream(ciphertext)), decrypted, null, ct);
        Assert.Equal(plaintext, decrypted.Inner.ToArray());
    }

    [Fact]
    public async Task A_failing_destination_fails_the_operation_with_its_own_error()
    {
        using var f = await StreamingFixture.CreateAsync();
        var plaintext = StreamingFixture.Plaintext(6 * Segment);
        var ciphertext = await f.EncryptAsync(plaintext);
        var ct = TestContext.Current.CancellationToken;

        var e = await Assert.ThrowsAsync<IOException>(() => f.Protector.EncryptAsync(new MemoryStream(plaintext), new DelayedWriteStream(failOnWrite: 4), null, ct));
        Assert.Equal("Write 4 failed.", e.Message);
        e = await Assert.ThrowsAsync<IOException>(() => f.Encryptor.DecryptAsync(new MemoryStream(ciphertext), new DelayedWriteStream(failOnWrite: 3), null, ct));
        Assert.Equal("Write 3 failed.", e.Message);

        // Nothing is left broken: both still work.
        Assert.Equal(plaintext, await f.DecryptAsync(await f.EncryptAsync(plaintext)));
    }

    [Theory]
    [InlineData(4095)]
    [InlineData((16 * 1024 * 1024) + 1)]
    [InlineData(0)]
    public void A_segment_size_outside_4_KiB_to_16_MiB_is_rejected(int segmentSize)
    {
        using var kms = new TestKeyManager();
        var e = Assert.Throws<OptionsValidationException>(() => new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { StreamSegmentSize = segmentSize }));
        Assert.Contains("StreamSegmentSize", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stream_length_formula_counts_one_tag_per_segment_and_an_empty_stream_has_one_segment()
    {
        Assert.Equal(100 + 4 + 16, EnvelopeEncryptor.GetStreamCiphertextLength(0, 100, Segment));
        Assert.Equal(100 + 4 + Segment + 16, EnvelopeEncryptor.GetStreamCiphertextLength(Segment, 100, Segment));
        Assert.Equal(100 + 4 + Segment + 1 + 32, EnvelopeEncryptor.GetStreamCiphertextLength(Segment + 1, 100, Segment));
        Assert.Equal(10 + 4 + (10L << 30) + (16L * (10L << 30) / (64 * 1024)), EnvelopeEncryptor.GetStreamCiphertextLength(10L << 30, 10, 64 * 1024));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnvelopeEncryptor.GetStreamCiphertextLength((1L << 32) * Segment + 1, 100, Segment));
    }
}
