using EnvelopeKms.Envelope;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>A key manager, a key and an envelope encryptor with 4 KiB segments, for streaming tests.</summary>
internal sealed class StreamingFixture : IDisposable
{
    public const int SegmentSize = 4096;

    private StreamingFixture(TestKeyManager kms, EnvelopeEncryptor encryptor, EnvelopeProtector protector)
    {
        Kms = kms;
        Encryptor = encryptor;
        Protector = protector;
    }

    public TestKeyManager Kms { get; }

    public EnvelopeEncryptor Encryptor { get; }

    public EnvelopeProtector Protector { get; }

    public static async Task<StreamingFixture> CreateAsync(AeadBackend backend = AeadBackend.Automatic, int segmentSize = SegmentSize)
    {
        var kms = new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("streaming", TestContext.Current.CancellationToken);
        var encryptor = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { Backend = backend, StreamSegmentSize = segmentSize }, kms.Clock);
        return new StreamingFixture(kms, encryptor, encryptor.CreateProtector(key.KeyId, new Dictionary<string, string> { ["file"] = "report.pdf" }));
    }

    public async Task<byte[]> EncryptAsync(byte[] plaintext, IProgress<long>? progress = null)
    {
        using var destination = new MemoryStream();
        await Protector.EncryptAsync(new NonSeekableStream(new MemoryStream(plaintext)), destination, progress, TestContext.Current.CancellationToken);
        return destination.ToArray();
    }

    public async Task<byte[]> DecryptAsync(byte[] ciphertext, IProgress<long>? progress = null)
    {
        using var destination = new MemoryStream();
        await Encryptor.DecryptAsync(new NonSeekableStream(new MemoryStream(ciphertext)), destination, progress, TestContext.Current.CancellationToken);
        return destination.ToArray();
    }

    /// <summary>Decrypts an invalid stream: asserts the one envelope error and returns the plaintext released before it.</summary>
    public async Task<byte[]> AssertRejectedAsync(byte[] ciphertext, string because)
    {
        using var destination = new MemoryStream();
        var e = await Record.ExceptionAsync(() => Encryptor.DecryptAsync(new NonSeekableStream(new MemoryStream(ciphertext)), destination, null, TestContext.Current.CancellationToken));
        Assert.True(e is KmsInvalidCiphertextException, $"{because}: expected KmsInvalidCiphertextException, got {e?.GetType().Name ?? "success"}");
        Assert.Equal(EnvelopeErrors.InvalidEnvelope, e!.Message);
        return destination.ToArray();
    }

    public void Dispose()
    {
        Encryptor.Dispose();
        Kms.Dispose();
    }

    public static byte[] Plaintext(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }
}

/// <summary>The layout of an encrypted stream, computed independently of the library's code.</summary>
internal readonly record struct StreamLayout(int HeaderLength, int SegmentSize, int SegmentCount)
{
    public int SegmentsStart => HeaderLength + 4;

    public int SealedSegmentSize => SegmentSize + 16;

    public int SegmentStart(int index) => SegmentsStart + (index * SealedSegmentSize);

    public int SegmentEnd(byte[] stream, int index) => Math.Min(stream.Length, SegmentStart(index + 1));

    public static StreamLayout Of(byte[] stream)
    {
        Assert.True(EnvelopeFormat.TryGetHeaderLength(stream, out var headerLength, out var suite));
        Assert.Equal(EnvelopeFormat.SuiteStreaming, suite);
        var segmentSize = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(headerLength - 4));
        var bodyLength = stream.Length - headerLength - 4;
        return new StreamLayout(headerLength, segmentSize, (bodyLength + segmentSize + 16 - 1) / (segmentSize + 16));
    }
}

/// <summary>Hides a stream's seekability, as a network stream or a pipe would.</summary>
internal sealed class NonSeekableStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
}

/// <summary>
/// A non-seekable source of <c>length</c> bytes of a repeating pattern, made on the fly: no buffer
/// of the stream's size ever exists. Reads complete synchronously and allocate nothing.
/// </summary>
internal sealed class PatternStream(long length) : Stream
{
    private long _position;

    public static byte At(long position) => (byte)((position * 31) ^ (position >> 12));

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < count; i++)
        {
            buffer[i] = At(_position + i);
        }

        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A write-only sink that keeps nothing; optionally checks that what it receives is the <see cref="PatternStream"/> pattern.</summary>
internal sealed class SinkStream(bool checkPattern = false) : Stream
{
    public long BytesWritten { get; private set; }

    public bool PatternMatched { get; private set; } = true;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (checkPattern)
        {
            for (var i = 0; i < buffer.Length; i++)
            {
                if (buffer[i] != PatternStream.At(BytesWritten + i))
                {
                    PatternMatched = false;
                }
            }
        }

        BytesWritten += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A seekable stream over bytes that records the ranges read (every read ends in <c>Read(byte[], int, int)</c>).</summary>
internal sealed class ReadRecordingStream(byte[] data) : MemoryStream(data, writable: false)
{
    public List<(long Start, int Count)> Reads { get; } = [];

    public override int Read(byte[] buffer, int offset, int count) => Record(base.Read(buffer, offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    private int Record(int count)
    {
        if (count > 0)
        {
            Reads.Add((Position - count, count));
        }

        return count;
    }
}

/// <summary>Records progress reports synchronously, in order (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class RecordingProgress : IProgress<long>
{
    public List<long> Values { get; } = [];

    public void Report(long value) => Values.Add(value);
}

/// <summary>
/// A destination whose writes complete later, on another thread, and copy the caller's buffer only
/// then: a caller that reuses a buffer while its write is in flight corrupts the output. Can fail the
/// n-th write.
/// </summary>
internal sealed class DelayedWriteStream(int failOnWrite = -1) : Stream
{
    private int _writes;

    public MemoryStream Inner { get; } = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Only asynchronous writes.");

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var number = ++_writes;
        await Task.Delay(2, cancellationToken).ConfigureAwait(false);
        if (number == failOnWrite)
        {
            throw new IOException($"Write {number} failed.");
        }

        Inner.Write(buffer.Span);
    }
}
