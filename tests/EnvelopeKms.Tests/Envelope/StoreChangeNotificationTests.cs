using EnvelopeKms.Envelope;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// Changes reported by a shared key store (<see cref="IKeyStoreChangeNotifier"/>) reach every key
/// manager on it as <see cref="KeyManager.KeyChanged"/>, and so evict cached data keys in envelope
/// encryptors of other instances. The store here is a notifying decorator over the in-memory store
/// that reports each write, as the SQLite and PostgreSQL stores do across processes.
/// </summary>
public sealed class StoreChangeNotificationTests
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["app"] = "notify" };

    [Fact]
    public async Task A_key_disabled_through_one_manager_evicts_the_data_keys_cached_by_another()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new NotifyingKeyStore(new InMemoryKeyStore());
        using var a = new TestKeyManager(store);
        using var b = new TestKeyManager(store);
        var key = await a.Manager.CreateKeyAsync("shared", ct);
        using var encryptor = new EnvelopeEncryptor(b.Manager, null, b.Clock);
        var protector = encryptor.CreateProtector(key.KeyId, Context);
        var envelope = protector.Encrypt([1]);
        Assert.Equal([1], protector.Decrypt(envelope));
        Assert.Equal(2, encryptor.CacheStatistics.Entries);

        var seen = new List<KeyChangedEventArgs>();
        b.Manager.KeyChanged += (_, e) => seen.Add(e);
        await a.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, ct);

        var change = Assert.Single(seen);
        Assert.Equal(key.KeyId, change.KeyId);
        Assert.Null(change.Operation);
        Assert.Equal(0, encryptor.CacheStatistics.Entries);
        Assert.Throws<KmsDisabledException>(() => protector.Encrypt([2]));
        Assert.Throws<KmsDisabledException>(() => protector.Decrypt(envelope));
    }

    [Fact]
    public async Task Encryption_count_reservations_by_another_instance_do_not_empty_the_cache()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new NotifyingKeyStore(new InMemoryKeyStore());
        var options = new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = 2048 }; // Blocks of 2: a reservation every other encryption.
        using var a = new TestKeyManager(store, options: options);
        using var b = new TestKeyManager(store, options: options);
        var key = await a.Manager.CreateKeyAsync("shared", ct);
        using var encryptor = new EnvelopeEncryptor(b.Manager, null, b.Clock);
        var protector = encryptor.CreateProtector(key.KeyId, Context);
        protector.Encrypt([1]);
        var seen = new List<KeyChangedEventArgs>();
        b.Manager.KeyChanged += (_, e) => seen.Add(e);
        var versionBefore = (await store.GetKeyAsync(key.KeyId, ct))!.Version;

        for (var i = 0; i < 6; i++)
        {
            await a.Manager.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 2 }, EncryptionContext = Context }, ct);
        }

        Assert.True((await store.GetKeyAsync(key.KeyId, ct))!.Version >= versionBefore + 3); // The reservations were written...
        Assert.Empty(seen); // ...and did not reach b as key changes.
        Assert.Equal(1, encryptor.CacheStatistics.Entries);
    }

    [Fact]
    public async Task A_rotation_by_another_instance_evicts_the_cached_data_keys()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new NotifyingKeyStore(new InMemoryKeyStore());
        using var a = new TestKeyManager(store);
        using var b = new TestKeyManager(store);
        var key = await a.Manager.CreateKeyAsync("shared", ct);
        using var encryptor = new EnvelopeEncryptor(b.Manager, null, b.Clock);
        var protector = encryptor.CreateProtector(key.KeyId, Context);
        var envelope = protector.Encrypt([1]);
        var seen = new List<KeyChangedEventArgs>();
        b.Manager.KeyChanged += (_, e) => seen.Add(e);

        await a.Manager.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, ct);

        Assert.Equal(key.KeyId, Assert.Single(seen).KeyId);
        Assert.Equal(0, encryptor.CacheStatistics.Entries);
        Assert.Equal([1], protector.Decrypt(envelope)); // The old data key still decrypts: its material is kept.
    }

    [Fact]
    public async Task A_reset_from_the_store_empties_every_cache_on_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new NotifyingKeyStore(new InMemoryKeyStore());
        using var kms = new TestKeyManager(store);
        var first = await kms.Manager.CreateKeyAsync("first", ct);
        var second = await kms.Manager.CreateKeyAsync("second", ct);
        using var encryptor = new EnvelopeEncryptor(kms.Manager, null, kms.Clock);
        var one = encryptor.CreateProtector(first.KeyId, Context);
        var two = encryptor.CreateProtector(second.KeyId, Context);
        var envelope = one.Encrypt([1]);
        two.Encrypt([2]);
        Assert.Equal(2, encryptor.CacheStatistics.Entries);

        store.Raise(KeyStoreChangedEventArgs.Reset);

        Assert.Equal(0, encryptor.CacheStatistics.Entries);
        Assert.Equal([1], one.Decrypt(envelope)); // Reloaded through the key manager.
    }

    [Fact]
    public async Task A_disposed_manager_stops_listening_to_its_store()
    {
        var ct = TestContext.Current.CancellationToken;
        var store = new NotifyingKeyStore(new InMemoryKeyStore());
        var kms = new TestKeyManager(store);
        await kms.Manager.CreateKeyAsync("k", ct);
        Assert.Equal(1, store.SubscriberCount);
        kms.Dispose();
        Assert.Equal(0, store.SubscriberCount);
    }

    /// <summary>Reports every successful write of the inner store to its subscribers.</summary>
    private sealed class NotifyingKeyStore(IKeyStore inner) : IKeyStore, IKeyStoreChangeNotifier
    {
        public event EventHandler<KeyStoreChangedEventArgs>? Changed;

        public int SubscriberCount => Changed?.GetInvocationList().Length ?? 0;

        public void Raise(KeyStoreChangedEventArgs e) => Changed?.Invoke(this, e);

        public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => inner.GetMetadataAsync(cancellationToken);

        public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken) => inner.InitializeMetadataAsync(metadata, cancellationToken);

        public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) => inner.GetKeyAsync(keyId, cancellationToken);

        public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken) => inner.ListKeysAsync(afterKeyId, limit, cancellationToken);

        public async ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
            => Report(await inner.InsertKeyAsync(key, cancellationToken), key.KeyId, null);

        public async ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
            => Report(await inner.UpdateKeyAsync(key, cancellationToken), key.KeyId, null);

        public async ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
        {
            await inner.DeleteKeyAsync(keyId, expectedVersion, cancellationToken);
            Report(0, keyId, null);
        }

        public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken) => inner.GetAliasAsync(aliasName, cancellationToken);

        public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
            => inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, cancellationToken);

        public async ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
            => Report(await inner.InsertAliasAsync(alias, cancellationToken), null, alias.AliasName);

        public async ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
            => Report(await inner.UpdateAliasAsync(alias, cancellationToken), null, alias.AliasName);

        public async ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
        {
            await inner.DeleteAliasAsync(aliasName, expectedVersion, cancellationToken);
            Report(0, null, aliasName);
        }

        private T Report<T>(T result, string? keyId, string? aliasName)
        {
            Raise(new KeyStoreChangedEventArgs(keyId, aliasName));
            return result;
        }
    }
}
