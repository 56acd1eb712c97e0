using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EnvelopeKms.AwsSdk;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// What the AWS SDK adapter adds to a direct call: <c>Encrypt</c> and <c>Decrypt</c> through
/// <see cref="EnvelopeKmsAmazonClient"/> (the SDK's request and response objects, <see cref="MemoryStream"/>
/// blobs, constant classes) against the same calls through <see cref="IKeyManager"/>, and the raw
/// baseline of <see cref="AesGcm"/> with a reused instance on the same plaintext size.
/// </summary>
[MemoryDiagnoser]
public class AwsSdkAdapterBenchmarks
{
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme", ["purpose"] = "benchmark" };
    private KeyManager _kms = null!;
    private EnvelopeKmsAmazonClient _client = null!;
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
        _client = new EnvelopeKmsAmazonClient(_kms);
        _keyId = _kms.CreateKeyAsync(new CreateKeyRequest()).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _plaintext = RandomNumberGenerator.GetBytes(Size);
        _blob = _kms.EncryptAsync(new EncryptRequest { KeyId = _keyId, Plaintext = _plaintext, EncryptionContext = Context }).GetAwaiter().GetResult().CiphertextBlob;
        var viaAdapter = _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = new MemoryStream(_blob), EncryptionContext = Context }).GetAwaiter().GetResult();
        if (!viaAdapter.Plaintext.ToArray().AsSpan().SequenceEqual(_plaintext))
        {
            throw new InvalidOperationException("The adapter does not round-trip.");
        }

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

    /// <summary>The same through the adapter, as application code written against the AWS SDK calls it.</summary>
    [Benchmark]
    public async Task<long> AdapterEncrypt()
        => (await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = _keyId, Plaintext = new MemoryStream(_plaintext), EncryptionContext = Context })).CiphertextBlob.Length;

    /// <summary>IKeyManager.Decrypt with an encryption context.</summary>
    [Benchmark]
    public async Task<int> KeyManagerDecrypt()
    {
        using var response = await _kms.DecryptAsync(new DecryptRequest { CiphertextBlob = _blob, EncryptionContext = Context });
        return response.Plaintext.Length;
    }

    /// <summary>The same through the adapter.</summary>
    [Benchmark]
    public async Task<long> AdapterDecrypt()
        => (await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = new MemoryStream(_blob), EncryptionContext = Context })).Plaintext.Length;
}
