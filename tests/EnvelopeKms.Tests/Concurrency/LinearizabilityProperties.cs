using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Storage;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Concurrency;

/// <summary>One operation of a concurrent history on one key.</summary>
public enum LinearizableOperation
{
    Encrypt,
    Decrypt,
    Disable,
    Enable,
    Describe,
}

/// <summary>Operations per task, run at once; on SQLite the tasks alternate between two key managers (two instances on one database).</summary>
public sealed record ConcurrentHistory(IReadOnlyList<IReadOnlyList<LinearizableOperation>> Tasks, bool OnSqlite)
{
    public override string ToString()
        => $"{(OnSqlite ? "SQLite, two managers" : "in-memory")}: " + string.Join(" | ", Tasks.Select(t => string.Join(",", t)));
}

public static class LinearizabilityArbitraries
{
    public static Arbitrary<ConcurrentHistory> History() => Arb.From(
        from taskCount in Gen.Choose(2, 3)
        from tasks in Gen.ListOf(
            from length in Gen.Choose(1, 4)
            from ops in Gen.ListOf(Gen.Elements(Enum.GetValues<LinearizableOperation>()), length)
            select (IReadOnlyList<LinearizableOperation>)[.. ops],
            taskCount)
        from onSqlite in Gen.Elements(false, true)
        select new ConcurrentHistory([.. tasks], onSqlite));
}

/// <summary>
/// RELIABILITY row 48: <c>Encrypt</c> and <c>Decrypt</c> running concurrently with <c>DisableKey</c> and
/// <c>EnableKey</c> are linearizable. FsCheck generates concurrent histories; each is run for real (on
/// one in-memory key manager, or on two key managers sharing one SQLite database), every call's
/// invocation and response are stamped on one counter, and the observed results must equal those of
/// some sequential order of the calls that respects real time (a call that returned before another
/// began comes first) under the sequential model of the key's state.
/// </summary>
public sealed class LinearizabilityProperties : IDisposable
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "linearizability" };
    private readonly TemporaryStoreDirectory _directory = new("linearizability");
    private int _databases;

    public void Dispose() => _directory.Dispose();

    private sealed record Call(LinearizableOperation Operation, long Invoked, long Returned, string Result);

    [Property(Arbitrary = [typeof(LinearizabilityArbitraries)], MaxTest = 60)]
    public bool Concurrent_histories_of_data_plane_and_state_changes_are_linearizable(ConcurrentHistory history)
    {
        var calls = RunAsync(history).GetAwaiter().GetResult();
        Assert.True(IsLinearizable(calls), $"Not linearizable: {string.Join("; ", calls.OrderBy(c => c.Invoked).Select(c => $"{c.Operation}[{c.Invoked}-{c.Returned}]={c.Result}"))}");
        return true;
    }

    private async Task<List<Call>> RunAsync(ConcurrentHistory history)
    {
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        IKeyStore NewStore() => history.OnSqlite
            ? new SqliteKeyStore(Path.Combine(_directory.Parent, $"lin-{_databases}.db"))
            : throw new InvalidOperationException();
        Interlocked.Increment(ref _databases);
        var first = history.OnSqlite ? NewStore() : new InMemoryKeyStore();
        using var one = new KeyManager(first, root);
        using var two = history.OnSqlite ? new KeyManager(NewStore(), root) : null;
        var keyId = (await one.CreateKeyAsync(new CreateKeyRequest(), CancellationToken.None)).KeyMetadata.KeyId;
        var blob = await one.EncryptAsync(keyId, new byte[] { 42 }, Context, CancellationToken.None);
        await (two ?? one).DescribeKeyAsync(keyId, CancellationToken.None); // Both managers have the root key open.

        long clock = 0;
        var calls = new List<Call>();
        using var start = new ManualResetEventSlim();
        var tasks = history.Tasks.Select((operations, index) => Task.Run(async () =>
        {
            var kms = index % 2 == 1 && two is not null ? two : one;
            var mine = new List<Call>();
            start.Wait();
            foreach (var operation in operations)
            {
                var invoked = Interlocked.Increment(ref clock);
                var result = await InvokeAsync(kms, operation, keyId, blob);
                mine.Add(new Call(operation, invoked, Interlocked.Increment(ref clock), result));
            }

            return mine;
        })).ToList();
        start.Set();
        foreach (var mine in await Task.WhenAll(tasks))
        {
            calls.AddRange(mine);
        }

        return calls;
    }

    private static async Task<string> InvokeAsync(KeyManager kms, LinearizableOperation operation, string keyId, byte[] blob)
    {
        try
        {
            switch (operation)
            {
                case LinearizableOperation.Encrypt:
                    await kms.EncryptAsync(keyId, new byte[] { 7 }, Context, CancellationToken.None);
                    return "ok";
                case LinearizableOperation.Decrypt:
                    return (await kms.DecryptAsync(blob, Context, CancellationToken.None)) is [42] ? "ok" : "wrong plaintext";
                case LinearizableOperation.Disable:
                    await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, CancellationToken.None);
                    return "ok";
                case LinearizableOperation.Enable:
                    await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, CancellationToken.None);
                    return "ok";
                default:
                    return (await kms.DescribeKeyAsync(keyId, CancellationToken.None)).KeyState.ToString();
            }
        }
        catch (KmsDisabledException)
        {
            return "disabled";
        }
    }

    /// <summary>Searches the sequential orders that respect real time (memoized on the set of placed calls and the state).</summary>
    private static bool IsLinearizable(List<Call> calls)
    {
        var failed = new HashSet<(int Placed, bool Enabled)>();
        return Search(0, enabled: true);

        bool Search(int placed, bool enabled)
        {
            if (placed == (1 << calls.Count) - 1)
            {
                return true;
            }

            if (failed.Contains((placed, enabled)))
            {
                return false;
            }

            for (var i = 0; i < calls.Count; i++)
            {
                if ((placed & (1 << i)) != 0 || !Minimal(placed, i))
                {
                    continue;
                }

                var (expected, next) = Model(calls[i].Operation, enabled);
                if (expected == calls[i].Result && Search(placed | (1 << i), next))
                {
                    return true;
                }
            }

            failed.Add((placed, enabled));
            return false;
        }

        // Call i may go next if every unplaced call that returned before it was invoked is... none.
        bool Minimal(int placed, int i)
        {
            for (var j = 0; j < calls.Count; j++)
            {
                if (j != i && (placed & (1 << j)) == 0 && calls[j].Returned < calls[i].Invoked)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private static (string Result, bool Enabled) Model(LinearizableOperation operation, bool enabled) => operation switch
    {
        LinearizableOperation.Encrypt or LinearizableOperation.Decrypt => (enabled ? "ok" : "disabled", enabled),
        LinearizableOperation.Disable => ("ok", false),
        LinearizableOperation.Enable => ("ok", true),
        _ => (enabled ? nameof(KeyState.Enabled) : nameof(KeyState.Disabled), enabled),
    };
}
