using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>
/// RELIABILITY rows 45–46 on SQLite: several processes start on the same empty database file at the
/// same moment (a start barrier), initialise it together and then write concurrently. The store ends
/// with one metadata row and one root-key check value, no lost update, the expected keys, and every
/// ciphertext of every process decrypts here and in every other process (<see cref="MultiProcessRun"/>,
/// shared with PostgreSQL), and <c>PRAGMA integrity_check</c> is ok.
/// </summary>
public sealed class SqliteMultiProcessTests : IDisposable
{
    private readonly TemporaryStoreDirectory _work = new("sqlite-multi");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    public async Task Processes_starting_together_on_an_empty_file_share_one_store_lose_no_update_and_decrypt_each_others_ciphertexts()
        => await MultiProcessRun.RunAsync(CrashStoreKind.Sqlite, _work.Parent);
}
