using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Storage.Sqlite;

/// <summary>
/// A key store in one SQLite database: the embedded default for persistent use. The database runs in
/// WAL mode with <c>synchronous=FULL</c> (a committed change survives a power loss); every write is one
/// statement, and so one transaction, that checks the optimistic-concurrency version in SQL. Several
/// stores, threads or processes may share the file.
/// </summary>
/// <remarks>
/// Tables: <c>keys</c> and <c>aliases</c> (one row per record: id, version, JSON document),
/// <c>metadata</c> (one row) and <c>schema_version</c>. The schema is created and migrated forward on
/// first use, one transaction per migration step; a database written by a newer release (a schema
/// version this release does not know) is refused with <see cref="KmsStorageIntegrityException"/>.
/// Busy, full or failing databases surface as <see cref="KmsStorageUnavailableException"/>; an unreadable
/// document as <see cref="KmsStorageIntegrityException"/>, with the row left in place.
/// </remarks>
public sealed class SqliteKeyStore : IKeyStore
{
    /// <summary>The steps that bring an empty database to each schema version: step <c>i</c> yields version <c>i + 1</c>.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE keys (
            key_id TEXT NOT NULL COLLATE BINARY PRIMARY KEY,
            version INTEGER NOT NULL,
            document TEXT NOT NULL);
        CREATE TABLE aliases (
            alias_name TEXT NOT NULL COLLATE BINARY PRIMARY KEY,
            target_key_id TEXT NOT NULL COLLATE BINARY,
            version INTEGER NOT NULL,
            document TEXT NOT NULL);
        CREATE INDEX aliases_by_target ON aliases (target_key_id, alias_name);
        CREATE TABLE metadata (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL);
        """,
    ];

    /// <summary>The schema version this release writes and reads.</summary>
    internal static int CurrentSchemaVersion => Migrations.Length;

    private const int BusyTimeoutMilliseconds = 5000;

    private readonly string _connectionString;
    private readonly string _description;
    private readonly string? _directoryToCreate;
    private readonly Lock _initializeLock = new();
    private volatile bool _initialized;

    /// <summary>
    /// Opens (creating on first use) the database at a file path, or described by a
    /// Microsoft.Data.Sqlite connection string: a value containing <c>=</c> is read as a connection string.
    /// </summary>
    public SqliteKeyStore(string pathOrConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrConnectionString);
        SqliteConnectionStringBuilder builder;
        if (pathOrConnectionString.Contains('=', StringComparison.Ordinal))
        {
            builder = new SqliteConnectionStringBuilder(pathOrConnectionString);
        }
        else
        {
            var path = Path.GetFullPath(pathOrConnectionString);
            builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true };
            _directoryToCreate = Path.GetDirectoryName(path);
        }

        _connectionString = builder.ToString();
        _description = builder.DataSource;
    }

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken)
        => RunAsync(connection => ReadMetadata(connection), cancellationToken);

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var document = JsonSerializer.Serialize(metadata, SqliteKeyStoreJsonContext.Default.KeyStoreMetadata);
        return RunAsync(connection =>
        {
            // The first writer wins; the row is never changed afterwards, so reading it back is exact.
            Execute(connection, "INSERT INTO metadata (id, document) VALUES (1, $document) ON CONFLICT (id) DO NOTHING", ("$document", document));
            return ReadMetadata(connection)
                ?? throw new KmsStorageIntegrityException($"The SQLite key store '{_description}' lost its metadata row right after writing it.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return RunAsync(connection =>
        {
            using var command = Command(connection, "SELECT key_id, version, document FROM keys WHERE key_id = $id", ("$id", keyId));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadKey(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return RunAsync<IReadOnlyList<KeyRecord>>(connection =>
        {
            using var command = Command(
                connection,
                "SELECT key_id, version, document FROM keys WHERE $after IS NULL OR key_id > $after COLLATE BINARY ORDER BY key_id COLLATE BINARY LIMIT $limit",
                ("$after", afterKeyId),
                ("$limit", limit));
            using var reader = command.ExecuteReader();
            var keys = new List<KeyRecord>();
            while (reader.Read())
            {
                keys.Add(ReadKey(reader));
            }

            return keys;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var stored = key with { Version = 1 };
        var document = SerializeKey(stored);
        return RunAsync(connection =>
        {
            var rows = Execute(
                connection,
                "INSERT INTO keys (key_id, version, document) VALUES ($id, 1, $document) ON CONFLICT (key_id) DO NOTHING",
                ("$id", key.KeyId),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"A key with id '{key.KeyId}' exists.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var stored = key with { Version = key.Version + 1 };
        var document = SerializeKey(stored);
        return RunAsync(connection =>
        {
            var rows = Execute(
                connection,
                "UPDATE keys SET version = version + 1, document = $document WHERE key_id = $id AND version = $expected",
                ("$id", key.KeyId),
                ("$expected", key.Version),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"The key '{key.KeyId}' is missing or changed since version {key.Version} was read.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return RunVoidAsync(connection =>
        {
            var rows = Execute(connection, "DELETE FROM keys WHERE key_id = $id AND version = $expected", ("$id", keyId), ("$expected", expectedVersion));
            if (rows != 1)
            {
                throw new KeyStoreConflictException($"The key '{keyId}' is missing or changed since version {expectedVersion} was read.");
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aliasName);
        return RunAsync(connection =>
        {
            using var command = Command(connection, "SELECT alias_name, version, document FROM aliases WHERE alias_name = $name", ("$name", aliasName));
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadAlias(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return RunAsync<IReadOnlyList<AliasRecord>>(connection =>
        {
            using var command = Command(
                connection,
                """
                SELECT alias_name, version, document FROM aliases
                WHERE ($target IS NULL OR target_key_id = $target) AND ($after IS NULL OR alias_name > $after COLLATE BINARY)
                ORDER BY alias_name COLLATE BINARY LIMIT $limit
                """,
                ("$target", targetKeyId),
                ("$after", afterAliasName),
                ("$limit", limit));
            using var reader = command.ExecuteReader();
            var aliases = new List<AliasRecord>();
            while (reader.Read())
            {
                aliases.Add(ReadAlias(reader));
            }

            return aliases;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var stored = alias with { Version = 1 };
        var document = SerializeAlias(stored);
        return RunAsync(connection =>
        {
            var rows = Execute(
                connection,
                "INSERT INTO aliases (alias_name, target_key_id, version, document) VALUES ($name, $target, 1, $document) ON CONFLICT (alias_name) DO NOTHING",
                ("$name", alias.AliasName),
                ("$target", alias.TargetKeyId),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"An alias named '{alias.AliasName}' exists.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var stored = alias with { Version = alias.Version + 1 };
        var document = SerializeAlias(stored);
        return RunAsync(connection =>
        {
            var rows = Execute(
                connection,
                "UPDATE aliases SET target_key_id = $target, version = version + 1, document = $document WHERE alias_name = $name AND version = $expected",
                ("$name", alias.AliasName),
                ("$target", alias.TargetKeyId),
                ("$expected", alias.Version),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"The alias '{alias.AliasName}' is missing or changed since version {alias.Version} was read.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aliasName);
        return RunVoidAsync(connection =>
        {
            var rows = Execute(connection, "DELETE FROM aliases WHERE alias_name = $name AND version = $expected", ("$name", aliasName), ("$expected", expectedVersion));
            if (rows != 1)
            {
                throw new KeyStoreConflictException($"The alias '{aliasName}' is missing or changed since version {expectedVersion} was read.");
            }
        }, cancellationToken);
    }

    // ------------------------------------------------------------------ connections and errors

    private ValueTask RunVoidAsync(Action<SqliteConnection> operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            Run<object?>(connection =>
            {
                operation(connection);
                return null;
            });
            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    private ValueTask<T> RunAsync<T>(Func<SqliteConnection, T> operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        try
        {
            return ValueTask.FromResult(Run(operation));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<T>(e);
        }
    }

    /// <summary>
    /// Runs one operation on its own (pooled) connection, after the schema is in place, and maps
    /// SQLite failures to the store's exceptions. Microsoft.Data.Sqlite is synchronous underneath,
    /// so the operation runs inline and the result is returned as a completed (or faulted) task.
    /// </summary>
    private T Run<T>(Func<SqliteConnection, T> operation)
    {
        EnsureSchema();
        try
        {
            using var connection = Open();
            return operation(connection);
        }
        catch (SqliteException e)
        {
            throw Map(e);
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            // Per-connection settings (journal_mode=WAL is a property of the file, set once by the migration).
            Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA synchronous = FULL;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private Exception Map(SqliteException e) => e.SqliteErrorCode switch
    {
        // SQLITE_CORRUPT, SQLITE_NOTADB: the file itself is damaged.
        11 or 26 => new KmsStorageIntegrityException($"The SQLite key store '{_description}' is damaged: {e.Message}", e),
        // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN and the rest: nothing changed.
        _ => new KmsStorageUnavailableException($"The SQLite key store '{_description}' is unavailable: {e.Message}", e),
    };

    // ------------------------------------------------------------------ schema

    private void EnsureSchema()
    {
        if (_initialized)
        {
            return;
        }

        lock (_initializeLock)
        {
            if (_initialized)
            {
                return;
            }

            if (!string.IsNullOrEmpty(_directoryToCreate))
            {
                try
                {
                    Directory.CreateDirectory(_directoryToCreate);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new KmsStorageUnavailableException($"The directory of the SQLite key store '{_description}' could not be created: {e.Message}", e);
                }
            }

            try
            {
                using var connection = Open();
                Migrate(connection);
            }
            catch (SqliteException e)
            {
                throw Map(e);
            }

            _initialized = true;
        }
    }

    /// <summary>
    /// Switches the file to WAL and applies every missing migration step, each in its own
    /// <c>BEGIN IMMEDIATE</c> transaction that re-reads the version first, so that concurrent
    /// initializers (threads or processes) apply each step exactly once.
    /// </summary>
    private void Migrate(SqliteConnection connection)
    {
        using (var wal = Command(connection, "PRAGMA journal_mode = WAL"))
        {
            var mode = Convert.ToString(wal.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase) && !string.Equals(mode, "memory", StringComparison.OrdinalIgnoreCase))
            {
                throw new KmsStorageUnavailableException($"The SQLite key store '{_description}' could not be switched to WAL mode (journal mode '{mode}').");
            }
        }

        while (true)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            Execute(connection, "CREATE TABLE IF NOT EXISTS schema_version (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)", transaction);
            var version = ReadSchemaVersion(connection, transaction);
            if (version > CurrentSchemaVersion)
            {
                throw new KmsStorageIntegrityException(
                    $"UnsupportedSchema: the SQLite key store '{_description}' has schema version {version}; this release reads versions up to {CurrentSchemaVersion}. Use a newer release.");
            }

            if (version == CurrentSchemaVersion)
            {
                transaction.Commit();
                return;
            }

            Execute(connection, Migrations[version], transaction);
            Execute(
                connection,
                "INSERT INTO schema_version (id, version) VALUES (1, $version) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                transaction,
                ("$version", version + 1));
            transaction.Commit();
        }
    }

    private static long ReadSchemaVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = Command(connection, "SELECT version FROM schema_version WHERE id = 1");
        command.Transaction = transaction;
        var value = command.ExecuteScalar();
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    // ------------------------------------------------------------------ documents

    private static string SerializeKey(KeyRecord key) => JsonSerializer.Serialize(key, SqliteKeyStoreJsonContext.Default.KeyRecord);

    private static string SerializeAlias(AliasRecord alias) => JsonSerializer.Serialize(alias, SqliteKeyStoreJsonContext.Default.AliasRecord);

    private KeyStoreMetadata? ReadMetadata(SqliteConnection connection)
    {
        using var command = Command(connection, "SELECT document FROM metadata WHERE id = 1");
        using var reader = command.ExecuteReader();
        return reader.Read() ? Deserialize(reader, 0, SqliteKeyStoreJsonContext.Default.KeyStoreMetadata, "the metadata row") : null;
    }

    private KeyRecord ReadKey(SqliteDataReader reader)
    {
        var keyId = reader.GetString(0);
        var key = Deserialize(reader, 2, SqliteKeyStoreJsonContext.Default.KeyRecord, $"the row of key '{keyId}'");
        if (!string.Equals(key.KeyId, keyId, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The row of key '{keyId}' in the SQLite key store '{_description}' holds the document of another key; it was left in place.");
        }

        return key with { Version = reader.GetInt64(1) };
    }

    private AliasRecord ReadAlias(SqliteDataReader reader)
    {
        var aliasName = reader.GetString(0);
        var alias = Deserialize(reader, 2, SqliteKeyStoreJsonContext.Default.AliasRecord, $"the row of alias '{aliasName}'");
        if (!string.Equals(alias.AliasName, aliasName, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The row of alias '{aliasName}' in the SQLite key store '{_description}' holds the document of another alias; it was left in place.");
        }

        return alias with { Version = reader.GetInt64(1) };
    }

    private T Deserialize<T>(SqliteDataReader reader, int ordinal, JsonTypeInfo<T> typeInfo, string what)
        where T : class
    {
        try
        {
            var document = reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
            return (document is null ? null : JsonSerializer.Deserialize(document, typeInfo))
                ?? throw new KmsStorageIntegrityException($"The document of {what} in the SQLite key store '{_description}' is empty; it was left in place.");
        }
        catch (Exception e) when (e is JsonException or InvalidCastException or FormatException or NotSupportedException or ArgumentException)
        {
            throw new KmsStorageIntegrityException($"The document of {what} in the SQLite key store '{_description}' is not a valid document; it was left in place.", e);
        }
    }

    // ------------------------------------------------------------------ commands

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // The SQL is a constant of this class; values are bound as parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
        => Execute(connection, sql, null, parameters);

    private static int Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        command.Transaction = transaction;
        return command.ExecuteNonQuery();
    }
}
