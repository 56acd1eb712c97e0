using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// ML-DSA <c>EXTERNAL_MU</c>: the caller sends µ = SHAKE256(SHAKE256(pk, 64) || 0x00 || 0x00 || M, 64), the
/// message representative of FIPS 204 for pure ML-DSA with an empty context. It is signed and verified through
/// the platform's <c>MLDsa</c>, which needs OpenSSL 3.5; BouncyCastle 2.7 has no API for µ. The length is
/// checked first everywhere; without platform ML-DSA the error says why.
/// </summary>
public sealed class MlDsaExternalMuTests
{
    private static readonly byte[] Message = "release manifest v4.2.0, sha256 9f2c..."u8.ToArray();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<KeyMetadata> CreateAsync(KeyManager kms, KeySpec spec)
        => (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "ml-dsa", KeySpec = spec, KeyUsage = KeyUsage.SignVerify }, Ct)).KeyMetadata;

    private static Task<SignResponse> SignMuAsync(KeyManager kms, string keyId, byte[] mu)
        => kms.SignAsync(new SignRequest { KeyId = keyId, Message = mu, MessageType = MessageType.ExternalMu, SigningAlgorithm = SigningAlgorithm.MlDsaShake256 }, Ct);

    private static Task<VerifyResponse> VerifyAsync(KeyManager kms, string keyId, byte[] message, MessageType type, byte[] signature)
        => kms.VerifyAsync(new VerifyRequest { KeyId = keyId, Message = message, MessageType = type, Signature = signature, SigningAlgorithm = SigningAlgorithm.MlDsaShake256 }, Ct);

    [Theory]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(32)]
    public async Task An_external_mu_that_is_not_64_bytes_is_a_validation_error_before_any_cryptography(int length)
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.MlDsa44);

        var sign = await Assert.ThrowsAsync<KmsValidationException>(() => SignMuAsync(kms.Manager, key.KeyId, new byte[length]));
        await Assert.ThrowsAsync<KmsValidationException>(() => VerifyAsync(kms.Manager, key.KeyId, new byte[length], MessageType.ExternalMu, new byte[2420]));

        Assert.Contains("64-byte", sign.Message, StringComparison.Ordinal);
        Assert.Equal("ValidationException", kms.Audit.Events[^1].ErrorCode);
    }

    [Fact]
    public async Task Without_platform_ml_dsa_external_mu_is_unsupported_and_the_error_says_why()
    {
        Assert.SkipWhen(MLDsa.IsSupported, "The platform has ML-DSA (OpenSSL 3.5 or later), so EXTERNAL_MU is supported here.");
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.MlDsa65);

        var sign = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => SignMuAsync(kms.Manager, key.KeyId, new byte[64]));
        var verify = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => VerifyAsync(kms.Manager, key.KeyId, new byte[64], MessageType.ExternalMu, new byte[3309]));

        foreach (var e in new[] { sign, verify })
        {
            Assert.Equal("UnsupportedOperationException", e.ErrorCode);
            Assert.Contains("OpenSSL 3.5", e.Message, StringComparison.Ordinal);
            Assert.Contains("BouncyCastle 2.7", e.Message, StringComparison.Ordinal);
        }

        // RAW signing is unaffected.
        var raw = await kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Message, SigningAlgorithm = SigningAlgorithm.MlDsaShake256 }, Ct);
        Assert.True((await VerifyAsync(kms.Manager, key.KeyId, Message, MessageType.Raw, raw.Signature)).SignatureValid);
    }

    [Theory]
    [InlineData(nameof(KeySpec.MlDsa44))]
    [InlineData(nameof(KeySpec.MlDsa65))]
    [InlineData(nameof(KeySpec.MlDsa87))]
    public async Task With_platform_ml_dsa_a_signature_of_mu_verifies_as_a_raw_signature_of_the_message(string specName)
    {
        Assert.SkipUnless(MLDsa.IsSupported, "The platform's ML-DSA (System.Security.Cryptography.MLDsa) needs OpenSSL 3.5 or later; MLDsa.IsSupported is false here, so SignMu/VerifyMu cannot run.");
        var spec = Enum.Parse<KeySpec>(specName);
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, spec);
        var spki = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct)).PublicKey;
        var publicKey = (MLDsaPublicKeyParameters)PublicKeyFactory.CreateKey(spki);
        var mu = Mu(publicKey.GetEncoded(), Message);

        var signature = (await SignMuAsync(kms.Manager, key.KeyId, mu)).Signature;

        Assert.True((await VerifyAsync(kms.Manager, key.KeyId, Message, MessageType.Raw, signature)).SignatureValid);
        Assert.True((await VerifyAsync(kms.Manager, key.KeyId, mu, MessageType.ExternalMu, signature)).SignatureValid);
        var verifier = new MLDsaSigner(publicKey.Parameters, deterministic: false);
        verifier.Init(false, publicKey);
        verifier.BlockUpdate(Message, 0, Message.Length);
        Assert.True(verifier.VerifySignature(signature));

        // A RAW signature verifies as a signature of its µ, and a changed µ does not verify.
        var raw = (await kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Message, SigningAlgorithm = SigningAlgorithm.MlDsaShake256 }, Ct)).Signature;
        Assert.True((await VerifyAsync(kms.Manager, key.KeyId, mu, MessageType.ExternalMu, raw)).SignatureValid);
        mu[5] ^= 1;
        Assert.False((await VerifyAsync(kms.Manager, key.KeyId, mu, MessageType.ExternalMu, signature)).SignatureValid);
    }

    /// <summary>µ of FIPS 204 (algorithm 2/7) for pure ML-DSA with the empty context: SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64).</summary>
    private static byte[] Mu(byte[] publicKey, byte[] message)
    {
        var tr = new byte[64];
        var shake = new ShakeDigest(256);
        shake.BlockUpdate(publicKey, 0, publicKey.Length);
        shake.OutputFinal(tr, 0, tr.Length);

        var mu = new byte[64];
        shake = new ShakeDigest(256);
        shake.BlockUpdate(tr, 0, tr.Length);
        shake.Update(0); // pure ML-DSA, not HashML-DSA
        shake.Update(0); // the context is empty
        shake.BlockUpdate(message, 0, message.Length);
        shake.OutputFinal(mu, 0, mu.Length);
        return mu;
    }
}
