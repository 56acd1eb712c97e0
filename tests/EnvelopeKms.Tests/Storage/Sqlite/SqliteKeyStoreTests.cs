using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>What the SQLite store promises beyond the conformance suite: schema, WAL, integrity errors, no plaintext at rest.</summary>
public sealed class SqliteKeyStoreTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("sqlite");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DatabasePath => Path.Combine(_directory.Parent, "keys.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task A_new_database_records_the_current_schema_version_in_wal_mode_and_reopens()
    {
        var store = new SqliteKeyStore(DatabasePath);
        var key = await store.InsertKeyAsync(Key("11111111-1111-1111-1111-111111111111"), Ct);

        Assert.Equal(4, SqliteKeyStore.CurrentSchemaVersion);
        Assert.Equal(4L, Scalar("SELECT version FROM schema_version WHERE id = 1"));
        Assert.Equal("wal", Scalar("PRAGMA journal_mode"));
        Assert.Equal(["aliases", "changes", "custom_key_stores", "grants", "keys", "metadata", "schema_version", "store_state"], Tables());

        var reopened = new SqliteKeyStore(DatabasePath);
        Assert.Equal(key.KeyId, (await reopened.GetKeyAsync(key.KeyId, Ct))!.KeyId);
        Assert.Equal(1L, Scalar("SELECT count(*) FROM schema_version"));
        Assert.Equal(4L, Scalar("SELECT version FROM schema_version WHERE id = 1"));
    }

    [Fact]
    public async Task A_database_of_a_newer_schema_version_is_refused_with_an_integrity_error_and_left_alone()
    {
        await new SqliteKeyStore(DatabasePath).InsertKeyAsync(Key("22222222-2222-2222-2222-222222222222"), Ct);
        Execute("UPDATE schema_version SET version = 99");

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await new SqliteKeyStore(DatabasePath).GetKeyAsync("22222222-2222-2222-2222-222222222222", Ct));

        Assert.Contains("UnsupportedSchema", e.Message, StringComparison.Ordinal);
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
        Assert.Equal(99L, Scalar("SELECT version FROM schema_version"));
    }

    [Fact]
    public async Task A_corrupted_document_is_an_integrity_error_for_that_key_while_other_keys_keep_working()
    {
        var store = new SqliteKeyStore(DatabasePath);
        var good = await store.InsertKeyAsync(Key("33333333-3333-3333-3333-333333333333"), Ct);
        var bad = await store.InsertKeyAsync(Key("44444444-4444-4444-4444-444444444444"), Ct);
        var other = await store.InsertKeyAsync(Key("55555555-5555-5555-5555-555555555555"), Ct);
        Execute($"UPDATE keys SET document = substr(document, 1, 40) WHERE key_id = '{bad.KeyId}'");
        Execute($"UPDATE keys SET document = replace(document, '{other.KeyId}', '{good.KeyId}') WHERE key_id = '{other.KeyId}'");

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetKeyAsync(bad.KeyId, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.GetKeyAsync(other.KeyId, Ct));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await store.ListKeysAsync(null, 10, Ct));

        Assert.Equal(good.KeyId, (await store.GetKeyAsync(good.KeyId, Ct))!.KeyId);
        Assert.Equal(2, (await store.UpdateKeyAsync(good with { Description = "still writable" }, Ct)).Version);
        Assert.Equal(2L, Scalar($"SELECT version FROM keys WHERE key_id = '{good.KeyId}'"));
        Assert.Equal(3L, Scalar("SELECT count(*) FROM keys"));
        Assert.Equal(40L, Scalar($"SELECT length(document) FROM keys WHERE key_id = '{bad.KeyId}'"));
    }

    [Fact]
    public async Task Four_stores_on_one_file_incrementing_one_key_lose_no_update()
    {
        var key = await new SqliteKeyStore(DatabasePath).InsertKeyAsync(Key("77777777-7777-7777-7777-777777777777") with { Description = "0" }, Ct);
        const int Writers = 4, Increments = 25;

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            var store = new SqliteKeyStore(DatabasePath);
            for (var done = 0; done < Increments;)
            {
                var current = (await store.GetKeyAsync(key.KeyId, Ct))!;
                var next = current with { Description = $"{int.Parse(current.Description, System.Globalization.CultureInfo.InvariantCulture) + 1}" };
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

        var final = (await new SqliteKeyStore(DatabasePath).GetKeyAsync(key.KeyId, Ct))!;
        Assert.Equal($"{Writers * Increments}", final.Description);
        Assert.Equal(1 + (Writers * Increments), final.Version);
    }

    [Fact]
    public async Task A_locked_database_is_reported_as_storage_unavailable_and_nothing_changes()
    {
        var store = new SqliteKeyStore(DatabasePath);
        var key = await store.InsertKeyAsync(Key("66666666-6666-6666-6666-666666666666"), Ct);
        using var blocker = new SqliteConnection($"Data Source={DatabasePath};Pooling=False;Default Timeout=1");
        blocker.Open();
        using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE";
            begin.ExecuteNonQuery();
        }

        // Microsoft.Data.Sqlite retries SQLITE_BUSY up to its command timeout; a short one keeps the test quick.
        var quick = new SqliteKeyStore($"Data Source={DatabasePath};Default Timeout=1");
        await Assert.ThrowsAsync<KmsStorageUnavailableException>(async () => await quick.UpdateKeyAsync(key with { Description = "blocked" }, Ct));

        using (var rollback = blocker.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        Assert.Equal(1, (await store.GetKeyAsync(key.KeyId, Ct))!.Version);
    }

    [Fact]
    public async Task A_key_manager_on_sqlite_creates_aliases_encrypts_disables_and_decrypts_across_reopening()
    {
        var rootKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "t-1" };
        string keyId;
        byte[] blob;
        using (var kms = KeyManagerFactory.Create(b => b.PersistKeysToSqlite(DatabasePath).ProtectKeysWithRootKey(rootKey)))
        {
            keyId = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "on sqlite" }, Ct)).KeyMetadata.KeyId;
            await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/app", TargetKeyId = keyId }, Ct);
            blob = await kms.EncryptAsync("alias/app", new byte[] { 1, 2, 3 }, context, Ct);
            Assert.Equal([1, 2, 3], await kms.DecryptAsync(blob, context, Ct));
        }

        using (var kms = KeyManagerFactory.Create(b => b.PersistKeysToSqlite(DatabasePath).ProtectKeysWithRootKey(rootKey)))
        {
            Assert.Equal([1, 2, 3], await kms.DecryptAsync(blob, context, Ct));
            await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, Ct);
            var e = await Assert.ThrowsAnyAsync<KmsException>(async () => await kms.DecryptAsync(blob, context, Ct));
            Assert.Equal("DisabledException", e.ErrorCode);
            await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, Ct);
            Assert.Equal([1, 2, 3], await kms.DecryptAsync(blob, context, Ct));
        }

        var store = new SqliteKeyStore(DatabasePath);
        Assert.Equal(keyId, (await store.GetAliasAsync("alias/app", Ct))!.TargetKeyId);
        Assert.Equal("on sqlite", (await store.GetKeyAsync(keyId, Ct))!.Description);
        Assert.NotNull(await store.GetMetadataAsync(Ct));
    }

    [Fact]
    public void Persist_keys_to_sqlite_without_a_root_key_is_rejected()
    {
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => KeyManagerFactory.Create(b => b.PersistKeysToSqlite(DatabasePath)));
    }

    [Fact]
    public async Task After_a_workout_the_database_files_hold_no_key_material_or_plaintext_in_any_form()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var secrets = new List<(string What, byte[] Bytes)> { ("the root key", rootKey) };
        using (var kms = new TestKeyManager(new SqliteKeyStore(DatabasePath), new StaticRootKeyProvider(rootKey)))
        {
            var m = kms.Manager;
            for (var i = 0; i < 6; i++)
            {
                var keyId = (await m.CreateKeyAsync(new CreateKeyRequest { Description = $"workout {i}", Tags = [new KeyTag("i", $"{i}")] }, Ct)).KeyMetadata.KeyId;
                await m.CreateAliasAsync(new CreateAliasRequest { AliasName = $"alias/workout/{i}", TargetKeyId = keyId }, Ct);
                var plaintext = RandomNumberGenerator.GetBytes(64);
                secrets.Add(($"a plaintext under {keyId}", plaintext));
                Assert.Equal(plaintext, await m.DecryptAsync(await m.EncryptAsync(keyId, plaintext, null, Ct), null, Ct));
                using var dataKey = await m.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes256 }, Ct);
                secrets.Add(($"a data key under {keyId}", dataKey.Plaintext.ToArray()));
                if (i % 2 == 0)
                {
                    await m.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, Ct);
                }
            }

            await m.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/workout/3" }, Ct);
        }

        var store = new SqliteKeyStore(DatabasePath);
        using var root = new AesGcmRootKey(rootKey, parameters: null);
        var wrapped = new List<byte[]>();
        foreach (var key in await store.ListKeysAsync(null, 100, Ct))
        {
            foreach (var record in key.KeyMaterials)
            {
                var material = new byte[root.GetUnwrappedLength(record.WrappedMaterial)];
                root.Unwrap(record.WrappedMaterial, KeyManager.WrapAssociatedData(key, record.KeyMaterialId), material);
                secrets.Add(($"the key material of {key.KeyId}", material));
                wrapped.Add(record.WrappedMaterial);
            }
        }

        Assert.Equal(6, wrapped.Count);
        var files = Directory.EnumerateFiles(_directory.Parent).Select(f => (Path: f, Bytes: File.ReadAllBytes(f))).ToList();
        Assert.Contains(files, f => f.Path.EndsWith("keys.db", StringComparison.Ordinal));

        var hits = (from secret in secrets
                    from form in Encodings(secret.Bytes)
                    from file in files
                    where file.Bytes.AsSpan().IndexOf(form.Bytes) >= 0
                    select $"{secret.What} as {form.Name} in {Path.GetFileName(file.Path)}").ToList();
        Assert.Empty(hits);

        // The scan can see: every wrapped material is found, in base64, in the database files.
        Assert.All(wrapped, w => Assert.Contains(files, f => f.Bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(Convert.ToBase64String(w))) >= 0));
    }

    private static IEnumerable<(string Name, byte[] Bytes)> Encodings(byte[] secret)
    {
        yield return ("raw bytes", secret);
        yield return ("lowercase hex", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret)));
        yield return ("uppercase hex", Encoding.ASCII.GetBytes(Convert.ToHexString(secret)));
        for (var skip = 0; skip < 3; skip++)
        {
            var aligned = secret[skip..];
            aligned = aligned[..(aligned.Length / 3 * 3)];
            yield return ($"base64 (offset {skip})", Encoding.ASCII.GetBytes(Convert.ToBase64String(aligned)));
            yield return ($"base64url (offset {skip})", Encoding.ASCII.GetBytes(Base64Url.EncodeToString(aligned)));
        }
    }

    [Fact]
    public async Task A_schema_version_2_database_migrates_forward_keeping_its_keys_and_aliases_and_gains_indexed_grants()
    {
        var key = Key("33333333-3333-3333-3333-333333333333") with { Description = "written by schema 2" };
        using (var connection = Connect())
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE schema_version (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
                CREATE TABLE keys (key_id TEXT NOT NULL COLLATE BINARY PRIMARY KEY, version INTEGER NOT NULL, document TEXT NOT NULL);
                CREATE TABLE aliases (alias_name TEXT NOT NULL COLLATE BINARY PRIMARY KEY, target_key_id TEXT NOT NULL COLLATE BINARY, version INTEGER NOT NULL, document TEXT NOT NULL);
                CREATE INDEX aliases_by_target ON aliases (target_key_id, alias_name);
                CREATE TABLE metadata (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL);
                CREATE TABLE store_state (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), last_change INTEGER NOT NULL);
                INSERT INTO store_state (id, last_change) VALUES (1, 5);
                CREATE TABLE changes (seq INTEGER NOT NULL PRIMARY KEY, key_id TEXT NULL, alias_name TEXT NULL);
                INSERT INTO schema_version (id, version) VALUES (1, 2);
                INSERT INTO keys (key_id, version, document) VALUES ($id, 4, $document);
                """;
            command.Parameters.AddWithValue("$id", key.KeyId);
            command.Parameters.AddWithValue("$document", System.Text.Json.JsonSerializer.Serialize(key, KeyStoreJson.KeyRecord));
            command.ExecuteNonQuery();
        }

        var store = new SqliteKeyStore(DatabasePath);
        var read = (await store.GetKeyAsync(key.KeyId, Ct))!;

        Assert.Equal("written by schema 2", read.Description);
        Assert.Equal(4, read.Version);
        Assert.Null(read.Policy);
        Assert.Equal(4L, Scalar("SELECT version FROM schema_version WHERE id = 1"));
        Assert.Contains("grants", Tables());
        var grant = await store.InsertGrantAsync(StoreGrants.Grant(key.KeyId, StoreGrants.GrantId(1)), Ct);
        Assert.Equal(1, grant.Version);
        Assert.Equal(6L, Scalar("SELECT last_change FROM store_state WHERE id = 1"));
        Assert.Equal(key.KeyId, Scalar("SELECT key_id FROM changes WHERE seq = 6"));

        // The two lookups are index searches.
        Assert.Contains("grants_by_grantee", QueryPlan("SELECT key_id, grant_id, version, document FROM grants WHERE key_id = 'k' AND grantee_principal = 'p' ORDER BY grant_id"), StringComparison.Ordinal);
        Assert.Contains("grants_by_retiring_principal", QueryPlan("SELECT key_id, grant_id, version, document FROM grants WHERE retiring_principal = 'r' AND (key_id, grant_id) > ('a', 'b') ORDER BY key_id, grant_id LIMIT 10"), StringComparison.Ordinal);
        Assert.DoesNotContain("TEMP B-TREE", QueryPlan("SELECT key_id, grant_id, version, document FROM grants WHERE retiring_principal = 'r' ORDER BY key_id, grant_id LIMIT 10"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_version_3_database_migrates_to_version_4_keeping_its_records_and_gains_custom_key_stores_with_unique_names()
    {
        var store = new SqliteKeyStore(DatabasePath);
        var key = await store.InsertKeyAsync(Key("35353535-3535-3535-3535-353535353535") with { Description = "written by schema 3" }, Ct);
        await store.InsertGrantAsync(StoreGrants.Grant(key.KeyId, StoreGrants.GrantId(1)), Ct);

        // Back to what release 3 left: no custom key store table, version 3.
        Execute("DROP TABLE custom_key_stores; UPDATE schema_version SET version = 3 WHERE id = 1");
        Assert.DoesNotContain("custom_key_stores", Tables());

        var reopened = new SqliteKeyStore(DatabasePath);
        Assert.Equal("written by schema 3", (await reopened.GetKeyAsync(key.KeyId, Ct))!.Description);
        Assert.Equal(1, await reopened.CountGrantsAsync(key.KeyId, Ct));
        Assert.Equal(4L, Scalar("SELECT version FROM schema_version WHERE id = 1"));
        Assert.Contains("custom_key_stores", Tables());

        var record = new CustomKeyStoreRecord
        {
            CustomKeyStoreId = "cks-0123456789abcdef0",
            CustomKeyStoreName = "hsm",
            CustomKeyStoreType = EnvelopeKms.CustomKeyStores.CustomKeyStoreType.AwsCloudHsm,
            CreationDate = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
            ConnectionState = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Disconnected,
        };
        Assert.Equal(1, (await reopened.InsertCustomKeyStoreAsync(record, Ct)).Version);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await reopened.InsertCustomKeyStoreAsync(record with { CustomKeyStoreId = "cks-0123456789abcdef1" }, Ct));
        Assert.Equal(1L, Scalar("SELECT count(*) FROM custom_key_stores"));
    }

    [Fact]
    public async Task A_grant_row_edited_or_inserted_by_hand_is_detected_through_the_sealing_store()
    {
        var store = new SqliteKeyStore(DatabasePath);
        var grants = StoreGrants.Sealing(store).Grants!;
        const string keyId = "44444444-4444-4444-4444-444444444444";
        var genuine = await grants.InsertGrantAsync(StoreGrants.Grant(keyId, StoreGrants.GrantId(1)), Ct);

        // Someone with database access grants themselves Encrypt and Decrypt by copying the row under another id and grantee.
        var forgedId = StoreGrants.GrantId(2);
        Execute($"""
            INSERT INTO grants (key_id, grant_id, grantee_principal, retiring_principal, version, document)
            SELECT key_id, '{forgedId}', 'arn:aws:iam::999999999999:root', retiring_principal, 1,
                   replace(replace(document, grant_id, '{forgedId}'), 'arn:aws:iam::111122223333:role/Alice', 'arn:aws:iam::999999999999:root')
            FROM grants WHERE grant_id = '{genuine.GrantId}'
            """);

        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.ListGrantsForGranteeAsync(keyId, "arn:aws:iam::999999999999:root", Ct));
        Assert.Contains(forgedId, e.Message, StringComparison.Ordinal);
        Assert.Contains(keyId, e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.GetGrantAsync(keyId, forgedId, Ct));
        Assert.NotNull(await grants.GetGrantAsync(keyId, genuine.GrantId, Ct));

        // An edit of the genuine row's operations.
        Execute($"UPDATE grants SET document = replace(document, '\"Encrypt\"', '\"ReEncryptTo\"') WHERE grant_id = '{genuine.GrantId}'");
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(async () => await grants.GetGrantAsync(keyId, genuine.GrantId, Ct));
        Assert.Equal(2L, Scalar("SELECT count(*) FROM grants"));
    }

    private string QueryPlan(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join("\n", plan);
    }

    private static KeyRecord Key(string keyId) => StoreRecords.MinimalKey(keyId);

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    private object? Scalar(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void Execute(string sql)
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private string[] Tables()
    {
        using var connection = Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return [.. names];
    }
}
