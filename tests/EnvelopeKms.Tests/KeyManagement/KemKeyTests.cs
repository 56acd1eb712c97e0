using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// ML-KEM keys (<c>ML_KEM_512</c>/<c>768</c>/<c>1024</c>, usage <c>ENCAPSULATE_DECAPSULATE</c>):
/// <c>Decapsulate</c> with implicit rejection (a changed ciphertext of the right length gives an unrelated
/// 32-byte secret; only a wrong length is an error), <c>Encapsulate</c> with the key's public key, and
/// encapsulation outside the library (BouncyCastle) with the key <c>GetPublicKey</c> exports.
/// </summary>
public sealed class KemKeyTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("kem");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    private static async Task<KeyMetadata> CreateAsync(KeyManager kms, KeySpec spec)
        => (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "kem", KeySpec = spec, KeyUsage = KeyUsage.EncapsulateDecapsulate }, Ct)).KeyMetadata;

    private static async Task<byte[]> DecapsulateAsync(KeyManager kms, string keyId, byte[] ciphertext)
    {
        using var response = await kms.DecapsulateAsync(new DecapsulateRequest { KeyId = keyId, Ciphertext = ciphertext }, Ct);
        return response.SharedSecret.ToArray();
    }

    [Theory]
    [InlineData(KeySpec.MlKem512, 768)]
    [InlineData(KeySpec.MlKem768, 1088)]
    [InlineData(KeySpec.MlKem1024, 1568)]
    public async Task An_ml_kem_key_decapsulates_what_it_and_an_outside_encapsulator_encapsulate(KeySpec spec, int ciphertextLength)
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, spec);
        Assert.Equal(KeyUsage.EncapsulateDecapsulate, key.KeyUsage);
        Assert.Empty(key.EncryptionAlgorithms);
        Assert.Empty(key.SigningAlgorithms);

        using (var encapsulated = await kms.Manager.EncapsulateAsync(new EncapsulateRequest { KeyId = key.KeyId }, Ct))
        {
            Assert.Equal(ciphertextLength, encapsulated.Ciphertext.Length);
            Assert.Equal(32, encapsulated.SharedSecret.Length);
            Assert.Equal(encapsulated.SharedSecret, await DecapsulateAsync(kms.Manager, key.KeyId, encapsulated.Ciphertext));
        }

        // Outside the library, with the exported SubjectPublicKeyInfo.
        var spki = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct)).PublicKey;
        var publicKey = (MLKemPublicKeyParameters)PublicKeyFactory.CreateKey(spki);
        var encapsulator = new MLKemEncapsulator(publicKey.Parameters);
        encapsulator.Init(new Org.BouncyCastle.Crypto.Parameters.ParametersWithRandom(publicKey, new SecureRandom()));
        var ciphertext = new byte[encapsulator.EncapsulationLength];
        var secret = new byte[encapsulator.SecretLength];
        encapsulator.Encapsulate(ciphertext, secret);
        Assert.Equal(secret, await DecapsulateAsync(kms.Manager, key.KeyId, ciphertext));
    }

    [Fact]
    public async Task A_changed_ciphertext_gives_an_unrelated_secret_and_only_a_wrong_length_is_an_invalid_ciphertext()
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.MlKem768);
        using var encapsulated = await kms.Manager.EncapsulateAsync(new EncapsulateRequest { KeyId = key.KeyId }, Ct);
        var changed = encapsulated.Ciphertext.ToArray();
        changed[17] ^= 0x40;

        var rejected = await DecapsulateAsync(kms.Manager, key.KeyId, changed);
        Assert.Equal(32, rejected.Length);
        Assert.NotEqual(encapsulated.SharedSecret, rejected);
        Assert.Equal(rejected, await DecapsulateAsync(kms.Manager, key.KeyId, changed));

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => DecapsulateAsync(kms.Manager, key.KeyId, new byte[1087]));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => DecapsulateAsync(kms.Manager, key.KeyId, new byte[768]));
        await Assert.ThrowsAsync<KmsValidationException>(() => DecapsulateAsync(kms.Manager, key.KeyId, []));
    }

    [Fact]
    public async Task Usages_are_enforced_both_ways_for_ml_kem_keys()
    {
        using var kms = new TestKeyManager();
        var key = await CreateAsync(kms.Manager, KeySpec.MlKem512);
        var signing = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }, Ct)).KeyMetadata;
        var symmetric = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { Description = "aes" }, Ct)).KeyMetadata;

        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.EncryptAsync(key.KeyId, new byte[] { 1 }, cancellationToken: Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = new byte[] { 1 }, SigningAlgorithm = SigningAlgorithm.MlDsaShake256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.DecapsulateAsync(new DecapsulateRequest { KeyId = signing.KeyId, Ciphertext = new byte[768] }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.EncapsulateAsync(new EncapsulateRequest { KeyId = symmetric.KeyId }, Ct));

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlKem768, KeyUsage = KeyUsage.SignVerify }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlKem768 }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlDsa65, KeyUsage = KeyUsage.EncapsulateDecapsulate }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeyUsage = KeyUsage.EncapsulateDecapsulate }, Ct));
    }

    [Fact]
    public async Task Ml_kem_keys_in_a_durable_store_decapsulate_after_a_restart()
    {
        var path = Path.Combine(_directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        string keyId;
        byte[] ciphertext, secret, spki;
        using (var first = new TestKeyManager(new SqliteKeyStore(path), root))
        {
            keyId = (await CreateAsync(first.Manager, KeySpec.MlKem1024)).KeyId;
            using var encapsulated = await first.Manager.EncapsulateAsync(new EncapsulateRequest { KeyId = keyId }, Ct);
            ciphertext = encapsulated.Ciphertext;
            secret = encapsulated.SharedSecret.ToArray();
            spki = (await first.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey;
        }

        using var second = new TestKeyManager(new SqliteKeyStore(path), root);
        Assert.Equal(secret, await DecapsulateAsync(second.Manager, keyId, ciphertext));
        Assert.Equal(spki, (await second.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey);
    }
}
