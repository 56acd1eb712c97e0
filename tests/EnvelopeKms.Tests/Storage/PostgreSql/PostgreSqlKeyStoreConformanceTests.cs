using EnvelopeKms.Storage;
using EnvelopeKms.Storage.PostgreSql;

namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>The whole <see cref="IKeyStore"/> contract, durability included, on a schema of its own per test in the throwaway server.</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlKeyStoreConformanceTests(PostgreSqlServer server) : DurableKeyStoreConformanceTests, IAsyncDisposable
{
    private readonly string _schema = PostgreSqlServer.NewSchemaName();
    private readonly List<PostgreSqlKeyStore> _stores = [];

    protected override IKeyStore CreateStore() => Open();

    protected override IKeyStore ReopenStore() => Open();

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }

    private PostgreSqlKeyStore Open()
    {
        server.Require();
        var store = new PostgreSqlKeyStore(server.ConnectionString(PostgreSqlServer.SharedDatabase), new PostgreSqlKeyStoreOptions { SchemaName = _schema }, loggerFactory: null);
        _stores.Add(store);
        return store;
    }
}
