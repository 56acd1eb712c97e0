using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.PostgreSql;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>
/// What the PostgreSQL store promises beyond the conformance suite: schema and migrations, integrity
/// errors, races between stores, lost connections, and the change feed across instances.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlKeyStoreTests(PostgreSqlServer server) : IAsyncDisposable
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["app"] = "pg" };
    private readonly string _schema = PostgreSqlServer.NewSchemaName();
    private readonly List<IAsyncDisposable> _disposables = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Shared => server.ConnectionString(PostgreSqlServer.SharedDatabase);

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_new_schema_records_the_current_version_and_holds_the_tables_and_the_change_feed()
    {
        var store = Open();
        var key = await store.InsertKeyAsync(Key("11111111-1111-1111-1111-111111111111"), Ct);

        Assert.Equal(4, PostgreSqlKeyStore.CurrentSchemaVersion);
        Assert.Equal(4L, await Scalar("SELECT version FROM {s}.schema_version WHERE id = 1"));
        Assert.Equal("aliases,changes,custom_key_stores,grants,keys,metadata,schema_version,store_state",
            await Scalar("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '{schema}'"));
        Assert.Equal(1L, await Scalar("SELECT last_change FROM {s}.store_state WHERE id = 1"));
        Assert.Equal(key.KeyId, await Scalar("SELECT key_id FROM {s}.changes WHERE seq = 1"));

        var reopened = Open();
        Assert.Equal(key.KeyId, (await reopened.GetKeyAsync(key.KeyId, Ct))!.KeyId);
        Assert.Equal(1L, await Scalar("SELECT count(*) FROM {s}.schema_version"));
    }

    [Fact]
    public async Task Every_write_appends_one_change_row_and_a_conflicting_write_appends_none()
    {
        var store = Open();
        var key = await store.InsertKeyAsync(Key("12121212-1212-1212-1212-121212121212"), Ct);
        var alias = await store.InsertAliasAsync(new AliasRecord { AliasName = "alias/x", TargetKeyId = key.KeyId, CreationDate = key.CreationDate, LastUpdatedDate = key.CreationDate }, Ct);
        await store.UpdateKeyAsync(key with { Description = "two" }, Ct);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateKeyAsync(key with { Description = "stale" }, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.InsertKeyAsync(key, Ct));
        await store.DeleteAliasAsync(alias.AliasName, alias.Version, Ct);

        Assert.Equal(4L, await Scalar("SELECT last_change FROM {s}.store_state"));
        Assert.Equal($"1:{key.KeyId}:,2::alias/x,3:{key.KeyId}:,4::alias/x",
            await Scalar("SELECT string_agg(seq || ':' || coalesce(key_id, '') || ':' || coalesce(alias_name, ''), ',' ORDER BY seq) FROM {s}.changes"));
    }

    [Fact]
    public async Task A_schema_of_a_newer_version_is_refused_with_an_integrity_error_and_left_alone()
    {
        await Open().InsertKeyAsync(Key("22222222-2222-2222-2222-222222222222"), Ct);
        await Execute("UPDATE {s}.schema_version SET version = 99");

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await Open().GetKeyAsync("22222222-2222-2222-2222-222222222222", Ct));

        Assert.StartsWith("UnsupportedSchema:", e.Message, StringComparison.Ordinal);
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
        Assert.Equal(99L, await Scalar("SELECT version FROM {s}.schema_version"));
        Assert.Equal(1L, await Scalar("SELECT count(*) FROM {s}.keys"));
    }

    [Fact]
    public async Task A_corrupted_row_is_an_integrity_error_for_that_key_while_other_keys_keep_working()
    {
        var store = Open();
        var good = await store.InsertKeyAsync(Key("33333333-3333-3333-3333-333333333333"), Ct);
        var truncated = await store.InsertKeyAsync(Key("44444444-4444-4444-4444-444444444444"), Ct);
        var foreign = await store.InsertKeyAsync(Key("55555555-5555-5555-5555-555555555555"), Ct);
        var nulled = await store.InsertKeyAsync(Key("66666666-6666-6666-6666-666666666666"), Ct);
        var notJson = await store.InsertKeyAsync(Key("77777777-7777-7777-7777-777777777777"), Ct);
        await Execute($"UPDATE {{s}}.keys SET document = substr(document, 1, 40) WHERE key_id = '{truncated.KeyId}'");
        await Execute($"UPDATE {{s}}.keys SET document = replace(document, '{foreign.KeyId}', '{good.KeyId}') WHERE key_id = '{foreign.KeyId}'");
        await Execute("ALTER TABLE {s}.keys ALTER COLUMN document DROP NOT NULL, ALTER COLUMN version DROP NOT NULL");
        await Execute($"UPDATE {{s}}.keys SET document = NULL WHERE key_id = '{nulled.KeyId}'");
        await Execute($"UPDATE {{s}}.keys SET document = '[1,2,3]', version = NULL WHERE key_id = '{notJson.KeyId}'");

        foreach (var bad in new[] { truncated, foreign, nulled, notJson })
        {
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetKeyAsync(bad.KeyId, Ct));
        }

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.ListKeysAsync(null, 10, Ct));

        Assert.Equal(good.KeyId, (await store.GetKeyAsync(good.KeyId, Ct))!.KeyId);
        Assert.Equal(2, (await store.UpdateKeyAsync(good with { Description = "still writable" }, Ct)).Version);
        Assert.Equal(2L, await Scalar($"SELECT version FROM {{s}}.keys WHERE key_id = '{good.KeyId}'"));
        Assert.Equal(5L, await Scalar("SELECT count(*) FROM {s}.keys"));
        Assert.Equal(40, await Scalar($"SELECT length(document) FROM {{s}}.keys WHERE key_id = '{truncated.KeyId}'"));
        Assert.Null(await Scalar($"SELECT document FROM {{s}}.keys WHERE key_id = '{nulled.KeyId}'"));
    }

    [Fact]
    public async Task Four_stores_with_their_own_data_sources_incrementing_one_key_lose_no_update()
    {
        var key = await Open().InsertKeyAsync(Key("88888888-8888-8888-8888-888888888888") with { Description = "0" }, Ct);
        const int Writers = 4, Increments = 25;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            var store = Open();
            for (var done = 0; done < Increments;)
            {
                var current = (await store.GetKeyAsync(key.KeyId, Ct))!;
                var next = current with { Description = $"{int.Parse(current.Description, CultureInfo.InvariantCulture) + 1}" };
                try
                {
                    await store.UpdateKeyAsync(next, Ct);
                    done++;
                }
                catch (KeyStoreConflictException)
                {
                    // Lost the race: re-read and try again.
                }
            }
        }, Ct)));

        var final = (await Open().GetKeyAsync(key.KeyId, Ct))!;
        Assert.Equal($"{Writers * Increments}", final.Description);
        Assert.Equal(1 + (Writers * Increments), final.Version);
        Assert.Equal((long)(1 + (Writers * Increments)), await Scalar("SELECT count(*) FROM {s}.changes"));
    }

    [Fact]
    public async Task Four_key_managers_on_four_stores_tagging_one_key_concurrently_lose_no_tag()
    {
        var rootKey = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var options = new EnvelopeKmsOptions { MaxConflictRetries = 100 };
        var managers = Enumerable.Range(0, 4).Select(_ => Track(new KeyManager(Open(), rootKey, options))).ToList();
        var keyId = (await managers[0].CreateKeyAsync("tags", Ct)).KeyId;
        const int TagsEach = 12;

        await Task.WhenAll(managers.Select((manager, writer) => Task.Run(async () =>
        {
            for (var i = 0; i < TagsEach; i++)
            {
                await manager.TagResourceAsync(new TagResourceRequest { KeyId = keyId, Tags = [new KeyTag($"w{writer}-{i:D2}", $"{i}")] }, Ct);
            }
        }, Ct)));

        var tags = (await managers[3].ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = keyId }, Ct)).Items;
        Assert.Equal(4 * TagsEach, tags.Count);
        Assert.Equal(
            Enumerable.Range(0, 4).SelectMany(w => Enumerable.Range(0, TagsEach).Select(i => $"w{w}-{i:D2}")).Order(StringComparer.Ordinal),
            tags.Select(t => t.TagKey).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Four_stores_initializing_an_empty_database_at_once_create_one_schema_and_one_metadata_row()
    {
        var database = await server.CreateDatabaseAsync();
        var connectionString = server.ConnectionString(database);
        var stores = Enumerable.Range(0, 4).Select(_ => Track(new PostgreSqlKeyStore(connectionString))).ToList();
        using var start = new Barrier(stores.Count);

        var results = await Task.WhenAll(stores.Select((store, i) => Task.Run(async () =>
        {
            start.SignalAndWait(Ct);
            return await store.InitializeMetadataAsync(
                new KeyStoreMetadata { FormatVersion = 1, RootKeyCheckValue = $"check-{i}", CreationDate = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) }, Ct);
        }, Ct)));

        Assert.Single(results.Select(r => r.RootKeyCheckValue).Distinct());
        Assert.Equal(1L, await PostgreSqlServer.ScalarAsync(connectionString, "SELECT count(*) FROM envelopekms.metadata"));
        Assert.Equal(1L, await PostgreSqlServer.ScalarAsync(connectionString, "SELECT count(*) FROM envelopekms.schema_version"));
        Assert.Equal((long)PostgreSqlKeyStore.CurrentSchemaVersion, await PostgreSqlServer.ScalarAsync(connectionString, "SELECT version FROM envelopekms.schema_version"));
        Assert.Equal(1L, await PostgreSqlServer.ScalarAsync(connectionString, "SELECT count(*) FROM envelopekms.store_state"));
        foreach (var store in stores)
        {
            Assert.Equal(results[0].RootKeyCheckValue, (await store.GetMetadataAsync(Ct))!.RootKeyCheckValue);
        }
    }

    [Fact]
    public async Task A_database_that_refuses_connections_is_storage_unavailable_and_nothing_changes()
    {
        var database = await server.CreateDatabaseAsync();
        var store = Track(new PostgreSqlKeyStore(server.ConnectionString(database)));
        var key = await store.InsertKeyAsync(Key("99999999-9999-9999-9999-999999999999"), Ct);

        await PostgreSqlServer.ExecuteAsync(server.AdminConnectionString, $"ALTER DATABASE {database} ALLOW_CONNECTIONS false");
        try
        {
            await server.TerminateConnectionsAsync(database);
            await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await store.UpdateKeyAsync(key with { Description = "lost" }, Ct));
            await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await store.GetKeyAsync(key.KeyId, Ct));
        }
        finally
        {
            await PostgreSqlServer.ExecuteAsync(server.AdminConnectionString, $"ALTER DATABASE {database} ALLOW_CONNECTIONS true");
        }

        var read = (await store.GetKeyAsync(key.KeyId, Ct))!;
        Assert.Equal(1, read.Version);
        Assert.Equal("", read.Description);
        Assert.Equal(2, (await store.UpdateKeyAsync(read with { Description = "back" }, Ct)).Version);
    }

    [Fact]
    public async Task A_connection_killed_in_the_middle_of_a_write_transaction_is_storage_unavailable_and_the_write_rolls_back()
    {
        var victim = Open(applicationName: "victim");
        var key = await victim.InsertKeyAsync(Key("abababab-abab-abab-abab-abababababab"), Ct);

        // Hold the change counter so that the victim's write transaction blocks inside the server.
        await using var blocker = new NpgsqlConnection(Shared);
        await blocker.OpenAsync(Ct);
        await using var hold = await blocker.BeginTransactionAsync(Ct);
        await using (var lockRow = new NpgsqlCommand($"SELECT last_change FROM {_schema}.store_state WHERE id = 1 FOR UPDATE", blocker, hold))
        {
            await lockRow.ExecuteScalarAsync(Ct);
        }

        var write = victim.UpdateKeyAsync(key with { Description = "never" }, Ct).AsTask();
        await WaitUntilAsync(async () => await PostgreSqlServer.ScalarAsync(server.AdminConnectionString,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim' AND wait_event_type = 'Lock'") is long waiting && waiting > 0);
        await server.TerminateConnectionsAsync(PostgreSqlServer.SharedDatabase, "victim");

        await Assert.ThrowsAsync<KmsStorageUnavailableException>(() => write);
        await hold.RollbackAsync(Ct);

        var read = (await victim.GetKeyAsync(key.KeyId, Ct))!;
        Assert.Equal(1, read.Version);
        Assert.Equal("", read.Description);
        Assert.Equal(1L, await Scalar("SELECT last_change FROM {s}.store_state"));
        Assert.Equal(1L, await Scalar("SELECT count(*) FROM {s}.changes"));
    }

    [Fact]
    public async Task A_write_through_one_store_is_reported_by_another_store_within_milliseconds_over_listen_notify()
    {
        var writer = Open();
        var watcher = Open();
        var key = await writer.InsertKeyAsync(Key("cdcdcdcd-cdcd-cdcd-cdcd-cdcdcdcdcdcd"), Ct);
        var arrivals = System.Threading.Channels.Channel.CreateUnbounded<(string? KeyId, long Timestamp)>();
        watcher.Changed += (_, e) => arrivals.Writer.TryWrite((e.KeyId, Stopwatch.GetTimestamp()));
        await WaitUntilAsync(() => Task.FromResult(watcher.ListenerProcessId is not null));

        const int Samples = 20;
        var latencies = new List<double>();
        for (var i = 0; i < Samples; i++)
        {
            var before = Stopwatch.GetTimestamp();
            key = await writer.UpdateKeyAsync(key with { Description = $"{i}" }, Ct);
            var committed = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            (string? KeyId, long Timestamp) arrival;
            do
            {
                arrival = await arrivals.Reader.ReadAsync(timeout.Token);
            }
            while (arrival.Timestamp < before);
            Assert.Equal(key.KeyId, arrival.KeyId);
            latencies.Add(Stopwatch.GetElapsedTime(committed, arrival.Timestamp).TotalMilliseconds);
        }

        latencies.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Change notification latency (commit returned -> other store's Changed), {Samples} samples: median {latencies[Samples / 2]:F2} ms, max {latencies[^1]:F2} ms");
        Assert.True(latencies[^1] < 5000, $"max latency {latencies[^1]} ms");
    }

    [Fact]
    public async Task Without_listen_notify_a_store_polls_the_change_table_and_still_reports_writes()
    {
        var writer = Open(o => o.UseListenNotify = false);
        var watcher = Open(o =>
        {
            o.UseListenNotify = false;
            o.PollInterval = TimeSpan.FromMilliseconds(100);
        });
        var seen = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Changed += (_, e) => seen.TrySetResult(e.KeyId);
        await Task.Delay(300, Ct); // The watcher records its starting point first.

        var stopwatch = Stopwatch.StartNew();
        var key = await writer.InsertKeyAsync(Key("efefefef-efef-efef-efef-efefefefefef"), Ct);

        Assert.Equal(key.KeyId, await seen.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        TestContext.Current.TestOutputHelper?.WriteLine($"Polling (100 ms) reported the change after {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Null(watcher.ListenerProcessId);
    }

    [Fact]
    public async Task After_its_listen_connection_is_killed_a_store_still_reports_changes_and_listens_again()
    {
        var writer = Open();
        var watcher = Open(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        var seen = System.Threading.Channels.Channel.CreateUnbounded<string?>();
        watcher.Changed += (_, e) => seen.Writer.TryWrite(e.KeyId);
        await WaitUntilAsync(() => Task.FromResult(watcher.ListenerProcessId is not null));
        var first = watcher.ListenerProcessId!.Value;

        await PostgreSqlServer.ExecuteAsync(server.AdminConnectionString, $"SELECT pg_terminate_backend({first})");
        var key = await writer.InsertKeyAsync(Key("f0f0f0f0-f0f0-f0f0-f0f0-f0f0f0f0f0f0"), Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        Assert.Equal(key.KeyId, await seen.Reader.ReadAsync(timeout.Token));
        await WaitUntilAsync(() => Task.FromResult(watcher.ListenerProcessId is { } pid && pid != first));

        // Listening again: the next change arrives through a notification.
        await writer.UpdateKeyAsync(key, Ct);
        Assert.Equal(key.KeyId, await seen.Reader.ReadAsync(timeout.Token));
    }

    [Fact]
    public async Task A_key_disabled_through_one_manager_evicts_the_data_keys_cached_by_an_encryptor_on_another_store()
    {
        var rootKey = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var a = Track(new KeyManager(Open(), rootKey));
        var b = Track(new KeyManager(Open(), rootKey));
        var key = await a.CreateKeyAsync("shared", Ct);
        using var encryptor = new EnvelopeEncryptor(b);
        var protector = encryptor.CreateProtector(key.KeyId, Context);
        var envelope = protector.Encrypt([1]);
        Assert.Equal([1], protector.Decrypt(envelope));
        Assert.Equal(2, encryptor.CacheStatistics.Entries);
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.KeyChanged += (_, e) =>
        {
            if (e.KeyId == key.KeyId && e.Operation is null)
            {
                changed.TrySetResult();
            }
        };

        await a.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Ct);

        await changed.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        await WaitUntilAsync(() => Task.FromResult(encryptor.CacheStatistics.Entries == 0));
        Assert.Throws<KmsDisabledException>(() => protector.Encrypt([2]));
        Assert.Throws<KmsDisabledException>(() => protector.Decrypt(envelope));
    }

    [Fact]
    public async Task A_key_manager_built_with_persist_keys_to_postgresql_creates_encrypts_and_decrypts_across_instances()
    {
        var rootKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string keyId;
        byte[] blob;
        using (var kms = KeyManagerFactory.Create(b => b.PersistKeysToPostgreSql(Shared, o => o.SchemaName = _schema).ProtectKeysWithRootKey(rootKey)))
        {
            keyId = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "on postgres" }, Ct)).KeyMetadata.KeyId;
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/app", TargetKeyId = keyId }, Ct);
            blob = await kms.EncryptAsync("alias/app", new byte[] { 1, 2, 3 }, Context, Ct);
        }

        var services = new ServiceCollection();
        services.AddEnvelopeKms(b => b.PersistKeysToPostgreSql(Shared, o => o.SchemaName = _schema).ProtectKeysWithRootKey(rootKey));
        await using (var provider = services.BuildServiceProvider())
        {
            var kms = provider.GetRequiredService<IKeyManager>();
            Assert.Equal([1, 2, 3], await kms.DecryptAsync(blob, Context, Ct));
            Assert.Same(provider.GetRequiredService<PostgreSqlKeyStore>(), provider.GetRequiredService<PostgreSqlKeyStore>());
        }

        Assert.Equal("on postgres", (await Open().GetKeyAsync(keyId, Ct))!.Description);
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => KeyManagerFactory.Create(b => b.PersistKeysToPostgreSql(Shared)));
        Assert.Throws<ArgumentException>(() => KeyManagerFactory.Create(b => b.PersistKeysToPostgreSql(Shared, o => o.SchemaName = "Robert'); DROP TABLE x;--")));
    }

    [Fact]
    public async Task A_schema_version_2_migrates_forward_keeping_its_keys_and_gains_indexed_grants()
    {
        var key = await Open().InsertKeyAsync(Key("34343434-3434-3434-3434-343434343434") with { Description = "written by schema 2" }, Ct);
        // Back to what release 2 left: no grants table, version 2.
        await Execute("DROP TABLE {s}.grants; UPDATE {s}.schema_version SET version = 2 WHERE id = 1");

        var store = Open();
        var read = (await store.GetKeyAsync(key.KeyId, Ct))!;

        Assert.Equal("written by schema 2", read.Description);
        Assert.Equal(4L, await Scalar("SELECT version FROM {s}.schema_version WHERE id = 1"));
        Assert.Equal(1, (await store.InsertGrantAsync(StoreGrants.Grant(key.KeyId, StoreGrants.GrantId(1)), Ct)).Version);
        Assert.Single(await store.ListGrantsForGranteeAsync(key.KeyId, "arn:aws:iam::111122223333:role/Alice", Ct));
        Assert.Equal("grants_by_grantee,grants_by_retiring_principal,grants_pkey",
            await Scalar("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = '{schema}' AND tablename = 'grants'"));
    }

    [Fact]
    public async Task A_schema_version_3_migrates_to_version_4_keeping_its_records_and_gains_custom_key_stores_with_unique_names()
    {
        var key = await Open().InsertKeyAsync(Key("36363636-3636-3636-3636-363636363636") with { Description = "written by schema 3" }, Ct);
        // Back to what release 3 left: no custom key store table, version 3.
        await Execute("DROP TABLE {s}.custom_key_stores; UPDATE {s}.schema_version SET version = 3 WHERE id = 1");

        var store = Open();
        Assert.Equal("written by schema 3", (await store.GetKeyAsync(key.KeyId, Ct))!.Description);
        Assert.Equal(4L, await Scalar("SELECT version FROM {s}.schema_version WHERE id = 1"));

        var record = new CustomKeyStoreRecord
        {
            CustomKeyStoreId = "cks-0123456789abcdef0",
            CustomKeyStoreName = "hsm",
            CustomKeyStoreType = EnvelopeKms.CustomKeyStores.CustomKeyStoreType.AwsCloudHsm,
            CreationDate = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            ConnectionState = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Disconnected,
        };
        Assert.Equal(1, (await store.InsertCustomKeyStoreAsync(record, Ct)).Version);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.InsertCustomKeyStoreAsync(record with { CustomKeyStoreId = "cks-0123456789abcdef1" }, Ct));
        var other = await store.InsertCustomKeyStoreAsync(record with { CustomKeyStoreId = "cks-0123456789abcdef2", CustomKeyStoreName = "other" }, Ct);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateCustomKeyStoreAsync(other with { CustomKeyStoreName = "hsm" }, Ct));
        Assert.Equal(2L, await Scalar("SELECT count(*) FROM {s}.custom_key_stores"));
    }

    [Fact]
    public async Task A_grant_row_edited_or_inserted_by_hand_is_detected_through_the_sealing_store()
    {
        var store = Open();
        var grants = StoreGrants.Sealing(store).Grants!;
        const string keyId = "56565656-5656-5656-5656-565656565656";
        var genuine = await grants.InsertGrantAsync(StoreGrants.Grant(keyId, StoreGrants.GrantId(1)), Ct);
        var forgedId = StoreGrants.GrantId(2);
        await Execute($$"""
            INSERT INTO {s}.grants (key_id, grant_id, grantee_principal, retiring_principal, version, document)
            SELECT key_id, '{{forgedId}}', 'arn:aws:iam::999999999999:root', retiring_principal, 1,
                   replace(replace(document, grant_id, '{{forgedId}}'), 'arn:aws:iam::111122223333:role/Alice', 'arn:aws:iam::999999999999:root')
            FROM {s}.grants WHERE grant_id = '{{genuine.GrantId}}'
            """);

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListGrantsForGranteeAsync(keyId, "arn:aws:iam::999999999999:root", Ct));
        Assert.Contains(forgedId, e.Message, StringComparison.Ordinal);
        Assert.Contains(keyId, e.Message, StringComparison.Ordinal);
        Assert.NotNull(await grants.GetGrantAsync(keyId, genuine.GrantId, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListRetirableGrantsAsync(genuine.RetiringPrincipal!, null, null, 10, Ct));
    }

    // ------------------------------------------------------------------ helpers

    private PostgreSqlKeyStore Open(Action<PostgreSqlKeyStoreOptions>? configure = null, string? applicationName = null)
    {
        server.Require();
        var options = new PostgreSqlKeyStoreOptions { SchemaName = _schema };
        configure?.Invoke(options);
        return Track(new PostgreSqlKeyStore(server.ConnectionString(PostgreSqlServer.SharedDatabase, applicationName), options, loggerFactory: null));
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable as IAsyncDisposable ?? new SyncDisposer(disposable));
        return disposable;
    }

    private string Sql(string sql) => sql.Replace("{s}", _schema, StringComparison.Ordinal).Replace("{schema}", _schema, StringComparison.Ordinal);

    private Task<object?> Scalar(string sql) => PostgreSqlServer.ScalarAsync(Shared, Sql(sql));

    private Task Execute(string sql) => PostgreSqlServer.ExecuteAsync(Shared, Sql(sql));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), "The condition did not hold within 10 seconds.");
            await Task.Delay(20, Ct);
        }
    }

    private static KeyRecord Key(string keyId) => StoreRecords.MinimalKey(keyId);

    private sealed class SyncDisposer(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
