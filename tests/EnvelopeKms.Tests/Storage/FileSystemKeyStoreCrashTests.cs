using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// The issue's crash test: a child process runs a fixed workload on a <see cref="FileSystemKeyStore"/>
/// and is killed (SIGKILL) at write step N, for every N of the workload. After each kill the store is
/// reopened in this process and checked: it is exactly the state after the last reported operation or
/// after the one in flight (never a mix), every key is fully usable, every reported ciphertext
/// decrypts, no temporary file is read, and an interrupted purge completes.
/// </summary>
public sealed class FileSystemKeyStoreCrashTests
{
    /// <summary>A cap on the workload's write steps, to keep the test fast (one child start per step).</summary>
    private const int MaxSteps = 60;

    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "crash-test" };

    private static readonly string[] AllStepNames = ["create-temp", "write-half", "flushed", "renamed", "delete", "deleted"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_writer_at_every_write_step_leaves_every_key_absent_or_fully_usable()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        using var work = new TemporaryStoreDirectory("crash");

        // One complete run counts the write steps and checks the workload itself.
        var completeDirectory = Path.Combine(work.Parent, "complete");
        var complete = await CrashHostProcess.RunAsync(completeDirectory, rootKey, long.MaxValue, Ct);
        Assert.True(complete.ExitCode == 0, $"The complete run failed ({complete.ExitCode}):\n{complete.Output}\n{complete.StandardError}");
        Assert.Equal(["ok", "done"], complete.Lines[^1]);
        Assert.Equal("steps", complete.Lines[^2][1]);
        var total = int.Parse(complete.Lines[^2][2], CultureInfo.InvariantCulture);
        Assert.InRange(total, 20, MaxSteps);
        var completeModel = WorkloadLog.Parse(complete.Lines);
        Assert.Null(completeModel.Pending);
        Assert.True(completeModel.PurgeDone);
        await CheckCrashedStoreAsync(completeDirectory, rootKey, completeModel, crashStep: null);

        // Then one child per write step, killed at that step.
        var crashSteps = new ConcurrentDictionary<int, string>();
        await Parallel.ForEachAsync(Enumerable.Range(1, total), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = Ct }, async (n, token) =>
        {
            var directory = Path.Combine(work.Parent, $"crash-{n:D2}");
            var run = await CrashHostProcess.RunAsync(directory, rootKey, n, token);
            try
            {
                Assert.NotEqual(0, run.ExitCode);
                var last = run.Lines[^1];
                Assert.Equal("crash", last[0]);
                Assert.Equal(n.ToString(CultureInfo.InvariantCulture), last[1]);
                crashSteps[n] = last[2];
                await CheckCrashedStoreAsync(directory, rootKey, WorkloadLog.Parse(run.Lines), last[2]);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Assert.Fail($"Killed at write step {n}: {e}\n--- child output ---\n{run.Output}\n--- child stderr ---\n{run.StandardError}");
            }
        });

        Assert.Equal(total, crashSteps.Count);
        Assert.Equal(AllStepNames.Order(StringComparer.Ordinal), crashSteps.Values.Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>Every check on a store left by a killed (or completed) child.</summary>
    private static async Task CheckCrashedStoreAsync(string directory, byte[] rootKey, WorkloadLog log, string? crashStep)
    {
        // A temporary file exists exactly when the child died between writing it and renaming it.
        var leftovers = StoreFiles.TemporaryFiles(directory);
        Assert.Equal(crashStep is "write-half" or "flushed" ? 1 : 0, leftovers.Length);

        // 1. Raw: what is on disk is readable, consistent and exactly the state before or after the operation in flight.
        var raw = await ReadRawAsync(directory, rootKey);
        var allowed = log.AllowedShapes();
        var actual = StoreShape.Of(raw.Keys, raw.Aliases);
        Assert.True(
            allowed.Any(shape => shape.Equals(actual)),
            $"The store is neither the state before nor after the operation in flight ({string.Join(' ', log.Pending ?? ["none"])}).\n" +
            $"--- on disk ---\n{actual}\n" + string.Join("", allowed.Select((s, i) => $"--- allowed #{i + 1} ---\n{s}\n")));

        // 2. Through a key manager, on a copy (so that the purge check below sees the crashed state).
        var copy = directory + "-checked";
        CopyDirectory(directory, copy);
        using (var kms = new TestKeyManager(new FileSystemKeyStore(copy), new StaticRootKeyProvider(rootKey)))
        {
            Assert.Equal(log.Start, kms.Clock.GetUtcNow());
            foreach (var key in raw.Keys)
            {
                var described = await kms.Manager.DescribeKeyAsync(key.KeyId, Ct);
                Assert.Equal(key.KeyState, described.KeyState);
                Assert.Equal(key.CurrentKeyMaterialId, described.CurrentKeyMaterialId);
                switch (key.KeyState)
                {
                    case KeyState.Enabled:
                        await AssertRoundTripAsync(kms.Manager, key.KeyId);
                        break;
                    case KeyState.Disabled:
                        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Manager.EncryptAsync(key.KeyId, "x"u8.ToArray(), cancellationToken: Ct));
                        break;
                    case KeyState.PendingDeletion:
                        await Assert.ThrowsAsync<KmsInvalidStateException>(() => kms.Manager.EncryptAsync(key.KeyId, "x"u8.ToArray(), cancellationToken: Ct));
                        break;
                    default:
                        Assert.Fail($"Key {key.KeyId} is in state {key.KeyState}, which the workload never sets.");
                        break;
                }
            }

            // Every ciphertext the child reported decrypts, unless its key was being purged.
            foreach (var (keyId, ciphertext, plaintext) in log.Ciphertexts)
            {
                var key = raw.Keys.SingleOrDefault(k => k.KeyId == keyId);
                if (key is null)
                {
                    Assert.True(log.RoleOf(keyId) == "doomed" && log.PurgeBegun, $"Key {keyId} ({log.RoleOf(keyId)}) of a reported ciphertext is gone.");
                    continue;
                }

                await MakeUsableAsync(kms.Manager, keyId);
                Assert.Equal(plaintext, await kms.Manager.DecryptAsync(ciphertext, Context, Ct));
            }

            // The next writer removes the leftover temporary files, which were never read.
            await kms.Manager.CreateKeyAsync("written after the crash", Ct);
            Assert.Empty(StoreFiles.TemporaryFiles(copy));
        }

        // 3. A purge interrupted by the crash completes, and leaves no alias without its key.
        using (var kms = new TestKeyManager(new FileSystemKeyStore(directory), new StaticRootKeyProvider(rootKey)))
        {
            kms.Clock.Advance(TimeSpan.FromDays(9));
            await kms.Manager.PurgeExpiredKeysAsync(Ct);
            var after = await ReadRawAsync(directory, rootKey);
            Assert.DoesNotContain(after.Keys, k => k.KeyState == KeyState.PendingDeletion);
            Assert.All(after.Aliases, a => Assert.Contains(after.Keys, k => k.KeyId == a.TargetKeyId));
            Assert.Equal(raw.Keys.Where(k => k.KeyState != KeyState.PendingDeletion).Select(k => k.KeyId), after.Keys.Select(k => k.KeyId));
        }
    }

    /// <summary>Reads the store without a key manager and checks what needs no model: metadata, file names, wrapped material.</summary>
    private static async Task<(IReadOnlyList<KeyRecord> Keys, IReadOnlyList<AliasRecord> Aliases)> ReadRawAsync(string directory, byte[] rootKey)
    {
        var store = new FileSystemKeyStore(directory);
        var metadata = await store.GetMetadataAsync(Ct);
        var keys = await store.ListKeysAsync(null, 1000, Ct);
        var aliases = await store.ListAliasesAsync(null, null, 1000, Ct);

        // Only committed documents count: the listing is exactly the *.json files, never a *.tmp.
        Assert.Equal(
            Directory.GetFiles(Path.Combine(directory, "keys")).Where(f => f.EndsWith(".json", StringComparison.Ordinal)).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal),
            keys.Select(k => k.KeyId));

        using var root = new AesGcmRootKey(rootKey, parameters: null);
        if (keys.Count > 0 || aliases.Count > 0)
        {
            Assert.NotNull(metadata);
        }

        if (metadata is not null)
        {
            Assert.Equal(root.KeyCheckValue, metadata.RootKeyCheckValue);
        }

        foreach (var key in keys)
        {
            var material = Assert.Single(key.KeyMaterials);
            Assert.Equal(material.KeyMaterialId, key.CurrentKeyMaterialId);
            var unwrapped = new byte[32];
            Assert.Equal(32, root.GetUnwrappedLength(material.WrappedMaterial));
            root.Unwrap(material.WrappedMaterial, KeyManager.WrapAssociatedData(key, material.KeyMaterialId), unwrapped);
            Assert.Contains(unwrapped, b => b != 0);
        }

        return (keys, aliases);
    }

    private static async Task AssertRoundTripAsync(KeyManager manager, string keyId)
    {
        var plaintext = RandomNumberGenerator.GetBytes(48);
        var blob = await manager.EncryptAsync(keyId, plaintext, Context, Ct);
        Assert.Equal(plaintext, await manager.DecryptAsync(blob, Context, Ct));
    }

    private static async Task MakeUsableAsync(KeyManager manager, string keyId)
    {
        var state = (await manager.DescribeKeyAsync(keyId, Ct)).KeyState;
        if (state == KeyState.PendingDeletion)
        {
            await manager.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = keyId }, Ct);
            state = KeyState.Disabled;
        }

        if (state == KeyState.Disabled)
        {
            await manager.EnableKeyAsync(new EnableKeyRequest { KeyId = keyId }, Ct);
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(source, directory)));
        }

        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(destination, Path.GetRelativePath(source, file)));
        }
    }

    /// <summary>The observable state of a store: keys by their role tag, aliases by the role of their target.</summary>
    private sealed class StoreShape : IEquatable<StoreShape>
    {
        public SortedDictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, string> Aliases { get; } = new(StringComparer.Ordinal);

        public static StoreShape Of(IReadOnlyList<KeyRecord> keys, IReadOnlyList<AliasRecord> aliases)
        {
            var shape = new StoreShape();
            var roles = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                var role = key.Tags.SingleOrDefault(t => t.TagKey == "role")?.TagValue ?? $"<no role: {key.KeyId}>";
                Assert.True(shape.Keys.TryAdd(role, Describe(key.KeyState, key.Description, key.Tags.Select(t => $"{t.TagKey}={t.TagValue}"))), $"Two keys have the role {role}.");
                roles[key.KeyId] = role;
            }

            foreach (var alias in aliases)
            {
                shape.Aliases[alias.AliasName] = roles.GetValueOrDefault(alias.TargetKeyId) ?? $"<missing key {alias.TargetKeyId}>";
            }

            return shape;
        }

        public static string Describe(KeyState state, string description, IEnumerable<string> tags)
            => $"{state} \"{description}\" [{string.Join(", ", tags.Order(StringComparer.Ordinal))}]";

        public StoreShape Clone()
        {
            var clone = new StoreShape();
            foreach (var (k, v) in Keys)
            {
                clone.Keys[k] = v;
            }

            foreach (var (k, v) in Aliases)
            {
                clone.Aliases[k] = v;
            }

            return clone;
        }

        public bool Equals(StoreShape? other) => other is not null && ToString() == other.ToString();

        public override bool Equals(object? obj) => Equals(obj as StoreShape);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

        public override string ToString()
        {
            var text = new StringBuilder();
            foreach (var (role, key) in Keys)
            {
                text.Append(CultureInfo.InvariantCulture, $"key {role}: {key}\n");
            }

            foreach (var (name, role) in Aliases)
            {
                text.Append(CultureInfo.InvariantCulture, $"alias {name} -> {role}\n");
            }

            return text.ToString();
        }
    }

    /// <summary>The child's report: the operations that completed, the one in flight, and the ciphertexts it produced.</summary>
    private sealed class WorkloadLog
    {
        private readonly Dictionary<string, string> _roles = new(StringComparer.Ordinal);
        private readonly Dictionary<string, KeyState> _states = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _descriptions = new(StringComparer.Ordinal);
        private readonly Dictionary<string, SortedSet<string>> _tags = new(StringComparer.Ordinal);

        /// <summary>The workload's start time (its clock and the test key manager's clock agree on it).</summary>
        public DateTimeOffset Start { get; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public StoreShape Completed { get; private set; } = new();

        public string[]? Pending { get; private set; }

        public bool PurgeBegun { get; private set; }

        public bool PurgeDone { get; private set; }

        public List<(string KeyId, byte[] Ciphertext, byte[] Plaintext)> Ciphertexts { get; } = [];

        public string RoleOf(string keyId) => _roles.GetValueOrDefault(keyId) ?? $"<unreported {keyId}>";

        public static WorkloadLog Parse(IReadOnlyList<string[]> lines)
        {
            var log = new WorkloadLog();
            foreach (var line in lines)
            {
                switch (line)
                {
                    case ["begin", .. var operation]:
                        Assert.Null(log.Pending);
                        log.Pending = operation;
                        log.PurgeBegun |= operation[0] == "purge";
                        break;
                    case ["ok", "encrypt" or "datakey", var keyId, var ciphertext, var plaintext]:
                        log.Ciphertexts.Add((keyId, Convert.FromBase64String(ciphertext), Convert.FromBase64String(plaintext)));
                        break;
                    case ["ok", "steps" or "done", ..]:
                        break;
                    case ["ok", "create", var role, var keyId]:
                        log._roles[keyId] = role;
                        log.Completed = log.Apply(log.Completed, ["create", role], commit: true);
                        log.Pending = null;
                        break;
                    case ["ok", "purge", var count]:
                        Assert.Equal("1", count);
                        log.PurgeDone = true;
                        log.Completed = log.Apply(log.Completed, ["purge"], commit: true);
                        log.Pending = null;
                        break;
                    case ["ok", .. var operation]:
                        Assert.Equal(log.Pending, operation);
                        log.Completed = log.Apply(log.Completed, operation, commit: true);
                        log.Pending = null;
                        break;
                    case ["crash", ..]:
                        break;
                    default:
                        Assert.Fail($"Unexpected line from the crash host: {string.Join(' ', line)}");
                        break;
                }
            }

            return log;
        }

        /// <summary>The states the store may be in: after the last completed operation, or after the one in flight (or, mid-purge, between its writes).</summary>
        public List<StoreShape> AllowedShapes()
        {
            List<StoreShape> shapes = [Completed];
            if (Pending is { } pending)
            {
                shapes.Add(Apply(Completed, pending, commit: false));
                if (pending[0] == "purge")
                {
                    // The purge deletes the key's aliases first, then the key.
                    var aliasesGone = Completed.Clone();
                    foreach (var name in aliasesGone.Aliases.Where(a => IsPendingDeletion(a.Value)).Select(a => a.Key).ToList())
                    {
                        aliasesGone.Aliases.Remove(name);
                    }

                    shapes.Add(aliasesGone);
                }
            }

            return shapes;
        }

        private bool IsPendingDeletion(string role) => _states.GetValueOrDefault(role) == KeyState.PendingDeletion;

        /// <summary>
        /// Applies one operation to a copy of <paramref name="shape"/>. With <paramref name="commit"/> the
        /// per-role facts it tracks are updated too (a completed operation); without, they are left alone.
        /// </summary>
        private StoreShape Apply(StoreShape shape, string[] operation, bool commit)
        {
            var next = shape.Clone();
            var states = commit ? _states : new Dictionary<string, KeyState>(_states, StringComparer.Ordinal);
            var descriptions = commit ? _descriptions : new Dictionary<string, string>(_descriptions, StringComparer.Ordinal);
            var tags = commit ? _tags : _tags.ToDictionary(p => p.Key, p => new SortedSet<string>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
            string? touched = null;
            switch (operation)
            {
                case ["create", var role]:
                    states[role] = KeyState.Enabled;
                    descriptions[role] = role;
                    tags[role] = new SortedSet<string>([$"role={role}"], StringComparer.Ordinal);
                    touched = role;
                    break;
                case ["alias-create" or "alias-update", var alias, var keyId]:
                    next.Aliases[alias] = RoleOf(keyId);
                    break;
                case ["alias-delete", var alias]:
                    next.Aliases.Remove(alias);
                    break;
                case ["state", var keyId, var state]:
                    touched = RoleOf(keyId);
                    states[touched] = Enum.Parse<KeyState>(state);
                    break;
                case ["tag", var keyId, var tagKey, var tagValue]:
                    touched = RoleOf(keyId);
                    tags[touched].Add($"{tagKey}={tagValue}");
                    break;
                case ["description", var keyId, var text]:
                    touched = RoleOf(keyId);
                    descriptions[touched] = text;
                    break;
                case ["purge"]:
                    foreach (var role in states.Where(s => s.Value == KeyState.PendingDeletion).Select(s => s.Key).ToList())
                    {
                        next.Keys.Remove(role);
                        foreach (var alias in next.Aliases.Where(a => a.Value == role).Select(a => a.Key).ToList())
                        {
                            next.Aliases.Remove(alias);
                        }

                        states.Remove(role);
                    }

                    break;
                default:
                    Assert.Fail($"Unknown operation {string.Join(' ', operation)}.");
                    break;
            }

            if (touched is not null)
            {
                next.Keys[touched] = StoreShape.Describe(states[touched], descriptions[touched], tags[touched]);
            }

            return next;
        }
    }
}
