using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EnvelopeKms.Storage.Sqlite;

/// <summary>
/// A key store in one SQLite database: the embedded default for persistent use. The database runs in
/// WAL mode with <c>synchronous=FULL</c> (a committed change survives a power loss); every write is one
/// <c>BEGIN IMMEDIATE</c> transaction that checks the optimistic-concurrency version in SQL and records
/// the change in a change feed. Several stores, threads or processes may share the file.
/// </summary>
/// <remarks>
/// Tables: <c>keys</c>, <c>aliases</c>, <c>grants</c> and <c>custom_key_stores</c> (one row per record: id, version, JSON document),
/// <c>metadata</c> (one row), <c>schema_version</c>, and the change feed: <c>store_state</c> (one row,
/// the sequence number of the last change) and <c>changes</c> (one row per write, pruned to
/// <see cref="SqliteKeyStoreOptions.ChangeRetention"/> rows). The schema is created and migrated forward on
/// first use, one transaction per migration step; a database written by a newer release (a schema
/// version this release does not know) is refused with <see cref="KmsStorageIntegrityException"/>.
/// Busy, full or failing databases surface as <see cref="KmsStorageUnavailableException"/>; an unreadable
/// document as <see cref="KmsStorageIntegrityException"/>, with the row left in place.
/// <para>
/// As an <see cref="IKeyStoreChangeNotifier"/> the store reports every write made through any store on
/// the file (its own included): a background watcher, started when the first handler subscribes, reads
/// the change feed every <see cref="SqliteKeyStoreOptions.PollInterval"/>. Dispose the store to stop it.
/// </para>
/// </remarks>
public sealed class SqliteKeyStore : IKeyStore, IGrantStore, ICustomKeyStoreRecordStore, IKeyStoreChangeNotifier, IDisposable, IAsyncDisposable
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
        // 2: the change feed. Every write bumps store_state.last_change and records one changes row, in its transaction.
        """
        CREATE TABLE store_state (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            last_change INTEGER NOT NULL);
        INSERT INTO store_state (id, last_change) VALUES (1, 0);
        CREATE TABLE changes (
            seq INTEGER NOT NULL PRIMARY KEY,
            key_id TEXT NULL,
            alias_name TEXT NULL);
        """,
        // 3: grants. The grantee and retiring principal are columns (copies of the document's) for the two lookups.
        """
        CREATE TABLE grants (
            key_id TEXT NOT NULL COLLATE BINARY,
            grant_id TEXT NOT NULL COLLATE BINARY,
            grantee_principal TEXT NOT NULL COLLATE BINARY,
            retiring_principal TEXT NULL COLLATE BINARY,
            version INTEGER NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (key_id, grant_id));
        CREATE INDEX grants_by_grantee ON grants (key_id, grantee_principal, grant_id);
        CREATE INDEX grants_by_retiring_principal ON grants (retiring_principal, key_id, grant_id);
        """,
        // 4: custom key stores. The name is a column (a copy of the document's) so that it is unique.
        """
        CREATE TABLE custom_key_stores (
            custom_key_store_id TEXT NOT NULL COLLATE BINARY PRIMARY KEY,
            custom_key_store_name TEXT NOT NULL COLLATE BINARY UNIQUE,
            version INTEGER NOT NULL,
            document TEXT NOT NULL);
        """,
    ];

    /// <summary>The schema version this release writes and reads.</summary>
    internal static int CurrentSchemaVersion => Migrations.Length;

    private const int BusyTimeoutMilliseconds = 5000;

    /// <summary>How many rows the watcher reads from the change feed at once.</summary>
    private const int ChangeBatchSize = 1000;

    /// <summary>The longest wait between two attempts of a failing watcher.</summary>
    private static readonly TimeSpan MaxWatcherBackoff = TimeSpan.FromSeconds(30);

    private readonly string _connectionString;
    private readonly string _description;
    private readonly string? _directoryToCreate;
    private readonly Lock _initializeLock = new();
    private readonly TimeSpan _pollInterval;
    private readonly int _changeRetention;
    private readonly int _pruneEvery;
    private readonly ILogger _logger;
    private readonly Lock _watcherLock = new();
    private volatile bool _initialized;
    private EventHandler<KeyStoreChangedEventArgs>? _changed;
    private CancellationTokenSource? _watcherStop;
    private Task? _watcher;
    private bool _disposed;

    /// <summary>Whether the store was disposed (tests).</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed);
    private volatile int _watcherThreadId;

    /// <summary>Released to make the watcher read the feed now instead of at its next poll (tests).</summary>
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>
    /// Opens (creating on first use) the database at a file path, or described by a
    /// Microsoft.Data.Sqlite connection string: a value containing <c>=</c> is read as a connection string.
    /// </summary>
    public SqliteKeyStore(string pathOrConnectionString)
        : this(pathOrConnectionString, options: null)
    {
    }

    /// <summary>
    /// Opens (creating on first use) the database at a file path, or described by a
    /// Microsoft.Data.Sqlite connection string, with change-feed settings.
    /// </summary>
    /// <param name="pathOrConnectionString">A file path, or a connection string (a value containing <c>=</c>).</param>
    /// <param name="options">The change-feed settings; defaults when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where the change watcher reports its failures; none when <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public SqliteKeyStore(string pathOrConnectionString, SqliteKeyStoreOptions? options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrConnectionString);
        options ??= new SqliteKeyStoreOptions();
        options.Validate();
        _pollInterval = options.PollInterval;
        _changeRetention = options.ChangeRetention;
        _pruneEvery = Math.Clamp(options.ChangeRetention, 1, 100);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("EnvelopeKms.Storage.Sqlite.SqliteKeyStore");
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
        var document = JsonSerializer.Serialize(metadata, KeyStoreJson.Metadata);
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
        return WriteAsync(key.KeyId, null, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                "INSERT INTO keys (key_id, version, document) VALUES ($id, 1, $document) ON CONFLICT (key_id) DO NOTHING",
                transaction,
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
        return WriteAsync(key.KeyId, null, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                "UPDATE keys SET version = version + 1, document = $document WHERE key_id = $id AND version = $expected",
                transaction,
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
        return WriteVoidAsync(keyId, null, (connection, transaction) =>
        {
            var rows = Execute(connection, "DELETE FROM keys WHERE key_id = $id AND version = $expected", transaction, ("$id", keyId), ("$expected", expectedVersion));
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
        return WriteAsync(null, alias.AliasName, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                "INSERT INTO aliases (alias_name, target_key_id, version, document) VALUES ($name, $target, 1, $document) ON CONFLICT (alias_name) DO NOTHING",
                transaction,
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
        return WriteAsync(null, alias.AliasName, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                "UPDATE aliases SET target_key_id = $target, version = version + 1, document = $document WHERE alias_name = $name AND version = $expected",
                transaction,
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
        return WriteVoidAsync(null, aliasName, (connection, transaction) =>
        {
            var rows = Execute(connection, "DELETE FROM aliases WHERE alias_name = $name AND version = $expected", transaction, ("$name", aliasName), ("$expected", expectedVersion));
            if (rows != 1)
            {
                throw new KeyStoreConflictException($"The alias '{aliasName}' is missing or changed since version {expectedVersion} was read.");
            }
        }, cancellationToken);
    }

    // ------------------------------------------------------------------ grants

    private const string GrantColumns = "key_id, grant_id, version, document";

    /// <inheritdoc />
    public ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(grantId);
        return RunAsync(connection =>
        {
            var grants = ReadGrants(connection, $"SELECT {GrantColumns} FROM grants WHERE key_id = $key AND grant_id = $grant", ("$key", keyId), ("$grant", grantId));
            return grants.Count == 0 ? null : grants[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return RunAsync<IReadOnlyList<GrantRecord>>(connection => ReadGrants(
            connection,
            $"SELECT {GrantColumns} FROM grants WHERE key_id = $key AND ($after IS NULL OR grant_id > $after) ORDER BY grant_id LIMIT $limit",
            ("$key", keyId),
            ("$after", afterGrantId),
            ("$limit", limit)), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(granteePrincipal);
        return RunAsync<IReadOnlyList<GrantRecord>>(connection => ReadGrants(
            connection,
            $"SELECT {GrantColumns} FROM grants WHERE key_id = $key AND grantee_principal = $grantee ORDER BY grant_id",
            ("$key", keyId),
            ("$grantee", granteePrincipal)), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retiringPrincipal);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        GrantPositionCheck(afterKeyId, afterGrantId);
        return RunAsync<IReadOnlyList<GrantRecord>>(connection => ReadGrants(
            connection,
            $"""
            SELECT {GrantColumns} FROM grants
            WHERE retiring_principal = $retiring AND ($afterKey IS NULL OR (key_id, grant_id) > ($afterKey, $afterGrant))
            ORDER BY key_id, grant_id LIMIT $limit
            """,
            ("$retiring", retiringPrincipal),
            ("$afterKey", afterKeyId),
            ("$afterGrant", afterGrantId),
            ("$limit", limit)), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return RunAsync(connection =>
        {
            using var command = Command(connection, "SELECT COUNT(*) FROM grants WHERE key_id = $key", ("$key", keyId));
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Reported on the change feed as a change of the grant's key.</remarks>
    public ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var stored = grant with { Version = 1 };
        var document = JsonSerializer.Serialize(stored, KeyStoreJson.GrantRecord);
        return WriteAsync(grant.KeyId, null, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                """
                INSERT INTO grants (key_id, grant_id, grantee_principal, retiring_principal, version, document)
                VALUES ($key, $grant, $grantee, $retiring, 1, $document) ON CONFLICT (key_id, grant_id) DO NOTHING
                """,
                transaction,
                ("$key", grant.KeyId),
                ("$grant", grant.GrantId),
                ("$grantee", grant.GranteePrincipal),
                ("$retiring", grant.RetiringPrincipal),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"The key '{grant.KeyId}' has a grant with id '{grant.GrantId}'.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Reported on the change feed as a change of the grant's key.</remarks>
    public ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(grantId);
        return WriteVoidAsync(keyId, null, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                "DELETE FROM grants WHERE key_id = $key AND grant_id = $grant AND version = $expected",
                transaction,
                ("$key", keyId),
                ("$grant", grantId),
                ("$expected", expectedVersion));
            if (rows != 1)
            {
                throw new KeyStoreConflictException($"The grant '{grantId}' of key '{keyId}' is missing or changed since version {expectedVersion} was read.");
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>One transaction: every grant of the key goes at once. Reported on the change feed as a change of the key.</remarks>
    public ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return WriteAsync(keyId, null, (connection, transaction) =>
            Execute(connection, "DELETE FROM grants WHERE key_id = $key", transaction, ("$key", keyId)), cancellationToken);
    }

    private static void GrantPositionCheck(string? afterKeyId, string? afterGrantId)
    {
        if ((afterKeyId is null) != (afterGrantId is null))
        {
            throw new ArgumentException("A position in the retirable grants is a key id and a grant id: give both or neither.", afterKeyId is null ? nameof(afterKeyId) : nameof(afterGrantId));
        }
    }

    private List<GrantRecord> ReadGrants(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var grants = new List<GrantRecord>();
        while (reader.Read())
        {
            var keyId = reader.GetString(0);
            var grantId = reader.GetString(1);
            var grant = Deserialize(reader, 3, KeyStoreJson.GrantRecord, $"the row of grant '{grantId}' of key '{keyId}'");
            if (!string.Equals(grant.KeyId, keyId, StringComparison.Ordinal) || !string.Equals(grant.GrantId, grantId, StringComparison.Ordinal))
            {
                throw new KmsStorageIntegrityException($"The row of grant '{grantId}' of key '{keyId}' in the SQLite key store '{_description}' holds the document of another grant; it was left in place.");
            }

            grants.Add(grant with { Version = reader.GetInt64(2) });
        }

        return grants;
    }

    // ------------------------------------------------------------------ custom key stores

    private const string CustomKeyStoreColumns = "custom_key_store_id, version, document";

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord?> GetCustomKeyStoreAsync(string customKeyStoreId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customKeyStoreId);
        return RunAsync(connection =>
        {
            var records = ReadCustomKeyStores(connection, $"SELECT {CustomKeyStoreColumns} FROM custom_key_stores WHERE custom_key_store_id = $id", ("$id", customKeyStoreId));
            return records.Count == 0 ? null : records[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<CustomKeyStoreRecord>> ListCustomKeyStoresAsync(CancellationToken cancellationToken)
        => RunAsync<IReadOnlyList<CustomKeyStoreRecord>>(connection => ReadCustomKeyStores(
            connection,
            $"SELECT {CustomKeyStoreColumns} FROM custom_key_stores ORDER BY custom_key_store_id"), cancellationToken);

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> InsertCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var stored = record with { Version = 1 };
        var document = JsonSerializer.Serialize(stored, KeyStoreJson.CustomKeyStoreRecord);
        return WriteAsync(null, null, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                """
                INSERT INTO custom_key_stores (custom_key_store_id, custom_key_store_name, version, document)
                VALUES ($id, $name, 1, $document) ON CONFLICT DO NOTHING
                """,
                transaction,
                ("$id", record.CustomKeyStoreId),
                ("$name", record.CustomKeyStoreName),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"A custom key store with id '{record.CustomKeyStoreId}' or name '{record.CustomKeyStoreName}' exists.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> UpdateCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var stored = record with { Version = record.Version + 1 };
        var document = JsonSerializer.Serialize(stored, KeyStoreJson.CustomKeyStoreRecord);
        return WriteAsync(null, null, (connection, transaction) =>
        {
            if (ScalarLong(connection, transaction, "SELECT COUNT(*) FROM custom_key_stores WHERE custom_key_store_name = $name AND custom_key_store_id <> $id", ("$name", record.CustomKeyStoreName), ("$id", record.CustomKeyStoreId)) != 0)
            {
                throw new KeyStoreConflictException($"Another custom key store has the name '{record.CustomKeyStoreName}'.");
            }

            var rows = Execute(
                connection,
                "UPDATE custom_key_stores SET custom_key_store_name = $name, version = $next, document = $document WHERE custom_key_store_id = $id AND version = $expected",
                transaction,
                ("$id", record.CustomKeyStoreId),
                ("$name", record.CustomKeyStoreName),
                ("$next", stored.Version),
                ("$expected", record.Version),
                ("$document", document));
            return rows == 1 ? stored : throw new KeyStoreConflictException($"The custom key store '{record.CustomKeyStoreId}' is missing or changed since version {record.Version} was read.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DeleteCustomKeyStoreAsync(string customKeyStoreId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customKeyStoreId);
        return WriteVoidAsync(null, null, (connection, transaction) =>
        {
            var rows = Execute(
                connection,
                "DELETE FROM custom_key_stores WHERE custom_key_store_id = $id AND version = $expected",
                transaction,
                ("$id", customKeyStoreId),
                ("$expected", expectedVersion));
            if (rows != 1)
            {
                throw new KeyStoreConflictException($"The custom key store '{customKeyStoreId}' is missing or changed since version {expectedVersion} was read.");
            }
        }, cancellationToken);
    }

    private static long ScalarLong(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        command.Transaction = transaction;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private List<CustomKeyStoreRecord> ReadCustomKeyStores(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var records = new List<CustomKeyStoreRecord>();
        while (reader.Read())
        {
            var id = reader.GetString(0);
            var record = Deserialize(reader, 2, KeyStoreJson.CustomKeyStoreRecord, $"the row of custom key store '{id}'");
            if (!string.Equals(record.CustomKeyStoreId, id, StringComparison.Ordinal))
            {
                throw new KmsStorageIntegrityException($"The row of custom key store '{id}' in the SQLite key store '{_description}' holds the document of another custom key store; it was left in place.");
            }

            records.Add(record with { Version = reader.GetInt64(1) });
        }

        return records;
    }

    // ------------------------------------------------------------------ change feed

    /// <inheritdoc />
    /// <remarks>
    /// The first subscription reads the current position of the change feed (opening, and if needed
    /// creating, the database) and starts the watcher; changes committed after it are reported within
    /// about one <see cref="SqliteKeyStoreOptions.PollInterval"/>. If the database cannot be read then,
    /// the watcher starts from the position it first reads and reports a reset. The watcher stops when
    /// the last handler is removed, and on <see cref="Dispose"/>.
    /// </remarks>
    public event EventHandler<KeyStoreChangedEventArgs>? Changed
    {
        add
        {
            lock (_watcherLock)
            {
                _changed += value;
                if (_changed is not null && _watcher is null && !_disposed)
                {
                    StartWatcher();
                }
            }
        }

        remove
        {
            lock (_watcherLock)
            {
                _changed -= value;
                if (_changed is null && _watcherStop is not null)
                {
                    // The last handler left: stop polling (a later subscription starts afresh).
                    _watcherStop.Cancel();
                    _watcherStop = null;
                    _watcher = null;
                }
            }
        }
    }

    /// <summary>Stops the change watcher (waiting for it), if it runs. The store's operations keep working.</summary>
    public void Dispose()
    {
        var watcher = StopWatcher();
        if (watcher is not null && !watcher.IsCompleted && Environment.CurrentManagedThreadId != _watcherThreadId)
        {
            watcher.Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Stops the change watcher (waiting for it), if it runs. The store's operations keep working.</summary>
    public async ValueTask DisposeAsync()
    {
        var watcher = StopWatcher();
        if (watcher is not null && Environment.CurrentManagedThreadId != _watcherThreadId)
        {
            await watcher.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private Task? StopWatcher()
    {
        lock (_watcherLock)
        {
            if (_disposed)
            {
                return null;
            }

            _disposed = true;
            _watcherStop?.Cancel();
            return _watcher;
        }
    }

    /// <summary>Starts the watcher; called under <see cref="_watcherLock"/>.</summary>
    private void StartWatcher()
    {
        long? start;
        try
        {
            start = Run(ReadLastChange);
        }
        catch (KmsException)
        {
            // Unreadable now: the watcher finds its position later and reports a reset.
            start = null;
        }

        _watcherStop = new CancellationTokenSource();
        var stop = _watcherStop.Token;
        _watcher = Task.Run(() => WatchAsync(start, stop), CancellationToken.None);
    }

    private async Task WatchAsync(long? position, CancellationToken stop)
    {
        var failures = 0;
        // A position read at subscription is current: the first read of the feed waits for the next
        // interval (or a wake-up), so a subscriber never sees a half-taken first look.
        var skipPoll = position is not null;
        while (!stop.IsCancellationRequested)
        {
            var delay = _pollInterval;
            if (!skipPoll)
            {
                try
                {
                    _watcherThreadId = Environment.CurrentManagedThreadId;
                    position = Poll(position, stop);
                    failures = 0;
                }
#pragma warning disable CA1031 // The watcher must survive any failure of the database; it logs and retries.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failures++;
                    var backoff = _pollInterval * Math.Pow(2, Math.Min(failures, 16));
                    delay = backoff < MaxWatcherBackoff ? backoff : MaxWatcherBackoff;
                    SqliteKeyStoreLog.ChangeWatcherFailed(_logger, _description, delay, e);
                }
                finally
                {
                    _watcherThreadId = 0;
                }
            }

            skipPoll = false;

            try
            {
                await _wake.WaitAsync(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Reads the change feed after <paramref name="position"/> and raises <see cref="Changed"/> for
    /// every row, or a reset when rows were pruned before they were read (or the feed went backwards:
    /// a restored or replaced file). Returns the new position.
    /// </summary>
    private long Poll(long? position, CancellationToken stop)
    {
        var last = Run(ReadLastChange);
        if (position is not { } from || last < from)
        {
            Raise(KeyStoreChangedEventArgs.Reset);
            return last;
        }

        while (from < last && !stop.IsCancellationRequested)
        {
            var rows = Run(connection =>
            {
                using var command = Command(
                    connection,
                    "SELECT seq, key_id, alias_name FROM changes WHERE seq > $after ORDER BY seq LIMIT $limit",
                    ("$after", from),
                    ("$limit", ChangeBatchSize));
                using var reader = command.ExecuteReader();
                var batch = new List<(long Seq, string? KeyId, string? AliasName)>();
                while (reader.Read())
                {
                    batch.Add((reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
                }

                return batch;
            });

            if (rows.Count == 0 || rows[0].Seq > from + 1)
            {
                // Pruned before it was read (or never committed: a seq is only taken inside the write's transaction).
                Raise(KeyStoreChangedEventArgs.Reset);
                if (rows.Count == 0)
                {
                    return last;
                }
            }

            foreach (var (seq, keyId, aliasName) in rows)
            {
                if (keyId is not null || aliasName is not null)
                {
                    Raise(new KeyStoreChangedEventArgs(keyId, aliasName));
                }

                from = seq;
            }

            if (rows.Count < ChangeBatchSize)
            {
                break;
            }
        }

        return from;
    }

    private void Raise(KeyStoreChangedEventArgs change)
    {
        EventHandler<KeyStoreChangedEventArgs>? handlers;
        lock (_watcherLock)
        {
            handlers = _changed;
        }

        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<KeyStoreChangedEventArgs>>())
        {
            try
            {
                handler(this, change);
            }
#pragma warning disable CA1031 // A subscriber's failure must not stop the watcher.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>Makes the watcher, if it runs, read the change feed now rather than at its next poll.</summary>
    internal void PollNow() => _wake.Release();

    private static long ReadLastChange(SqliteConnection connection)
    {
        using var command = Command(connection, "SELECT last_change FROM store_state WHERE id = 1");
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // ------------------------------------------------------------------ writes

    private ValueTask WriteVoidAsync(string? keyId, string? aliasName, Action<SqliteConnection, SqliteTransaction> write, CancellationToken cancellationToken)
    {
        var task = WriteAsync<object?>(keyId, aliasName, (connection, transaction) =>
        {
            write(connection, transaction);
            return null;
        }, cancellationToken);
        return task.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(task.AsTask());
    }

    /// <summary>
    /// Runs one write as one <c>BEGIN IMMEDIATE</c> transaction: take the next change sequence number,
    /// make the write (which throws <see cref="KeyStoreConflictException"/> when its version check finds
    /// no row, rolling everything back), record the change, prune old changes now and then, commit.
    /// </summary>
    private ValueTask<T> WriteAsync<T>(string? keyId, string? aliasName, Func<SqliteConnection, SqliteTransaction, T> write, CancellationToken cancellationToken)
        => RunAsync(connection =>
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            long seq;
            using (var bump = Command(connection, "UPDATE store_state SET last_change = last_change + 1 WHERE id = 1 RETURNING last_change"))
            {
                bump.Transaction = transaction;
                seq = Convert.ToInt64(
                    bump.ExecuteScalar() ?? throw new KmsStorageIntegrityException($"The SQLite key store '{_description}' has no store_state row."),
                    System.Globalization.CultureInfo.InvariantCulture);
            }

            var result = write(connection, transaction);
            Execute(connection, "INSERT INTO changes (seq, key_id, alias_name) VALUES ($seq, $key, $alias)", transaction, ("$seq", seq), ("$key", keyId), ("$alias", aliasName));
            if (seq % _pruneEvery == 0 && seq > _changeRetention)
            {
                Execute(connection, "DELETE FROM changes WHERE seq <= $floor", transaction, ("$floor", seq - _changeRetention));
            }

            transaction.Commit();
            return result;
        }, cancellationToken);

    // ------------------------------------------------------------------ connections and errors

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

    private static string SerializeKey(KeyRecord key) => JsonSerializer.Serialize(key, KeyStoreJson.KeyRecord);

    private static string SerializeAlias(AliasRecord alias) => JsonSerializer.Serialize(alias, KeyStoreJson.AliasRecord);

    private KeyStoreMetadata? ReadMetadata(SqliteConnection connection)
    {
        using var command = Command(connection, "SELECT document FROM metadata WHERE id = 1");
        using var reader = command.ExecuteReader();
        return reader.Read() ? Deserialize(reader, 0, KeyStoreJson.Metadata, "the metadata row") : null;
    }

    private KeyRecord ReadKey(SqliteDataReader reader)
    {
        var keyId = reader.GetString(0);
        var key = Deserialize(reader, 2, KeyStoreJson.KeyRecord, $"the row of key '{keyId}'");
        if (!string.Equals(key.KeyId, keyId, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The row of key '{keyId}' in the SQLite key store '{_description}' holds the document of another key; it was left in place.");
        }

        return key with { Version = reader.GetInt64(1) };
    }

    private AliasRecord ReadAlias(SqliteDataReader reader)
    {
        var aliasName = reader.GetString(0);
        var alias = Deserialize(reader, 2, KeyStoreJson.AliasRecord, $"the row of alias '{aliasName}'");
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
