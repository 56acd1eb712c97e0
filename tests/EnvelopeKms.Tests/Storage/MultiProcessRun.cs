using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// RELIABILITY rows 45–46, for every shared store kind: <see cref="Workers"/> crash-child processes in
/// their multi-process mode start on the same empty store at the same moment (a start barrier),
/// initialise it together and then write concurrently. The store ends with one metadata row and one
/// root-key check value (plus the kind's own checks: schema once, engine integrity), no lost update,
/// no duplicate material, the expected keys, and every ciphertext of every process decrypts here and
/// in every other process.
/// </summary>
internal static class MultiProcessRun
{
    public const int Workers = 4;
    public const int OwnKeys = 3;
    public const int Rounds = 10;

    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "multi-process" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Runs the workers on the store <paramref name="kind"/> keeps under <c>shared</c> in <paramref name="workDirectory"/> and checks the outcome.</summary>
    public static async Task RunAsync(CrashStoreKind kind, string workDirectory)
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var storeDirectory = Path.Combine(workDirectory, "shared");
        var startFile = Path.Combine(workDirectory, "start");
        var children = Enumerable.Range(0, Workers).Select(i => CrashHostChild.Start(
        [
            "multi", kind.HostArgument(storeDirectory), Convert.ToBase64String(rootKey),
            i.ToString(CultureInfo.InvariantCulture), startFile, OwnKeys.ToString(CultureInfo.InvariantCulture), Rounds.ToString(CultureInfo.InvariantCulture),
        ])).ToList();
        try
        {
            // Phase 1: every worker is up and waiting; then they all start at once on the empty store.
            foreach (var child in children)
            {
                await child.WaitForLineAsync("waiting", TimeSpan.FromSeconds(60), Ct);
            }

            kind.AssertNoStore(storeDirectory);
            await File.WriteAllTextAsync(startFile, "go", Ct);
            foreach (var child in children)
            {
                await child.WaitForLineAsync("phase1-done", TimeSpan.FromSeconds(120), Ct);
            }

            var outputs = children.Select(c => c.Lines).ToList();
            var ciphertexts = outputs.SelectMany(o => o.Where(l => l is ["ok", "encrypt", _, _, _]).Select(l => (KeyId: l[2], Ciphertext: l[3], Plaintext: l[4]))).ToList();
            Assert.Equal(Workers * (OwnKeys + Rounds), ciphertexts.Count);

            // Exactly one worker won the race for the shared alias, and everyone uses its key.
            Assert.Equal(1, outputs.Count(o => o.Any(l => l is ["ok", "alias", "won"])));
            var shared = Assert.Single(outputs.Select(o => o.Single(l => l is ["ok", "shared", _])[2]).Distinct());

            // One store: one metadata row with this root key's check value, the latest schema, every key.
            kind.CheckInitializedOnce(storeDirectory);
            IReadOnlyList<KeyRecord> keys;
            var store = kind.Open(storeDirectory);
            try
            {
                using var root = new AesGcmRootKey(rootKey, parameters: null);
                Assert.Equal(root.KeyCheckValue, (await store.GetMetadataAsync(Ct))!.RootKeyCheckValue);
                keys = await store.ListKeysAsync(null, 1000, Ct);
            }
            finally
            {
                await CrashChecks.DisposeAsync(store);
            }

            Assert.Equal(Workers * (1 + OwnKeys), keys.Count);
            Assert.Equal(keys.Count, keys.Select(k => Convert.ToBase64String(k.KeyMaterials.Single().WrappedMaterial)).Distinct().Count());
            var created = outputs.SelectMany(o => o.Where(l => l is ["ok", "create", _, _]).Select(l => l[3])).Order(StringComparer.Ordinal);
            Assert.Equal(created, keys.Select(k => k.KeyId));

            // No lost update: the counter is the number of successful increments, and every tag added is there.
            var successes = outputs.Sum(o => int.Parse(o.Single(l => l is ["ok", "counter", _, _])[2], CultureInfo.InvariantCulture));
            var conflicts = outputs.Sum(o => int.Parse(o.Single(l => l is ["ok", "counter", _, _])[3], CultureInfo.InvariantCulture));
            Assert.Equal(Workers * Rounds, successes);
            var sharedKey = keys.Single(k => k.KeyId == shared);
            Assert.Equal(successes.ToString(CultureInfo.InvariantCulture), sharedKey.Description);
            var tagged = outputs.SelectMany(o => o.Where(l => l is ["ok", "tag", _]).Select(l => l[2])).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(Workers * Rounds, tagged.Count);
            Assert.Equal(tagged, sharedKey.Tags.Select(t => t.TagKey).Where(k => k != "role").Order(StringComparer.Ordinal));

            // Every ciphertext decrypts here.
            var decryptStore = kind.Open(storeDirectory);
            try
            {
                using var kms = new TestKeyManager(decryptStore, new StaticRootKeyProvider(rootKey));
                foreach (var (_, ciphertext, plaintext) in ciphertexts)
                {
                    Assert.Equal(Convert.FromBase64String(plaintext), await kms.Manager.DecryptAsync(Convert.FromBase64String(ciphertext), Context, Ct));
                }
            }
            finally
            {
                await CrashChecks.DisposeAsync(decryptStore);
            }

            // Phase 2: every worker decrypts every ciphertext (its own and the others') with the key manager it wrote with.
            var phase2 = startFile + ".phase2";
            await File.WriteAllLinesAsync(phase2 + ".tmp", ciphertexts.Select(c => $"{c.KeyId} {c.Ciphertext} {c.Plaintext}"), Ct);
            File.Move(phase2 + ".tmp", phase2);
            foreach (var child in children)
            {
                var run = await child.WaitForExitAsync(TimeSpan.FromSeconds(120), Ct);
                Assert.True(run.ExitCode == 0, $"A worker failed ({run.ExitCode}):\n{run.Output}\n{run.StandardError}");
                Assert.Equal(["ok", "decrypted", ciphertexts.Count.ToString(CultureInfo.InvariantCulture)], run.Lines[^1]);
            }

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{Workers} processes: {keys.Count} keys, {successes} increments ({conflicts} version conflicts retried), {tagged.Count} tags, {ciphertexts.Count} ciphertexts decrypted in {Workers + 1} processes.");
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }
}
