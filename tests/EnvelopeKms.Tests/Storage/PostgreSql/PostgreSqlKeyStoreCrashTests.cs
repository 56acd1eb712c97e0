using System.Security.Cryptography;

namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>
/// Crash tests on a real PostgreSQL server (RELIABILITY rows 41–44): the crash child runs the workload of
/// <see cref="FileSystemKeyStoreCrashTests"/> (create, enable/disable, alias create/update/delete, tags,
/// description, schedule deletion, purge) on a schema of its own and is killed with SIGKILL — before and
/// after every write call, and at random moments, most of them inside a key-manager operation and its
/// transaction (the server then rolls the transaction back when it sees the connection drop). After
/// each kill the schema is read here and checked by <see cref="CrashChecks"/> (old or new state of the
/// operation in flight, every key absent or fully usable, every reported ciphertext decrypts, no
/// duplicate material, an interrupted purge completes) and by <see cref="PostgreSqlCrashStoreKind"/>
/// (the child's sessions end, the change feed holds exactly the committed writes, amcheck is clean).
/// Fewer random kills than on SQLite (whose 170 cover the same kill points): every run starts a child
/// and several stores against the server.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlKeyStoreCrashTests : IDisposable
{
    private const int TimedKills = 40;

    private readonly PostgreSqlServer _server;
    private readonly PostgreSqlCrashStoreKind _kind;
    private readonly TemporaryStoreDirectory _work = new("pg-crash");
    private readonly byte[] _rootKey = RandomNumberGenerator.GetBytes(32);

    public PostgreSqlKeyStoreCrashTests(PostgreSqlServer server)
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
    public async Task Killing_the_writer_before_and_after_every_write_call_leaves_every_key_absent_or_fully_usable()
    {
        _server.Require();
        Assert.Equal(54, await CrashKillRuns.KillAtEveryWriteStepAsync(_kind, _work.Parent, _rootKey));
    }

    [Fact]
    public async Task Killing_the_writer_at_random_moments_inside_its_transactions_leaves_every_key_absent_or_fully_usable()
    {
        _server.Require();
        Assert.True(await CrashKillRuns.KillAtRandomMomentsAsync(_kind, _work.Parent, _rootKey, TimedKills) >= TimedKills);
    }
}
