using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// Streaming envelope encryption of 1 GiB (64 KiB segments by default) against the raw baseline in the
/// same run: a reused <see cref="AesGcm"/> sealing (or opening) the same number of segments of the
/// same size, with nothing else. The plaintext comes from a stream that makes zeros on the fly and the
/// output goes to <see cref="Stream.Null"/>, so no buffer of the data's size exists and the allocation
/// column shows what a stream of any size costs. Decryption reads a 1 GiB encrypted file made in setup
/// (from the page cache; deleted in cleanup), so it includes that read.
/// </summary>
[MemoryDiagnoser]
public class StreamingBenchmarks
{
    private KeyManager _kms = null!;
    private EnvelopeEncryptor _encryptor = null!;
    private EnvelopeProtector _protector = null!;
    private AesGcm _aes = null!;
    private byte[] _plaintext = null!;
    private byte[] _sealed = null!;
    private byte[] _nonce = null!;
    private byte[] _aad = null!;
    private string? _encryptedFile;

    /// <summary>The plaintext length of the stream.</summary>
    [Params(1L << 30)]
    public long Size { get; set; }

    /// <summary>The segment size.</summary>
    [Params(64 * 1024)]
    public int SegmentSize { get; set; }

    private long Segments => Math.Max(1, (Size + SegmentSize - 1) / SegmentSize);

    [GlobalSetup]
    public void Setup()
    {
        _kms = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        var keyId = _kms.CreateKeyAsync(new CreateKeyRequest()).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _encryptor = new EnvelopeEncryptor(_kms, new EnvelopeOptions { StreamSegmentSize = SegmentSize, MaxDataKeyAge = TimeSpan.FromHours(1), MaxBytesPerDataKey = 1L << 50 });
        _protector = _encryptor.CreateProtector(keyId, new Dictionary<string, string> { ["purpose"] = "benchmark" });
        _protector.EncryptAsync(new ZeroStream(SegmentSize * 3L), Stream.Null).GetAwaiter().GetResult();

        _aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        _plaintext = new byte[SegmentSize];
        _sealed = new byte[SegmentSize + 16];
        _nonce = new byte[12];
        _aad = new byte[36];
        _aes.Encrypt(_nonce, _plaintext, _sealed.AsSpan(0, SegmentSize), _sealed.AsSpan(SegmentSize), _aad);
    }

    [GlobalSetup(Target = nameof(StreamDecrypt))]
    public void SetupDecrypt()
    {
        Setup();
        _encryptedFile = Path.Combine(Path.GetTempPath(), "envelopekms-streaming-benchmark-" + Guid.NewGuid().ToString("N") + ".ekms");
        using var file = new FileStream(_encryptedFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        _protector.EncryptAsync(new ZeroStream(Size), file).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _encryptor.Dispose();
        _kms.Dispose();
        _aes.Dispose();
        if (_encryptedFile is not null)
        {
            File.Delete(_encryptedFile);
        }
    }

    /// <summary>Raw baseline: one reused AesGcm sealing every segment (counter nonces, 36-byte associated data).</summary>
    [Benchmark(Baseline = true)]
    public void RawAesGcmSealSegments()
    {
        for (long i = 0; i < Segments; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(4), i);
            _aes.Encrypt(_nonce, _plaintext, _sealed.AsSpan(0, SegmentSize), _sealed.AsSpan(SegmentSize), _aad);
        }
    }

    /// <summary>Raw baseline: one reused AesGcm opening a segment as many times as the stream has segments.</summary>
    [Benchmark]
    public void RawAesGcmOpenSegments()
    {
        _nonce.AsSpan().Clear();
        _aes.Encrypt(_nonce, _plaintext, _sealed.AsSpan(0, SegmentSize), _sealed.AsSpan(SegmentSize), _aad);
        for (long i = 0; i < Segments; i++)
        {
            _aes.Decrypt(_nonce, _sealed.AsSpan(0, SegmentSize), _sealed.AsSpan(SegmentSize), _plaintext, _aad);
        }
    }

    /// <summary>Envelope stream encryption of <see cref="Size"/> bytes from a zero stream to <see cref="Stream.Null"/>.</summary>
    [Benchmark]
    public Task StreamEncrypt() => _protector.EncryptAsync(new ZeroStream(Size), Stream.Null);

    /// <summary>Envelope stream decryption of <see cref="Size"/> bytes from a file to <see cref="Stream.Null"/>.</summary>
    [Benchmark]
    public async Task StreamDecrypt()
    {
        // bufferSize 1: no FileStream buffer, so the allocation column shows the decryptor alone.
        await using var file = new FileStream(_encryptedFile!, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        await _encryptor.DecryptAsync(file, Stream.Null);
    }

    /// <summary>A non-seekable stream of <c>length</c> zero bytes that exists only as a counter.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

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
            buffer[..count].Clear();
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
