using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// Backup and restore (<see cref="KeyStoreSnapshot"/>): a snapshot exported from one provider and
/// imported into another round-trips every key, key-material version and alias, and every ciphertext
/// made before the export decrypts through the destination; a modified or truncated snapshot, a wrong
/// root key or a clashing destination is refused before anything is written.
/// </summary>
public sealed class KeyStoreSnapshotTests : IDisposable
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "backup" };
    private readonly TemporaryStoreDirectory _directory = new("snapshot");
    private int _stores;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, string> ProviderPairs => new()
    {
        { "memory", "file" },
        { "file", "sqlite" },
        { "sqlite", "memory" },
        { "sqlite", "sqlite" },
    };

    private IKeyStore NewStore(string kind) => NewLocalStore(kind, Path.Combine(_directory.Parent, $"store-{Interlocked.Increment(ref _stores)}"));

    /// <summary>A new, empty store of an in-process provider: <c>memory</c>, <c>file</c> (a directory at <paramref name="path"/>) or <c>sqlite</c>.</summary>
    internal static IKeyStore NewLocalStore(string kind, string path) => kind switch
    {
        "memory" => new InMemoryKeyStore(),
        "file" => new FileSystemKeyStore(path),
        "sqlite" => new SqliteKeyStore(path + ".db"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown store kind"),
    };

    [Theory]
    [MemberData(nameof(ProviderPairs))]
    public async Task A_snapshot_imported_into_another_provider_round_trips_every_key_alias_and_ciphertext(string from, string to)
        => await RoundTripAsync(NewStore(from), NewStore(to));

    /// <summary>
    /// Populates <paramref name="sourceStore"/> (keys in every state, aliases, ciphertexts), exports it,
    /// imports the snapshot into the empty <paramref name="destinationStore"/>, and checks that every
    /// record is equal and every key, alias and ciphertext works through the destination.
    /// </summary>
    internal static async Task RoundTripAsync(IKeyStore sourceStore, IKeyStore destinationStore)
    {
        using var source = new TestKeyManager(sourceStore);
        var population = await Population.CreateAsync(source.Manager);
        using var snapshot = new MemoryStream();
        var exported = await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);
        Assert.Equal(new KeyStoreSnapshotSummary(4, 3, 3, source.Clock.GetUtcNow(), exported.SourceRootKeyCheckValue), exported);

        snapshot.Position = 0;
        var imported = await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, cancellationToken: Ct);
        Assert.Equal(exported, imported);

        await AssertSameRecordsAsync(source.Store, destinationStore);
        using var destination = new TestKeyManager(destinationStore, source.RootKey);
        await population.AssertUsableThroughAsync(destination.Manager);
    }

    [Fact]
    public async Task Importing_under_another_root_key_rewraps_every_material_and_keeps_ciphertexts_readable()
    {
        var sourceRoot = new PassphraseRootKeyProvider("correct horse battery staple", PassphraseRootKeyProvider.MinimumIterations);
        using var source = new TestKeyManager(NewStore("sqlite"), sourceRoot);
        var population = await Population.CreateAsync(source.Manager);
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, sourceRoot, snapshot, source.Clock, Ct);

        var destinationRoot = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var destinationStore = NewStore("file");
        snapshot.Position = 0;
        await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, sourceRoot, new KeyStoreImportOptions { DestinationRootKeyProvider = destinationRoot }, Ct);

        var sourceKeys = await source.Store.ListKeysAsync(null, 100, Ct);
        var destinationKeys = await destinationStore.ListKeysAsync(null, 100, Ct);
        var metadata = await destinationStore.GetMetadataAsync(Ct);
        using (var root = await destinationRoot.GetRootKeyAsync(null, Ct))
        {
            Assert.Equal(root.KeyCheckValue, metadata!.RootKeyCheckValue);
        }

        foreach (var (before, after) in sourceKeys.Zip(destinationKeys))
        {
            Assert.Equal(before.KeyMaterials.Select(m => m.KeyMaterialId), after.KeyMaterials.Select(m => m.KeyMaterialId));
            Assert.All(before.KeyMaterials.Zip(after.KeyMaterials), pair => Assert.NotEqual(pair.First.WrappedMaterial, pair.Second.WrappedMaterial));
        }

        using var destination = new TestKeyManager(destinationStore, destinationRoot);
        await population.AssertUsableThroughAsync(destination.Manager);

        // The source's root key no longer opens the destination.
        using var wrong = new TestKeyManager(destinationStore, sourceRoot);
        await Assert.ThrowsAsync<KmsRootKeyException>(() => wrong.Manager.DescribeKeyAsync(population.Enabled, Ct));
    }

    [Fact]
    public async Task A_snapshot_hides_descriptions_tags_aliases_and_wrapped_material()
    {
        using var source = new TestKeyManager();
        await Population.CreateAsync(source.Manager);
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);
        var bytes = snapshot.ToArray();

        foreach (var secret in new[] { "backup-enabled", "cost-center", "alias/backup", Population.TagValue })
        {
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
        }

        foreach (var key in await source.Store.ListKeysAsync(null, 100, Ct))
        {
            Assert.Equal(-1, bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(key.KeyId)));
            foreach (var material in key.KeyMaterials)
            {
                Assert.Equal(-1, bytes.AsSpan().IndexOf(material.WrappedMaterial.AsSpan(1, 12)));
            }
        }
    }

    [Fact]
    public async Task Every_single_bit_flip_in_a_snapshot_is_refused_and_nothing_is_written()
    {
        var bytes = await SmallSnapshotAsync();
        for (var i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= (byte)(1 << (i % 8));
            await AssertRefusedAsync(tampered, $"bit {i % 8} of byte {i} of {bytes.Length}");
        }
    }

    [Fact]
    public async Task Every_truncation_of_a_snapshot_and_appended_data_are_refused_and_nothing_is_written()
    {
        var bytes = await SmallSnapshotAsync();
        for (var length = 0; length < bytes.Length; length++)
        {
            await AssertRefusedAsync(bytes[..length], $"the first {length} of {bytes.Length} bytes");
        }

        await AssertRefusedAsync([.. bytes, 0], "one byte appended");
        await AssertRefusedAsync([.. bytes, .. bytes], "the snapshot twice");
    }

    [Fact]
    public async Task A_snapshot_does_not_open_with_another_root_key()
    {
        var bytes = await SmallSnapshotAsync();
        var store = new InMemoryKeyStore();
        var error = await Assert.ThrowsAsync<KmsRootKeyException>(() =>
            KeyStoreSnapshot.ImportAsync(new MemoryStream(bytes), store, new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)), cancellationToken: Ct));
        Assert.Contains("root key", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetMetadataAsync(Ct));
    }

    [Fact]
    public async Task A_destination_holding_a_key_of_the_snapshot_is_refused_unless_overwriting()
    {
        using var source = new TestKeyManager(NewStore("sqlite"));
        var population = await Population.CreateAsync(source.Manager);
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        // The destination holds a copy made earlier, since changed: one key disabled there, one alias gone.
        var destinationStore = NewStore("sqlite");
        snapshot.Position = 0;
        await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, cancellationToken: Ct);
        using (var stale = new TestKeyManager(destinationStore, source.RootKey))
        {
            await stale.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = population.Enabled }, Ct);
            await stale.Manager.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/backup/second" }, Ct);
            await stale.Manager.CreateKeyAsync("only in the destination", Ct);
        }

        var before = (await destinationStore.ListKeysAsync(null, 100, Ct)).Select(Canonical).ToList();
        snapshot.Position = 0;
        var error = await Assert.ThrowsAsync<KmsAlreadyExistsException>(() => KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, cancellationToken: Ct));
        Assert.Contains("Overwrite", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, (await destinationStore.ListKeysAsync(null, 100, Ct)).Select(Canonical));

        snapshot.Position = 0;
        await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, new KeyStoreImportOptions { Overwrite = true }, Ct);
        using var restored = new TestKeyManager(destinationStore, source.RootKey);
        await population.AssertUsableThroughAsync(restored.Manager);
        Assert.Equal(5, (await destinationStore.ListKeysAsync(null, 100, Ct)).Count); // The destination's own key stays.
    }

    [Fact]
    public async Task A_record_forged_in_the_source_store_is_not_laundered_by_a_snapshot()
    {
        using var source = new TestKeyManager();
        var population = await Population.CreateAsync(source.Manager);
        var record = (await source.Store.GetKeyAsync(population.Disabled, Ct))!;
        await source.Store.UpdateKeyAsync(record with { KeyState = KeyState.Enabled }, Ct); // Keeps the old seal.
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        var destination = new InMemoryKeyStore();
        snapshot.Position = 0;
        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => KeyStoreSnapshot.ImportAsync(snapshot, destination, source.RootKey, cancellationToken: Ct));
        Assert.Contains(population.Disabled, error.Message, StringComparison.Ordinal);
        Assert.Null(await destination.GetMetadataAsync(Ct));
    }

    [Fact]
    public async Task A_store_never_initialized_cannot_be_exported()
    {
        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() =>
            KeyStoreSnapshot.ExportAsync(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), new MemoryStream(), cancellationToken: Ct));
        Assert.Contains("never been initialized", error.Message, StringComparison.Ordinal);
    }

    [Property(Arbitrary = [typeof(SnapshotArbitraries)], MaxTest = 40)]
    public bool Any_set_of_records_round_trips_exactly(SnapshotContent content)
    {
        return RoundTripAsync(content).GetAwaiter().GetResult();

        static async Task<bool> RoundTripAsync(SnapshotContent content)
        {
            var root = new StaticRootKeyProvider(new byte[32]);
            var source = new InMemoryKeyStore();
            using (var kms = new TestKeyManager(source, root))
            {
                await kms.Manager.ListKeysAsync(new ListKeysRequest(), CancellationToken.None); // Initializes the store.
            }

            using var rootKey = await root.GetRootKeyAsync("", CancellationToken.None);
            foreach (var key in content.Keys)
            {
                await source.InsertKeyAsync(RecordSeal.Seal(rootKey, key), CancellationToken.None);
            }

            foreach (var alias in content.Aliases)
            {
                await source.InsertAliasAsync(RecordSeal.Seal(rootKey, alias), CancellationToken.None);
            }

            using var snapshot = new MemoryStream();
            await KeyStoreSnapshot.ExportAsync(source, root, snapshot, cancellationToken: CancellationToken.None);
            var destination = new InMemoryKeyStore();
            snapshot.Position = 0;
            await KeyStoreSnapshot.ImportAsync(snapshot, destination, root, cancellationToken: CancellationToken.None);
            await AssertSameRecordsAsync(source, destination);
            return true;
        }
    }

    // ------------------------------------------------------------------ grants and key policies

    [Theory]
    [MemberData(nameof(ProviderPairs))]
    public async Task Grants_and_key_policies_round_trip_through_a_snapshot_between_providers(string from, string to)
    {
        using var source = new TestKeyManager(NewStore(from));
        var population = await Population.CreateAsync(source.Manager);
        await source.RewriteKeyInStoreAsync(population.Enabled, k => k with { Policy = PolicyText });
        var grants = await AddGrantsAsync(source, population, count: 300);
        using var snapshot = new MemoryStream();

        var exported = await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        Assert.Equal(grants.Count, exported.Grants);
        var destinationStore = NewStore(to);
        snapshot.Position = 0;
        var imported = await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, cancellationToken: Ct);
        Assert.Equal(exported, imported);
        await AssertSameRecordsAsync(source.Store, destinationStore);
        Assert.Equal(PolicyText, (await destinationStore.GetKeyAsync(population.Enabled, Ct))!.Policy);
        Assert.Equal(
            await AllGrantEncodingsAsync((IGrantStore)source.Store),
            await AllGrantEncodingsAsync((IGrantStore)destinationStore));
        using var destination = new TestKeyManager(destinationStore, source.RootKey);
        await population.AssertUsableThroughAsync(destination.Manager);
        var sealedView = await OpenSealingAsync(destinationStore, source.RootKey);
        Assert.Equal(grants.Count(g => g.KeyId == population.Enabled), (await sealedView.Grants!.ListGrantsAsync(population.Enabled, null, 1000, Ct)).Count);
    }

    [Fact]
    public async Task Importing_under_another_root_key_reseals_every_grant_and_the_key_policy()
    {
        using var source = new TestKeyManager(NewStore("sqlite"));
        var population = await Population.CreateAsync(source.Manager);
        await source.RewriteKeyInStoreAsync(population.Enabled, k => k with { Policy = PolicyText });
        var grants = await AddGrantsAsync(source, population, count: 5);
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        var destinationRoot = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var destinationStore = NewStore("file");
        snapshot.Position = 0;
        var summary = await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, new KeyStoreImportOptions { DestinationRootKeyProvider = destinationRoot }, Ct);

        Assert.Equal(5, summary.Grants);
        using var newRoot = await destinationRoot.GetRootKeyAsync(null, Ct);
        using var oldRoot = await source.RootKey.GetRootKeyAsync("", Ct);
        var destinationGrants = (IGrantStore)destinationStore;
        foreach (var grant in grants)
        {
            var read = (await destinationGrants.GetGrantAsync(grant.KeyId, grant.GrantId, Ct))!;
            Assert.True(RecordSeal.IsAuthentic(newRoot, read));
            Assert.False(RecordSeal.IsAuthentic(oldRoot, read));
            Assert.Equal(RecordSeal.Canonical(grant), RecordSeal.Canonical(read));
        }

        var key = (await destinationStore.GetKeyAsync(population.Enabled, Ct))!;
        Assert.Equal(PolicyText, key.Policy);
        Assert.True(RecordSeal.IsAuthentic(newRoot, key));
        var sealedView = await OpenSealingAsync(destinationStore, destinationRoot);
        Assert.Equal(5, (await sealedView.Grants!.ListRetirableGrantsAsync("arn:aws:iam::111122223333:role/Retiree", null, null, 100, Ct)).Count);
    }

    [Fact]
    public async Task A_grant_forged_in_the_source_store_is_not_laundered_by_a_snapshot()
    {
        using var source = new TestKeyManager();
        var population = await Population.CreateAsync(source.Manager);
        await AddGrantsAsync(source, population, count: 2);
        var forged = StoreGrants.Grant(population.Enabled, StoreGrants.GrantId(999), "arn:aws:iam::999999999999:root");
        await ((IGrantStore)source.Store).InsertGrantAsync(forged, Ct); // Never sealed.
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        var destination = new InMemoryKeyStore();
        snapshot.Position = 0;
        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => KeyStoreSnapshot.ImportAsync(snapshot, destination, source.RootKey, cancellationToken: Ct));

        Assert.Contains(forged.GrantId, error.Message, StringComparison.Ordinal);
        Assert.Contains(forged.KeyId, error.Message, StringComparison.Ordinal);
        Assert.Null(await destination.GetMetadataAsync(Ct));
    }

    [Fact]
    public async Task A_snapshot_with_grants_is_refused_by_a_store_without_grants_before_anything_is_written_and_one_without_grants_is_not()
    {
        using var source = new TestKeyManager();
        var population = await Population.CreateAsync(source.Manager);
        using var withoutGrants = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, withoutGrants, source.Clock, Ct);
        await AddGrantsAsync(source, population, count: 1);
        using var withGrants = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, withGrants, source.Clock, Ct);

        var keysOnly = new SealingGrantStoreTests.KeysOnlyStore(new InMemoryKeyStore());
        withGrants.Position = 0;
        var error = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => KeyStoreSnapshot.ImportAsync(withGrants, keysOnly, source.RootKey, cancellationToken: Ct));
        Assert.Contains("IGrantStore", error.Message, StringComparison.Ordinal);
        Assert.Null(await keysOnly.GetMetadataAsync(Ct));
        Assert.Empty(await keysOnly.ListKeysAsync(null, 10, Ct));

        withoutGrants.Position = 0;
        var summary = await KeyStoreSnapshot.ImportAsync(withoutGrants, keysOnly, source.RootKey, cancellationToken: Ct);
        Assert.Equal(0, summary.Grants);
        Assert.Equal(4, (await keysOnly.ListKeysAsync(null, 10, Ct)).Count);

        // A store that is not a grant store exports no grants.
        using var fromKeysOnly = new MemoryStream();
        Assert.Equal(0, (await KeyStoreSnapshot.ExportAsync(keysOnly, source.RootKey, fromKeysOnly, source.Clock, Ct)).Grants);
    }

    [Fact]
    public async Task A_destination_holding_a_grant_of_the_snapshot_is_refused_unless_overwriting()
    {
        using var source = new TestKeyManager(NewStore("sqlite"));
        var population = await Population.CreateAsync(source.Manager);
        var grants = await AddGrantsAsync(source, population, count: 3);
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        // The destination has only one grant of the snapshot (and none of its keys): a half-finished import.
        var destinationStore = new InMemoryKeyStore();
        using (var init = new TestKeyManager(destinationStore, source.RootKey))
        {
            await init.Manager.ListKeysAsync(new ListKeysRequest(), Ct);
        }

        await destinationStore.InsertGrantAsync((await ((IGrantStore)source.Store).GetGrantAsync(grants[1].KeyId, grants[1].GrantId, Ct))!, Ct);
        snapshot.Position = 0;
        var error = await Assert.ThrowsAsync<KmsAlreadyExistsException>(() => KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, cancellationToken: Ct));
        Assert.Contains(grants[1].GrantId, error.Message, StringComparison.Ordinal);
        Assert.Empty(await destinationStore.ListKeysAsync(null, 10, Ct));

        snapshot.Position = 0;
        await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, new KeyStoreImportOptions { Overwrite = true }, Ct);
        Assert.Equal(await AllGrantEncodingsAsync((IGrantStore)source.Store), await AllGrantEncodingsAsync(destinationStore));
    }

    [Fact]
    public async Task A_snapshot_written_by_the_release_before_grants_still_imports_and_its_ciphertext_decrypts()
    {
        var bytes = Convert.FromBase64String(SnapshotV1);
        var root = new StaticRootKeyProvider([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);
        Assert.Equal(1, bytes["EKSNAP"u8.Length]);

        var destination = NewStore("sqlite");
        var summary = await KeyStoreSnapshot.ImportAsync(new MemoryStream(bytes), destination, root, cancellationToken: Ct);

        Assert.Equal(1, summary.Keys);
        Assert.Equal(1, summary.Aliases);
        Assert.Equal(0, summary.Grants);
        using var kms = new TestKeyManager(destination, root);
        Assert.Null((await destination.GetKeyAsync(SnapshotV1KeyId, Ct))!.Policy);
        Assert.Equal(SnapshotV1KeyId, (await destination.GetAliasAsync("alias/snapshot-v1", Ct))!.TargetKeyId);
        var plaintext = await kms.Manager.DecryptAsync(
            Convert.FromBase64String(SnapshotV1Ciphertext),
            new Dictionary<string, string>(StringComparer.Ordinal) { ["purpose"] = "golden" },
            Ct);
        Assert.Equal("hello snapshot v1", Encoding.UTF8.GetString(plaintext));
    }

    /// <summary>
    /// A snapshot exported by the release before grants (format 1; commit 20fe1e8): one key, its alias, root key
    /// 0x01..0x20 (test only). Never regenerate it: it stands for snapshots already taken.
    /// </summary>
    private const string SnapshotV1 =
        "RUtTTkFQAQAAAaIlGxwWAAAAlnsiZm9ybWF0VmVyc2lvbiI6Miwicm9vdEtleUNoZWNrVmFsdWUiOiIwMDI0NzdlZjY3YjBlZGNlODllNzVkMj" +
        "U0YjE0ZDgzMSIsInJvb3RLZXlQYXJhbWV0ZXJzIjpudWxsLCJjcmVhdGlvbkRhdGUiOiIyMDI2LTExLTI5VDAyOjIxOjAzLjEwMzAzNjgrMDA6" +
        "MDAifQA9ARpaj0sy5uEVFFFrw94gP4VO6RpDMoH7muQvZp08hyqvnKt1/7lWswHNxjwqsfV+dpWRw1mbPQHUAEJuvAAAA0Ayy0WUPQe85wbuPm" +
        "f6YjZKYw1MR2ot2stJKtIFM4HxQWuEE+ws8TGrWRXznShXfoMKHPTGYWqcN6Fn2mfQqrR/COI2wCe1ZqtyVL3JLUHo9MouNV4douy2dD/lIDNy" +
        "uBd36hXgxBxCCCUvBujbiGqaWvrvdgVkLsxsC2CppcTNiap18364gbqSZZNG20WxU7bAKVKPeo2DM5Dc84bMUnPdylrSQUQjZ1MsfvnpsGM+v+" +
        "ZuB/nrVO8xyqHwmFd4XHQZK+ofKa+BFd1/M5Rn5gnxIbufhFoqVLSxmZWmi4VEo3G3YXoEMIOekUsthn7ISWoIVWuOUB8BjtGWCEB2wEMzj5Dx" +
        "pclsLXkfZOwXECSSE1L7nuENDxrizQu1IH4WGeZXwE5wepXpTx//HsEcMuEdwxMSBJ6BaX9+jNPkdpHWJlVpra7nYBqt4mZbmEneeI1mYZaX0G" +
        "XfbyhWP8J2k8txdIi2NbrAmrqqG2bKZVsFY/ruhnG/TdSqbTrmICosJmA8jdU/dneRzJBjoZRtxzBUQ9epQ6w7BKzWjyX6PKCuMDhVuthz8JTo" +
        "TG8qDBvAi9md9Fem3lNVWoEt6i+pqUTU//FQoDY9X2TQpWqQ82eYY2BToB5Ytbo2rj3+44ZoNCaYtCyPZXQAfR89wjgiTFEGSGv/hlEid7PApp" +
        "ZHqP3na1GtBcw7mAJVwYNWOIxDJZbB1OMNMZaVP5Rg0QQ+peAVuw9J7XMTnnHIm0euuhzj+NwHrpFTo0AFVt5HQWVm/Z/uELmmJ7edb0kU+bzt" +
        "1pQiJ/NHJar9eHM4xxVH9rPQ819A+7sHyMyaOBJWDXFX96IYzCvw//XUKBgHs+pTr5kifueO/l0GR3/68ZWlzWTGEDJnl8XMmWn3jZX0RE+v2Q" +
        "ZD9yUc2u88zxxW8zQfgLX72+8XuBOTRho4WuNc0Cy2dnplWFACmmI3/ajhGHI4vplEDHMsC+XKT710zWj2m8cLjqGMoVSGdC2NuN0J7cXee68a" +
        "gnH2OoCnF9bV0cGV5GB3OgEmzoGoLjAfsM0iI4NwANoBiPJi/BKjIMNBvQeqD9M7bYVsqvKPt9idvYuwcW4qo4uWaxC9pcHKAkwtke1hAAABMu" +
        "PeCoI56scDVTa1V0ozcuofszu6JvBlIkcJaer5sypJJXTTTZMEcVNWm+OyjOFM+xHRzdM2XliLvXXvhwzSLAYshh/wICQXBaW8BCm+PhGe1eRZ" +
        "Cna213K+S+zQas0XUG0kZ3MM4yOfiFjIpN+wbae4TgboUeN3ad/laqULIWitGyaCB6kX1wBBNmcdP1FUAHsby4RvB0bf2wXecvwzt4fBE2Qj52" +
        "x5lMD62wu0JjTUNidp+AEzT0pyw2EavzpTDcgSNAQSal0yL4+nIpotMN/NyzA1lNN2eSUSwTxfWg0shh7xlnv+jxcWejyOu0086SqVv5ylcQrn" +
        "ikva1X5DfI3aiG2zZN/S6RYD6AkXWUAHfOaelgt4pHLhPROCxISC4RcR33yGjp3Xx6HwmUjT5tdKQgAAAFpie3mC9ff+b4B6OjpRt8fQ2BBDt4" +
        "x/iiYjiMOPyC+HsIhfwtSNvoALYS7dQI94aBO8rtkSx1gwgGZAbNaGKZqlm2Q3jnuTIqmeh2hS9+Ilz1LS64vV+QKmu1Q=";

    private const string SnapshotV1KeyId = "76dab7bb-61c4-42b8-9e91-54e0fb369fb7";

    private const string SnapshotV1Ciphertext = "AQEkNzZkYWI3YmItNjFjNC00MmI4LTllOTEtNTRlMGZiMzY5ZmI3pEYWvmtL1ieFfotUdjEg8qUbEmMz/+jx8AR2A6xlTRrrPO1irxGv6NZzOcDdYcjBAk8KAbvihZzJTCTDL62Umte/Mrfl6PF2FOB89Vk=";

    private const string PolicyText = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::000000000000:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";

    /// <summary>Inserts <paramref name="count"/> sealed grants spread over the population's keys and returns them as inserted.</summary>
    private static async Task<List<GrantRecord>> AddGrantsAsync(TestKeyManager kms, Population population, int count)
    {
        var metadata = (await kms.Store.GetMetadataAsync(Ct))!;
        using var rootKey = await kms.RootKey.GetRootKeyAsync(metadata.RootKeyParameters ?? "", Ct);
        var store = (IGrantStore)kms.Store;
        string[] keys = [population.Enabled, population.Disabled, population.PendingDeletion];
        var grants = new List<GrantRecord>();
        for (var i = 0; i < count; i++)
        {
            var grant = StoreGrants.Grant(keys[i % keys.Length], StoreGrants.GrantId(i), $"arn:aws:iam::111122223333:role/Grantee{i % 7}");
            grants.Add(await store.InsertGrantAsync(RecordSeal.Seal(rootKey, grant), Ct));
        }

        return grants;
    }

    /// <summary>The canonical encodings of every grant of every key of a store, in (key id, grant id) order.</summary>
    private static async Task<List<string>> AllGrantEncodingsAsync(IGrantStore store)
    {
        var all = new List<string>();
        foreach (var key in await ListAllKeysAsync((IKeyStore)store))
        {
            all.AddRange((await store.ListGrantsAsync(key.KeyId, null, 10_000, Ct)).Select(g => Convert.ToHexString(RecordSeal.Canonical(g))));
        }

        return all;
    }

    private static async Task<SealingKeyStore> OpenSealingAsync(IKeyStore store, IRootKeyProvider rootKeyProvider)
    {
        var metadata = (await store.GetMetadataAsync(Ct))!;
        var sealing = new SealingKeyStore(store);
        sealing.Open(await rootKeyProvider.GetRootKeyAsync(metadata.RootKeyParameters ?? "", Ct), metadata.FormatVersion);
        return sealing;
    }

    private static async Task AssertSameRecordsAsync(IKeyStore expected, IKeyStore actual)
    {
        var expectedKeys = await ListAllKeysAsync(expected);
        var actualKeys = await ListAllKeysAsync(actual);
        Assert.Equal(expectedKeys.Count, actualKeys.Count);
        foreach (var (e, a) in expectedKeys.Zip(actualKeys))
        {
            Assert.Equal(Canonical(e), Canonical(a));
        }

        // Seals are made anew under the destination's root key; everything they cover must be equal.
        var expectedAliases = (await expected.ListAliasesAsync(null, null, 10_000, CancellationToken.None)).Select(a => Convert.ToHexString(RecordSeal.Canonical(a)));
        var actualAliases = (await actual.ListAliasesAsync(null, null, 10_000, CancellationToken.None)).Select(a => Convert.ToHexString(RecordSeal.Canonical(a)));
        Assert.Equal(expectedAliases, actualAliases);
    }

    /// <summary>A key record as text without its store version: records compare their lists by reference.</summary>
    private static string Canonical(KeyRecord key) => string.Join(
        "|",
        key.KeyId, key.AccountId, key.CreationDate.ToUnixTimeMilliseconds(), key.Description, key.KeyState, key.KeySpec, key.KeyUsage, key.Origin, key.KeyManager,
        key.DeletionDate?.ToUnixTimeMilliseconds(), key.PendingDeletionWindowInDays, key.CurrentKeyMaterialId, key.Policy,
        string.Join(",", key.Tags.Select(t => t.TagKey + "=" + t.TagValue)),
        string.Join(",", key.KeyMaterials.Select(m => m.KeyMaterialId + ":" + m.CreationDate.ToUnixTimeMilliseconds() + ":" + Convert.ToHexString(m.WrappedMaterial))));

    private static async Task<List<KeyRecord>> ListAllKeysAsync(IKeyStore store)
    {
        var all = new List<KeyRecord>();
        string? after = null;
        while (await store.ListKeysAsync(after, 100, CancellationToken.None) is { Count: > 0 } batch)
        {
            all.AddRange(batch);
            after = batch[^1].KeyId;
        }

        return all;
    }

    private static async Task<byte[]> SmallSnapshotAsync()
    {
        using var source = new TestKeyManager();
        var key = await source.Manager.CreateKeyAsync("one", Ct);
        await source.Manager.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/one", TargetKeyId = key.KeyId }, Ct);
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);
        return snapshot.ToArray();
    }

    private static async Task AssertRefusedAsync(byte[] snapshot, string what)
    {
        var destination = new InMemoryKeyStore();
        var error = await Record.ExceptionAsync(() => KeyStoreSnapshot.ImportAsync(new MemoryStream(snapshot), destination, new StaticRootKeyProvider(new byte[32]), cancellationToken: Ct));
        Assert.True(error is KmsStorageIntegrityException or KmsRootKeyException, $"{what}: expected a typed refusal, got {error?.GetType().Name ?? "success"}: {error?.Message}");
        Assert.True(await destination.GetMetadataAsync(Ct) is null, $"{what}: the destination was initialized.");
        Assert.Empty(await destination.ListKeysAsync(null, 10, Ct));
    }

    /// <summary>Keys in every state the snapshot must carry, with aliases and ciphertexts made before the export.</summary>
    private sealed class Population
    {
        public const string TagValue = "tag-value-4711";

        public required string Enabled { get; init; }

        public required string Disabled { get; init; }

        public required string PendingDeletion { get; init; }

        public required string PendingImport { get; init; }

        public required List<(string KeyId, byte[] Ciphertext, byte[] Plaintext)> Ciphertexts { get; init; }

        public static async Task<Population> CreateAsync(KeyManager kms)
        {
            var enabled = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "backup-enabled", Tags = [new KeyTag("cost-center", TagValue)] }, Ct)).KeyMetadata.KeyId;
            var disabled = await kms.CreateKeyAsync("backup-disabled", Ct);
            var doomed = await kms.CreateKeyAsync("backup-doomed", Ct);
            var external = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "backup-external", Origin = KeyOrigin.External }, Ct)).KeyMetadata.KeyId;
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/backup/first", TargetKeyId = enabled }, Ct);
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/backup/second", TargetKeyId = enabled }, Ct);
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/backup/doomed", TargetKeyId = doomed.KeyId }, Ct);
            var ciphertexts = new List<(string, byte[], byte[])>();
            foreach (var keyId in new[] { enabled, disabled.KeyId, doomed.KeyId })
            {
                var plaintext = RandomNumberGenerator.GetBytes(40);
                ciphertexts.Add((keyId, await kms.EncryptAsync(keyId, plaintext, Context, Ct), plaintext));
            }

            await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = disabled.KeyId }, Ct);
            await kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed.KeyId, PendingWindowInDays = 30 }, Ct);
            return new Population { Enabled = enabled, Disabled = disabled.KeyId, PendingDeletion = doomed.KeyId, PendingImport = external, Ciphertexts = ciphertexts };
        }

        public async Task AssertUsableThroughAsync(KeyManager kms)
        {
            Assert.Equal(KeyState.Enabled, (await kms.DescribeKeyAsync(Enabled, Ct)).KeyState);
            Assert.Equal(KeyState.Disabled, (await kms.DescribeKeyAsync(Disabled, Ct)).KeyState);
            Assert.Equal(KeyState.PendingDeletion, (await kms.DescribeKeyAsync(PendingDeletion, Ct)).KeyState);
            Assert.Equal(KeyState.PendingImport, (await kms.DescribeKeyAsync(PendingImport, Ct)).KeyState);
            var tags = await kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = Enabled }, Ct);
            Assert.Equal([new KeyTag("cost-center", TagValue)], tags.Items);
            var aliases = await kms.ListAliasesAsync(new ListAliasesRequest(), Ct);
            Assert.Equal(["alias/backup/doomed", "alias/backup/first", "alias/backup/second"], aliases.Items.Select(a => a.AliasName).Order(StringComparer.Ordinal));

            // Every ciphertext decrypts (the disabled one once re-enabled, as in AWS KMS).
            await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = Disabled }, Ct);
            await kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = PendingDeletion }, Ct);
            await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = PendingDeletion }, Ct);
            foreach (var (keyId, ciphertext, plaintext) in Ciphertexts)
            {
                Assert.Equal(plaintext, await kms.DecryptAsync(ciphertext, Context, Ct));
            }

            var fresh = RandomNumberGenerator.GetBytes(16);
            Assert.Equal(fresh, await kms.DecryptAsync(await kms.EncryptAsync("alias/backup/first", fresh, Context, Ct), Context, Ct));
        }
    }
}

/// <summary>Arbitrary store contents: keys with unicode descriptions, tags and several material versions, and aliases.</summary>
public sealed record SnapshotContent(IReadOnlyList<KeyRecord> Keys, IReadOnlyList<AliasRecord> Aliases)
{
    public override string ToString() => $"{Keys.Count} keys, {Aliases.Count} aliases";
}

public static class SnapshotArbitraries
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Gen<string> Text => Gen.Elements("", "a", "ü ключ 鍵 🔑", "quote \" and \\ backslash", "line\nbreak", new string('x', 300));

    private static Gen<KeyMaterialRecord> Material =>
        from seconds in Gen.Choose(0, 1_000_000)
        from length in Gen.Choose(29, 80)
        select new KeyMaterialRecord
        {
            KeyMaterialId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
            CreationDate = Epoch.AddSeconds(seconds),
            WrappedMaterial = RandomNumberGenerator.GetBytes(length),
        };

    private static Gen<KeyRecord> Key =>
        from description in Text
        from state in Gen.Elements(KeyState.Enabled, KeyState.Disabled, KeyState.PendingDeletion, KeyState.PendingImport)
        from tagCount in Gen.Choose(0, 3)
        from tagValues in Gen.ListOf(Text, tagCount)
        from materialCount in Gen.Choose(0, 4)
        from materials in Gen.ListOf(Material, materialCount)
        select new KeyRecord
        {
            KeyId = Identifiers.NewKeyId(),
            AccountId = "000000000000",
            CreationDate = Epoch,
            Description = description,
            KeyState = state,
            KeySpec = KeySpec.SymmetricDefault,
            KeyUsage = KeyUsage.EncryptDecrypt,
            Origin = materials.Count == 0 ? KeyOrigin.External : KeyOrigin.AwsKms,
            DeletionDate = state == KeyState.PendingDeletion ? Epoch.AddDays(7) : null,
            PendingDeletionWindowInDays = state == KeyState.PendingDeletion ? 7 : null,
            Tags = [.. tagValues.Select((value, i) => new KeyTag($"tag-{i}", value))],
            CurrentKeyMaterialId = materials.Count == 0 ? null : materials[^1].KeyMaterialId,
            KeyMaterials = [.. materials],
        };

    public static Arbitrary<SnapshotContent> Content() => Arb.From(
        from keyCount in Gen.Frequency((3, Gen.Choose(0, 5)), (1, Gen.Choose(250, 600)))
        from keys in Gen.ListOf(Key, keyCount)
        from aliasCount in Gen.Choose(0, Math.Min(keys.Count * 2, 300))
        select new SnapshotContent(
            keys,
            [.. Enumerable.Range(0, aliasCount).Select(i => new AliasRecord
            {
                AliasName = $"alias/generated/{i:D4}",
                TargetKeyId = keys[i % keys.Count].KeyId,
                CreationDate = Epoch,
                LastUpdatedDate = Epoch.AddMinutes(i),
            })]));
}
