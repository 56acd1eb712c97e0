using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// Custom key store record seals through <see cref="SealingKeyStore.CustomKeyStores"/>: every record
/// written is sealed, every record read is verified, and a record written or changed outside
/// EnvelopeKms (a swapped cluster, a redirected proxy, a replaced credential) is an integrity error
/// naming the custom key store, never silently used.
/// </summary>
public sealed class SealingCustomKeyStoreRecordStoreTests
{
    private const string StoreId = "cks-0123456789abcdef0";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static CustomKeyStoreRecord Record(string id = StoreId) => new()
    {
        CustomKeyStoreId = id,
        CustomKeyStoreName = "external",
        CustomKeyStoreType = CustomKeyStoreType.ExternalKeyStore,
        CreationDate = new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero),
        XksProxyUriEndpoint = "https://xks.example.com",
        XksProxyUriPath = "/kms/xks/v1",
        XksProxyConnectivity = "PUBLIC_ENDPOINT",
        XksProxyAccessKeyId = "ABCDE12345670EXAMPLE",
        WrappedCredential = [1, 2, 3, 4],
        ConnectionState = CustomKeyStoreConnectionState.Disconnected,
    };

    [Fact]
    public void A_store_with_custom_key_stores_exposes_a_sealing_view_and_one_without_exposes_none()
    {
        var sealing = StoreGrants.Sealing(new InMemoryKeyStore());
        Assert.IsType<SealingCustomKeyStoreRecordStore>(sealing.CustomKeyStores);
        Assert.Same(sealing.CustomKeyStores, sealing.CustomKeyStores);
        Assert.Null(StoreGrants.Sealing(new SealingGrantStoreTests.KeysOnlyStore(new InMemoryKeyStore())).CustomKeyStores);
    }

    [Fact]
    public async Task Every_write_is_sealed_by_the_root_key_and_reads_back_verified()
    {
        var inner = new InMemoryKeyStore();
        using var rootKey = StoreGrants.TestRootKey();
        var records = StoreGrants.Sealing(inner, rootKey).CustomKeyStores!;

        var inserted = await records.InsertCustomKeyStoreAsync(Record(), Ct);
        var stored = (await inner.GetCustomKeyStoreAsync(StoreId, Ct))!;
        Assert.True(RecordSeal.IsAuthentic(rootKey, stored));
        Assert.Equal(stored.Seal, inserted.Seal);

        var connected = await records.UpdateCustomKeyStoreAsync(inserted with { ConnectionState = CustomKeyStoreConnectionState.Connected }, Ct);
        Assert.True(RecordSeal.IsAuthentic(rootKey, (await inner.GetCustomKeyStoreAsync(StoreId, Ct))!));
        Assert.Equal(CustomKeyStoreConnectionState.Connected, (await records.GetCustomKeyStoreAsync(StoreId, Ct))!.ConnectionState);
        Assert.Single(await records.ListCustomKeyStoresAsync(Ct));

        await records.DeleteCustomKeyStoreAsync(StoreId, connected.Version, Ct);
        Assert.Null(await records.GetCustomKeyStoreAsync(StoreId, Ct));
    }

    public static TheoryData<string> Forgeries => new()
    {
        "unsealed", "empty seal", "proxy redirected", "credential replaced", "cluster swapped", "renamed",
        "copied to another id", "sealed by another root key", "connection state changed", "type changed",
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task A_record_written_or_edited_outside_EnvelopeKms_is_an_integrity_error_naming_it_on_every_read(string forgery)
    {
        var inner = new InMemoryKeyStore();
        var records = StoreGrants.Sealing(inner).CustomKeyStores!;
        var genuine = await records.InsertCustomKeyStoreAsync(Record(), Ct);
        using var otherRoot = new EnvelopeKms.Protection.AesGcmRootKey(new byte[32], null);
        var forged = forgery switch
        {
            "unsealed" => genuine with { Seal = null },
            "empty seal" => genuine with { Seal = [] },
            "proxy redirected" => genuine with { XksProxyUriEndpoint = "https://attacker.example.com" },
            "credential replaced" => genuine with { WrappedCredential = [9, 9, 9, 9] },
            "cluster swapped" => genuine with { CloudHsmClusterId = "cluster-abcdefghijk" },
            "renamed" => genuine with { CustomKeyStoreName = "other" },
            "copied to another id" => genuine with { CustomKeyStoreId = "cks-0123456789abcdef1", CustomKeyStoreName = "copy" },
            "sealed by another root key" => RecordSeal.Seal(otherRoot, genuine),
            "connection state changed" => genuine with { ConnectionState = CustomKeyStoreConnectionState.Connected },
            "type changed" => genuine with { CustomKeyStoreType = CustomKeyStoreType.AwsCloudHsm },
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };

        if (forged.CustomKeyStoreId == genuine.CustomKeyStoreId)
        {
            await inner.UpdateCustomKeyStoreAsync(forged, Ct);
        }
        else
        {
            await inner.InsertCustomKeyStoreAsync(forged, Ct);
        }

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await records.GetCustomKeyStoreAsync(forged.CustomKeyStoreId, Ct));
        Assert.Contains(forged.CustomKeyStoreId, e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await records.ListCustomKeyStoresAsync(Ct));
    }

    [Fact]
    public async Task Custom_key_store_records_need_a_seal_even_in_a_store_of_the_unsealed_format()
    {
        var inner = new InMemoryKeyStore();
        var sealing = new SealingKeyStore(inner);
        sealing.Open(StoreGrants.TestRootKey(), formatVersion: 1);
        await inner.InsertCustomKeyStoreAsync(Record(), Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await sealing.CustomKeyStores!.GetCustomKeyStoreAsync(StoreId, Ct));
    }

    [Fact]
    public async Task A_key_moved_into_another_custom_key_store_or_backend_key_outside_EnvelopeKms_fails_its_integrity_check()
    {
        var inner = new InMemoryKeyStore();
        var sealing = StoreGrants.Sealing(inner);
        var key = new KeyRecord
        {
            KeyId = "11111111-2222-3333-4444-555555555555",
            AccountId = "111122223333",
            CreationDate = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            KeyState = KeyState.Enabled,
            KeySpec = KeySpec.SymmetricDefault,
            KeyUsage = KeyUsage.EncryptDecrypt,
            Origin = KeyOrigin.ExternalKeyStore,
            CustomKeyStoreId = StoreId,
            CustomKeyStoreKeyId = "xks-key-1",
        };
        var stored = await sealing.InsertKeyAsync(key, Ct);
        Assert.Equal("xks-key-1", (await sealing.GetKeyAsync(key.KeyId, Ct))!.CustomKeyStoreKeyId);

        await inner.UpdateKeyAsync(stored with { CustomKeyStoreKeyId = "xks-key-2" }, Ct);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await sealing.GetKeyAsync(key.KeyId, Ct));

        var current = (await inner.GetKeyAsync(key.KeyId, Ct))!;
        await inner.UpdateKeyAsync(current with { CustomKeyStoreKeyId = "xks-key-1", CustomKeyStoreId = "cks-0123456789abcdef1" }, Ct);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await sealing.GetKeyAsync(key.KeyId, Ct));
    }
}
