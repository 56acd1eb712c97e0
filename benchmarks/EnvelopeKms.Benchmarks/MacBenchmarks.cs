using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// <c>GenerateMac</c> and <c>VerifyMac</c> through <see cref="IKeyManager"/> with an <c>HMAC_256</c> key
/// on the in-memory store, against the raw baseline of <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>
/// on the same message in the same run. The key manager's path includes key lookup, the record seal
/// check, authorization, the state and usage checks and the audit event (to a disabled logger).
/// </summary>
[MemoryDiagnoser]
public class MacBenchmarks
{
    private KeyManager _kms = null!;
    private string _keyId = null!;
    private byte[] _message = null!;
    private byte[] _key = null!;
    private byte[] _mac = null!;
    private byte[] _rawMac = null!;

    /// <summary>Message size in bytes (KMS allows up to 4096).</summary>
    [Params(32, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kms = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        _keyId = _kms.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac }).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _message = RandomNumberGenerator.GetBytes(Size);
        _mac = _kms.GenerateMacAsync(new GenerateMacRequest { KeyId = _keyId, Message = _message, MacAlgorithm = MacAlgorithm.HmacSha256 }).GetAwaiter().GetResult().Mac;
        _key = RandomNumberGenerator.GetBytes(32);
        _rawMac = new byte[32];
    }

    [GlobalCleanup]
    public void Cleanup() => _kms.Dispose();

    /// <summary>Raw baseline: one HMAC-SHA-256 of the message.</summary>
    [Benchmark(Baseline = true)]
    public int HmacSha256_Baseline() => HMACSHA256.HashData(_key, _message, _rawMac);

    /// <summary>IKeyManager.GenerateMac.</summary>
    [Benchmark]
    public async Task<byte[]> KeyManagerGenerateMac()
        => (await _kms.GenerateMacAsync(new GenerateMacRequest { KeyId = _keyId, Message = _message, MacAlgorithm = MacAlgorithm.HmacSha256 })).Mac;

    /// <summary>IKeyManager.VerifyMac of a valid MAC.</summary>
    [Benchmark]
    public async Task<bool> KeyManagerVerifyMac()
        => (await _kms.VerifyMacAsync(new VerifyMacRequest { KeyId = _keyId, Message = _message, Mac = _mac, MacAlgorithm = MacAlgorithm.HmacSha256 })).MacValid;
}
