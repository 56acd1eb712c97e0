using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// RSA keys with usage <c>ENCRYPT_DECRYPT</c> (RSAES-OAEP <c>Encrypt</c>/<c>Decrypt</c>, no encryption
/// context, the ciphertext is the raw OAEP output) and ECC keys with usage <c>KEY_AGREEMENT</c>
/// (<c>DeriveSharedSecret</c> with ECDH). Interoperability is checked against the platform's own RSA and
/// ECDiffieHellman with the public key <c>GetPublicKey</c> exports.
/// </summary>
public sealed class EncryptionAndKeyAgreementKeyTests : IDisposable
{
    private static readonly byte[] Secret = "wire transfer approval code 8841-22"u8.ToArray();
    private readonly TemporaryStoreDirectory _directory = new("kex");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private static async Task<KeyMetadata> CreateAsync(KeyManager kms, KeySpec spec, KeyUsage usage)
        => (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "kex", KeySpec = spec, KeyUsage = usage }, Ct)).KeyMetadata;

    private static async Task<byte[]> EncryptAsync(KeyManager kms, string keyId, byte[] plaintext, EncryptionAlgorithm algorithm)
        => (await kms.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionAlgorithm = algorithm }, Ct)).CiphertextBlob;

    private static async Task<byte[]> DecryptAsync(KeyManager kms, string keyId, byte[] ciphertext, EncryptionAlgorithm algorithm)
    {
        using var response = await kms.DecryptAsync(new DecryptRequest { KeyId = keyId, CiphertextBlob = ciphertext, EncryptionAlgorithm = algorithm }, Ct);
        return response.Plaintext.ToArray();
    }

    private static RSAEncryptionPadding Padding(EncryptionAlgorithm algorithm)
        => algorithm == EncryptionAlgorithm.RsaesOaepSha1 ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.OaepSHA256;

    [Theory]
    [InlineData(KeySpec.Rsa2048, EncryptionAlgorithm.RsaesOaepSha1, 214)]
    [InlineData(KeySpec.Rsa2048, EncryptionAlgorithm.RsaesOaepSha256, 190)]
    [InlineData(KeySpec.Rsa3072, EncryptionAlgorithm.RsaesOaepSha1, 342)]
    [InlineData(KeySpec.Rsa3072, EncryptionAlgorithm.RsaesOaepSha256, 318)]
    [InlineData(KeySpec.Rsa4096, EncryptionAlgorithm.RsaesOaepSha1, 470)]
    [InlineData(KeySpec.Rsa4096, EncryptionAlgorithm.RsaesOaepSha256, 446)]
    public async Task An_rsa_encryption_key_round_trips_up_to_its_plaintext_limit_and_interoperates_with_the_platform(KeySpec spec, EncryptionAlgorithm algorithm, int limit)
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, spec, KeyUsage.EncryptDecrypt);
        Assert.Equal([EncryptionAlgorithm.RsaesOaepSha1, EncryptionAlgorithm.RsaesOaepSha256], key.EncryptionAlgorithms);
        Assert.Empty(key.SigningAlgorithms);
        Assert.Empty(key.KeyAgreementAlgorithms);

        var longest = RandomNumberGenerator.GetBytes(limit);
        var ciphertext = await EncryptAsync(kms.Manager, key.KeyId, longest, algorithm);
        Assert.Equal(int.Parse(spec.ToKmsName()[4..], System.Globalization.CultureInfo.InvariantCulture) / 8, ciphertext.Length);
        Assert.Equal(longest, await DecryptAsync(kms.Manager, key.KeyId, ciphertext, algorithm));
        var tooLong = await Assert.ThrowsAsync<KmsValidationException>(() => EncryptAsync(kms.Manager, key.KeyId, new byte[limit + 1], algorithm));
        Assert.Contains(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), tooLong.Message, StringComparison.Ordinal);

        // Encrypt outside the library with the exported public key; the key manager decrypts it.
        var publicKey = await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(key.EncryptionAlgorithms, publicKey.EncryptionAlgorithms);
        Assert.Empty(publicKey.SigningAlgorithms);
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(publicKey.PublicKey, out _);
        var external = rsa.Encrypt(Secret, Padding(algorithm));
        Assert.Equal(Secret, await DecryptAsync(kms.Manager, key.KeyId, external, algorithm));
    }

    [Fact]
    public async Task Rsa_decrypt_with_the_other_oaep_hash_a_tampered_ciphertext_or_another_key_is_an_invalid_ciphertext_error()
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.Rsa2048, KeyUsage.EncryptDecrypt);
        var other = await CreateAsync(kms.Manager, KeySpec.Rsa2048, KeyUsage.EncryptDecrypt);
        var ciphertext = await EncryptAsync(kms.Manager, key.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256);

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => DecryptAsync(kms.Manager, key.KeyId, ciphertext, EncryptionAlgorithm.RsaesOaepSha1));
        var tampered = ciphertext.ToArray();
        tampered[^1] ^= 1;
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => DecryptAsync(kms.Manager, key.KeyId, tampered, EncryptionAlgorithm.RsaesOaepSha256));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => DecryptAsync(kms.Manager, key.KeyId, ciphertext.AsSpan(0, ciphertext.Length - 1).ToArray(), EncryptionAlgorithm.RsaesOaepSha256));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => DecryptAsync(kms.Manager, other.KeyId, ciphertext, EncryptionAlgorithm.RsaesOaepSha256));
        Assert.Equal(Secret, await DecryptAsync(kms.Manager, key.KeyId, ciphertext, EncryptionAlgorithm.RsaesOaepSha256));
    }

    [Fact]
    public async Task Rsa_encryption_rejects_an_encryption_context_symmetric_default_and_the_symmetric_only_operations()
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.Rsa3072, KeyUsage.EncryptDecrypt);
        var symmetric = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { Description = "aes" }, Ct)).KeyMetadata;
        var context = new Dictionary<string, string> { ["purpose"] = "test" };
        var ciphertext = await EncryptAsync(kms.Manager, key.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha1);

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = Secret, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1, EncryptionContext = context }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DecryptAsync(new DecryptRequest { KeyId = key.KeyId, CiphertextBlob = ciphertext, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1, EncryptionContext = context }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => EncryptAsync(kms.Manager, key.KeyId, Secret, EncryptionAlgorithm.SymmetricDefault));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertext, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha1 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Manager.DecryptAsync(new DecryptRequest { KeyId = key.KeyId, CiphertextBlob = ciphertext }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Ct));
        var symmetricBlob = await kms.Manager.EncryptAsync(symmetric.KeyId, Secret, cancellationToken: Ct);
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = symmetricBlob, DestinationKeyId = key.KeyId }, Ct));
        // ReEncrypt from an RSA ciphertext works (RsaReEncryptTests); to an RSA key it needs an RSA destination algorithm.

        // The other way round: RSA algorithms on a symmetric key, and signing with an encryption key.
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => EncryptAsync(kms.Manager, symmetric.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Secret, SigningAlgorithm = SigningAlgorithm.RsassaPssSha256 }, Ct));
    }

    [Fact]
    public async Task A_signing_rsa_key_does_not_encrypt_and_an_encryption_rsa_key_does_not_sign()
    {
        using var kms = new TestKeyManager();
        var signing = await CreateAsync(kms.Manager, KeySpec.Rsa2048, KeyUsage.SignVerify);

        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => EncryptAsync(kms.Manager, signing.KeyId, Secret, EncryptionAlgorithm.RsaesOaepSha256));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => DecryptAsync(kms.Manager, signing.KeyId, new byte[256], EncryptionAlgorithm.RsaesOaepSha256));
        Assert.Empty(signing.EncryptionAlgorithms);
    }

    public static TheoryData<KeySpec> Curves => [KeySpec.EccNistP256, KeySpec.EccNistP384, KeySpec.EccNistP521, KeySpec.EccSecgP256k1];

    private static ECCurve CurveOf(KeySpec spec) => spec switch
    {
        KeySpec.EccNistP256 => ECCurve.NamedCurves.nistP256,
        KeySpec.EccNistP384 => ECCurve.NamedCurves.nistP384,
        KeySpec.EccNistP521 => ECCurve.NamedCurves.nistP521,
        _ => ECCurve.CreateFromValue("1.3.132.0.10"),
    };

    [Theory]
    [MemberData(nameof(Curves))]
    public async Task A_key_agreement_key_and_a_platform_peer_derive_the_same_shared_secret(KeySpec spec)
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, spec, KeyUsage.KeyAgreement);
        Assert.Equal([KeyAgreementAlgorithm.Ecdh], key.KeyAgreementAlgorithms);
        Assert.Empty(key.EncryptionAlgorithms);
        Assert.Empty(key.SigningAlgorithms);
        var publicKey = await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal([KeyAgreementAlgorithm.Ecdh], publicKey.KeyAgreementAlgorithms);

        using var peer = ECDiffieHellman.Create(CurveOf(spec));
        using var ours = ECDiffieHellman.Create();
        ours.ImportSubjectPublicKeyInfo(publicKey.PublicKey, out _);
        var expected = peer.DeriveRawSecretAgreement(ours.PublicKey);

        var response = await kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = peer.ExportSubjectPublicKeyInfo() }, Ct);
        Assert.Equal(expected, response.SharedSecret);
        Assert.Equal(KeyAgreementAlgorithm.Ecdh, response.KeyAgreementAlgorithm);
        Assert.EndsWith(key.KeyId, response.KeyId, StringComparison.Ordinal);

        response.Dispose();
        Assert.All(response.SharedSecret, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Derive_shared_secret_rejects_a_peer_key_on_another_curve_or_malformed_and_keys_of_other_usages()
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.EccNistP256, KeyUsage.KeyAgreement);
        var signing = await CreateAsync(kms.Manager, KeySpec.EccNistP256, KeyUsage.SignVerify);
        using var p384 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        using var p256 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var good = p256.ExportSubjectPublicKeyInfo();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = p384.ExportSubjectPublicKeyInfo() }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = good.AsMemory(0, good.Length - 1) }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = ReadOnlyMemory<byte>.Empty }, Ct));
        var offCurve = good.ToArray();
        offCurve[^1] ^= 1;
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = offCurve }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = good, KeyAgreementAlgorithm = (KeyAgreementAlgorithm)9 }, Ct));

        // Usage enforced both ways.
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = signing.KeyId, PublicKey = good }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Secret, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.EncryptAsync(key.KeyId, Secret, cancellationToken: Ct));
        var symmetric = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { Description = "aes" }, Ct)).KeyMetadata;
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = symmetric.KeyId, PublicKey = good }, Ct));

        // Only the Weierstrass curves agree keys.
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistEdwards25519, KeyUsage = KeyUsage.KeyAgreement }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Rsa2048, KeyUsage = KeyUsage.KeyAgreement }, Ct));
    }

    [Fact]
    public async Task Encryption_and_key_agreement_keys_in_a_durable_store_work_after_a_restart()
    {
        var path = Path.Combine(_directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        string rsaId, ecdhId;
        byte[] ciphertext, secret;
        using (var first = new TestKeyManager(new SqliteKeyStore(path), root))
        {
            rsaId = (await CreateAsync(first.Manager, KeySpec.Rsa4096, KeyUsage.EncryptDecrypt)).KeyId;
            ecdhId = (await CreateAsync(first.Manager, KeySpec.EccNistP384, KeyUsage.KeyAgreement)).KeyId;
            ciphertext = await EncryptAsync(first.Manager, rsaId, Secret, EncryptionAlgorithm.RsaesOaepSha256);
            using var derived = await first.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = ecdhId, PublicKey = peer.ExportSubjectPublicKeyInfo() }, Ct);
            secret = derived.SharedSecret.ToArray();
        }

        using var second = new TestKeyManager(new SqliteKeyStore(path), root);
        Assert.Equal(Secret, await DecryptAsync(second.Manager, rsaId, ciphertext, EncryptionAlgorithm.RsaesOaepSha256));
        using var again = await second.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = ecdhId, PublicKey = peer.ExportSubjectPublicKeyInfo() }, Ct);
        Assert.Equal(secret, again.SharedSecret);
        var described = await second.Manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = ecdhId }, Ct);
        Assert.Equal(KeyUsage.KeyAgreement, described.KeyMetadata.KeyUsage);
        Assert.Equal([KeyAgreementAlgorithm.Ecdh], described.KeyMetadata.KeyAgreementAlgorithms);
    }
}
