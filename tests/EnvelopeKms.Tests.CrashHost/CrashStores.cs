using EnvelopeKms.Storage;
using EnvelopeKms.Storage.PostgreSql;
using EnvelopeKms.Storage.Sqlite;
using Npgsql;

namespace EnvelopeKms.Tests.CrashHost;

/// <summary>
/// The one place that turns a store argument into a store: <c>file:&lt;dir&gt;</c> (or a bare
/// directory), <c>sqlite:&lt;path&gt;</c>, <c>postgres:&lt;connection string&gt;</c> (the store's schema is
/// the connection string's <c>Search Path</c>, default <c>envelopekms</c>). A new kind is one more case
/// here; the workloads and the kill points do not change.
/// </summary>
internal static class CrashStores
{
    /// <summary>Opens the store; <paramref name="onWriteStep"/> (if given) is called at each write step.</summary>
    public static IKeyStore Open(string argument, Action<string>? onWriteStep)
    {
        var colon = argument.IndexOf(':', StringComparison.Ordinal);
        var (kind, location) = colon > 1 ? (argument[..colon], argument[(colon + 1)..]) : ("file", argument);
        return kind switch
        {
            // The file store has kill points inside its writes: temp file, half written, flushed, renamed.
            "file" => new FileSystemKeyStore(location, onWriteStep),
            // SQL stores: a kill point before and after each write call; kills inside a transaction come from the timed mode.
            "sqlite" => Observe(new SqliteKeyStore(location), onWriteStep),
            "postgres" => Observe(OpenPostgreSql(location), onWriteStep),
            _ => throw new ArgumentException($"Unknown store kind '{kind}' (file:, sqlite:, postgres:).", nameof(argument)),
        };
    }

    private static PostgreSqlKeyStore OpenPostgreSql(string connectionString)
    {
        var schema = new NpgsqlConnectionStringBuilder(connectionString).SearchPath;
        var options = new PostgreSqlKeyStoreOptions();
        if (!string.IsNullOrEmpty(schema))
        {
            options.SchemaName = schema;
        }

        return new PostgreSqlKeyStore(connectionString, options, loggerFactory: null);
    }

    private static IKeyStore Observe(IKeyStore store, Action<string>? onWriteStep)
        => onWriteStep is null ? store : new CrashPointKeyStore(store, onWriteStep);
}

/// <summary>Calls the crash observer before and after every write call of the inner store.</summary>
internal sealed class CrashPointKeyStore(IKeyStore inner, Action<string> onWriteStep) : IKeyStore, IKeyStoreChangeNotifier, IDisposable
{
    public event EventHandler<KeyStoreChangedEventArgs>? Changed
    {
        add
        {
            if (inner is IKeyStoreChangeNotifier notifier)
            {
                notifier.Changed += value;
            }
        }

        remove
        {
            if (inner is IKeyStoreChangeNotifier notifier)
            {
                notifier.Changed -= value;
            }
        }
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => inner.GetMetadataAsync(cancellationToken);

    public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken)
        => Around("initialize-metadata", () => inner.InitializeMetadataAsync(metadata, cancellationToken));

    public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) => inner.GetKeyAsync(keyId, cancellationToken);

    public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken) => inner.ListKeysAsync(afterKeyId, limit, cancellationToken);

    public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken) => Around("insert-key", () => inner.InsertKeyAsync(key, cancellationToken));

    public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken) => Around("update-key", () => inner.UpdateKeyAsync(key, cancellationToken));

    public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
        => Around("delete-key", () => inner.DeleteKeyAsync(keyId, expectedVersion, cancellationToken));

    public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken) => inner.GetAliasAsync(aliasName, cancellationToken);

    public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
        => inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, cancellationToken);

    public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => Around("insert-alias", () => inner.InsertAliasAsync(alias, cancellationToken));

    public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => Around("update-alias", () => inner.UpdateAliasAsync(alias, cancellationToken));

    public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
        => Around("delete-alias", () => inner.DeleteAliasAsync(aliasName, expectedVersion, cancellationToken));

    private async ValueTask<T> Around<T>(string write, Func<ValueTask<T>> call)
    {
        onWriteStep("before-" + write);
        var result = await call();
        onWriteStep("after-" + write);
        return result;
    }

    private async ValueTask Around(string write, Func<ValueTask> call)
    {
        onWriteStep("before-" + write);
        await call();
        onWriteStep("after-" + write);
    }
}
