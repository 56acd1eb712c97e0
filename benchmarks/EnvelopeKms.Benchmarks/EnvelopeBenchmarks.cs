using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Microsoft.AspNetCore.DataProtection;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// One-shot envelope encryption and decryption through a cached <see cref="EnvelopeProtector"/>
/// (<c>TryEncrypt</c> / <c>TryDecrypt</c> into preallocated buffers), on both AES-GCM backends,
/// against the same operation on the same plaintext in the same run with: the platform's
/// <see cref="AesGcm"/> with a reused instance (the baseline of each category), libsodium's
/// AES-256-GCM through NSec, ASP.NET Core Data Protection (<c>Protect</c> / <c>Unprotect</c>, an
/// ephemeral provider: AES-256-CBC + HMAC-SHA256), and BouncyCastle's GCM over its AES engine.
/// The <c>TwoThreads</c> category encrypts <see cref="ParallelMessages"/> messages split over two
/// threads on one cached data key, against raw <see cref="AesGcm"/> with one instance per thread.
/// See <c>benchmarks/README.md</c>.
/// </summary>
/// <remarks>
/// The raw baselines use a counter nonce (written into a reused buffer) and 32 bytes of associated
/// data, as the envelope does (its associated data is SHA-256 of the header). The envelope's cache
/// limits are raised so that every measured call is a cache hit: with the defaults a data key rolls
/// over after 2^24 messages, 64 GiB or 5 minutes, one <c>GenerateDataKey</c> call each time.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class EnvelopeBenchmarks
{
    /// <summary>Messages per invocation of the two-thread benchmarks (half on each thread).</summary>
    public const int ParallelMessages = 64;

    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme", ["purpose"] = "benchmark" };

    private KeyManager _kms = null!;
    private EnvelopeEncryptor _sodiumEncryptor = null!;
    private EnvelopeEncryptor _platformEncryptor = null!;
    private EnvelopeProtector _sodium = null!;
    private EnvelopeProtector _platform = null!;
    private EnvelopeEncryptor _automaticEncryptor = null!;
    private EnvelopeProtector _automatic = null!;
    private byte[] _automaticEnvelope = null!;
    private byte[] _plaintext = null!;
    private byte[] _decrypted = null!;
    private byte[] _envelopeOut = null!;
    private byte[] _sodiumEnvelope = null!;
    private byte[] _platformEnvelope = null!;

    private byte[] _key = null!;
    private byte[] _aad = null!;
    private byte[] _nonce = null!;
    private byte[] _ciphertextOut = null!;
    private byte[] _tagOut = null!;
    private byte[] _sealedNonce = null!;
    private byte[] _sealedCiphertext = null!;
    private byte[] _sealedTag = null!;
    private byte[] _sealedCiphertextAndTag = null!;
    private long _counter;

    private AesGcm _aes = null!;
    private NSec.Cryptography.Key _nsecKey = null!;
    private GcmBlockCipher _bouncy = null!;
    private KeyParameter _bouncyKey = null!;
    private IDataProtector _dataProtector = null!;
    private byte[] _dataProtected = null!;

    private AesGcm[] _threadAes = null!;
    private byte[][] _threadNonces = null!;
    private byte[][] _threadCiphertexts = null!;
    private byte[][] _threadTags = null!;
    private byte[][] _threadEnvelopes = null!;

    /// <summary>Plaintext size in bytes.</summary>
    [Params(64, 1024, 4096, 65536, 1048576)]
    public int Size { get; set; }

    private Microsoft.Extensions.DependencyInjection.ServiceProvider _telemetry = null!;
    private System.Diagnostics.Metrics.MeterListener _meterListener = null!;
    private System.Diagnostics.ActivityListener _activityListener = null!;

    [GlobalSetup]
    public void Setup()
    {
        if (!NSec.Cryptography.Aes256Gcm.IsSupported)
        {
            throw new NotSupportedException("libsodium's AES-256-GCM needs AES-NI and CLMUL; this processor lacks them.");
        }

        // Telemetry on, as in a host that exports it: a real IMeterFactory, and listeners enabled for the
        // EnvelopeKms ActivitySource and meter, so the hot path is measured with everything listening.
        _telemetry = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(Microsoft.Extensions.DependencyInjection.MetricsServiceExtensions.AddMetrics(new Microsoft.Extensions.DependencyInjection.ServiceCollection()));
        var meterFactory = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(_telemetry);
        _meterListener = new System.Diagnostics.Metrics.MeterListener { InstrumentPublished = (instrument, listener) => { if (instrument.Meter.Name == EnvelopeKms.Telemetry.EnvelopeKmsTelemetry.MeterName) { listener.EnableMeasurementEvents(instrument); } } };
        _meterListener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _meterListener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _meterListener.Start();
        _activityListener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == EnvelopeKms.Telemetry.EnvelopeKmsTelemetry.ActivitySourceName,
            Sample = static (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(_activityListener);

        _kms = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)), meterFactory: meterFactory);
        var keyId = _kms.CreateKeyAsync(new CreateKeyRequest()).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _sodiumEncryptor = new EnvelopeEncryptor(_kms, HotPathOptions(AeadBackend.Libsodium), meterFactory: meterFactory);
        _platformEncryptor = new EnvelopeEncryptor(_kms, HotPathOptions(AeadBackend.Platform), meterFactory: meterFactory);
        _sodium = _sodiumEncryptor.CreateProtector(keyId, Context);
        _platform = _platformEncryptor.CreateProtector(keyId, Context);
        _automaticEncryptor = new EnvelopeEncryptor(_kms, HotPathOptions(AeadBackend.Automatic), meterFactory: meterFactory);
        _automatic = _automaticEncryptor.CreateProtector(keyId, Context);

        _plaintext = RandomNumberGenerator.GetBytes(Size);
        _decrypted = new byte[Size];
        _envelopeOut = new byte[_sodium.GetCiphertextLength(Size)];
        _sodiumEnvelope = _sodium.Encrypt(_plaintext);
        _platformEnvelope = _platform.Encrypt(_plaintext);
        _automaticEnvelope = _automatic.Encrypt(_plaintext);

        _key = RandomNumberGenerator.GetBytes(32);
        _aad = RandomNumberGenerator.GetBytes(32);
        _nonce = new byte[NonceSize];
        _ciphertextOut = new byte[Size];
        _tagOut = new byte[TagSize];
        _aes = new AesGcm(_key, TagSize);
        _nsecKey = NSec.Cryptography.Key.Import(NSec.Cryptography.AeadAlgorithm.Aes256Gcm, _key, NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);
        _bouncyKey = new KeyParameter(_key);
        _bouncy = new GcmBlockCipher(new AesEngine());

        // One sealed message for the decrypt benchmarks of the raw libraries (all standard AES-256-GCM).
        _sealedNonce = RandomNumberGenerator.GetBytes(NonceSize);
        _sealedCiphertext = new byte[Size];
        _sealedTag = new byte[TagSize];
        _aes.Encrypt(_sealedNonce, _plaintext, _sealedCiphertext, _sealedTag, _aad);
        _sealedCiphertextAndTag = [.. _sealedCiphertext, .. _sealedTag];

        _dataProtector = new EphemeralDataProtectionProvider().CreateProtector("EnvelopeKms.Benchmarks");
        _dataProtected = _dataProtector.Protect(_plaintext);

        _threadAes = [new AesGcm(_key, TagSize), new AesGcm(_key, TagSize)];
        _threadNonces = [new byte[NonceSize], new byte[NonceSize]];
        _threadCiphertexts = [new byte[Size], new byte[Size]];
        _threadTags = [new byte[TagSize], new byte[TagSize]];
        _threadEnvelopes = [new byte[_envelopeOut.Length], new byte[_envelopeOut.Length]];

        Verify();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sodiumEncryptor.Dispose();
        _platformEncryptor.Dispose();
        _automaticEncryptor.Dispose();
        _kms.Dispose();
        _meterListener.Dispose();
        _activityListener.Dispose();
        _telemetry.Dispose();
        _aes.Dispose();
        _nsecKey.Dispose();
        foreach (var aes in _threadAes)
        {
            aes.Dispose();
        }
    }

    // ---------------------------------------------------------------- encrypt

    /// <summary>Raw baseline: AES-256-GCM with a reused <see cref="AesGcm"/>, a counter nonce, 32 bytes of AAD.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Encrypt")]
    public void RawAesGcm_Encrypt()
    {
        BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(4), ++_counter);
        _aes.Encrypt(_nonce, _plaintext, _ciphertextOut, _tagOut, _aad);
    }

    /// <summary>libsodium AES-256-GCM through NSec, the same inputs.</summary>
    [Benchmark, BenchmarkCategory("Encrypt")]
    public void NSec_Encrypt()
    {
        BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(4), ++_counter);
        NSec.Cryptography.AeadAlgorithm.Aes256Gcm.Encrypt(_nsecKey, _nonce, _aad, _plaintext, _envelopeOut.AsSpan(0, Size + TagSize));
    }

    /// <summary>BouncyCastle's GCM over its AES engine: one reused cipher object, <c>Init</c> per message (its key schedule is kept).</summary>
    [Benchmark, BenchmarkCategory("Encrypt")]
    public int BouncyCastle_Encrypt()
    {
        BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(4), ++_counter);
        _bouncy.Init(true, new AeadParameters(_bouncyKey, TagSize * 8, _nonce, _aad));
        var output = _envelopeOut.AsSpan(0, Size + TagSize);
        var written = _bouncy.ProcessBytes(_plaintext, output);
        return written + _bouncy.DoFinal(output[written..]);
    }

    /// <summary>ASP.NET Core Data Protection <c>Protect</c> (allocates its output; AES-256-CBC + HMAC-SHA256).</summary>
    [Benchmark, BenchmarkCategory("Encrypt")]
    public byte[] DataProtection_Protect() => _dataProtector.Protect(_plaintext);

    /// <summary>Envelope encryption on the libsodium backend: a cached data key, into a preallocated buffer.</summary>
    [Benchmark, BenchmarkCategory("Encrypt")]
    public bool Envelope_Encrypt_Libsodium() => _sodium.TryEncrypt(_plaintext, _envelopeOut, out _);

    /// <summary>Envelope encryption on the platform backend (pooled <see cref="AesGcm"/>).</summary>
    [Benchmark, BenchmarkCategory("Encrypt")]
    public bool Envelope_Encrypt_Platform() => _platform.TryEncrypt(_plaintext, _envelopeOut, out _);

    /// <summary>The envelope with the default backend choice (libsodium below 32 KiB, the platform's AesGcm from 32 KiB).</summary>
    [Benchmark, BenchmarkCategory("Encrypt")]
    public bool Envelope_Encrypt_Automatic() => _automatic.TryEncrypt(_plaintext, _envelopeOut, out _);

    // ---------------------------------------------------------------- decrypt

    /// <summary>Raw baseline: AES-256-GCM decryption with a reused <see cref="AesGcm"/>.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Decrypt")]
    public void RawAesGcm_Decrypt() => _aes.Decrypt(_sealedNonce, _sealedCiphertext, _sealedTag, _decrypted, _aad);

    /// <summary>libsodium AES-256-GCM decryption through NSec.</summary>
    [Benchmark, BenchmarkCategory("Decrypt")]
    public bool NSec_Decrypt()
        => NSec.Cryptography.AeadAlgorithm.Aes256Gcm.Decrypt(_nsecKey, _sealedNonce, _aad, _sealedCiphertextAndTag, _decrypted);

    /// <summary>BouncyCastle GCM decryption: reused cipher object, <c>Init</c> per message.</summary>
    [Benchmark, BenchmarkCategory("Decrypt")]
    public int BouncyCastle_Decrypt()
    {
        _bouncy.Init(false, new AeadParameters(_bouncyKey, TagSize * 8, _sealedNonce, _aad));
        var written = _bouncy.ProcessBytes(_sealedCiphertextAndTag, _decrypted);
        return written + _bouncy.DoFinal(_decrypted.AsSpan(written));
    }

    /// <summary>ASP.NET Core Data Protection <c>Unprotect</c> (allocates its output).</summary>
    [Benchmark, BenchmarkCategory("Decrypt")]
    public byte[] DataProtection_Unprotect() => _dataProtector.Unprotect(_dataProtected);

    /// <summary>Envelope decryption on the libsodium backend: a cached data key (decrypt side), into a preallocated buffer.</summary>
    [Benchmark, BenchmarkCategory("Decrypt")]
    public bool Envelope_Decrypt_Libsodium() => _sodium.TryDecrypt(_sodiumEnvelope, _decrypted, out _);

    /// <summary>Envelope decryption on the platform backend.</summary>
    [Benchmark, BenchmarkCategory("Decrypt")]
    public bool Envelope_Decrypt_Platform() => _platform.TryDecrypt(_platformEnvelope, _decrypted, out _);

    /// <summary>The envelope with the default backend choice (libsodium below 32 KiB, the platform's AesGcm from 32 KiB).</summary>
    [Benchmark, BenchmarkCategory("Decrypt")]
    public bool Envelope_Decrypt_Automatic() => _automatic.TryDecrypt(_automaticEnvelope, _decrypted, out _);

    // ---------------------------------------------------------------- two threads

    /// <summary>Raw baseline: <see cref="ParallelMessages"/> encryptions over two threads, one <see cref="AesGcm"/> per thread.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = ParallelMessages), BenchmarkCategory("TwoThreads")]
    public void RawAesGcm_Encrypt_TwoThreads() => Parallel.For(0, 2, thread =>
    {
        var aes = _threadAes[thread];
        var nonce = _threadNonces[thread];
        var ciphertext = _threadCiphertexts[thread];
        var tag = _threadTags[thread];
        nonce[0] = (byte)thread;
        for (var i = 0; i < ParallelMessages / 2; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(nonce.AsSpan(4), BinaryPrimitives.ReadInt64BigEndian(nonce.AsSpan(4)) + 1);
            aes.Encrypt(nonce, _plaintext, ciphertext, tag, _aad);
        }
    });

    /// <summary>Envelope encryption (libsodium backend), <see cref="ParallelMessages"/> messages over two threads on one cached data key.</summary>
    [Benchmark(OperationsPerInvoke = ParallelMessages), BenchmarkCategory("TwoThreads")]
    public void Envelope_Encrypt_Libsodium_TwoThreads() => EncryptOnTwoThreads(_sodium);

    /// <summary>Envelope encryption (platform backend, pooled <see cref="AesGcm"/>), over two threads on one cached data key.</summary>
    [Benchmark(OperationsPerInvoke = ParallelMessages), BenchmarkCategory("TwoThreads")]
    public void Envelope_Encrypt_Platform_TwoThreads() => EncryptOnTwoThreads(_platform);

    private void EncryptOnTwoThreads(EnvelopeProtector protector) => Parallel.For(0, 2, thread =>
    {
        var destination = _threadEnvelopes[thread];
        for (var i = 0; i < ParallelMessages / 2; i++)
        {
            protector.TryEncrypt(_plaintext, destination, out _);
        }
    });

    private static EnvelopeOptions HotPathOptions(AeadBackend backend) => new()
    {
        Backend = backend,
        MaxDataKeyAge = TimeSpan.FromDays(1),
        MaxMessagesPerDataKey = uint.MaxValue,
        MaxBytesPerDataKey = long.MaxValue,
    };

    /// <summary>Every library must actually round-trip before anything is measured.</summary>
    private void Verify()
    {
        void Check(string what, ReadOnlySpan<byte> actual)
        {
            if (!actual.SequenceEqual(_plaintext))
            {
                throw new InvalidOperationException($"{what} did not round-trip.");
            }
        }

        Envelope_Decrypt_Libsodium();
        Check("The envelope (libsodium)", _decrypted);
        Array.Clear(_decrypted);
        Envelope_Decrypt_Platform();
        Check("The envelope (platform)", _decrypted);
        Array.Clear(_decrypted);
        _ = _sodium.TryEncrypt(_plaintext, _threadEnvelopes[0], out _) && _platform.TryDecrypt(_threadEnvelopes[0], _decrypted, out _);
        Check("The envelope across backends", _decrypted);
        Array.Clear(_decrypted);
        NSec_Decrypt();
        Check("NSec", _decrypted);
        Array.Clear(_decrypted);
        BouncyCastle_Decrypt();
        Check("BouncyCastle", _decrypted);
        Check("Data Protection", DataProtection_Unprotect());

        // The same nonce, key and AAD give the same bytes in AesGcm, NSec and BouncyCastle.
        RawAesGcm_Encrypt();
        byte[] expected = [.. _ciphertextOut, .. _tagOut];
        var viaNSec = new byte[Size + TagSize];
        NSec.Cryptography.AeadAlgorithm.Aes256Gcm.Encrypt(_nsecKey, _nonce, _aad, _plaintext, viaNSec);
        var viaBouncy = new byte[Size + TagSize];
        _bouncy.Init(true, new AeadParameters(_bouncyKey, TagSize * 8, _nonce, _aad));
        var written = _bouncy.ProcessBytes(_plaintext, viaBouncy);
        _bouncy.DoFinal(viaBouncy.AsSpan(written));
        if (!viaNSec.AsSpan().SequenceEqual(expected) || !viaBouncy.AsSpan().SequenceEqual(expected))
        {
            throw new InvalidOperationException("AesGcm, NSec and BouncyCastle disagree on the same inputs.");
        }
    }
}
