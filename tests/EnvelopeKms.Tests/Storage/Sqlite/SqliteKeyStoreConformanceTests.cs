using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>The whole <see cref="IKeyStore"/> contract, durability included, on a SQLite file per test.</summary>
public sealed class SqliteKeyStoreConformanceTests : DurableKeyStoreConformanceTests, IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("sqlite-conformance");

    private string DatabasePath => Path.Combine(_directory.Parent, "keys.db");

    protected override IKeyStore CreateStore() => new SqliteKeyStore(DatabasePath);

    protected override IKeyStore ReopenStore() => new SqliteKeyStore(DatabasePath);

    public void Dispose() => _directory.Dispose();
}
