using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// A kind of store the crash child can run on, with what the shared checks need to know about it:
/// the child's store argument, how to open and copy a crashed store, and the checks of its files.
/// A new kind is one more subclass and one more case in the child's <c>CrashStores</c> (PostgreSQL:
/// <see cref="PostgreSql.PostgreSqlCrashStoreKind"/>).
/// </summary>
internal abstract class CrashStoreKind
{
    public static CrashStoreKind FileSystem { get; } = new FileSystemKind();

    public static CrashStoreKind Sqlite { get; } = new SqliteKind();

    /// <summary>The child's store argument for a store kept under <paramref name="directory"/>.</summary>
    public abstract string HostArgument(string directory);

    public abstract IKeyStore Open(string directory);

    public abstract void Copy(string directory, string destination);

    /// <summary>Checks of the files right after the kill, before any store opens them.</summary>
    public virtual void CheckFilesAfterCrash(string directory, string? crashStep)
    {
    }

    /// <summary>Checks of the files after the store was read (and so recovered or migrated) once.</summary>
    public abstract void CheckFilesAfterRead(string directory, IReadOnlyList<KeyRecord> keys);

    /// <summary>Checks of the files after the next writer wrote.</summary>
    public virtual void CheckFilesAfterNextWrite(string directory)
    {
    }

    /// <summary>Checks that nothing of the store exists yet (the multi-process test starts on an empty store).</summary>
    public virtual void AssertNoStore(string directory) => Assert.False(Directory.Exists(directory), $"{directory} exists already.");

    /// <summary>Checks of a store that several processes initialised at once: one metadata row, the schema once, the engine's own integrity check.</summary>
    public virtual void CheckInitializedOnce(string directory)
    {
    }

    private sealed class FileSystemKind : CrashStoreKind
    {
        public override string HostArgument(string directory) => "file:" + directory;

        public override IKeyStore Open(string directory) => new FileSystemKeyStore(directory);

        public override void Copy(string directory, string destination)
        {
            Directory.CreateDirectory(destination);
            foreach (var sub in Directory.GetDirectories(directory, "*", SearchOption.AllDirectories))
            {
                Directory.CreateDirectory(Path.Combine(destination, Path.GetRelativePath(directory, sub)));
            }

            foreach (var file in Directory.GetFiles(directory, "*", SearchOption.AllDirectories))
            {
                File.Copy(file, Path.Combine(destination, Path.GetRelativePath(directory, file)));
            }
        }

        // A temporary file exists exactly when the child died between writing it and renaming it.
        public override void CheckFilesAfterCrash(string directory, string? crashStep)
            => Assert.Equal(crashStep is "write-half" or "flushed" ? 1 : 0, StoreFiles.TemporaryFiles(directory).Length);

        // Only committed documents count: the listing is exactly the *.json files, never a *.tmp.
        public override void CheckFilesAfterRead(string directory, IReadOnlyList<KeyRecord> keys)
            => Assert.Equal(
                Directory.GetFiles(Path.Combine(directory, "keys")).Where(f => f.EndsWith(".json", StringComparison.Ordinal)).Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal),
                keys.Select(k => k.KeyId));

        // The next writer removes the leftover temporary files, which were never read.
        public override void CheckFilesAfterNextWrite(string directory) => Assert.Empty(StoreFiles.TemporaryFiles(directory));
    }

    private sealed class SqliteKind : CrashStoreKind
    {
        public override string HostArgument(string directory) => "sqlite:" + DatabasePath(directory);

        // No pooling: hundreds of crashed databases must not keep file handles open.
        public override IKeyStore Open(string directory) => new SqliteKeyStore($"Data Source={DatabasePath(directory)};Pooling=False");

        // The database and its write-ahead log hold every committed change; the -shm index is rebuilt.
        public override void Copy(string directory, string destination)
        {
            Directory.CreateDirectory(destination);
            foreach (var suffix in new[] { "", "-wal" })
            {
                if (File.Exists(DatabasePath(directory) + suffix))
                {
                    File.Copy(DatabasePath(directory) + suffix, DatabasePath(destination) + suffix);
                }
            }
        }

        public override void AssertNoStore(string directory) => Assert.False(File.Exists(DatabasePath(directory)), $"{DatabasePath(directory)} exists already.");

        public override void CheckInitializedOnce(string directory)
        {
            using var connection = new SqliteConnection($"Data Source={DatabasePath(directory)};Pooling=False");
            connection.Open();
            Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM metadata"));
            Assert.Equal((long)SqliteKeyStore.CurrentSchemaVersion, Scalar(connection, "SELECT version FROM schema_version WHERE id = 1"));
            Assert.Equal("ok", Scalar(connection, "PRAGMA integrity_check"));
        }

        public override void CheckFilesAfterRead(string directory, IReadOnlyList<KeyRecord> keys)
        {
            using var connection = new SqliteConnection($"Data Source={DatabasePath(directory)};Pooling=False");
            connection.Open();
            Assert.Equal("ok", Scalar(connection, "PRAGMA integrity_check"));
            Assert.InRange((long)Scalar(connection, "SELECT count(*) FROM metadata")!, 0, 1);
            Assert.Equal((long)keys.Count, Scalar(connection, "SELECT count(*) FROM keys"));

            // The change feed is exactly the committed writes: one row per sequence number, none lost, none extra.
            var last = (long)Scalar(connection, "SELECT last_change FROM store_state WHERE id = 1")!;
            Assert.Equal(last, Scalar(connection, "SELECT count(*) FROM changes"));
            Assert.Equal(last, Scalar(connection, "SELECT ifnull(max(seq), 0) FROM changes"));
        }

        private static string DatabasePath(string directory) => Path.Combine(directory, "keys.db");

        private static object? Scalar(SqliteConnection connection, string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return command.ExecuteScalar();
        }
    }
}

/// <summary>
/// The checks of a store left by a crash child that was killed (or ran to the end), shared by the
/// crash tests of every store kind: the store is exactly the state before or after the operation in
/// flight (never a mix), every key is absent or fully usable, every reported ciphertext decrypts,
/// no two keys share material, and an interrupted purge completes. For rotation (RELIABILITY row 42):
/// a key's materials are those of the completed rotations plus, at most, the one in flight; the current
/// material is the last one (old or new, never another); the material ids the child reported are the
/// stored ones; ListKeyRotations agrees, with exactly one current material; and every ciphertext
/// reported before the kill decrypts, whichever material it was made under.
/// </summary>
internal static class CrashChecks
{
    public static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "crash-test" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task CheckCrashedStoreAsync(CrashStoreKind kind, string directory, byte[] rootKey, WorkloadLog log, string? crashStep)
    {
        kind.CheckFilesAfterCrash(directory, crashStep);

        // 1. Raw: what is stored is readable, consistent and exactly the state before or after the operation in flight.
        var raw = await ReadRawAsync(kind, directory, rootKey);
        var allowed = log.AllowedShapes();
        var actual = StoreShape.Of(raw.Keys, raw.Aliases);
        Assert.True(
            allowed.Any(shape => shape.Equals(actual)),
            $"The store is neither the state before nor after the operation in flight ({string.Join(' ', log.Pending ?? ["none"])}).\n" +
            $"--- stored ---\n{actual}\n" + string.Join("", allowed.Select((s, i) => $"--- allowed #{i + 1} ---\n{s}\n")));

        // 2. Through a key manager, on a copy (so that the purge check below sees the crashed state).
        var copy = directory + "-checked";
        kind.Copy(directory, copy);
        var copyStore = kind.Open(copy);
        try
        {
            using var kms = new TestKeyManager(copyStore, new StaticRootKeyProvider(rootKey));
            Assert.Equal(log.Start, kms.Clock.GetUtcNow());
            foreach (var key in raw.Keys)
            {
                var described = await kms.Manager.DescribeKeyAsync(key.KeyId, Ct);
                Assert.Equal(key.KeyState, described.KeyState);
                Assert.Equal(key.CurrentKeyMaterialId, described.CurrentKeyMaterialId);
                await CheckRotationsAsync(kms.Manager, key, log);
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

            await kms.Manager.CreateKeyAsync("written after the crash", Ct);
            kind.CheckFilesAfterNextWrite(copy);
        }
        finally
        {
            await DisposeAsync(copyStore);
        }

        // 3. A purge interrupted by the crash completes, and leaves no alias without its key.
        var store = kind.Open(directory);
        try
        {
            using var kms = new TestKeyManager(store, new StaticRootKeyProvider(rootKey));
            kms.Clock.Advance(TimeSpan.FromDays(9));
            await kms.Manager.PurgeExpiredKeysAsync(Ct);
            var after = await ReadRawAsync(kind, directory, rootKey);
            Assert.DoesNotContain(after.Keys, k => k.KeyState == KeyState.PendingDeletion);
            Assert.All(after.Aliases, a => Assert.Contains(after.Keys, k => k.KeyId == a.TargetKeyId));
            Assert.Equal(raw.Keys.Where(k => k.KeyState != KeyState.PendingDeletion).Select(k => k.KeyId), after.Keys.Select(k => k.KeyId));
        }
        finally
        {
            await DisposeAsync(store);
        }
    }

    /// <summary>
    /// The rotations of one key: the stored materials begin with the initial one followed by the
    /// materials the child reported as rotated, in order (one more when a rotation was in flight), and
    /// ListKeyRotations lists exactly those, the last one the only current one.
    /// </summary>
    private static async Task CheckRotationsAsync(KeyManager manager, KeyRecord key, WorkloadLog log)
    {
        var stored = key.KeyMaterials.Select(m => m.KeyMaterialId).ToList();
        var reported = log.RotatedMaterials(key.KeyId);
        Assert.Equal(reported, stored.Skip(1).Take(reported.Count));
        Assert.InRange(stored.Count - 1 - reported.Count, 0, log.RotationInFlight(key.KeyId) ? 1 : 0);

        var listed = await manager.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId, IncludeKeyMaterial = IncludeKeyMaterial.AllKeyMaterial }, Ct);
        Assert.Equal(stored, listed.Items.Select(i => i.KeyMaterialId));
        var current = Assert.Single(listed.Items, i => i.KeyMaterialState == KeyMaterialState.Current);
        Assert.Equal(stored[^1], current.KeyMaterialId);
        var rotations = await manager.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(stored.Skip(1), rotations.Items.Select(i => i.KeyMaterialId));
    }

    /// <summary>Disposes a store the checks opened (a server store holds connections and a change watcher).</summary>
    public static async ValueTask DisposeAsync(IKeyStore store)
    {
        if (store is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>Reads the store without a key manager and checks what needs no model: metadata, files, wrapped material, no duplicates.</summary>
    private static async Task<(IReadOnlyList<KeyRecord> Keys, IReadOnlyList<AliasRecord> Aliases)> ReadRawAsync(CrashStoreKind kind, string directory, byte[] rootKey)
    {
        var store = kind.Open(directory);
        var metadata = await store.GetMetadataAsync(Ct);
        var keys = await store.ListKeysAsync(null, 1000, Ct);
        var aliases = await store.ListAliasesAsync(null, null, 1000, Ct);
        await DisposeAsync(store);

        using var root = new AesGcmRootKey(rootKey, parameters: null);
        kind.CheckFilesAfterRead(directory, keys);
        if (keys.Count > 0 || aliases.Count > 0)
        {
            Assert.NotNull(metadata);
        }

        if (metadata is not null)
        {
            Assert.Equal(root.KeyCheckValue, metadata.RootKeyCheckValue);
        }

        var materials = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            // A rotation appends a material and makes it current in one write: the current material is the last one.
            Assert.NotEmpty(key.KeyMaterials);
            Assert.Equal(key.KeyMaterials[^1].KeyMaterialId, key.CurrentKeyMaterialId);
            Assert.Equal(key.KeyMaterials.Count, key.KeyMaterials.Select(m => m.KeyMaterialId).Distinct().Count());
            Assert.Null(key.KeyMaterials[0].RotationType);
            Assert.All(key.KeyMaterials.Skip(1), m => Assert.NotNull(m.RotationType));
            foreach (var material in key.KeyMaterials)
            {
                var unwrapped = new byte[32];
                Assert.Equal(32, root.GetUnwrappedLength(material.WrappedMaterial));
                root.Unwrap(material.WrappedMaterial, KeyManager.WrapAssociatedData(key, material.KeyMaterialId), unwrapped);
                Assert.Contains(unwrapped, b => b != 0);
                Assert.True(materials.Add(Convert.ToBase64String(SHA256.HashData(unwrapped))), $"Key {key.KeyId} has a key material of another key or a second copy of one of its own.");
            }
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
}

/// <summary>The observable state of a store: keys by their role tag, aliases by the role of their target.</summary>
internal sealed class StoreShape : IEquatable<StoreShape>
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
            var rotation = key.RotationPeriodInDays is { } days ? days.ToString(CultureInfo.InvariantCulture) : "off";
            var materials = key.KeyMaterials.Select(m => m.RotationType?.ToString() ?? "initial");
            Assert.True(shape.Keys.TryAdd(role, Describe(key.KeyState, key.Description, key.Tags.Select(t => $"{t.TagKey}={t.TagValue}"), rotation, materials)), $"Two keys have the role {role}.");
            roles[key.KeyId] = role;
        }

        foreach (var alias in aliases)
        {
            shape.Aliases[alias.AliasName] = roles.GetValueOrDefault(alias.TargetKeyId) ?? $"<missing key {alias.TargetKeyId}>";
        }

        return shape;
    }

    public static string Describe(KeyState state, string description, IEnumerable<string> tags, string rotation, IEnumerable<string> materials)
        => $"{state} \"{description}\" [{string.Join(", ", tags.Order(StringComparer.Ordinal))}] rotation={rotation} materials=[{string.Join(", ", materials)}]";

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
internal sealed class WorkloadLog
{
    private readonly Dictionary<string, string> _roles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KeyState> _states = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _descriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _tags = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _rotations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _materials = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _rotatedMaterialIds = new(StringComparer.Ordinal);

    /// <summary>The workload's start time (its clock and the test key manager's clock agree on it).</summary>
    public DateTimeOffset Start { get; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public StoreShape Completed { get; private set; } = new();

    public string[]? Pending { get; private set; }

    public bool PurgeBegun { get; private set; }

    public bool PurgeDone { get; private set; }

    public List<(string KeyId, byte[] Ciphertext, byte[] Plaintext)> Ciphertexts { get; } = [];

    public string RoleOf(string keyId) => _roles.GetValueOrDefault(keyId) ?? $"<unreported {keyId}>";

    /// <summary>The ids of the materials the child reported for the completed rotations of a key, in order.</summary>
    public IReadOnlyList<string> RotatedMaterials(string keyId) => _rotatedMaterialIds.GetValueOrDefault(keyId) ?? [];

    /// <summary>Whether a rotation of the key was in flight when the child died.</summary>
    public bool RotationInFlight(string keyId) => Pending is ["rotate", var pendingKey, _] && pendingKey == keyId;

    /// <summary>The number of rotations reported complete, of every key.</summary>
    public int CompletedRotations => _rotatedMaterialIds.Values.Sum(l => l.Count);

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
                case ["ok", "rotate", var keyId, var kind, var materialId]:
                    Assert.Equal(log.Pending, new[] { "rotate", keyId, kind });
                    log.Completed = log.Apply(log.Completed, ["rotate", keyId, kind], commit: true);
                    if (!log._rotatedMaterialIds.TryGetValue(keyId, out var ids))
                    {
                        log._rotatedMaterialIds[keyId] = ids = [];
                    }

                    Assert.DoesNotContain(materialId, ids);
                    ids.Add(materialId);
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
                case ["crash", ..] or ["ready"]:
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
        var rotations = commit ? _rotations : new Dictionary<string, string>(_rotations, StringComparer.Ordinal);
        var materials = commit ? _materials : _materials.ToDictionary(p => p.Key, p => p.Value.ToList(), StringComparer.Ordinal);
        string? touched = null;
        switch (operation)
        {
            case ["create", var role]:
                states[role] = KeyState.Enabled;
                descriptions[role] = role;
                tags[role] = new SortedSet<string>([$"role={role}"], StringComparer.Ordinal);
                rotations[role] = "off";
                materials[role] = ["initial"];
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
            case ["rotation", var keyId, var days]:
                touched = RoleOf(keyId);
                rotations[touched] = days;
                break;
            case ["rotate", var keyId, var kind]:
                // One write appends the new material and makes it current; a scheduled or usage rotation is automatic.
                touched = RoleOf(keyId);
                materials[touched].Add(kind == "on-demand" ? nameof(KeyRotationType.OnDemand) : nameof(KeyRotationType.Automatic));
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
            next.Keys[touched] = StoreShape.Describe(states[touched], descriptions[touched], tags[touched], rotations[touched], materials[touched]);
        }

        return next;
    }
}
