using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// ECDSA P-256 <c>Sign</c> and <c>Verify</c> and ECDH P-256 <c>DeriveSharedSecret</c> through
/// <see cref="IKeyManager"/> on the in-memory store, each against the raw platform call with a reused
/// key object in the same run. The key manager's path includes key lookup, the record-seal check,
/// authorization, the state, usage and algorithm checks, the import of the private key from its
/// (cached, unwrapped) PKCS#8, strict DER checking on verify and strict SPKI checking of the peer key,
/// and the audit event (to a disabled logger).
/// </summary>
[MemoryDiagnoser]
public class AsymmetricBenchmarks
{
    private static readonly byte[] Message = "invoice 2026-0042: 1,250.00 EUR to ACME GmbH"u8.ToArray();
    private KeyManager _kms = null!;
    private string _signingKeyId = null!;
    private string _agreementKeyId = null!;
    private byte[] _signature = null!;
    private byte[] _peerPublicKey = null!;
    private ECDsa _ecdsa = null!;
    private byte[] _rawSignature = null!;
    private ECDiffieHellman _ecdh = null!;
    private ECDiffieHellmanPublicKey _peer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kms = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        _signingKeyId = _kms.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _agreementKeyId = _kms.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.KeyAgreement }).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _signature = _kms.SignAsync(new SignRequest { KeyId = _signingKeyId, Message = Message, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }).GetAwaiter().GetResult().Signature;
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        _peerPublicKey = peer.ExportSubjectPublicKeyInfo();
        _ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _rawSignature = _ecdsa.SignData(Message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        _ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        _peer = peer.PublicKey;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _kms.Dispose();
        _ecdsa.Dispose();
        _ecdh.Dispose();
        _peer.Dispose();
    }

    /// <summary>Raw baseline: ECDSA P-256 SHA-256 signing (DER) with a reused key.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Sign")]
    public byte[] EcdsaSign_Baseline() => _ecdsa.SignData(Message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>IKeyManager.Sign with ECDSA_SHA_256.</summary>
    [Benchmark]
    public async Task<byte[]> KeyManagerSign()
        => (await _kms.SignAsync(new SignRequest { KeyId = _signingKeyId, Message = Message, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 })).Signature;

    /// <summary>Raw: ECDSA P-256 SHA-256 verification (DER) with a reused key.</summary>
    [Benchmark]
    public bool EcdsaVerify_Raw() => _ecdsa.VerifyData(Message, _rawSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>IKeyManager.Verify with ECDSA_SHA_256.</summary>
    [Benchmark]
    public async Task<bool> KeyManagerVerify()
        => (await _kms.VerifyAsync(new VerifyRequest { KeyId = _signingKeyId, Message = Message, Signature = _signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 })).SignatureValid;

    /// <summary>Raw: ECDH P-256 raw secret agreement with a reused key and peer key object.</summary>
    [Benchmark]
    public byte[] EcdhDerive_Raw() => _ecdh.DeriveRawSecretAgreement(_peer);

    /// <summary>IKeyManager.DeriveSharedSecret (ECDH) with the peer's SPKI.</summary>
    [Benchmark]
    public async Task<int> KeyManagerDeriveSharedSecret()
    {
        using var response = await _kms.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = _agreementKeyId, PublicKey = _peerPublicKey });
        return response.SharedSecret.Length;
    }
}
