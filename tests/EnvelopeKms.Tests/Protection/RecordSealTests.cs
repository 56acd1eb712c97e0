using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Protection;

/// <summary>
/// RELIABILITY row 35 for everything that is not key material: every key and alias record carries a
/// seal by the root key, so a record modified in the store — a forged state, deletion date,
/// description, tag or alias target, a record copied from another key, a removed seal, any single
/// flipped byte of a stored document — is the typed <see cref="KmsStorageIntegrityException"/> for
/// that key, with the record left in place and other keys working.
/// </summary>
public sealed class RecordSealTests : IDisposable
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "seal" };
    private readonly TemporaryStoreDirectory _directory = new("seal");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_disabled_key_whose_stored_state_was_forged_to_enabled_is_an_integrity_error_not_a_usable_key()
    {
        using var kms = new TestKeyManager();
        var (victim, other, otherBlob) = await TwoKeysAsync(kms);
        await kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = victim }, Ct);
        await ForgeKeyAsync(kms.Store, victim, r => r with { KeyState = KeyState.Enabled });

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.EncryptAsync(victim, new byte[] { 1 }, Context, Ct));
        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DescribeKeyAsync(victim, Ct));
        Assert.Contains(victim, error.Message, StringComparison.Ordinal);
        Assert.Equal(KeyState.Enabled, (await kms.Store.GetKeyAsync(victim, Ct))!.KeyState); // Left in place.
        await AssertWorksAsync(kms, other, otherBlob);
    }

    [Fact]
    public async Task A_forged_past_deletion_date_never_gets_a_key_purged()
    {
        using var kms = new TestKeyManager();
        var (victim, other, otherBlob) = await TwoKeysAsync(kms);
        await kms.Manager.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = victim, PendingWindowInDays = 30 }, Ct);
        await ForgeKeyAsync(kms.Store, victim, r => r with { DeletionDate = kms.Clock.GetUtcNow().AddDays(-1) });

        Assert.Equal(0, await kms.Manager.PurgeExpiredKeysAsync(Ct));
        var listed = await kms.Manager.ListKeysAsync(new ListKeysRequest(), Ct);
        Assert.Contains(listed.Items, k => k.KeyId == victim);
        Assert.NotNull(await kms.Store.GetKeyAsync(victim, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DescribeKeyAsync(victim, Ct));
        await AssertWorksAsync(kms, other, otherBlob);
    }

    [Fact]
    public async Task An_alias_pointed_at_another_key_in_the_store_is_an_integrity_error()
    {
        using var kms = new TestKeyManager();
        var (victim, other, _) = await TwoKeysAsync(kms);
        await kms.Manager.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/app", TargetKeyId = victim }, Ct);
        var alias = (await kms.Store.GetAliasAsync("alias/app", Ct))!;
        await kms.Store.UpdateAliasAsync(alias with { TargetKeyId = other }, Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.EncryptAsync("alias/app", new byte[] { 1 }, Context, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.ListAliasesAsync(new ListAliasesRequest(), Ct));
        Assert.Equal(victim, (await kms.Manager.DescribeKeyAsync(victim, Ct)).KeyId);
    }

    [Theory]
    [InlineData("description")]
    [InlineData("tag")]
    [InlineData("material list")]
    [InlineData("seal removed")]
    [InlineData("seal of another key")]
    [InlineData("whole record of another key")]
    public async Task A_key_record_changed_outside_the_key_manager_is_an_integrity_error(string change)
    {
        using var kms = new TestKeyManager();
        var (victim, other, otherBlob) = await TwoKeysAsync(kms);
        var otherRecord = (await kms.Store.GetKeyAsync(other, Ct))!;
        await ForgeKeyAsync(kms.Store, victim, r => change switch
        {
            "description" => r with { Description = "changed" },
            "tag" => r with { Tags = [new KeyTag("owner", "mallory")] },
            "material list" => r with { KeyMaterials = [.. r.KeyMaterials, .. otherRecord.KeyMaterials] },
            "seal removed" => r with { Seal = null },
            "seal of another key" => r with { Seal = otherRecord.Seal },
            _ => otherRecord with { KeyId = r.KeyId, Version = r.Version },
        });

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DescribeKeyAsync(victim, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = victim, KeySpec = DataKeySpec.Aes256 }, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = victim }, Ct));
        await AssertWorksAsync(kms, other, otherBlob);
    }

    [Fact]
    public async Task Every_single_byte_flip_of_a_stored_sqlite_document_is_detected_or_changes_nothing()
    {
        var path = Path.Combine(_directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        using var kms = new TestKeyManager(new SqliteKeyStore(path), root);
        var (victim, other, otherBlob) = await TwoKeysAsync(kms);
        await kms.Manager.TagResourceAsync(new TagResourceRequest { KeyId = victim, Tags = [new KeyTag("team", "payments")] }, Ct);
        var victimBlob = await kms.Manager.EncryptAsync(victim, "victim"u8.ToArray(), Context, Ct);
        var canonical = RecordSeal.Canonical((await kms.Store.GetKeyAsync(victim, Ct))!);
        var document = Encoding.UTF8.GetBytes((string)Sql(path, "SELECT document FROM keys WHERE key_id = $id", victim)!);

        int detected = 0, harmless = 0;
        for (var i = 0; i < document.Length; i++)
        {
            var flipped = (byte[])document.Clone();
            flipped[i] ^= (byte)(1 << (i % 7));
            Sql(path, "UPDATE keys SET document = $document WHERE key_id = $id", victim, Encoding.UTF8.GetString(flipped));
            try
            {
                var described = await kms.Manager.DescribeKeyAsync(victim, Ct);
                Assert.Equal("victim", Encoding.UTF8.GetString(await kms.Manager.DecryptAsync(victimBlob, Context, Ct)));
                // Read successfully: then the flip touched nothing the key manager uses (the ignored "version" member, say).
                Assert.Equal(canonical, RecordSeal.Canonical((await kms.Store.GetKeyAsync(victim, Ct))!));
                Assert.Equal(KeyState.Enabled, described.KeyState);
                harmless++;
            }
            catch (KmsStorageIntegrityException)
            {
                detected++;
            }
        }

        Assert.True(detected > document.Length * 9 / 10, $"{detected} of {document.Length} flips were detected, {harmless} harmless.");
        Sql(path, "UPDATE keys SET document = $document WHERE key_id = $id", victim, Encoding.UTF8.GetString(document));
        Assert.Equal("victim", Encoding.UTF8.GetString(await kms.Manager.DecryptAsync(victimBlob, Context, Ct)));
        await AssertWorksAsync(kms, other, otherBlob);
    }

    [Fact]
    public async Task A_store_from_before_seals_is_read_and_each_record_is_sealed_when_next_written()
    {
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var store = new InMemoryKeyStore();
        using (var kms = new TestKeyManager(store, root))
        {
            await kms.Manager.CreateKeyAsync("made with seals", Ct);
        }

        // The same contents as a format-1 store: its metadata says 1 and no record has a seal.
        var legacy = new InMemoryKeyStore();
        var metadata = (await store.GetMetadataAsync(Ct))!;
        await legacy.InitializeMetadataAsync(metadata with { FormatVersion = 1 }, Ct);
        var key = (await store.ListKeysAsync(null, 1, Ct)).Single();
        await legacy.InsertKeyAsync(key with { Seal = null }, Ct);

        using var reopened = new TestKeyManager(legacy, root);
        Assert.Equal("made with seals", (await reopened.Manager.DescribeKeyAsync(key.KeyId, Ct)).Description);
        await reopened.Manager.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "now sealed" }, Ct);
        Assert.NotNull((await legacy.GetKeyAsync(key.KeyId, Ct))!.Seal);

        // Once sealed, the record is checked even in a format-1 store.
        await ForgeKeyAsync(legacy, key.KeyId, r => r with { Description = "forged" });
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => reopened.Manager.DescribeKeyAsync(key.KeyId, Ct));
    }

    [Fact]
    public async Task A_store_of_an_unknown_newer_format_is_refused_before_anything_is_read()
    {
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var store = new InMemoryKeyStore();
        using (var kms = new TestKeyManager(store, root))
        {
            await kms.Manager.CreateKeyAsync("k", Ct);
        }

        var newer = new InMemoryKeyStore();
        await newer.InitializeMetadataAsync((await store.GetMetadataAsync(Ct))! with { FormatVersion = 3 }, Ct);
        using var reopened = new TestKeyManager(newer, root);
        var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => reopened.Manager.ListKeysAsync(new ListKeysRequest(), Ct));
        Assert.StartsWith("UnsupportedSchema:", error.Message, StringComparison.Ordinal);
    }

    private static async Task ForgeKeyAsync(IKeyStore store, string keyId, Func<KeyRecord, KeyRecord> change)
    {
        var record = (await store.GetKeyAsync(keyId, Ct))!;
        await store.UpdateKeyAsync(change(record), Ct); // Keeps the old seal: what someone without the root key can do.
    }

    private static async Task<(string Victim, string Other, byte[] OtherBlob)> TwoKeysAsync(TestKeyManager kms)
    {
        var victim = (await kms.Manager.CreateKeyAsync("victim", Ct)).KeyId;
        var other = (await kms.Manager.CreateKeyAsync("other", Ct)).KeyId;
        return (victim, other, await kms.Manager.EncryptAsync(other, "other"u8.ToArray(), Context, Ct));
    }

    private static async Task AssertWorksAsync(TestKeyManager kms, string keyId, byte[] blob)
    {
        Assert.Equal("other", Encoding.UTF8.GetString(await kms.Manager.DecryptAsync(blob, Context, Ct)));
        Assert.Equal([9], await kms.Manager.DecryptAsync(await kms.Manager.EncryptAsync(keyId, new byte[] { 9 }, Context, Ct), Context, Ct));
    }

    private static object? Sql(string path, string sql, string id, string? document = null)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Constant SQL with bound values.
        command.CommandText = sql;
#pragma warning restore CA2100
        command.Parameters.AddWithValue("$id", id);
        if (document is not null)
        {
            command.Parameters.AddWithValue("$document", document);
        }

        return command.ExecuteScalar();
    }
}
