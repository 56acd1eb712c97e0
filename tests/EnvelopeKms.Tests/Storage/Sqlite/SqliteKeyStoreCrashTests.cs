using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>
/// Crash tests on the real SQLite engine (RELIABILITY rows 41–44): the crash child runs the workload of
/// <see cref="FileSystemKeyStoreCrashTests"/> (create, enable/disable, alias create/update/delete,
/// tags, description, schedule deletion, purge) on a SQLite file and is killed with SIGKILL — at each
/// kill point before and after every write call, and at random moments, most of them inside a
/// write's transaction. After each kill the file is reopened here and checked by <see cref="CrashChecks"/>
/// (old or new state of the operation in flight, every key absent or fully usable, every reported
/// ciphertext decrypts, no duplicate material, <c>PRAGMA integrity_check</c> ok, change feed complete).
/// The kill schedules are <see cref="CrashKillRuns"/>, shared with the PostgreSQL crash tests.
/// </summary>
public sealed class SqliteKeyStoreCrashTests : IDisposable
{
    /// <summary>Random kills; with the deterministic ones they make more than 200 kills.</summary>
    private const int TimedKills = 170;

    private readonly TemporaryStoreDirectory _work = new("sqlite-crash");
    private readonly byte[] _rootKey = RandomNumberGenerator.GetBytes(32);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    public async Task Killing_the_writer_before_and_after_every_write_call_leaves_every_key_absent_or_fully_usable()
        => Assert.Equal(54, await CrashKillRuns.KillAtEveryWriteStepAsync(CrashStoreKind.Sqlite, _work.Parent, _rootKey));

    [Fact]
    public async Task Killing_the_writer_at_random_moments_inside_its_transactions_leaves_every_key_absent_or_fully_usable()
        => Assert.True(await CrashKillRuns.KillAtRandomMomentsAsync(CrashStoreKind.Sqlite, _work.Parent, _rootKey, TimedKills) >= TimedKills);
}
