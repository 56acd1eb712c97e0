using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// <c>ReEncrypt</c> with RSA <c>ENCRYPT_DECRYPT</c> keys on either side, as AWS KMS: an RSA source needs
/// <c>SourceKeyId</c> and <c>SourceEncryptionAlgorithm</c> (the raw OAEP ciphertext names no key), an RSA
/// destination needs an RSA <c>DestinationEncryptionAlgorithm</c> and takes at most the OAEP plaintext limit,
/// and neither side takes an encryption context.
/// </summary>
public sealed class RsaReEncryptTests
{
    private static readonly byte[] Secret = "database password: hunter2-but-longer"u8.ToArray();
    private static readonly Dictionary<string, string> Context = new() { ["app"] = "billing" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<KeyMetadata> RsaKeyAsync(KeyManager kms, KeySpec spec = KeySpec.Rsa2048)
        => (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "rsa", KeySpec = spec, KeyUsage = KeyUsage.EncryptDecrypt }, Ct)).KeyMetadata;

    private static async Task<byte[]> RsaEncryptAsync(KeyManager kms, string keyId, byte[] plaintext, EncryptionAlgorithm algorithm)
        => (await kms.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionAlgorithm = algorithm }, Ct)).CiphertextBlob;

    private static async Task<byte[]> RsaDecryptAsync(KeyManager kms, string keyId, byte[] ciphertext, EncryptionAlgorithm algorithm)
    {
        using var response = await kms.DecryptAsync(new DecryptRequest { KeyId = keyId, CiphertextBlob = ciphertext, EncryptionAlgorithm = algorithm }, Ct);
        return response.Plaintext.ToArray();
    }

    [Theory]
    [InlineData(EncryptionAlgorithm.RsaesOaepSha1)]
    [InlineData(EncryptionAlgorithm.RsaesOaepSha256)]
    public async Task Symmetric_to_rsa_gives_an_oaep_ciphertext_the_rsa_key_and_the_platform_agree_on(EncryptionAlgorithm algorithm)
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync("aes");
        var rsa = await RsaKeyAsync(kms.Manager);
        var blob = await kms.Api().EncryptBlobAsync(symmetric.KeyId, Secret, Context);

        var response = await kms.Manager.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = blob,
            SourceEncryptionContext = Context,
            DestinationKeyId = rsa.KeyId,
            DestinationEncryptionAlgorithm = algorithm,
        }, Ct);

        Assert.Equal(symmetric.Arn, response.SourceKeyId);
        Assert.Equal(rsa.Arn, response.KeyId);
        Assert.Equal(EncryptionAlgorithm.SymmetricDefault, response.SourceEncryptionAlgorithm);
        Assert.Equal(algorithm, response.DestinationEncryptionAlgorithm);
        Assert.Equal(symmetric.CurrentKeyMaterialId, response.SourceKeyMaterialId);
        Assert.Equal(rsa.CurrentKeyMaterialId, response.DestinationKeyMaterialId);
        Assert.Equal(256, response.CiphertextBlob.Length);
        Assert.Equal(Secret, await RsaDecryptAsync(kms.Manager, rsa.KeyId, response.CiphertextBlob, algorithm));

        var audit = kms.Audit.Events[^2];
        Assert.Equal(KmsOperation.ReEncryptFrom, audit.Operation);
        Assert.Equal(symmetric.KeyId, audit.KeyId);
        Assert.Equal(rsa.KeyId, audit.DestinationKeyId);
        Assert.Equal(symmetric.CurrentKeyMaterialId, audit.KeyMaterialId);
    }

    [Fact]
    public async Task Rsa_to_symmetric_needs_the_source_key_and_algorithm_and_decrypts_a_ciphertext_made_by_the_platform()
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync("aes");
        var rsa = await RsaKeyAsync(kms.Manager, KeySpec.Rsa3072);
        await kms.Api().CreateAliasAsync("alias/rsa", rsa.KeyId);
        var publicKey = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = rsa.KeyId }, Ct)).PublicKey;
        using var platform = RSA.Create();
        platform.ImportSubjectPublicKeyInfo(publicKey, out _);
        var ciphertext = platform.Encrypt(Secret, RSAEncryptionPadding.OaepSHA1);

        var response = await kms.Manager.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = ciphertext,
            SourceKeyId = "alias/rsa",
            SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1,
            DestinationKeyId = symmetric.KeyId,
            DestinationEncryptionContext = Context,
        }, Ct);

        Assert.Equal(rsa.Arn, response.SourceKeyId);
        Assert.Equal(symmetric.Arn, response.KeyId);
        Assert.Equal(EncryptionAlgorithm.RsaesOaepSha1, response.SourceEncryptionAlgorithm);
        Assert.Equal(EncryptionAlgorithm.SymmetricDefault, response.DestinationEncryptionAlgorithm);
        Assert.Equal(rsa.CurrentKeyMaterialId, response.SourceKeyMaterialId);
        Assert.Equal(Secret, await kms.Api().DecryptBlobAsync(response.CiphertextBlob, Context));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Api().DecryptBlobAsync(response.CiphertextBlob));
    }

    [Fact]
    public async Task Rsa_to_rsa_changes_key_and_algorithm()
    {
        using var kms = new TestKeyManager();
        var source = await RsaKeyAsync(kms.Manager);
        var destination = await RsaKeyAsync(kms.Manager, KeySpec.Rsa4096);
        var ciphertext = await RsaEncryptAsync(kms.Manager, source.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256);

        var response = await kms.Manager.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = ciphertext,
            SourceKeyId = source.Arn,
            SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256,
            DestinationKeyId = destination.KeyId,
            DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1,
        }, Ct);

        Assert.Equal(512, response.CiphertextBlob.Length);
        Assert.Equal(EncryptionAlgorithm.RsaesOaepSha256, response.SourceEncryptionAlgorithm);
        Assert.Equal(EncryptionAlgorithm.RsaesOaepSha1, response.DestinationEncryptionAlgorithm);
        Assert.Equal(Secret, await RsaDecryptAsync(kms.Manager, destination.KeyId, response.CiphertextBlob, EncryptionAlgorithm.RsaesOaepSha1));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => RsaDecryptAsync(kms.Manager, destination.KeyId, response.CiphertextBlob, EncryptionAlgorithm.RsaesOaepSha256));
    }

    [Fact]
    public async Task An_rsa_source_without_source_key_id_or_with_a_context_is_a_validation_error_before_any_key_is_read()
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync("aes");
        var rsa = await RsaKeyAsync(kms.Manager);
        var ciphertext = await RsaEncryptAsync(kms.Manager, rsa.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256);
        var eventsBefore = kms.Audit.Events.Count;

        var missing = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = ciphertext,
            SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256,
            DestinationKeyId = symmetric.KeyId,
        }, Ct));
        Assert.Contains("SourceKeyId is required", missing.Message, StringComparison.Ordinal);

        var withContext = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = ciphertext,
            SourceKeyId = rsa.KeyId,
            SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256,
            SourceEncryptionContext = Context,
            DestinationKeyId = symmetric.KeyId,
        }, Ct));
        Assert.Contains("SourceEncryptionContext", withContext.Message, StringComparison.Ordinal);

        var audit = kms.Audit.Events.Skip(eventsBefore).ToList();
        Assert.Equal(2, audit.Count);
        Assert.All(audit, a => Assert.Null(a.KeyId));
    }

    [Fact]
    public async Task A_plaintext_over_the_destination_oaep_limit_is_a_validation_error_and_no_ciphertext_is_made()
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync("aes");
        var rsa = await RsaKeyAsync(kms.Manager);
        var fits = await kms.Api().EncryptBlobAsync(symmetric.KeyId, RandomNumberGenerator.GetBytes(190));
        var tooLong = await kms.Api().EncryptBlobAsync(symmetric.KeyId, RandomNumberGenerator.GetBytes(191));

        // RSA_2048 with SHA-256 takes at most 190 bytes, as Encrypt does.
        var ok = await kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = fits, DestinationKeyId = rsa.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Ct);
        Assert.Equal(256, ok.CiphertextBlob.Length);
        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = tooLong, DestinationKeyId = rsa.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Ct));
        Assert.Contains("190", e.Message, StringComparison.Ordinal);
        Assert.Equal("ValidationException", kms.Audit.Events[^1].ErrorCode);
    }

    [Fact]
    public async Task A_wrong_algorithm_for_either_key_or_a_context_for_an_rsa_destination_is_refused()
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync("aes");
        var rsa = await RsaKeyAsync(kms.Manager);
        var signing = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { Description = "sign", KeySpec = KeySpec.Rsa2048, KeyUsage = KeyUsage.SignVerify }, Ct)).KeyMetadata;
        var blob = await kms.Api().EncryptBlobAsync(symmetric.KeyId, Secret);
        var rsaCiphertext = await RsaEncryptAsync(kms.Manager, rsa.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256);

        // SYMMETRIC_DEFAULT for an RSA destination, an RSA algorithm for a symmetric one.
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = rsa.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = symmetric.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1 }, Ct));
        // An RSA signing key as destination or source, and an RSA algorithm naming a symmetric source key.
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = signing.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = rsaCiphertext, SourceKeyId = signing.KeyId, SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256, DestinationKeyId = symmetric.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceKeyId = symmetric.KeyId, SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256, DestinationKeyId = symmetric.KeyId }, Ct));
        // The other OAEP hash, or the symmetric algorithm, for an RSA ciphertext: it does not decrypt.
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = rsaCiphertext, SourceKeyId = rsa.KeyId, SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1, DestinationKeyId = symmetric.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = rsaCiphertext, SourceKeyId = rsa.KeyId, DestinationKeyId = symmetric.KeyId }, Ct));
        // An encryption context with an RSA destination, as with Encrypt; an unknown algorithm.
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = rsa.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256, DestinationEncryptionContext = Context }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = rsa.KeyId, DestinationEncryptionAlgorithm = (EncryptionAlgorithm)42 }, Ct));
    }

    [Fact]
    public async Task A_disabled_rsa_source_or_destination_is_a_disabled_error()
    {
        using var kms = new TestKeyManager();
        var symmetric = await kms.Api().NewKeyAsync("aes");
        var rsa = await RsaKeyAsync(kms.Manager);
        var blob = await kms.Api().EncryptBlobAsync(symmetric.KeyId, Secret);
        var rsaCiphertext = await RsaEncryptAsync(kms.Manager, rsa.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256);
        await kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = rsa.KeyId }, Ct);

        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = rsaCiphertext, SourceKeyId = rsa.KeyId, SourceEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256, DestinationKeyId = symmetric.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = rsa.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Ct));
    }
}
