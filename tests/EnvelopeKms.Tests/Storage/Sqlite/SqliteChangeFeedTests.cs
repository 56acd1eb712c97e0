using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using EnvelopeKms.Envelope;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>
/// The SQLite change feed (schema version 2): the migration from version 1, and changes made through
/// one store reported by another store on the same file — to key managers and their envelope caches.
/// </summary>
public sealed class SqliteChangeFeedTests : IDisposable
{
    /// <summary>How long a change may take to arrive before the test fails; the poll interval is far shorter.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static readonly SqliteKeyStoreOptions FastPolling = new() { PollInterval = TimeSpan.FromMilliseconds(20) };

    private readonly TemporaryStoreDirectory _directory = new("sqlite-changes");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_directory.Parent, "keys.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_schema_version_1_database_migrates_to_the_current_version_and_its_keys_stay_readable()
    {
        var key = Key("11111111-1111-1111-1111-111111111111") with { Description = "written by release 1", Version = 3 };
        using (var connection = Connect())
        {
            Execute(connection, """
                PRAGMA journal_mode = WAL;
                CREATE TABLE schema_version (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
                CREATE TABLE keys (key_id TEXT NOT NULL COLLATE BINARY PRIMARY KEY, version INTEGER NOT NULL, document TEXT NOT NULL);
                CREATE TABLE aliases (alias_name TEXT NOT NULL COLLATE BINARY PRIMARY KEY, target_key_id TEXT NOT NULL COLLATE BINARY, version INTEGER NOT NULL, document TEXT NOT NULL);
                CREATE INDEX aliases_by_target ON aliases (target_key_id, alias_name);
                CREATE TABLE metadata (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
                INSERT INTO schema_version (id, version) VALUES (1, 1);
                """);
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO keys (key_id, version, document) VALUES ($id, 3, $document)";
            insert.Parameters.AddWithValue("$id", key.KeyId);
            insert.Parameters.AddWithValue("$document", JsonSerializer.Serialize(key, KeyStoreJson.KeyRecord));
            insert.ExecuteNonQuery();
        }

        using var store = new SqliteKeyStore(DatabasePath);
        var read = await store.GetKeyAsync(key.KeyId, Ct);

        Assert.NotNull(read);
        Assert.Equal("written by release 1", read.Description);
        Assert.Equal(3, read.Version);
        Assert.Equal(4, SqliteKeyStore.CurrentSchemaVersion);
        Assert.Equal(4L, Scalar("SELECT version FROM schema_version WHERE id = 1"));
        Assert.Equal(0L, Scalar("SELECT last_change FROM store_state WHERE id = 1"));
        Assert.Equal(0L, Scalar("SELECT count(*) FROM changes"));

        // The first write after the migration is change 1.
        Assert.Equal(4, (await store.UpdateKeyAsync(read with { Description = "updated by release 2" }, Ct)).Version);
        Assert.Equal(1L, Scalar("SELECT last_change FROM store_state WHERE id = 1"));
        Assert.Equal(key.KeyId, Scalar("SELECT key_id FROM changes WHERE seq = 1"));
    }

    [Fact]
    public async Task Every_write_records_one_change_in_its_transaction_and_a_conflict_records_none()
    {
        using var store = new SqliteKeyStore(DatabasePath);
        var key = await store.InsertKeyAsync(Key("22222222-2222-2222-2222-222222222222"), Ct);
        await store.InsertAliasAsync(new AliasRecord { AliasName = "alias/feed", TargetKeyId = key.KeyId, CreationDate = key.CreationDate, LastUpdatedDate = key.CreationDate }, Ct);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.InsertKeyAsync(key, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateKeyAsync(key with { Version = 7 }, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.DeleteAliasAsync("alias/feed", 9, Ct));
        await store.DeleteAliasAsync("alias/feed", 1, Ct);

        Assert.Equal(3L, Scalar("SELECT last_change FROM store_state"));
        Assert.Equal("1:22222222-2222-2222-2222-222222222222:|2::alias/feed|3::alias/feed", Scalar("SELECT group_concat(seq || ':' || ifnull(key_id, '') || ':' || ifnull(alias_name, ''), '|') FROM (SELECT * FROM changes ORDER BY seq)"));
    }

    [Fact]
    public async Task Old_changes_are_pruned_to_the_retention()
    {
        using var store = new SqliteKeyStore(DatabasePath, new SqliteKeyStoreOptions { ChangeRetention = 3 });
        var key = await store.InsertKeyAsync(Key("33333333-3333-3333-3333-333333333333"), Ct);
        for (var i = 0; i < 10; i++)
        {
            key = await store.UpdateKeyAsync(key with { Description = $"{i}" }, Ct);
        }

        Assert.Equal(11L, Scalar("SELECT last_change FROM store_state"));
        Assert.InRange((long)Scalar("SELECT count(*) FROM changes")!, 3, 5);
        Assert.Equal(11L, Scalar("SELECT max(seq) FROM changes"));
    }

    [Fact]
    public async Task A_write_through_one_store_is_reported_by_another_store_on_the_file()
    {
        using var a = new SqliteKeyStore(DatabasePath);
        using var b = new SqliteKeyStore(DatabasePath, FastPolling);
        var seen = new ConcurrentQueue<KeyStoreChangedEventArgs>();
        b.Changed += (_, e) => seen.Enqueue(e);

        var key = await a.InsertKeyAsync(Key("44444444-4444-4444-4444-444444444444"), Ct);
        await a.InsertAliasAsync(new AliasRecord { AliasName = "alias/shared", TargetKeyId = key.KeyId, CreationDate = key.CreationDate, LastUpdatedDate = key.CreationDate }, Ct);

        await WaitUntilAsync(() => seen.Count >= 2, "store B reports both writes of store A");
        Assert.Collection(
            seen,
            e => Assert.Equal((key.KeyId, (string?)null), (e.KeyId, e.AliasName)),
            e => Assert.Equal(((string?)null, "alias/shared"), (e.KeyId, e.AliasName)));
    }

    [Fact]
    public async Task Changes_pruned_before_the_watcher_read_them_are_reported_as_a_reset()
    {
        using var writer = new SqliteKeyStore(DatabasePath, new SqliteKeyStoreOptions { ChangeRetention = 1 });
        using var watcher = new SqliteKeyStore(DatabasePath, new SqliteKeyStoreOptions { PollInterval = TimeSpan.FromHours(1) });
        await writer.GetMetadataAsync(Ct);
        var seen = new ConcurrentQueue<KeyStoreChangedEventArgs>();
        watcher.Changed += (_, e) => seen.Enqueue(e);

        // Five changes while the watcher sleeps; the writer keeps only the last one.
        var key = await writer.InsertKeyAsync(Key("55555555-5555-5555-5555-555555555555"), Ct);
        for (var i = 0; i < 4; i++)
        {
            key = await writer.UpdateKeyAsync(key with { Description = $"{i}" }, Ct);
        }

        Assert.Equal(1L, Scalar("SELECT count(*) FROM changes"));
        watcher.PollNow();

        await WaitUntilAsync(() => seen.Count >= 2, "the watcher reports the gap");
        Assert.Collection(
            seen,
            e => Assert.True(e.IsReset),
            e => Assert.Equal(key.KeyId, e.KeyId));
    }

    [Fact]
    public async Task Disabling_a_key_through_one_manager_drops_the_data_keys_cached_over_another_store_on_the_file()
    {
        var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["app"] = "feed" };
        var rootKey = new EnvelopeKms.Protection.StaticRootKeyProvider(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        using var storeA = new SqliteKeyStore(DatabasePath, FastPolling);
        using var storeB = new SqliteKeyStore(DatabasePath, FastPolling);
        using var a = new TestKeyManager(storeA, rootKey);
        using var b = new TestKeyManager(storeB, rootKey);
        var key = await a.Manager.CreateKeyAsync("shared between processes", Ct);
        using var encryptor = new EnvelopeEncryptor(b.Manager, null, b.Clock);
        var protector = encryptor.CreateProtector(key.KeyId, context);
        var envelope = protector.Encrypt([1, 2, 3]);
        Assert.Equal([1, 2, 3], protector.Decrypt(envelope));
        Assert.Equal(2, encryptor.CacheStatistics.Entries);

        var changes = new ConcurrentQueue<KeyChangedEventArgs>();
        b.Manager.KeyChanged += (_, e) => changes.Enqueue(e);
        await a.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Ct);

        // The encryptor's handler and this test's handler run one after the other on the watcher's thread: wait for both.
        await WaitUntilAsync(() => encryptor.CacheStatistics.Entries == 0, "manager B's envelope cache drops the disabled key's data keys");
        await WaitUntilAsync(() => changes.Any(e => e.KeyId == key.KeyId && e.Operation is null), "manager B reports the change made through manager A");
        Assert.Throws<KmsDisabledException>(() => protector.Encrypt([4]));
        Assert.Throws<KmsDisabledException>(() => protector.Decrypt(envelope));
    }

    [Fact]
    public async Task Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteKeyStore(DatabasePath, new SqliteKeyStoreOptions { PollInterval = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SqliteKeyStore(DatabasePath, new SqliteKeyStoreOptions { ChangeRetention = 0 }));
        await using var store = new SqliteKeyStore(DatabasePath, null);
        Assert.Null(await store.GetMetadataAsync(Ct));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Deadline, $"Timed out after {Deadline.TotalSeconds} s waiting until {what}.");
            await Task.Delay(10, Ct);
        }
    }

    private static KeyRecord Key(string keyId) => StoreRecords.MinimalKey(keyId);

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
