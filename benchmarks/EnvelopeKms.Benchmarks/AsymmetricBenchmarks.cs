using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using Rfc8032 = Org.BouncyCastle.Math.EC.Rfc8032;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// Asymmetric operations through <see cref="IKeyManager"/> on the in-memory store, each against its raw
/// call (platform or BouncyCastle) with a reused key object in the same run; one category per
/// operation, whose baseline is the raw call. The key manager's path includes key lookup, the
/// record-seal check, authorization, the state, usage and algorithm checks, the key object (cached
/// for RSA and ECDSA/ECDH, imported per call for the BouncyCastle algorithms), strict DER checking
/// on ECDSA verify and strict SPKI checking of the ECDH peer key, and the audit event (to a disabled logger).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class AsymmetricBenchmarks
{
    private static readonly byte[] Message = "invoice 2026-0042: 1,250.00 EUR to ACME GmbH"u8.ToArray();
    private KeyManager _kms = null!;
    private string _signingKeyId = null!;
    private string _agreementKeyId = null!;
    private string _rsaSigningKeyId = null!;
    private string _rsaEncryptionKeyId = null!;
    private string _ed25519KeyId = null!;
    private string _mlDsaKeyId = null!;
    private byte[] _signature = null!;
    private byte[] _rsaSignature = null!;
    private byte[] _rsaCiphertext = null!;
    private byte[] _ed25519Signature = null!;
    private byte[] _mlDsaSignature = null!;
    private byte[] _peerPublicKey = null!;
    private ECDsa _ecdsa = null!;
    private byte[] _rawSignature = null!;
    private ECDiffieHellman _ecdh = null!;
    private ECDiffieHellmanPublicKey _peer = null!;
    private RSA _rsa = null!;
    private byte[] _rawRsaSignature = null!;
    private byte[] _rawRsaCiphertext = null!;
    private Ed25519PrivateKeyParameters _ed25519 = null!;
    private Ed25519PublicKeyParameters _ed25519Public = null!;
    private byte[] _rawEd25519Signature = null!;
    private MLDsaPrivateKeyParameters _mlDsa = null!;
    private MLDsaPublicKeyParameters _mlDsaPublic = null!;
    private byte[] _rawMlDsaSignature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _kms = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        _signingKeyId = Create(KeySpec.EccNistP256, KeyUsage.SignVerify);
        _agreementKeyId = Create(KeySpec.EccNistP256, KeyUsage.KeyAgreement);
        _rsaSigningKeyId = Create(KeySpec.Rsa2048, KeyUsage.SignVerify);
        _rsaEncryptionKeyId = Create(KeySpec.Rsa2048, KeyUsage.EncryptDecrypt);
        _ed25519KeyId = Create(KeySpec.EccNistEdwards25519, KeyUsage.SignVerify);
        _mlDsaKeyId = Create(KeySpec.MlDsa65, KeyUsage.SignVerify);
        _signature = Sign(_signingKeyId, SigningAlgorithm.EcdsaSha256);
        _rsaSignature = Sign(_rsaSigningKeyId, SigningAlgorithm.RsassaPssSha256);
        _ed25519Signature = Sign(_ed25519KeyId, SigningAlgorithm.Ed25519Sha512);
        _mlDsaSignature = Sign(_mlDsaKeyId, SigningAlgorithm.MlDsaShake256);
        _rsaCiphertext = _kms.EncryptAsync(new EncryptRequest { KeyId = _rsaEncryptionKeyId, Plaintext = Message, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }).GetAwaiter().GetResult().CiphertextBlob;

        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        _peerPublicKey = peer.ExportSubjectPublicKeyInfo();
        _ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _rawSignature = _ecdsa.SignData(Message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        _ecdh = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        _peer = peer.PublicKey;

        _rsa = RSA.Create(2048);
        _rawRsaSignature = _rsa.SignData(Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        _rawRsaCiphertext = _rsa.Encrypt(Message, RSAEncryptionPadding.OaepSHA256);

        _ed25519 = new Ed25519PrivateKeyParameters(new SecureRandom());
        _ed25519Public = _ed25519.GeneratePublicKey();
        _rawEd25519Signature = Ed25519Sign_Baseline();

        var generator = new MLDsaKeyPairGenerator();
        generator.Init(new MLDsaKeyGenerationParameters(new SecureRandom(), MLDsaParameters.ml_dsa_65));
        var pair = generator.GenerateKeyPair();
        _mlDsa = (MLDsaPrivateKeyParameters)pair.Private;
        _mlDsaPublic = (MLDsaPublicKeyParameters)pair.Public;
        _rawMlDsaSignature = MlDsaSign_Baseline();

        if (!EcdsaVerify_Baseline() || !KeyManagerVerify().GetAwaiter().GetResult() || !RsaVerify_Baseline() || !KeyManagerRsaVerify().GetAwaiter().GetResult()
            || !Ed25519Verify_Baseline() || !KeyManagerEd25519Verify().GetAwaiter().GetResult() || !MlDsaVerify_Baseline() || !KeyManagerMlDsaVerify().GetAwaiter().GetResult()
            || RsaDecrypt_Baseline() != Message.Length || KeyManagerRsaDecrypt().GetAwaiter().GetResult() != Message.Length)
        {
            throw new InvalidOperationException("A benchmark does not round-trip.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _kms.Dispose();
        _ecdsa.Dispose();
        _ecdh.Dispose();
        _peer.Dispose();
        _rsa.Dispose();
    }

    // ------------------------------------------------------------ ECDSA P-256

    /// <summary>Raw baseline: ECDSA P-256 SHA-256 signing (DER) with a reused key.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("EcdsaSign")]
    public byte[] EcdsaSign_Baseline() => _ecdsa.SignData(Message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>IKeyManager.Sign with ECDSA_SHA_256.</summary>
    [Benchmark, BenchmarkCategory("EcdsaSign")]
    public Task<byte[]> KeyManagerSign() => SignAsync(_signingKeyId, SigningAlgorithm.EcdsaSha256);

    /// <summary>Raw baseline: ECDSA P-256 SHA-256 verification (DER) with a reused key.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("EcdsaVerify")]
    public bool EcdsaVerify_Baseline() => _ecdsa.VerifyData(Message, _rawSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>IKeyManager.Verify with ECDSA_SHA_256.</summary>
    [Benchmark, BenchmarkCategory("EcdsaVerify")]
    public Task<bool> KeyManagerVerify() => VerifyAsync(_signingKeyId, SigningAlgorithm.EcdsaSha256, _signature);

    // ------------------------------------------------------------ ECDH P-256

    /// <summary>Raw baseline: ECDH P-256 raw secret agreement with a reused key and peer key object.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Ecdh")]
    public byte[] EcdhDerive_Baseline() => _ecdh.DeriveRawSecretAgreement(_peer);

    /// <summary>IKeyManager.DeriveSharedSecret (ECDH) with the peer's SPKI (parsed and imported per call, as the raw call's peer object is not).</summary>
    [Benchmark, BenchmarkCategory("Ecdh")]
    public async Task<int> KeyManagerDeriveSharedSecret()
    {
        using var response = await _kms.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = _agreementKeyId, PublicKey = _peerPublicKey });
        return response.SharedSecret.Length;
    }

    // ------------------------------------------------------------ RSA-2048

    /// <summary>Raw baseline: RSA-2048 RSASSA-PSS SHA-256 signing with a reused key.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("RsaSign")]
    public byte[] RsaSign_Baseline() => _rsa.SignData(Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);

    /// <summary>IKeyManager.Sign with RSASSA_PSS_SHA_256 on an RSA_2048 key.</summary>
    [Benchmark, BenchmarkCategory("RsaSign")]
    public Task<byte[]> KeyManagerRsaSign() => SignAsync(_rsaSigningKeyId, SigningAlgorithm.RsassaPssSha256);

    /// <summary>Raw baseline: RSA-2048 RSASSA-PSS SHA-256 verification with a reused key.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("RsaVerify")]
    public bool RsaVerify_Baseline() => _rsa.VerifyData(Message, _rawRsaSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);

    /// <summary>IKeyManager.Verify with RSASSA_PSS_SHA_256.</summary>
    [Benchmark, BenchmarkCategory("RsaVerify")]
    public Task<bool> KeyManagerRsaVerify() => VerifyAsync(_rsaSigningKeyId, SigningAlgorithm.RsassaPssSha256, _rsaSignature);

    /// <summary>Raw baseline: RSA-2048 RSAES-OAEP SHA-256 decryption with a reused key.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("RsaDecrypt")]
    public int RsaDecrypt_Baseline() => _rsa.Decrypt(_rawRsaCiphertext, RSAEncryptionPadding.OaepSHA256).Length;

    /// <summary>IKeyManager.Decrypt with RSAES_OAEP_SHA_256 on an RSA_2048 ENCRYPT_DECRYPT key.</summary>
    [Benchmark, BenchmarkCategory("RsaDecrypt")]
    public async Task<int> KeyManagerRsaDecrypt()
    {
        using var response = await _kms.DecryptAsync(new DecryptRequest { KeyId = _rsaEncryptionKeyId, CiphertextBlob = _rsaCiphertext, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 });
        return response.Plaintext.Length;
    }

    // ------------------------------------------------------------ Ed25519 (BouncyCastle)

    /// <summary>Raw baseline: BouncyCastle Ed25519 signing with a reused private key object.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Ed25519Sign")]
    public byte[] Ed25519Sign_Baseline()
    {
        var signature = new byte[64];
        _ed25519.Sign(Rfc8032.Ed25519.Algorithm.Ed25519, null, Message, 0, Message.Length, signature, 0);
        return signature;
    }

    /// <summary>IKeyManager.Sign with ED25519_SHA_512.</summary>
    [Benchmark, BenchmarkCategory("Ed25519Sign")]
    public Task<byte[]> KeyManagerEd25519Sign() => SignAsync(_ed25519KeyId, SigningAlgorithm.Ed25519Sha512);

    /// <summary>Raw baseline: BouncyCastle Ed25519 verification with a reused public key object.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("Ed25519Verify")]
    public bool Ed25519Verify_Baseline() => _ed25519Public.Verify(Rfc8032.Ed25519.Algorithm.Ed25519, null, Message, 0, Message.Length, _rawEd25519Signature, 0);

    /// <summary>IKeyManager.Verify with ED25519_SHA_512.</summary>
    [Benchmark, BenchmarkCategory("Ed25519Verify")]
    public Task<bool> KeyManagerEd25519Verify() => VerifyAsync(_ed25519KeyId, SigningAlgorithm.Ed25519Sha512, _ed25519Signature);

    // ------------------------------------------------------------ ML-DSA-65 (BouncyCastle)

    /// <summary>Raw baseline: BouncyCastle ML-DSA-65 (hedged) signing with a reused, expanded private key object.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("MlDsaSign")]
    public byte[] MlDsaSign_Baseline()
    {
        var signer = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false);
        signer.Init(true, _mlDsa);
        signer.BlockUpdate(Message);
        return signer.GenerateSignature();
    }

    /// <summary>IKeyManager.Sign with ML_DSA_SHAKE_256 on an ML_DSA_65 key.</summary>
    [Benchmark, BenchmarkCategory("MlDsaSign")]
    public Task<byte[]> KeyManagerMlDsaSign() => SignAsync(_mlDsaKeyId, SigningAlgorithm.MlDsaShake256);

    /// <summary>Raw baseline: BouncyCastle ML-DSA-65 verification with a reused public key object.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("MlDsaVerify")]
    public bool MlDsaVerify_Baseline()
    {
        var verifier = new MLDsaSigner(MLDsaParameters.ml_dsa_65, deterministic: false);
        verifier.Init(false, _mlDsaPublic);
        verifier.BlockUpdate(Message);
        return verifier.VerifySignature(_rawMlDsaSignature);
    }

    /// <summary>IKeyManager.Verify with ML_DSA_SHAKE_256.</summary>
    [Benchmark, BenchmarkCategory("MlDsaVerify")]
    public Task<bool> KeyManagerMlDsaVerify() => VerifyAsync(_mlDsaKeyId, SigningAlgorithm.MlDsaShake256, _mlDsaSignature);

    private string Create(KeySpec spec, KeyUsage usage)
        => _kms.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = usage }).GetAwaiter().GetResult().KeyMetadata.KeyId;

    private byte[] Sign(string keyId, SigningAlgorithm algorithm) => SignAsync(keyId, algorithm).GetAwaiter().GetResult();

    private async Task<byte[]> SignAsync(string keyId, SigningAlgorithm algorithm)
        => (await _kms.SignAsync(new SignRequest { KeyId = keyId, Message = Message, SigningAlgorithm = algorithm })).Signature;

    private async Task<bool> VerifyAsync(string keyId, SigningAlgorithm algorithm, byte[] signature)
        => (await _kms.VerifyAsync(new VerifyRequest { KeyId = keyId, Message = Message, Signature = signature, SigningAlgorithm = algorithm })).SignatureValid;
}
