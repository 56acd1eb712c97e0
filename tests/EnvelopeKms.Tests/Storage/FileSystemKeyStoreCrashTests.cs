using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// The crash test: a child process runs a fixed workload on a <see cref="FileSystemKeyStore"/>
/// and is killed (SIGKILL) at write step N, for every N of the workload. After each kill the store is
/// reopened in this process and checked: it is exactly the state after the last reported operation or
/// after the one in flight (never a mix), every key is fully usable, every reported ciphertext
/// decrypts, no temporary file is read, and an interrupted purge completes (see <see cref="CrashChecks"/>).
/// </summary>
public sealed class FileSystemKeyStoreCrashTests
{
    /// <summary>A cap on the workload's write steps, to keep the test fast (one child start per step).</summary>
    private const int MaxSteps = 110;

    private static readonly string[] AllStepNames = ["create-temp", "write-half", "flushed", "renamed", "delete", "deleted"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_writer_at_every_write_step_leaves_every_key_absent_or_fully_usable()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        using var work = new TemporaryStoreDirectory("crash");

        // One complete run counts the write steps and checks the workload itself.
        var completeDirectory = Path.Combine(work.Parent, "complete");
        var complete = await CrashHostProcess.RunAsync(CrashStoreKind.FileSystem.HostArgument(completeDirectory), rootKey, long.MaxValue, Ct);
        Assert.True(complete.ExitCode == 0, $"The complete run failed ({complete.ExitCode}):\n{complete.Output}\n{complete.StandardError}");
        Assert.Equal(["ok", "done"], complete.Lines[^1]);
        Assert.Equal("steps", complete.Lines[^2][1]);
        var total = int.Parse(complete.Lines[^2][2], CultureInfo.InvariantCulture);
        Assert.InRange(total, 20, MaxSteps);
        var completeModel = WorkloadLog.Parse(complete.Lines);
        Assert.Null(completeModel.Pending);
        Assert.True(completeModel.PurgeDone);
        await CrashChecks.CheckCrashedStoreAsync(CrashStoreKind.FileSystem, completeDirectory, rootKey, completeModel, crashStep: null);

        // Then one child per write step, killed at that step.
        var crashSteps = new ConcurrentDictionary<int, string>();
        await Parallel.ForEachAsync(Enumerable.Range(1, total), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = Ct }, async (n, token) =>
        {
            var directory = Path.Combine(work.Parent, $"crash-{n:D2}");
            var run = await CrashHostProcess.RunAsync(CrashStoreKind.FileSystem.HostArgument(directory), rootKey, n, token);
            try
            {
                Assert.NotEqual(0, run.ExitCode);
                var last = run.Lines[^1];
                Assert.Equal("crash", last[0]);
                Assert.Equal(n.ToString(CultureInfo.InvariantCulture), last[1]);
                crashSteps[n] = last[2];
                await CrashChecks.CheckCrashedStoreAsync(CrashStoreKind.FileSystem, directory, rootKey, WorkloadLog.Parse(run.Lines), last[2]);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Assert.Fail($"Killed at write step {n}: {e}\n--- child output ---\n{run.Output}\n--- child stderr ---\n{run.StandardError}");
            }
        });

        Assert.Equal(total, crashSteps.Count);
        Assert.Equal(AllStepNames.Order(StringComparer.Ordinal), crashSteps.Values.Distinct().Order(StringComparer.Ordinal));
    }
}
