using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace EnvelopeKms.Storage.PostgreSql;

/// <summary>
/// A key store in a PostgreSQL database, shared by any number of processes and machines. Every write
/// is one transaction that checks the optimistic-concurrency version in SQL and appends to a change
/// feed; other instances learn of the change through LISTEN/NOTIFY (or by polling the feed), so that
/// their envelope encryptors drop cached data keys of a key that was disabled, rotated or deleted.
/// </summary>
/// <remarks>
/// Tables (in <see cref="PostgreSqlKeyStoreOptions.SchemaName"/>): <c>keys</c>, <c>aliases</c> and
/// <c>grants</c> and <c>custom_key_stores</c> (one row per record: id, version, JSON document), <c>metadata</c> (one row), <c>schema_version</c>,
/// <c>store_state</c> (the change counter) and <c>changes</c> (the change feed). The schema is created
/// and migrated forward on first use, one transaction per step under a row lock, so that several
/// processes may start at once; a schema written by a newer release is refused with
/// <see cref="KmsStorageIntegrityException"/> (<c>UnsupportedSchema:</c>). Serialization failures and
/// deadlocks are retried; an unreachable server surfaces as <see cref="KmsStorageUnavailableException"/>,
/// an unreadable document as <see cref="KmsStorageIntegrityException"/> with the row left in place.
/// Dispose the store to stop its change watcher and, when it created it, its data source.
/// </remarks>
public sealed class PostgreSqlKeyStore : IKeyStore, IGrantStore, ICustomKeyStoreRecordStore, IKeyStoreChangeNotifier, IDisposable, IAsyncDisposable
{
    /// <summary>The steps that bring an empty schema to each version: step <c>i</c> yields version <c>i + 1</c>. <c>{s}</c> is the quoted schema.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS {s}.keys (
            key_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            version BIGINT NOT NULL,
            document TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS {s}.aliases (
            alias_name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            target_key_id TEXT COLLATE "C" NOT NULL,
            version BIGINT NOT NULL,
            document TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS aliases_by_target ON {s}.aliases (target_key_id, alias_name);
        CREATE TABLE IF NOT EXISTS {s}.metadata (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            document TEXT NOT NULL);
        """,
        """
        CREATE TABLE IF NOT EXISTS {s}.store_state (
            id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            last_change BIGINT NOT NULL);
        INSERT INTO {s}.store_state (id, last_change) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
        CREATE TABLE IF NOT EXISTS {s}.changes (
            seq BIGINT NOT NULL PRIMARY KEY,
            key_id TEXT NULL,
            alias_name TEXT NULL);
        """,
        // 3: grants. The grantee and retiring principal are columns (copies of the document's) for the two lookups.
        """
        CREATE TABLE IF NOT EXISTS {s}.grants (
            key_id TEXT COLLATE "C" NOT NULL,
            grant_id TEXT COLLATE "C" NOT NULL,
            grantee_principal TEXT COLLATE "C" NOT NULL,
            retiring_principal TEXT COLLATE "C" NULL,
            version BIGINT NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (key_id, grant_id));
        CREATE INDEX IF NOT EXISTS grants_by_grantee ON {s}.grants (key_id, grantee_principal, grant_id);
        CREATE INDEX IF NOT EXISTS grants_by_retiring_principal ON {s}.grants (retiring_principal, key_id, grant_id);
        """,
        // 4: custom key stores. The name is a column (a copy of the document's) so that it is unique.
        """
        CREATE TABLE IF NOT EXISTS {s}.custom_key_stores (
            custom_key_store_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            custom_key_store_name TEXT COLLATE "C" NOT NULL UNIQUE,
            version BIGINT NOT NULL,
            document TEXT NOT NULL);
        """,
    ];

    /// <summary>How many changes a watcher reads per query.</summary>
    private const int ChangePage = 1000;

    /// <summary>Writes whose change number is a multiple of this prune the change table.</summary>
    private const int PruneEvery = 64;

    /// <summary>The schema version this release writes and reads.</summary>
    internal static int CurrentSchemaVersion => Migrations.Length;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly string _schema;
    private readonly string _channel;
    private readonly bool _useListen;
    private readonly TimeSpan _pollInterval;
    private readonly int _maxRetries;
    private readonly int _retention;
    private readonly string _description;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initializeGate = new(1, 1);
    private readonly Lock _watchLock = new();
    private readonly List<Task> _watcherTasks = [];
    private volatile bool _initialized;
    private EventHandler<KeyStoreChangedEventArgs>? _changed;
    private ChangeWatcher? _watcher;
    private int _disposed;

    /// <summary>Opens the store, with default options, on a database described by an Npgsql connection string; the store owns (and disposes) the data source it creates.</summary>
    public PostgreSqlKeyStore(string connectionString)
        : this(connectionString, options: null, loggerFactory: null)
    {
    }

    /// <summary>Opens the store on a database described by an Npgsql connection string; the store owns (and disposes) the data source it creates.</summary>
    public PostgreSqlKeyStore(string connectionString, PostgreSqlKeyStoreOptions? options, ILoggerFactory? loggerFactory)
        : this(CreateDataSource(connectionString), ownsDataSource: true, options, loggerFactory)
    {
    }

    /// <summary>Opens the store, with default options, on a data source the caller owns (and disposes after the store).</summary>
    public PostgreSqlKeyStore(NpgsqlDataSource dataSource)
        : this(dataSource, options: null, loggerFactory: null)
    {
    }

    /// <summary>Opens the store on a data source the caller owns (and disposes after the store).</summary>
    public PostgreSqlKeyStore(NpgsqlDataSource dataSource, PostgreSqlKeyStoreOptions? options, ILoggerFactory? loggerFactory)
        : this(dataSource ?? throw new ArgumentNullException(nameof(dataSource)), ownsDataSource: false, options, loggerFactory)
    {
    }

    private PostgreSqlKeyStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgreSqlKeyStoreOptions? options, ILoggerFactory? loggerFactory)
    {
        options ??= new PostgreSqlKeyStoreOptions();
        string channel;
        try
        {
            channel = options.Validate();
        }
        catch when (ownsDataSource)
        {
            dataSource.Dispose();
            throw;
        }

        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _schema = $"\"{options.SchemaName}\"";
        _channel = channel;
        _useListen = options.UseListenNotify;
        _pollInterval = options.PollInterval;
        _maxRetries = options.MaxSerializationRetries;
        _retention = options.ChangeRetention;
        var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        _description = $"{builder.Host}:{builder.Port}/{builder.Database} schema {options.SchemaName}";
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("EnvelopeKms.Storage.PostgreSql");
    }

    /// <summary>
    /// Raised for every change of a key or an alias made through any instance sharing the schema,
    /// this one included. The first subscription starts a background watcher: it listens on the
    /// notification channel (a change is typically reported within milliseconds of its commit) and,
    /// while it cannot listen, polls the change table every <see cref="PostgreSqlKeyStoreOptions.PollInterval"/>.
    /// The watcher stops when the last handler is removed and when the store is disposed.
    /// </summary>
    public event EventHandler<KeyStoreChangedEventArgs>? Changed
    {
        add
        {
            lock (_watchLock)
            {
                ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
                _changed += value;
                if (_changed is not null && _watcher is null)
                {
                    _watcher = new ChangeWatcher(this);
                    _watcherTasks.RemoveAll(t => t.IsCompleted);
                    _watcherTasks.Add(_watcher.Start());
                }
            }
        }

        remove
        {
            lock (_watchLock)
            {
                _changed -= value;
                if (_changed is null && _watcher is not null)
                {
                    _watcher.Stop();
                    _watcher = null;
                }
            }
        }
    }

    /// <summary>The backend process id of the watcher's LISTEN connection while it listens (for tests).</summary>
    internal int? ListenerProcessId => _watcher?.ListenerProcessId;

    // ------------------------------------------------------------------ IKeyStore

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken)
        => RunAsync(ReadMetadataAsync, cancellationToken);

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var document = JsonSerializer.Serialize(metadata, KeyStoreJson.Metadata);
        return RunAsync(async (connection, ct) =>
        {
            // The first writer wins; the row is never changed afterwards, so reading it back is exact.
            var insert = Command(connection, $"INSERT INTO {_schema}.metadata (id, document) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", document);
            await using (insert.ConfigureAwait(false))
            {
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return await ReadMetadataAsync(connection, ct).ConfigureAwait(false)
                ?? throw new KmsStorageIntegrityException($"The PostgreSQL key store '{_description}' lost its metadata row right after writing it.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return RunAsync(async (connection, ct) =>
        {
            var keys = await ReadKeysAsync(connection, $"SELECT key_id, version, document FROM {_schema}.keys WHERE key_id = $1", ct, keyId).ConfigureAwait(false);
            return keys.Count == 0 ? null : keys[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return RunAsync<IReadOnlyList<KeyRecord>>(async (connection, ct) => afterKeyId is null
            ? await ReadKeysAsync(connection, $"SELECT key_id, version, document FROM {_schema}.keys ORDER BY key_id LIMIT $1", ct, limit).ConfigureAwait(false)
            : await ReadKeysAsync(connection, $"SELECT key_id, version, document FROM {_schema}.keys WHERE key_id > $1 ORDER BY key_id LIMIT $2", ct, afterKeyId, limit).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var stored = key with { Version = 1 };
        return WriteAsync(
            stored,
            new Change(key.KeyId, null),
            $"INSERT INTO {_schema}.keys (key_id, version, document) VALUES ($1, 1, $2) ON CONFLICT (key_id) DO NOTHING",
            [key.KeyId, SerializeKey(stored)],
            $"A key with id '{key.KeyId}' exists.",
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var stored = key with { Version = key.Version + 1 };
        return WriteAsync(
            stored,
            new Change(key.KeyId, null),
            $"UPDATE {_schema}.keys SET version = version + 1, document = $3 WHERE key_id = $1 AND version = $2",
            [key.KeyId, key.Version, SerializeKey(stored)],
            $"The key '{key.KeyId}' is missing or changed since version {key.Version} was read.",
            cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        await WriteAsync(
            keyId,
            new Change(keyId, null),
            $"DELETE FROM {_schema}.keys WHERE key_id = $1 AND version = $2",
            [keyId, expectedVersion],
            $"The key '{keyId}' is missing or changed since version {expectedVersion} was read.",
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aliasName);
        return RunAsync(async (connection, ct) =>
        {
            var aliases = await ReadAliasesAsync(connection, $"SELECT alias_name, version, document FROM {_schema}.aliases WHERE alias_name = $1", ct, aliasName).ConfigureAwait(false);
            return aliases.Count == 0 ? null : aliases[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var conditions = new List<string>();
        var values = new List<object?>();
        if (targetKeyId is not null)
        {
            values.Add(targetKeyId);
            conditions.Add($"target_key_id = ${values.Count}");
        }

        if (afterAliasName is not null)
        {
            values.Add(afterAliasName);
            conditions.Add($"alias_name > ${values.Count}");
        }

        values.Add(limit);
        var where = conditions.Count == 0 ? "" : $"WHERE {string.Join(" AND ", conditions)} ";
        var sql = $"SELECT alias_name, version, document FROM {_schema}.aliases {where}ORDER BY alias_name LIMIT ${values.Count}";
        return RunAsync<IReadOnlyList<AliasRecord>>(
            async (connection, ct) => await ReadAliasesAsync(connection, sql, ct, [.. values]).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var stored = alias with { Version = 1 };
        return WriteAsync(
            stored,
            new Change(null, alias.AliasName),
            $"INSERT INTO {_schema}.aliases (alias_name, target_key_id, version, document) VALUES ($1, $2, 1, $3) ON CONFLICT (alias_name) DO NOTHING",
            [alias.AliasName, alias.TargetKeyId, SerializeAlias(stored)],
            $"An alias named '{alias.AliasName}' exists.",
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var stored = alias with { Version = alias.Version + 1 };
        return WriteAsync(
            stored,
            new Change(null, alias.AliasName),
            $"UPDATE {_schema}.aliases SET target_key_id = $2, version = version + 1, document = $4 WHERE alias_name = $1 AND version = $3",
            [alias.AliasName, alias.TargetKeyId, alias.Version, SerializeAlias(stored)],
            $"The alias '{alias.AliasName}' is missing or changed since version {alias.Version} was read.",
            cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aliasName);
        await WriteAsync(
            aliasName,
            new Change(null, aliasName),
            $"DELETE FROM {_schema}.aliases WHERE alias_name = $1 AND version = $2",
            [aliasName, expectedVersion],
            $"The alias '{aliasName}' is missing or changed since version {expectedVersion} was read.",
            cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ disposal

    /// <summary>Stops the change watcher and disposes the data source the store created.</summary>
    public void Dispose()
    {
        var tasks = BeginDispose();
        if (tasks is null)
        {
            return;
        }

        try
        {
            // The watcher never faults; it ends promptly once cancelled.
            Task.WaitAll(tasks, TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // Best effort: disposal must not throw.
        }

        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }

        _initializeGate.Dispose();
    }

    /// <summary>Stops the change watcher and disposes the data source the store created.</summary>
    public async ValueTask DisposeAsync()
    {
        var tasks = BeginDispose();
        if (tasks is null)
        {
            return;
        }

        await Task.WhenAny(Task.WhenAll(tasks), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        _initializeGate.Dispose();
    }

    private Task[]? BeginDispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return null;
        }

        lock (_watchLock)
        {
            _watcher?.Stop();
            _watcher = null;
            _changed = null;
            return [.. _watcherTasks];
        }
    }

    // ------------------------------------------------------------------ IGrantStore

    /// <inheritdoc />
    public ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(grantId);
        return RunAsync(async (connection, ct) =>
        {
            var grants = await ReadGrantsAsync(connection, $"SELECT {GrantColumns} FROM {_schema}.grants WHERE key_id = $1 AND grant_id = $2", ct, keyId, grantId).ConfigureAwait(false);
            return grants.Count == 0 ? null : grants[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return RunAsync<IReadOnlyList<GrantRecord>>(async (connection, ct) => afterGrantId is null
            ? await ReadGrantsAsync(connection, $"SELECT {GrantColumns} FROM {_schema}.grants WHERE key_id = $1 ORDER BY grant_id LIMIT $2", ct, keyId, limit).ConfigureAwait(false)
            : await ReadGrantsAsync(connection, $"SELECT {GrantColumns} FROM {_schema}.grants WHERE key_id = $1 AND grant_id > $2 ORDER BY grant_id LIMIT $3", ct, keyId, afterGrantId, limit).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(granteePrincipal);
        return RunAsync<IReadOnlyList<GrantRecord>>(
            async (connection, ct) => await ReadGrantsAsync(
                connection,
                $"SELECT {GrantColumns} FROM {_schema}.grants WHERE key_id = $1 AND grantee_principal = $2 ORDER BY grant_id",
                ct,
                keyId,
                granteePrincipal).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retiringPrincipal);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if ((afterKeyId is null) != (afterGrantId is null))
        {
            throw new ArgumentException("A position in the retirable grants is a key id and a grant id: give both or neither.", afterKeyId is null ? nameof(afterKeyId) : nameof(afterGrantId));
        }

        return RunAsync<IReadOnlyList<GrantRecord>>(async (connection, ct) => afterKeyId is null
            ? await ReadGrantsAsync(
                connection,
                $"SELECT {GrantColumns} FROM {_schema}.grants WHERE retiring_principal = $1 ORDER BY key_id, grant_id LIMIT $2",
                ct,
                retiringPrincipal,
                limit).ConfigureAwait(false)
            : await ReadGrantsAsync(
                connection,
                $"SELECT {GrantColumns} FROM {_schema}.grants WHERE retiring_principal = $1 AND (key_id, grant_id) > ($2, $3) ORDER BY key_id, grant_id LIMIT $4",
                ct,
                retiringPrincipal,
                afterKeyId,
                afterGrantId,
                limit).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return RunAsync(async (connection, ct) =>
        {
            var command = Command(connection, $"SELECT COUNT(*) FROM {_schema}.grants WHERE key_id = $1", keyId);
            await using var commandScope = command.ConfigureAwait(false);
            return Convert.ToInt32(await command.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Reported on the change feed as a change of the grant's key.</remarks>
    public ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var stored = grant with { Version = 1 };
        return WriteAsync(
            stored,
            new Change(grant.KeyId, null),
            $"""
            INSERT INTO {_schema}.grants (key_id, grant_id, grantee_principal, retiring_principal, version, document)
            VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (key_id, grant_id) DO NOTHING
            """,
            [grant.KeyId, grant.GrantId, grant.GranteePrincipal, grant.RetiringPrincipal, JsonSerializer.Serialize(stored, KeyStoreJson.GrantRecord)],
            $"The key '{grant.KeyId}' has a grant with id '{grant.GrantId}'.",
            cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Reported on the change feed as a change of the grant's key.</remarks>
    public async ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(grantId);
        await WriteAsync(
            grantId,
            new Change(keyId, null),
            $"DELETE FROM {_schema}.grants WHERE key_id = $1 AND grant_id = $2 AND version = $3",
            [keyId, grantId, expectedVersion],
            $"The grant '{grantId}' of key '{keyId}' is missing or changed since version {expectedVersion} was read.",
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One transaction: every grant of the key goes at once. Reported on the change feed as a change of the key.</remarks>
    public ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        return WriteCountAsync(new Change(keyId, null), $"DELETE FROM {_schema}.grants WHERE key_id = $1", [keyId], cancellationToken);
    }

    private const string GrantColumns = "key_id, grant_id, version, document";

    private async Task<List<GrantRecord>> ReadGrantsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        var command = Command(connection, sql, values);
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var grants = new List<GrantRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var keyId = ReadId(reader, "grant");
            var grantId = reader.IsDBNull(1)
                ? throw new KmsStorageIntegrityException($"A row of the grant table of the PostgreSQL key store '{_description}' has no grant id; it was left in place.")
                : reader.GetString(1);
            var grant = Deserialize(reader, 3, KeyStoreJson.GrantRecord, $"the row of grant '{grantId}' of key '{keyId}'");
            if (!string.Equals(grant.KeyId, keyId, StringComparison.Ordinal) || !string.Equals(grant.GrantId, grantId, StringComparison.Ordinal))
            {
                throw new KmsStorageIntegrityException($"The row of grant '{grantId}' of key '{keyId}' in the PostgreSQL key store '{_description}' holds the document of another grant; it was left in place.");
            }

            grants.Add(grant with { Version = reader.IsDBNull(2)
                ? throw new KmsStorageIntegrityException($"The row of grant '{grantId}' of key '{keyId}' in the PostgreSQL key store '{_description}' has no version; it was left in place.")
                : reader.GetInt64(2) });
        }

        return grants;
    }

    // ------------------------------------------------------------------ ICustomKeyStoreRecordStore

    private const string CustomKeyStoreColumns = "custom_key_store_id, version, document";

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord?> GetCustomKeyStoreAsync(string customKeyStoreId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customKeyStoreId);
        return RunAsync(async (connection, ct) =>
        {
            var records = await ReadCustomKeyStoresAsync(connection, $"SELECT {CustomKeyStoreColumns} FROM {_schema}.custom_key_stores WHERE custom_key_store_id = $1", ct, customKeyStoreId).ConfigureAwait(false);
            return records.Count == 0 ? null : records[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<CustomKeyStoreRecord>> ListCustomKeyStoresAsync(CancellationToken cancellationToken)
        => RunAsync<IReadOnlyList<CustomKeyStoreRecord>>(
            async (connection, ct) => await ReadCustomKeyStoresAsync(connection, $"SELECT {CustomKeyStoreColumns} FROM {_schema}.custom_key_stores ORDER BY custom_key_store_id", ct).ConfigureAwait(false),
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> InsertCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var stored = record with { Version = 1 };
        return WriteAsync(
            stored,
            new Change(null, null),
            $"""
            INSERT INTO {_schema}.custom_key_stores (custom_key_store_id, custom_key_store_name, version, document)
            VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING
            """,
            [record.CustomKeyStoreId, record.CustomKeyStoreName, JsonSerializer.Serialize(stored, KeyStoreJson.CustomKeyStoreRecord)],
            $"A custom key store with id '{record.CustomKeyStoreId}' or name '{record.CustomKeyStoreName}' exists.",
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> UpdateCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var stored = record with { Version = record.Version + 1 };
        return WriteAsync(
            stored,
            new Change(null, null),
            $"UPDATE {_schema}.custom_key_stores SET custom_key_store_name = $2, version = version + 1, document = $4 WHERE custom_key_store_id = $1 AND version = $3",
            [record.CustomKeyStoreId, record.CustomKeyStoreName, record.Version, JsonSerializer.Serialize(stored, KeyStoreJson.CustomKeyStoreRecord)],
            $"The custom key store '{record.CustomKeyStoreId}' is missing, changed since version {record.Version} was read, or another custom key store has the name '{record.CustomKeyStoreName}'.",
            cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DeleteCustomKeyStoreAsync(string customKeyStoreId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customKeyStoreId);
        await WriteAsync(
            customKeyStoreId,
            new Change(null, null),
            $"DELETE FROM {_schema}.custom_key_stores WHERE custom_key_store_id = $1 AND version = $2",
            [customKeyStoreId, expectedVersion],
            $"The custom key store '{customKeyStoreId}' is missing or changed since version {expectedVersion} was read.",
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<CustomKeyStoreRecord>> ReadCustomKeyStoresAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        var command = Command(connection, sql, values);
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var records = new List<CustomKeyStoreRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var id = ReadId(reader, "custom key store");
            var record = Deserialize(reader, 2, KeyStoreJson.CustomKeyStoreRecord, $"the row of custom key store '{id}'");
            if (!string.Equals(record.CustomKeyStoreId, id, StringComparison.Ordinal))
            {
                throw new KmsStorageIntegrityException($"The row of custom key store '{id}' in the PostgreSQL key store '{_description}' holds the document of another custom key store; it was left in place.");
            }

            records.Add(record with { Version = ReadVersion(reader, $"custom key store '{id}'") });
        }

        return records;
    }

    // ------------------------------------------------------------------ connections, transactions and errors

    private readonly record struct Change(string? KeyId, string? AliasName);

    /// <summary>
    /// Runs one write in one transaction: take the next change number (which serializes writers on the
    /// <c>store_state</c> row), the write with its version check, the change row, occasional pruning and
    /// (with LISTEN/NOTIFY) the notification, which PostgreSQL delivers at commit. All statements go to
    /// the server in one round trip; the commit is the second.
    /// </summary>
    private ValueTask<T> WriteAsync<T>(T result, Change change, string sql, object?[] values, string conflictMessage, CancellationToken cancellationToken)
        => RunAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            var rows = await WriteInTransactionAsync(connection, transaction, change, sql, values, ct).ConfigureAwait(false);
            if (rows != 1)
            {
                await transaction.RollbackAsync(ct).ConfigureAwait(false);
                throw new KeyStoreConflictException(conflictMessage);
            }

            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return result;
        }, cancellationToken, conflictMessage);

    /// <summary>Runs one write that may change any number of rows (see <see cref="WriteAsync"/>) and returns how many it changed.</summary>
    private ValueTask<int> WriteCountAsync(Change change, string sql, object?[] values, CancellationToken cancellationToken)
        => RunAsync(async (connection, ct) =>
        {
            var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            var rows = await WriteInTransactionAsync(connection, transaction, change, sql, values, ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return rows;
        }, cancellationToken);

    /// <summary>The statements of a write, sent in one batch; returns the rows the write changed.</summary>
    private async Task<int> WriteInTransactionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Change change, string sql, object?[] values, CancellationToken ct)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        await using var batchScope = batch.ConfigureAwait(false);
        var counter = Statement($"UPDATE {_schema}.store_state SET last_change = last_change + 1 WHERE id = 1");
        var write = Statement(sql, values);
        batch.BatchCommands.Add(counter);
        batch.BatchCommands.Add(write);
        batch.BatchCommands.Add(Statement(
            $"INSERT INTO {_schema}.changes (seq, key_id, alias_name) SELECT last_change, $1, $2 FROM {_schema}.store_state WHERE id = 1",
            change.KeyId,
            change.AliasName));
        batch.BatchCommands.Add(Statement(
            $"""
            DELETE FROM {_schema}.changes
            WHERE seq <= (SELECT last_change FROM {_schema}.store_state WHERE id = 1) - $1
              AND (SELECT last_change FROM {_schema}.store_state WHERE id = 1) % {PruneEvery} = 0
            """,
            (long)_retention));
        if (_useListen)
        {
            batch.BatchCommands.Add(Statement($"SELECT pg_notify($1, last_change::text) FROM {_schema}.store_state WHERE id = 1", _channel));
        }

        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        if (counter.RecordsAffected != 1)
        {
            throw new KmsStorageIntegrityException($"The PostgreSQL key store '{_description}' has no change counter row (store_state); it was left as it is.");
        }

        return write.RecordsAffected;
    }

    /// <summary>
    /// Runs an operation on a pooled connection once the schema is in place; re-runs it after a
    /// serialization failure or a deadlock (a bounded number of times), and maps failures to the
    /// store's exceptions. A transaction the operation opened is rolled back when the connection returns.
    /// </summary>
    private async ValueTask<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken, string? conflictMessage = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var connectionScope = connection.ConfigureAwait(false);
                return await operation(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (IsRetryable(e) && attempt < _maxRetries)
            {
                await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && conflictMessage is not null)
            {
                throw new KeyStoreConflictException(conflictMessage, e);
            }
            catch (Exception e) when (IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                throw Map(e);
            }
        }
    }

    private static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return NpgsqlDataSource.Create(connectionString);
    }

    private static bool IsRetryable(PostgresException e)
        => e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected;

    private static bool IsStorageFailure(Exception e)
        => e is NpgsqlException or TimeoutException or IOException or SocketException;

    private static Task BackoffAsync(int attempt, CancellationToken cancellationToken)
        => Task.Delay(TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(1, 10 << Math.Min(attempt, 6))), cancellationToken);

    private Exception Map(Exception e) => e switch
    {
        PostgresException { SqlState: PostgresErrorCodes.DataCorrupted or PostgresErrorCodes.IndexCorrupted } p
            => new KmsStorageIntegrityException($"The PostgreSQL key store '{_description}' is damaged ({p.SqlState}): {p.MessageText}", e),
        PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected } p
            => new KmsStorageUnavailableException($"The PostgreSQL key store '{_description}' is too busy: the transaction failed {_maxRetries + 1} times ({p.SqlState}); nothing changed.", e),
        PostgresException p
            => new KmsStorageUnavailableException($"The PostgreSQL key store '{_description}' failed ({p.SqlState}): {p.MessageText}", e),
        _ => new KmsStorageUnavailableException($"The PostgreSQL key store '{_description}' is unavailable: {e.Message}", e),
    };

    // ------------------------------------------------------------------ schema

    private async ValueTask EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _initializeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_initialized)
            {
                return;
            }

            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                    await using var connectionScope = connection.ConfigureAwait(false);
                    await MigrateAsync(connection, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (PostgresException e) when (IsInitializationRace(e) && attempt < 10 + _maxRetries)
                {
                    // Another process created the same object at the same moment: look again.
                    await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
                {
                    throw Map(e);
                }
            }

            _initialized = true;
        }
        finally
        {
            _initializeGate.Release();
        }
    }

    private static bool IsInitializationRace(PostgresException e)
        => IsRetryable(e) || e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable
            or PostgresErrorCodes.DuplicateSchema or PostgresErrorCodes.DuplicateObject;

    /// <summary>
    /// Brings the schema to <see cref="CurrentSchemaVersion"/>. Portable across PostgreSQL, CockroachDB
    /// and YugabyteDB (no advisory locks): the schema and the version row are created idempotently
    /// (<c>IF NOT EXISTS</c>, <c>ON CONFLICT DO NOTHING</c>; a concurrent creator's duplicate error is
    /// retried by the caller), then each step runs in a transaction that holds the version row
    /// (<c>SELECT ... FOR UPDATE</c>) and re-checks it, so that concurrent starters apply each step once.
    /// A schema that is already current is recognized by one read, without DDL privileges.
    /// </summary>
    private async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        long? version;
        try
        {
            version = await ReadSchemaVersionAsync(connection, transaction: null, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            version = null;
        }

        CheckSupported(version);
        if (version == CurrentSchemaVersion)
        {
            return;
        }

        if (version is null)
        {
            await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {_schema}", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {_schema}.schema_version (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, $"INSERT INTO {_schema}.schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING", cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var transactionScope = transaction.ConfigureAwait(false);
            var current = await ReadSchemaVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsStorageIntegrityException($"The PostgreSQL key store '{_description}' has no schema_version row; it was left as it is.");
            CheckSupported(current);
            if (current == CurrentSchemaVersion)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            await ExecuteAsync(connection, Migrations[current].Replace("{s}", _schema, StringComparison.Ordinal), cancellationToken, transaction).ConfigureAwait(false);
            await ExecuteAsync(connection, $"UPDATE {_schema}.schema_version SET version = {current + 1} WHERE id = 1", cancellationToken, transaction).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void CheckSupported(long? version)
    {
        if (version > CurrentSchemaVersion)
        {
            throw new KmsStorageIntegrityException(
                $"UnsupportedSchema: the PostgreSQL key store '{_description}' has schema version {version}; this release reads versions up to {CurrentSchemaVersion}. Use a newer release.");
        }

        if (version < 0)
        {
            throw new KmsStorageIntegrityException($"UnsupportedSchema: the PostgreSQL key store '{_description}' has schema version {version}; it was left as it is.");
        }
    }

    private async Task<long?> ReadSchemaVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var sql = $"SELECT version FROM {_schema}.schema_version WHERE id = 1" + (transaction is null ? "" : " FOR UPDATE");
        var command = Command(connection, sql);
        await using var commandScope = command.ConfigureAwait(false);
        command.Transaction = transaction;
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null ? null
            : value is long number ? number
            : throw new KmsStorageIntegrityException($"UnsupportedSchema: the schema_version row of the PostgreSQL key store '{_description}' is unreadable; it was left as it is.");
    }

    // ------------------------------------------------------------------ documents

    private static string SerializeKey(KeyRecord key) => JsonSerializer.Serialize(key, KeyStoreJson.KeyRecord);

    private static string SerializeAlias(AliasRecord alias) => JsonSerializer.Serialize(alias, KeyStoreJson.AliasRecord);

    private async Task<KeyStoreMetadata?> ReadMetadataAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var command = Command(connection, $"SELECT document FROM {_schema}.metadata WHERE id = 1");
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? Deserialize(reader, 0, KeyStoreJson.Metadata, "the metadata row")
            : null;
    }

    private async Task<List<KeyRecord>> ReadKeysAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        var command = Command(connection, sql, values);
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var keys = new List<KeyRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var keyId = ReadId(reader, "key");
            var key = Deserialize(reader, 2, KeyStoreJson.KeyRecord, $"the row of key '{keyId}'");
            if (!string.Equals(key.KeyId, keyId, StringComparison.Ordinal))
            {
                throw new KmsStorageIntegrityException($"The row of key '{keyId}' in the PostgreSQL key store '{_description}' holds the document of another key; it was left in place.");
            }

            keys.Add(key with { Version = ReadVersion(reader, $"key '{keyId}'") });
        }

        return keys;
    }

    private async Task<List<AliasRecord>> ReadAliasesAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object?[] values)
    {
        var command = Command(connection, sql, values);
        await using var commandScope = command.ConfigureAwait(false);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var aliases = new List<AliasRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var aliasName = ReadId(reader, "alias");
            var alias = Deserialize(reader, 2, KeyStoreJson.AliasRecord, $"the row of alias '{aliasName}'");
            if (!string.Equals(alias.AliasName, aliasName, StringComparison.Ordinal))
            {
                throw new KmsStorageIntegrityException($"The row of alias '{aliasName}' in the PostgreSQL key store '{_description}' holds the document of another alias; it was left in place.");
            }

            aliases.Add(alias with { Version = ReadVersion(reader, $"alias '{aliasName}'") });
        }

        return aliases;
    }

    private string ReadId(NpgsqlDataReader reader, string what)
        => reader.IsDBNull(0)
            ? throw new KmsStorageIntegrityException($"A row of the {what} table of the PostgreSQL key store '{_description}' has no id; it was left in place.")
            : reader.GetString(0);

    private long ReadVersion(NpgsqlDataReader reader, string what)
        => reader.IsDBNull(1)
            ? throw new KmsStorageIntegrityException($"The row of {what} in the PostgreSQL key store '{_description}' has no version; it was left in place.")
            : reader.GetInt64(1);

    private T Deserialize<T>(NpgsqlDataReader reader, int ordinal, JsonTypeInfo<T> typeInfo, string what)
        where T : class
    {
        try
        {
            var document = reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
            return (document is null ? null : JsonSerializer.Deserialize(document, typeInfo))
                ?? throw new KmsStorageIntegrityException($"The document of {what} in the PostgreSQL key store '{_description}' is empty; it was left in place.");
        }
        catch (Exception e) when (e is JsonException or InvalidCastException or FormatException or NotSupportedException or ArgumentException)
        {
            throw new KmsStorageIntegrityException($"The document of {what} in the PostgreSQL key store '{_description}' is not a valid document; it was left in place.", e);
        }
    }

    // ------------------------------------------------------------------ commands

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] values)
    {
#pragma warning disable CA2100 // The SQL is built from constants of this class and the validated schema name; values are bound as parameters.
        var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        return command;
    }

    private static NpgsqlBatchCommand Statement(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        return command;
    }

    private static NpgsqlParameter Parameter(object? value) => value switch
    {
        null => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = DBNull.Value },
        string text => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = text },
        long number => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = number },
        int number => new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = number },
        _ => throw new ArgumentException($"Unsupported parameter type {value.GetType()}.", nameof(value)),
    };

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        var command = Command(connection, sql);
        await using var commandScope = command.ConfigureAwait(false);
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ change watcher

    private void Raise(KeyStoreChangedEventArgs args)
    {
        EventHandler<KeyStoreChangedEventArgs>? handlers;
        lock (_watchLock)
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
                handler(this, args);
            }
#pragma warning disable CA1031 // A subscriber's failure must not stop the watcher.
            catch (Exception e)
#pragma warning restore CA1031
            {
                PostgreSqlKeyStoreLog.HandlerFailed(_logger, _description, e);
            }
        }
    }

    /// <summary>
    /// The background reader of the change feed: it remembers the last change number it reported,
    /// wakes on a notification (or its poll timer while it cannot listen) and reports every newer
    /// change row in order; a gap (rows pruned before it read them) is reported as a reset.
    /// </summary>
    private sealed class ChangeWatcher(PostgreSqlKeyStore store) : IDisposable
    {
        private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
        private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

        private readonly CancellationTokenSource _stop = new();
        private long _last;
        private int _notified;
        private volatile NpgsqlConnection? _listener;

        public int? ListenerProcessId => _listener?.ProcessID;

        public Task Start() => Task.Run(() => RunAsync(_stop.Token));

        public void Stop()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already stopped.
            }
        }

        public void Dispose() => _stop.Dispose();

        private async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                await StartPositionAsync(cancellationToken).ConfigureAwait(false);
                if (store._useListen)
                {
                    await ListenAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    while (true)
                    {
                        await PollAsync(cancellationToken).ConfigureAwait(false);
                        await Task.Delay(store._pollInterval, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped.
            }
            catch (ObjectDisposedException)
            {
                // The store was disposed while the watcher was between two reads.
            }
            finally
            {
                Dispose();
            }
        }

        /// <summary>Records the current change number; reports a reset if that took more than one attempt.</summary>
        private async Task StartPositionAsync(CancellationToken cancellationToken)
        {
            var backoff = FirstBackoff;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    _last = await store.RunAsync(async (connection, ct) =>
                    {
                        var command = Command(connection, $"SELECT last_change FROM {store._schema}.store_state WHERE id = 1");
                        await using var commandScope = command.ConfigureAwait(false);
                        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long last ? last : 0L;
                    }, cancellationToken).ConfigureAwait(false);
                    if (attempt > 0)
                    {
                        store.Raise(KeyStoreChangedEventArgs.Reset);
                    }

                    return;
                }
                catch (Exception e) when (e is KmsStorageUnavailableException or KmsStorageIntegrityException)
                {
                    PostgreSqlKeyStoreLog.ReadChangesFailed(store._logger, store._description, e);
                    await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                    backoff = Next(backoff);
                }
            }
        }

        private async Task ListenAsync(CancellationToken cancellationToken)
        {
            var backoff = FirstBackoff;
            while (true)
            {
                try
                {
                    var connection = await store._dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                    await using (connection.ConfigureAwait(false))
                    {
                        connection.Notification += OnNotification;
                        try
                        {
                            await ExecuteAsync(connection, $"LISTEN {store._channel}", cancellationToken).ConfigureAwait(false);
                            _listener = connection;
                            PostgreSqlKeyStoreLog.Listening(store._logger, store._description, store._channel);
                            backoff = FirstBackoff;

                            // The catch-up read: whatever changed while the watcher was not listening.
                            Volatile.Write(ref _notified, 0);
                            await ReadChangesAsync(connection, cancellationToken).ConfigureAwait(false);
                            while (true)
                            {
                                if (!await connection.WaitAsync(KeepAlive, cancellationToken).ConfigureAwait(false))
                                {
                                    // Quiet for a while: prove the connection is alive (notifications that arrive meanwhile are delivered too).
                                    await ExecuteAsync(connection, "SELECT 1", cancellationToken).ConfigureAwait(false);
                                }

                                if (Interlocked.Exchange(ref _notified, 0) != 0)
                                {
                                    await ReadChangesAsync(connection, cancellationToken).ConfigureAwait(false);
                                }
                            }
                        }
                        finally
                        {
                            _listener = null;
                            connection.Notification -= OnNotification;
                        }
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or SocketException or KmsStorageIntegrityException or InvalidOperationException)
                {
                    PostgreSqlKeyStoreLog.ListenFailed(store._logger, store._description, store._pollInterval, backoff, e);
                }

                // LISTEN is down: poll the change table until the next attempt to reconnect.
                var reconnectAt = TimeProvider.System.GetTimestamp() + (long)(backoff.TotalSeconds * TimeProvider.System.TimestampFrequency);
                backoff = Next(backoff);
                while (true)
                {
                    await PollAsync(cancellationToken).ConfigureAwait(false);
                    var remaining = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), reconnectAt);
                    if (remaining <= TimeSpan.Zero)
                    {
                        break;
                    }

                    await Task.Delay(remaining < store._pollInterval ? remaining : store._pollInterval, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private void OnNotification(object sender, NpgsqlNotificationEventArgs e) => Volatile.Write(ref _notified, 1);

        /// <summary>One read of the change table on a pooled connection; failures are logged and retried at the next poll.</summary>
        private async Task PollAsync(CancellationToken cancellationToken)
        {
            try
            {
                await store.RunAsync<object?>(async (connection, ct) =>
                {
                    await ReadChangesAsync(connection, ct).ConfigureAwait(false);
                    return null;
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KmsStorageUnavailableException or KmsStorageIntegrityException)
            {
                PostgreSqlKeyStoreLog.ReadChangesFailed(store._logger, store._description, e);
            }
        }

        private async Task ReadChangesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            while (true)
            {
                var rows = new List<(long Seq, string? KeyId, string? AliasName)>();
                var command = Command(connection, $"SELECT seq, key_id, alias_name FROM {store._schema}.changes WHERE seq > $1 ORDER BY seq LIMIT {ChangePage}", _last);
                await using (command.ConfigureAwait(false))
                {
                    var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    await using var readerScope = reader.ConfigureAwait(false);
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Add((reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
                    }
                }

                if (rows.Count == 0)
                {
                    return;
                }

                if (rows[0].Seq > _last + 1)
                {
                    // Changes were pruned before this watcher read them.
                    store.Raise(KeyStoreChangedEventArgs.Reset);
                }

                foreach (var (seq, keyId, aliasName) in rows)
                {
                    _last = seq;
                    store.Raise(new KeyStoreChangedEventArgs(keyId, aliasName));
                }

                if (rows.Count < ChangePage)
                {
                    return;
                }
            }
        }

        private static TimeSpan Next(TimeSpan backoff) => backoff * 2 < MaxBackoff ? backoff * 2 : MaxBackoff;
    }
}
