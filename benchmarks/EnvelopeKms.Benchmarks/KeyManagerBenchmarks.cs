using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// Direct KMS calls through <see cref="IKeyManager"/> on the in-memory store, against the raw
/// baseline of <see cref="AesGcm"/> with a reused instance on the same plaintext size. The key
/// manager's path includes key lookup, authorization, the state check, header and context
/// encoding, a fresh AesGcm, and the audit event (to a disabled logger).
/// </summary>
[MemoryDiagnoser]
public class KeyManagerBenchmarks
{
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme", ["purpose"] = "benchmark" };
    private KeyManager _kms = null!;
    private string _keyId = null!;
    private byte[] _plaintext = null!;
    private byte[] _blob = null!;
    private AesGcm _aes = null!;
    private byte[] _nonce = null!;
    private byte[] _ciphertext = null!;
    private byte[] _tag = null!;
    private byte[] _aad = null!;

    /// <summary>Plaintext size in bytes (KMS direct encryption allows up to 4096).</summary>
    [Params(32, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kms = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        _keyId = _kms.CreateKeyAsync(new CreateKeyRequest()).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _plaintext = RandomNumberGenerator.GetBytes(Size);
        _blob = _kms.EncryptAsync(new EncryptRequest { KeyId = _keyId, Plaintext = _plaintext, EncryptionContext = Context }).GetAwaiter().GetResult().CiphertextBlob;
        _aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        _nonce = RandomNumberGenerator.GetBytes(12);
        _ciphertext = new byte[Size];
        _tag = new byte[16];
        _aad = RandomNumberGenerator.GetBytes(80);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _kms.Dispose();
        _aes.Dispose();
    }

    /// <summary>Raw baseline: one AES-256-GCM encryption with a reused instance.</summary>
    [Benchmark(Baseline = true)]
    public void AesGcmEncrypt_Baseline() => _aes.Encrypt(_nonce, _plaintext, _ciphertext, _tag, _aad);

    /// <summary>IKeyManager.Encrypt with an encryption context.</summary>
    [Benchmark]
    public async Task<byte[]> KeyManagerEncrypt()
        => (await _kms.EncryptAsync(new EncryptRequest { KeyId = _keyId, Plaintext = _plaintext, EncryptionContext = Context })).CiphertextBlob;

    /// <summary>IKeyManager.Decrypt with an encryption context.</summary>
    [Benchmark]
    public async Task<int> KeyManagerDecrypt()
    {
        using var response = await _kms.DecryptAsync(new DecryptRequest { CiphertextBlob = _blob, EncryptionContext = Context });
        return response.Plaintext.Length;
    }

    /// <summary>IKeyManager.GenerateDataKey (AES_256) with an encryption context.</summary>
    [Benchmark]
    public async Task<int> KeyManagerGenerateDataKey()
    {
        using var response = await _kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = _keyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = Context });
        return response.CiphertextBlob.Length;
    }
}
