namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>
/// RELIABILITY rows 45–46 on a real PostgreSQL server: four processes start on the same empty schema
/// at the same moment (a start barrier), create it together (schema, version row, metadata row) and
/// then write concurrently from their own connections. The schema ends with one version row, one
/// metadata row and one root-key check value, no lost update, no duplicate material, every key, and
/// every ciphertext of every process decrypts here and in every other process
/// (<see cref="MultiProcessRun"/>, shared with SQLite), and amcheck finds the schema sound.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlMultiProcessTests : IDisposable
{
    private readonly PostgreSqlServer _server;
    private readonly PostgreSqlCrashStoreKind _kind;
    private readonly TemporaryStoreDirectory _work = new("pg-multi");

    public PostgreSqlMultiProcessTests(PostgreSqlServer server)
    {
        _server = server;
        _kind = new PostgreSqlCrashStoreKind(server);
    }

    public void Dispose()
    {
        _kind.DropAll();
        _work.Dispose();
    }

    [Fact]
    public async Task Processes_starting_together_on_an_empty_schema_share_one_store_lose_no_update_and_decrypt_each_others_ciphertexts()
    {
        _server.Require();
        await MultiProcessRun.RunAsync(_kind, _work.Parent);
    }
}
