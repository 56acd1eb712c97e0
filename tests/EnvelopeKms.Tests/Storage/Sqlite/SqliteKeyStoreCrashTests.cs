using System.Collections.Concurrent;
using System.Globalization;
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
/// </summary>
public sealed class SqliteKeyStoreCrashTests : IDisposable
{
    /// <summary>Random kills; with the deterministic ones they make more than 200 kills.</summary>
    private const int TimedKills = 170;

    private static readonly string[] WriteCalls = ["initialize-metadata", "insert-key", "update-key", "delete-key", "insert-alias", "update-alias", "delete-alias"];

    private readonly TemporaryStoreDirectory _work = new("sqlite-crash");
    private readonly byte[] _rootKey = RandomNumberGenerator.GetBytes(32);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    public async Task Killing_the_writer_before_and_after_every_write_call_leaves_every_key_absent_or_fully_usable()
    {
        var (total, _) = await RunCompleteWorkloadAsync();

        var crashSteps = new ConcurrentDictionary<int, string>();
        await Parallel.ForEachAsync(Enumerable.Range(1, total), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = Ct }, async (n, token) =>
        {
            var directory = Path.Combine(_work.Parent, $"step-{n:D2}");
            var run = await CrashHostProcess.RunAsync(CrashStoreKind.Sqlite.HostArgument(directory), _rootKey, n, token);
            try
            {
                Assert.NotEqual(0, run.ExitCode);
                var last = run.Lines[^1];
                Assert.Equal(["crash", n.ToString(CultureInfo.InvariantCulture)], last[..2]);
                crashSteps[n] = last[2];
                await CrashChecks.CheckCrashedStoreAsync(CrashStoreKind.Sqlite, directory, _rootKey, WorkloadLog.Parse(run.Lines), last[2]);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Assert.Fail($"Killed at write step {n}: {e}\n--- child output ---\n{run.Output}\n--- child stderr ---\n{run.StandardError}");
            }
        });

        Assert.Equal(total, crashSteps.Count);
        Assert.Equal(
            WriteCalls.SelectMany(w => new[] { "before-" + w, "after-" + w }).Order(StringComparer.Ordinal),
            crashSteps.Values.Distinct().Order(StringComparer.Ordinal));
        TestContext.Current.TestOutputHelper?.WriteLine($"{total} deterministic kills (before and after each write call).");
    }

    [Fact]
    public async Task Killing_the_writer_at_random_moments_inside_its_transactions_leaves_every_key_absent_or_fully_usable()
    {
        // Each run is killed right after the child reports the start of its k-th writing operation (k at
        // random), after a random 0-11 ms more: inside that operation's key-manager work or transaction.
        var (_, operations) = await RunCompleteWorkloadAsync();

        var kills = 0;
        var inFlight = 0;
        var runs = 0;
        var ops = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(Enumerable.Range(1, TimedKills * 2), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = Ct }, async (n, token) =>
        {
            if (Volatile.Read(ref kills) >= TimedKills)
            {
                return;
            }

            Interlocked.Increment(ref runs);
            var directory = Path.Combine(_work.Parent, $"timed-{n:D3}");
            var operation = RandomNumberGenerator.GetInt32(1, operations + 1);
            var delay = TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(0, 12));
            var run = await CrashHostProcess.RunAndKillAsync(CrashStoreKind.Sqlite.HostArgument(directory), _rootKey, operation, delay, token);
            try
            {
                var log = WorkloadLog.Parse(run.Lines);
                if (run.KilledByTest)
                {
                    Interlocked.Increment(ref kills);
                    if (log.Pending is { } pending)
                    {
                        Interlocked.Increment(ref inFlight);
                        ops.AddOrUpdate(pending[0], 1, (_, c) => c + 1);
                    }
                }
                else
                {
                    Assert.True(run.ExitCode == 0, $"The child failed on its own ({run.ExitCode}).");
                }

                await CrashChecks.CheckCrashedStoreAsync(CrashStoreKind.Sqlite, directory, _rootKey, log, crashStep: null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Assert.Fail($"Killed {delay.TotalMilliseconds:F0} ms after the start of operation {operation}: {e}\n--- child output ---\n{run.Output}\n--- child stderr ---\n{run.StandardError}");
            }
        });

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{kills} random kills in {runs} runs; {inFlight} with a write operation in flight: " +
            string.Join(", ", ops.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")));
        Assert.True(kills >= TimedKills, $"Only {kills} of {runs} runs were killed before they finished.");
        Assert.True(inFlight >= kills / 2, $"Only {inFlight} of {kills} kills fell while a write operation was in flight.");
    }

    /// <summary>Runs the whole workload once, checks the result, and returns the number of write steps and of writing operations.</summary>
    private async Task<(int Steps, int Operations)> RunCompleteWorkloadAsync()
    {
        var directory = Path.Combine(_work.Parent, "complete");
        var complete = await CrashHostProcess.RunAsync(CrashStoreKind.Sqlite.HostArgument(directory), _rootKey, long.MaxValue, Ct);
        Assert.True(complete.ExitCode == 0, $"The complete run failed ({complete.ExitCode}):\n{complete.Output}\n{complete.StandardError}");
        Assert.Equal(["ok", "done"], complete.Lines[^1]);
        Assert.Equal("steps", complete.Lines[^2][1]);
        var total = int.Parse(complete.Lines[^2][2], CultureInfo.InvariantCulture);
        Assert.InRange(total, 20, 60);
        var model = WorkloadLog.Parse(complete.Lines);
        Assert.Null(model.Pending);
        Assert.True(model.PurgeDone);
        await CrashChecks.CheckCrashedStoreAsync(CrashStoreKind.Sqlite, directory, _rootKey, model, crashStep: null);
        return (total, complete.Lines.Count(l => l[0] == "begin"));
    }
}
