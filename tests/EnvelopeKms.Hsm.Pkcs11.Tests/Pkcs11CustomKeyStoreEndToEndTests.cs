using System.Text;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Hsm.Pkcs11.Tests;

/// <summary>An HSM key store end to end through the key manager, with SoftHSM2 as the "cluster".</summary>
[Collection(SoftHsmGroup.Name)]
public sealed class Pkcs11CustomKeyStoreEndToEndTests(SoftHsm hsm)
{
    private const string ClusterId = "cluster-softhsm0001";
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "contoso" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ManualClock _clock = new();

    private KeyManager NewKeyManager(InMemoryKeyStore store)
    {
        var manager = new KeyManager(store, new StaticRootKeyProvider(new byte[32]), timeProvider: _clock);
        manager.CustomKeyStoreBackends.AddPkcs11HsmCluster(ClusterId, hsm.ModulePath, SoftHsm.KeysToken);
        return manager;
    }

    [Fact]
    public async Task Create_connect_use_disconnect_reconnect_and_delete_an_hsm_key_store()
    {
        hsm.Require();
        var store = new InMemoryKeyStore();
        using var kms = NewKeyManager(store);

        // A wrong PIN: the connection fails with INVALID_CREDENTIALS and the store is FAILED.
        var id = (await kms.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = "softhsm",
            CloudHsmClusterId = ClusterId,
            KeyStorePassword = "not-the-user-pin",
        }, Ct)).CustomKeyStoreId;
        var failed = await kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        Assert.Equal(CustomKeyStoreConnectionState.Failed, failed.ConnectionState);
        Assert.Equal(CustomKeyStoreConnectionErrorCode.InvalidCredentials, failed.ConnectionErrorCode);
        await kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        await kms.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = id, KeyStorePassword = SoftHsm.UserPin }, Ct);

        var connected = await kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        Assert.Equal(CustomKeyStoreConnectionState.Connected, connected.ConnectionState);

        // A key generated in the token: non-extractable, named by its CKA_ID in the record.
        var key = (await kms.CreateKeyAsync(new CreateKeyRequest { CustomKeyStoreId = id, Origin = KeyOrigin.AwsCloudHsm, Description = "in softhsm" }, Ct)).KeyMetadata;
        Assert.Equal(KeyOrigin.AwsCloudHsm, key.Origin);
        Assert.Equal(ClusterId, key.CloudHsmClusterId);
        Assert.Equal(KeyState.Enabled, key.KeyState);
        var record = (await store.GetKeyAsync(key.KeyId, Ct))!;
        Assert.Empty(record.KeyMaterials);
        await using (var direct = new Pkcs11CustomKeyStoreBackend(hsm.Options()))
        {
            await direct.ConnectAsync(Ct);
            var attributes = await direct.DescribeKeyAttributesAsync(record.CustomKeyStoreKeyId!, Ct);
            Assert.Equal(key.KeyId, attributes.Label);
            Assert.False(attributes.Extractable);
            Assert.True(attributes.Sensitive);
            Assert.True(attributes.NeverExtractable);
        }

        // Encrypt, Decrypt and GenerateDataKey run in the HSM.
        var encrypted = await kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = Encoding.UTF8.GetBytes("guarded by softhsm"), EncryptionContext = Context }, Ct);
        using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = Context }, Ct))
        {
            Assert.Equal("guarded by softhsm", Encoding.UTF8.GetString(decrypted.Plaintext));
        }

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob }, Ct));
        using (var dataKey = await kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Ct))
        using (var again = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = dataKey.CiphertextBlob }, Ct))
        {
            Assert.Equal(dataKey.Plaintext.ToArray(), again.Plaintext.ToArray());
        }

        // Disconnected: the key is Unavailable and cannot be used; the store cannot be deleted while it has keys.
        await kms.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        Assert.Equal(KeyState.Unavailable, (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, Ct)).KeyMetadata.KeyState);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 } }, Ct));
        await Assert.ThrowsAsync<KmsCustomKeyStoreHasKeysException>(() => kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct));

        // Connected again, and in a restarted key manager on the same store: the old ciphertext decrypts.
        await kms.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        using (var decrypted = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = Context }, Ct))
        {
            Assert.Equal("guarded by softhsm", Encoding.UTF8.GetString(decrypted.Plaintext));
        }

        await Assert.ThrowsAsync<KmsCustomKeyStoreInvalidStateException>(() => kms.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct));
        kms.Dispose();
        using var restarted = NewKeyManager(store);
        using (var decrypted = await restarted.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = Context }, Ct))
        {
            Assert.Equal("guarded by softhsm", Encoding.UTF8.GetString(decrypted.Plaintext));
        }

        // The key's deletion destroys its token object; then the store, disconnected and empty, is deleted.
        await restarted.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Ct);
        _clock.Now = _clock.Now.AddDays(8);
        Assert.Equal(1, await restarted.PurgeExpiredKeysAsync(Ct));
        await using (var direct = new Pkcs11CustomKeyStoreBackend(hsm.Options()))
        {
            await direct.ConnectAsync(Ct);
            await Assert.ThrowsAsync<KmsInvalidStateException>(() => direct.DescribeKeyAsync(record.CustomKeyStoreKeyId!, Ct).AsTask());
        }

        await restarted.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        await restarted.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = id }, Ct);
        Assert.Empty((await restarted.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest(), Ct)).Items);
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;
}
