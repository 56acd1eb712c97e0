using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// RELIABILITY rows 40 and 44 (key, alias, policy and grant writes): the store fails at its N-th call — before the call takes effect (the
/// write never happened) or after it (the write happened but its acknowledgement was lost) — for
/// every N of every state-changing operation, on the in-memory and the SQLite store. Each time the
/// operation either succeeds or fails with the store's typed error; the store then holds the state
/// before the operation or the state after it (never a mix); the key manager that saw the failure
/// reads exactly what a fresh one reads (no stale cache); and every ciphertext made before still
/// decrypts.
/// </summary>
public sealed class FaultInjectionTests : IDisposable
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "faults" };
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly TemporaryStoreDirectory _directory = new("faults");
    private int _stores;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var store in new[] { "memory", "sqlite" })
        {
            foreach (var operation in Operations.Keys)
            {
                data.Add(store, operation);
            }
        }

        return data;
    }

    /// <summary>The operations under test, each run on the scene built by <see cref="SceneAsync"/>.</summary>
    private static readonly Dictionary<string, Func<KeyManager, Scene, Task>> Operations = new(StringComparer.Ordinal)
    {
        ["CreateKey"] = (kms, s) => kms.CreateKeyAsync(new CreateKeyRequest { Description = "created", Tags = [new KeyTag("role", "created")] }, Ct),
        ["CreateAlias"] = (kms, s) => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/new", TargetKeyId = s.Alpha }, Ct),
        ["UpdateAlias"] = (kms, s) => kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/alpha", TargetKeyId = s.Beta }, Ct),
        ["DeleteAlias"] = (kms, s) => kms.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/alpha" }, Ct),
        ["TagResource"] = (kms, s) => kms.TagResourceAsync(new TagResourceRequest { KeyId = s.Alpha, Tags = [new KeyTag("env", "prod")] }, Ct),
        ["UntagResource"] = (kms, s) => kms.UntagResourceAsync(new UntagResourceRequest { KeyId = s.Alpha, TagKeys = ["role"] }, Ct),
        ["DisableKey"] = (kms, s) => kms.DisableKeyAsync(new DisableKeyRequest { KeyId = s.Alpha }, Ct),
        ["EnableKey"] = (kms, s) => kms.EnableKeyAsync(new EnableKeyRequest { KeyId = s.Disabled }, Ct),
        ["ScheduleKeyDeletion"] = (kms, s) => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = s.Beta, PendingWindowInDays = 7 }, Ct),
        ["CancelKeyDeletion"] = (kms, s) => kms.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = s.Doomed }, Ct),
        ["PutKeyPolicy"] = (kms, s) => kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = s.Alpha, Policy = KeyManager.DefaultKeyPolicy("000000000000").Replace("key-default-1", "changed", StringComparison.Ordinal) }, Ct),
        ["CreateGrant"] = (kms, s) => kms.CreateGrantAsync(new CreateGrantRequest { KeyId = s.Beta, GranteePrincipal = "arn:aws:iam::000000000000:role/new", Operations = [GrantOperation.Encrypt], Name = "new" }, Ct),
        ["RetireGrant"] = (kms, s) => kms.RetireGrantAsync(new RetireGrantRequest { KeyId = s.Alpha, GrantId = s.GrantId }, Ct),
        ["RevokeGrant"] = (kms, s) => kms.RevokeGrantAsync(new RevokeGrantRequest { KeyId = s.Alpha, GrantId = s.GrantId }, Ct),
        ["Purge"] = async (kms, s) =>
        {
            s.Clock.Advance(TimeSpan.FromDays(31));
            await kms.PurgeExpiredKeysAsync(Ct);
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_store_failure_at_any_call_leaves_the_old_or_the_new_state_and_every_ciphertext_readable(string storeKind, string operation)
    {
        // The state after a fault-free run.
        var (cleanStore, cleanRoot, cleanScene) = await NewSceneAsync(storeKind);
        var before = await ProjectAsync(cleanStore, cleanRoot, cleanScene.Clock);
        var counting = new FaultyKeyStore(cleanStore, failAt: int.MaxValue, afterEffect: false);
        using (var kms = new KeyManager(counting, cleanRoot, timeProvider: cleanScene.Clock))
        {
            await Operations[operation](kms, cleanScene);
        }

        var after = await ProjectAsync(cleanStore, cleanRoot, cleanScene.Clock);
        Assert.NotEqual(before, after);
        var calls = counting.Calls;
        Assert.InRange(calls, 1, 200);

        var failures = 0;
        foreach (var afterEffect in new[] { false, true })
        {
            for (var n = 1; n <= calls; n++)
            {
                var (store, root, scene) = await NewSceneAsync(storeKind);
                var faulty = new FaultyKeyStore(store, n, afterEffect);
                using var kms = new KeyManager(faulty, root, timeProvider: scene.Clock);
                await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = scene.Alpha }, Ct); // Root key open, caches warm.
                faulty.Arm();
                var error = await Record.ExceptionAsync(() => Operations[operation](kms, scene));
                var where = $"{operation} on {storeKind}, failing {(afterEffect ? "after" : "before")} call {n} of {calls} ({faulty.FailedCall})";
                if (error is not null)
                {
                    failures++;
                    Assert.True(error is KmsStorageUnavailableException, $"{where}: {error.GetType().Name}: {error.Message}");
                }

                faulty.Disarm();
                var state = await ProjectAsync(store, root, scene.Clock);
                Assert.True(state == before || state == after, $"{where}: the store holds neither the old nor the new state.\nold: {before}\nnew: {after}\nnow: {state}");
                Assert.Equal(state, await ProjectAsync(kms)); // The manager that saw the failure reads what a fresh one reads.
                await AssertCiphertextsDecryptAsync(store, root, scene);
            }
        }

        Assert.True(failures > 0, "No injected failure surfaced.");
    }

    private async Task<(IKeyStore Store, IRootKeyProvider Root, Scene Scene)> NewSceneAsync(string kind)
    {
        IKeyStore store = kind == "memory"
            ? new InMemoryKeyStore()
            : new SqliteKeyStore(Path.Combine(_directory.Parent, $"faults-{Interlocked.Increment(ref _stores)}.db"));
        var root = new StaticRootKeyProvider(RootKeyBytes);
        var clock = new FakeTimeProvider(Start);
        using var kms = new KeyManager(store, root, timeProvider: clock);
        return (store, root, await SceneAsync(kms, clock));
    }

    private static readonly byte[] RootKeyBytes = RandomNumberGenerator.GetBytes(32);

    private sealed record Scene(string Alpha, string Beta, string Disabled, string Doomed, FakeTimeProvider Clock, List<(byte[] Blob, byte[] Plaintext)> Ciphertexts, string GrantId);

    private static async Task<Scene> SceneAsync(KeyManager kms, FakeTimeProvider clock)
    {
        async Task<string> Key(string name) => (await kms.CreateKeyAsync(new CreateKeyRequest { Description = name, Tags = [new KeyTag("role", name)] }, Ct)).KeyMetadata.KeyId;
        var alpha = await Key("alpha");
        var beta = await Key("beta");
        var disabled = await Key("disabled");
        var doomed = await Key("doomed");
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/alpha", TargetKeyId = alpha }, Ct);
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/doomed", TargetKeyId = doomed }, Ct);
        var ciphertexts = new List<(byte[], byte[])>();
        foreach (var key in new[] { alpha, beta, disabled, doomed })
        {
            var plaintext = RandomNumberGenerator.GetBytes(24);
            ciphertexts.Add((await kms.EncryptAsync(key, plaintext, Context, Ct), plaintext));
        }

        await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = disabled }, Ct);
        var grant = await kms.CreateGrantAsync(new CreateGrantRequest { KeyId = alpha, GranteePrincipal = "arn:aws:iam::000000000000:role/app", Operations = [GrantOperation.Decrypt], Name = "alpha" }, Ct);
        await kms.CreateGrantAsync(new CreateGrantRequest { KeyId = doomed, GranteePrincipal = "arn:aws:iam::000000000000:role/app", Operations = [GrantOperation.Decrypt], Name = "doomed" }, Ct);
        await kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed, PendingWindowInDays = 30 }, Ct);
        return new Scene(alpha, beta, disabled, doomed, clock, ciphertexts, grant.GrantId);
    }

    /// <summary>The observable state: each key (named by its description) with state, tags, policy and grants, and each alias with its target's description.</summary>
    private static async Task<string> ProjectAsync(IKeyStore store, IRootKeyProvider root, TimeProvider clock)
    {
        using var kms = new KeyManager(store, root, timeProvider: clock);
        return await ProjectAsync(kms);
    }

    private static async Task<string> ProjectAsync(KeyManager kms)
    {
        var keys = await kms.ListKeysAsync(new ListKeysRequest { Limit = 1000 }, Ct);
        var lines = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in keys.Items)
        {
            var metadata = (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = entry.KeyId }, Ct)).KeyMetadata;
            var tags = await kms.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = entry.KeyId }, Ct);
            names[entry.KeyId] = metadata.Description;
            var policy = (await kms.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = entry.KeyId }, Ct)).Policy;
            var grants = await kms.ListGrantsAsync(new ListGrantsRequest { KeyId = entry.KeyId }, Ct);
            lines.Add($"key {metadata.Description} {metadata.KeyState} {metadata.DeletionDate?.ToUnixTimeSeconds()} [{string.Join(",", tags.Items.Select(t => $"{t.TagKey}={t.TagValue}"))}]"
                + $" policy {policy.GetHashCode(StringComparison.Ordinal)} grants [{string.Join(",", grants.Items.Select(g => $"{g.Name}:{string.Join('+', g.Operations)}->{g.GranteePrincipal}"))}]");
        }

        var aliases = await kms.ListAliasesAsync(new ListAliasesRequest { Limit = 100 }, Ct);
        lines.AddRange(aliases.Items.Select(a => $"alias {a.AliasName} -> {(a.TargetKeyId is { } t && names.TryGetValue(t, out var name) ? name : a.TargetKeyId)}"));
        lines.Sort(StringComparer.Ordinal);
        return string.Join("; ", lines);
    }

    private static async Task AssertCiphertextsDecryptAsync(IKeyStore store, IRootKeyProvider root, Scene scene)
    {
        using var kms = new KeyManager(store, root, timeProvider: scene.Clock);
        var keys = (await kms.ListKeysAsync(new ListKeysRequest { Limit = 1000 }, Ct)).Items.Select(k => k.KeyId).ToHashSet(StringComparer.Ordinal);
        foreach (var (blob, plaintext) in scene.Ciphertexts)
        {
            var keyId = scene.Ciphertexts.IndexOf((blob, plaintext)) switch { 0 => scene.Alpha, 1 => scene.Beta, 2 => scene.Disabled, _ => scene.Doomed };
            if (!keys.Contains(keyId))
            {
                continue; // Purged, as the operation asked.
            }

            var state = (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, Ct)).KeyMetadata.KeyState;
            if (state == KeyState.Enabled)
            {
                Assert.Equal(plaintext, await kms.DecryptAsync(blob, Context, Ct));
            }
            else
            {
                // Not usable in this state, as in AWS KMS; the material is intact (checked by unwrapping through a copy that is enabled).
                var copy = new InMemoryKeyStore();
                await copy.InitializeMetadataAsync((await store.GetMetadataAsync(Ct))!, Ct);
                await copy.InsertKeyAsync((await store.GetKeyAsync(keyId, Ct))!, Ct);
                await copy.RewriteKeyAsync(root, keyId, r => r with { KeyState = KeyState.Enabled, DeletionDate = null, PendingDeletionWindowInDays = null });
                using var probe = new KeyManager(copy, root, timeProvider: scene.Clock);
                Assert.Equal(plaintext, await probe.DecryptAsync(blob, Context, Ct));
            }
        }
    }

    /// <summary>Fails its N-th call (counted once armed) with the typed unavailable error, before or after the call takes effect.</summary>
    private sealed class FaultyKeyStore(IKeyStore inner, int failAt, bool afterEffect) : IKeyStore, IGrantStore
    {
        private readonly IGrantStore _grants = (IGrantStore)inner;

        private int _calls;
        private bool _armed = failAt == int.MaxValue;

        public int Calls => _calls;

        public string? FailedCall { get; private set; }

        public void Arm() => _armed = true;

        public void Disarm() => _armed = false;

        private async ValueTask<T> Run<T>(string name, Func<ValueTask<T>> call)
        {
            if (!_armed)
            {
                return await call();
            }

            var n = Interlocked.Increment(ref _calls);
            if (n != failAt)
            {
                return await call();
            }

            FailedCall = name;
            if (afterEffect)
            {
                await call();
            }

            throw new KmsStorageUnavailableException($"Injected failure at store call {n} ({name}).");
        }

        private ValueTask Run(string name, Func<ValueTask> call) => new(Run<bool>(name, async () =>
        {
            await call();
            return true;
        }).AsTask());

        public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => Run(nameof(GetMetadataAsync), () => inner.GetMetadataAsync(cancellationToken));

        public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken) => Run(nameof(InitializeMetadataAsync), () => inner.InitializeMetadataAsync(metadata, cancellationToken));

        public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) => Run(nameof(GetKeyAsync), () => inner.GetKeyAsync(keyId, cancellationToken));

        public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken) => Run(nameof(ListKeysAsync), () => inner.ListKeysAsync(afterKeyId, limit, cancellationToken));

        public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken) => Run(nameof(InsertKeyAsync), () => inner.InsertKeyAsync(key, cancellationToken));

        public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken) => Run(nameof(UpdateKeyAsync), () => inner.UpdateKeyAsync(key, cancellationToken));

        public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken) => Run(nameof(DeleteKeyAsync), () => inner.DeleteKeyAsync(keyId, expectedVersion, cancellationToken));

        public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken) => Run(nameof(GetAliasAsync), () => inner.GetAliasAsync(aliasName, cancellationToken));

        public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
            => Run(nameof(ListAliasesAsync), () => inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, cancellationToken));

        public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => Run(nameof(InsertAliasAsync), () => inner.InsertAliasAsync(alias, cancellationToken));

        public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => Run(nameof(UpdateAliasAsync), () => inner.UpdateAliasAsync(alias, cancellationToken));

        public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken) => Run(nameof(DeleteAliasAsync), () => inner.DeleteAliasAsync(aliasName, expectedVersion, cancellationToken));

        public ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken) => Run(nameof(GetGrantAsync), () => _grants.GetGrantAsync(keyId, grantId, cancellationToken));

        public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken) => Run(nameof(ListGrantsAsync), () => _grants.ListGrantsAsync(keyId, afterGrantId, limit, cancellationToken));

        public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken) => Run(nameof(ListGrantsForGranteeAsync), () => _grants.ListGrantsForGranteeAsync(keyId, granteePrincipal, cancellationToken));

        public ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
            => Run(nameof(ListRetirableGrantsAsync), () => _grants.ListRetirableGrantsAsync(retiringPrincipal, afterKeyId, afterGrantId, limit, cancellationToken));

        public ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken) => Run(nameof(CountGrantsAsync), () => _grants.CountGrantsAsync(keyId, cancellationToken));

        public ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken) => Run(nameof(InsertGrantAsync), () => _grants.InsertGrantAsync(grant, cancellationToken));

        public ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken) => Run(nameof(DeleteGrantAsync), () => _grants.DeleteGrantAsync(keyId, grantId, expectedVersion, cancellationToken));

        public ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken) => Run(nameof(DeleteGrantsOfKeyAsync), () => _grants.DeleteGrantsOfKeyAsync(keyId, cancellationToken));
    }
}
