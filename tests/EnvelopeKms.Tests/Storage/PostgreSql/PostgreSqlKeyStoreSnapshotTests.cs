using EnvelopeKms.Storage;
using EnvelopeKms.Storage.PostgreSql;

namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>
/// Backup and restore across providers with PostgreSQL: a snapshot exported from a store and imported
/// into a PostgreSQL schema (or exported from PostgreSQL into another provider) round-trips every key,
/// key-material version, tag, state and alias, and every ciphertext made before the export decrypts
/// through the destination (<see cref="KeyStoreSnapshotTests.RoundTripAsync"/>).
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlKeyStoreSnapshotTests(PostgreSqlServer server) : IAsyncDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("pg-snapshot");
    private readonly List<PostgreSqlKeyStore> _stores = [];
    private int _count;

    public static TheoryData<string, string> ProviderPairs => new()
    {
        { "sqlite", "postgres" },
        { "postgres", "file" },
        { "memory", "postgres" },
        { "postgres", "postgres" },
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        _directory.Dispose();
    }

    [Theory]
    [MemberData(nameof(ProviderPairs))]
    public async Task A_snapshot_imported_into_another_provider_round_trips_every_key_alias_and_ciphertext(string from, string to)
    {
        server.Require();
        await KeyStoreSnapshotTests.RoundTripAsync(NewStore(from), NewStore(to));
    }

    private IKeyStore NewStore(string kind)
    {
        if (kind != "postgres")
        {
            return KeyStoreSnapshotTests.NewLocalStore(kind, Path.Combine(_directory.Parent, $"store-{Interlocked.Increment(ref _count)}"));
        }

        var store = new PostgreSqlKeyStore(
            server.ConnectionString(PostgreSqlServer.SharedDatabase),
            new PostgreSqlKeyStoreOptions { SchemaName = PostgreSqlServer.NewSchemaName() },
            loggerFactory: null);
        _stores.Add(store);
        return store;
    }
}
