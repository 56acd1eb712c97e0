using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// The kill schedules of the crash tests of the SQL stores, shared by every store kind: one complete
/// run, a kill before and after every write call, and kills at random moments. Every run uses its own
/// store (a "directory" under <c>parent</c>, which the kind maps to a file, a schema, ...) and is
/// checked by <see cref="CrashChecks"/>.
/// </summary>
internal static class CrashKillRuns
{
    /// <summary>The write calls of a SQL store the workload makes; each has a kill point before and after it.</summary>
    public static readonly string[] WriteCalls = ["initialize-metadata", "insert-key", "update-key", "delete-key", "insert-alias", "update-alias", "delete-alias"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Runs the whole workload once, checks the result, and returns the number of write steps and of writing operations.</summary>
    public static async Task<(int Steps, int Operations)> RunCompleteWorkloadAsync(CrashStoreKind kind, string parent, byte[] rootKey)
    {
        var directory = Path.Combine(parent, "complete");
        var complete = await CrashHostProcess.RunAsync(kind.HostArgument(directory), rootKey, long.MaxValue, Ct);
        Assert.True(complete.ExitCode == 0, $"The complete run failed ({complete.ExitCode}):\n{complete.Output}\n{complete.StandardError}");
        Assert.Equal(["ok", "done"], complete.Lines[^1]);
        Assert.Equal("steps", complete.Lines[^2][1]);
        var total = int.Parse(complete.Lines[^2][2], CultureInfo.InvariantCulture);
        Assert.InRange(total, 20, 60);
        var model = WorkloadLog.Parse(complete.Lines);
        Assert.Null(model.Pending);
        Assert.True(model.PurgeDone);
        await CrashChecks.CheckCrashedStoreAsync(kind, directory, rootKey, model, crashStep: null);
        return (total, complete.Lines.Count(l => l[0] == "begin"));
    }

    /// <summary>Kills one child at each write step (before and after each write call) and checks each store; returns the number of kills.</summary>
    public static async Task<int> KillAtEveryWriteStepAsync(CrashStoreKind kind, string parent, byte[] rootKey)
    {
        var (total, _) = await RunCompleteWorkloadAsync(kind, parent, rootKey);

        var crashSteps = new ConcurrentDictionary<int, string>();
        await Parallel.ForEachAsync(Enumerable.Range(1, total), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = Ct }, async (n, token) =>
        {
            var directory = Path.Combine(parent, $"step-{n:D2}");
            var run = await CrashHostProcess.RunAsync(kind.HostArgument(directory), rootKey, n, token);
            try
            {
                Assert.NotEqual(0, run.ExitCode);
                var last = run.Lines[^1];
                Assert.Equal(["crash", n.ToString(CultureInfo.InvariantCulture)], last[..2]);
                crashSteps[n] = last[2];
                await CrashChecks.CheckCrashedStoreAsync(kind, directory, rootKey, WorkloadLog.Parse(run.Lines), last[2]);
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
        return total;
    }

    /// <summary>
    /// Kills children at random moments until <paramref name="timedKills"/> of them were killed before
    /// they finished: each right after it reports the start of its k-th writing operation (k at random),
    /// after a random 0-11 ms more, so inside that operation's key-manager work or transaction.
    /// </summary>
    public static async Task<int> KillAtRandomMomentsAsync(CrashStoreKind kind, string parent, byte[] rootKey, int timedKills)
    {
        var (_, operations) = await RunCompleteWorkloadAsync(kind, parent, rootKey);

        var kills = 0;
        var inFlight = 0;
        var runs = 0;
        var ops = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(Enumerable.Range(1, timedKills * 2), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = Ct }, async (n, token) =>
        {
            if (Volatile.Read(ref kills) >= timedKills)
            {
                return;
            }

            Interlocked.Increment(ref runs);
            var directory = Path.Combine(parent, $"timed-{n:D3}");
            var operation = RandomNumberGenerator.GetInt32(1, operations + 1);
            var delay = TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(0, 12));
            var run = await CrashHostProcess.RunAndKillAsync(kind.HostArgument(directory), rootKey, operation, delay, token);
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

                await CrashChecks.CheckCrashedStoreAsync(kind, directory, rootKey, log, crashStep: null);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Assert.Fail($"Killed {delay.TotalMilliseconds:F0} ms after the start of operation {operation}: {e}\n--- child output ---\n{run.Output}\n--- child stderr ---\n{run.StandardError}");
            }
        });

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{kills} random kills in {runs} runs; {inFlight} with a write operation in flight: " +
            string.Join(", ", ops.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")));
        Assert.True(kills >= timedKills, $"Only {kills} of {runs} runs were killed before they finished.");
        Assert.True(inFlight >= kills / 2, $"Only {inFlight} of {kills} kills fell while a write operation was in flight.");
        return kills;
    }
}
