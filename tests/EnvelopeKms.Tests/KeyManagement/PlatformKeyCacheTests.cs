using System.Security.Cryptography;
using EnvelopeKms.Cryptography;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// <see cref="PlatformKeyCache"/>: imported RSA/ECDSA/ECDH key objects reused across calls, never shared
/// by two concurrent callers, bounded, and dropped when their key changes or is purged.
/// </summary>
public sealed class PlatformKeyCacheTests
{
    private static readonly byte[] Message = "invoice 2026-0042"u8.ToArray();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Signing_and_verifying_reuse_one_entry_per_key_material_and_use()
    {
        using var kms = new TestKeyManager();
        var keyId = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }, Ct)).KeyMetadata.KeyId;
        for (var i = 0; i < 5; i++)
        {
            var signature = (await kms.Manager.SignAsync(new SignRequest { KeyId = keyId, Message = Message, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct)).Signature;
            Assert.True((await kms.Manager.VerifyAsync(new VerifyRequest { KeyId = keyId, Message = Message, Signature = signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct)).SignatureValid);
        }

        Assert.Equal(2, kms.Manager.PlatformKeys.Count); // the private key (sign) and the public key (verify)
    }

    [Fact]
    public async Task Concurrent_calls_on_one_key_all_give_correct_results()
    {
        using var kms = new TestKeyManager();
        var ecdsa = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }, Ct)).KeyMetadata.KeyId;
        var rsa = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Rsa2048, KeyUsage = KeyUsage.EncryptDecrypt }, Ct)).KeyMetadata.KeyId;
        var spki = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = ecdsa }, Ct)).PublicKey;
        using var outside = ECDsa.Create();
        outside.ImportSubjectPublicKeyInfo(spki, out _);

        await Parallel.ForAsync(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, ct) =>
        {
            var message = BitConverter.GetBytes(i);
            var signature = (await kms.Manager.SignAsync(new SignRequest { KeyId = ecdsa, Message = message, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, ct)).Signature;
            Assert.True(outside.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
            Assert.True((await kms.Manager.VerifyAsync(new VerifyRequest { KeyId = ecdsa, Message = message, Signature = signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, ct)).SignatureValid);
            var ciphertext = (await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = rsa, Plaintext = message, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, ct)).CiphertextBlob;
            using var decrypted = await kms.Manager.DecryptAsync(new DecryptRequest { KeyId = rsa, CiphertextBlob = ciphertext, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, ct);
            Assert.Equal(message, decrypted.Plaintext.ToArray());
        });
    }

    [Fact]
    public async Task Disabling_or_scheduling_deletion_of_a_key_drops_its_key_objects()
    {
        using var kms = new TestKeyManager();
        var keyId = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.KeyAgreement }, Ct)).KeyMetadata.KeyId;
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var request = new DeriveSharedSecretRequest { KeyId = keyId, PublicKey = peer.ExportSubjectPublicKeyInfo() };

        using (await kms.Manager.DeriveSharedSecretAsync(request, Ct))
        {
            Assert.Equal(1, kms.Manager.PlatformKeys.Count);
        }

        await kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, Ct);
        Assert.Equal(0, kms.Manager.PlatformKeys.Count);

        await kms.Manager.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, Ct);
        using (var again = await kms.Manager.DeriveSharedSecretAsync(request, Ct))
        {
            Assert.Equal(32, again.SharedSecret.Length);
        }

        Assert.Equal(1, kms.Manager.PlatformKeys.Count);
        await kms.Manager.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = 7 }, Ct);
        Assert.Equal(0, kms.Manager.PlatformKeys.Count);
    }

    [Fact]
    public void The_cache_keeps_at_most_its_capacity_and_every_entry_still_works()
    {
        using var cache = new PlatformKeyCache(capacity: 2);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        var spki = ecdsa.ExportSubjectPublicKeyInfo();
        for (var i = 0; i < 5; i++)
        {
            var signature = cache.Sign($"key-{i}", "m", KeySpec.EccNistP256, pkcs8, SigningAlgorithm.EcdsaSha256, Message, MessageType.Raw);
            Assert.True(cache.Verify($"key-{i}", "m", KeySpec.EccNistP256, spki, SigningAlgorithm.EcdsaSha256, Message, MessageType.Raw, signature));
            Assert.True(cache.Count <= 2);
        }
    }

    [Fact]
    public void A_bad_key_fails_without_leaving_an_entry()
    {
        using var cache = new PlatformKeyCache();
        Assert.Throws<KmsValidationException>(() => cache.Sign("k", "m", KeySpec.Rsa2048, [0x30, 0x00], SigningAlgorithm.RsassaPssSha256, Message, MessageType.Raw));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void After_dispose_calls_still_work_but_keep_nothing()
    {
        var cache = new PlatformKeyCache();
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pkcs8 = ecdsa.ExportPkcs8PrivateKey();
        cache.Sign("k", "m", KeySpec.EccNistP256, pkcs8, SigningAlgorithm.EcdsaSha256, Message, MessageType.Raw);
        cache.Dispose();
        Assert.Equal(0, cache.Count);
        var signature = cache.Sign("k", "m", KeySpec.EccNistP256, pkcs8, SigningAlgorithm.EcdsaSha256, Message, MessageType.Raw);
        Assert.True(ecdsa.VerifyData(Message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.Equal(0, cache.Count);
    }
}
