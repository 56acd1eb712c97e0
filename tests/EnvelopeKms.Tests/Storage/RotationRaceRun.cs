using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// Rotation across processes on one shared store, for every shared store kind (SQLite, PostgreSQL):
/// RELIABILITY row 45 (<see cref="RaceAsync"/>: processes rotate one key on demand at the same moment)
/// and row 47 (<see cref="OtherProcessSeesRotationAsync"/>: a key manager that already used the old
/// material encrypts under, and decrypts with, the material another process rotated to).
/// </summary>
internal static class RotationRaceRun
{
    public const int Workers = 4;

    /// <summary>Rotations per worker: 4 × 5 = 20 stays under the 25 on-demand rotations a key allows.</summary>
    public const int Rounds = 5;

    /// <summary>The workers' MaxConflictRetries: small, so that a rotation that keeps losing fails (bounded) rather than spins.</summary>
    public const int MaxConflictRetries = 3;

    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "rotation-race" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// <see cref="Workers"/> processes wait on a start barrier, then each rotates the key on demand and
    /// encrypts under it <see cref="Rounds"/> times. The key ends with one material per successful
    /// rotation plus the initial one (none lost, none duplicated), all ids distinct, each process's
    /// rotations in its own order, exactly one current material (the last), failures only
    /// <c>ConflictException</c> after the bounded retries, each process's encryptions never under a
    /// material older than its own last rotation, and every ciphertext decrypts here and in every process.
    /// </summary>
    public static async Task RaceAsync(CrashStoreKind kind, string workDirectory)
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var storeDirectory = Directory.CreateDirectory(Path.Combine(workDirectory, "shared")).FullName;
        var startFile = Path.Combine(workDirectory, "start");
        var keyId = await CreateKeyAsync(kind, storeDirectory, rootKey);

        var children = Enumerable.Range(0, Workers).Select(_ => StartWorker(kind, storeDirectory, rootKey, startFile, keyId, Rounds)).ToList();
        try
        {
            foreach (var child in children)
            {
                await child.WaitForLineAsync("waiting", TimeSpan.FromSeconds(60), Ct);
            }

            await File.WriteAllTextAsync(startFile, "go", Ct);
            foreach (var child in children)
            {
                await child.WaitForLineAsync("phase1-done", TimeSpan.FromSeconds(120), Ct);
            }

            var outputs = children.Select(c => c.Lines).ToList();
            var rotatedBy = outputs.Select(o => o.Where(l => l is ["ok", "rotate", _]).Select(l => l[2]).ToList()).ToList();
            var rotated = rotatedBy.SelectMany(r => r).ToList();
            var failures = outputs.SelectMany(o => o.Where(l => l[0] == "fail")).ToList();
            Assert.All(failures, f => Assert.Equal(["fail", f[1], "ConflictException"], f));
            Assert.Equal(Workers * Rounds, rotated.Count + failures.Count(f => f[1] == "rotate"));
            Assert.NotEmpty(rotated);

            KeyRecord key;
            var store = kind.Open(storeDirectory);
            try
            {
                key = (await store.GetKeyAsync(keyId, Ct))!;
            }
            finally
            {
                await CrashChecks.DisposeAsync(store);
            }

            // No lost and no duplicated version: the initial material plus exactly the successful rotations, in one order.
            var stored = key.KeyMaterials.Select(m => m.KeyMaterialId).ToList();
            Assert.Equal(1 + rotated.Count, stored.Count);
            Assert.Equal(stored.Count, stored.Distinct().Count());
            Assert.Equal(rotated.Order(StringComparer.Ordinal), stored.Skip(1).Order(StringComparer.Ordinal));
            Assert.Equal(stored[^1], key.CurrentKeyMaterialId);
            Assert.All(key.KeyMaterials.Skip(1), m => Assert.Equal(KeyRotationType.OnDemand, m.RotationType));
            using (var root = new AesGcmRootKey(rootKey, parameters: null))
            {
                var distinct = key.KeyMaterials.Select(m =>
                {
                    var unwrapped = new byte[32];
                    root.Unwrap(m.WrappedMaterial, KeyManager.WrapAssociatedData(key, m.KeyMaterialId), unwrapped);
                    return Convert.ToBase64String(SHA256.HashData(unwrapped));
                }).Distinct().Count();
                Assert.Equal(stored.Count, distinct);
            }

            // Strictly sequential: each process's rotations land in the order it made them, and its next
            // encryption uses its own rotation's material or a later one, never an older one.
            foreach (var output in outputs)
            {
                var position = 0;
                foreach (var line in output)
                {
                    if (line is ["ok", "rotate", var materialId])
                    {
                        var index = stored.IndexOf(materialId);
                        Assert.True(index > position, $"Rotation {materialId} is at {index}, not after {position}.");
                        position = index;
                    }
                    else if (line is ["ok", "encrypt", _, _, _, var usedId])
                    {
                        var index = stored.IndexOf(usedId);
                        Assert.True(index >= position, $"An encryption used material {usedId} at {index}, older than this process's last rotation at {position}.");
                        position = index;
                    }
                }
            }

            var ciphertexts = outputs.SelectMany(o => o.Where(l => l is ["ok", "encrypt", _, _, _, _]).Select(l => (KeyId: l[2], Ciphertext: l[3], Plaintext: l[4]))).ToList();
            Assert.Equal(Workers * Rounds, ciphertexts.Count + failures.Count(f => f[1] == "encrypt"));

            // Through a key manager here: ListKeyRotations agrees, one current material; every ciphertext decrypts.
            var decryptStore = kind.Open(storeDirectory);
            try
            {
                using var kms = new TestKeyManager(decryptStore, new StaticRootKeyProvider(rootKey));
                var listed = await kms.Manager.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = keyId, IncludeKeyMaterial = IncludeKeyMaterial.AllKeyMaterial }, Ct);
                Assert.Equal(stored, listed.Items.Select(i => i.KeyMaterialId));
                Assert.Equal(stored[^1], Assert.Single(listed.Items, i => i.KeyMaterialState == KeyMaterialState.Current).KeyMaterialId);
                foreach (var (_, ciphertext, plaintext) in ciphertexts)
                {
                    Assert.Equal(Convert.FromBase64String(plaintext), await kms.Manager.DecryptAsync(Convert.FromBase64String(ciphertext), Context, Ct));
                }
            }
            finally
            {
                await CrashChecks.DisposeAsync(decryptStore);
            }

            // Every process decrypts every process's ciphertexts.
            await ReleasePhase2Async(startFile, ciphertexts.Select(c => $"{c.KeyId} {c.Ciphertext} {c.Plaintext}"));
            foreach (var child in children)
            {
                var run = await child.WaitForExitAsync(TimeSpan.FromSeconds(120), Ct);
                Assert.True(run.ExitCode == 0, $"A worker failed ({run.ExitCode}):\n{run.Output}\n{run.StandardError}");
                Assert.Equal(["ok", "decrypted", ciphertexts.Count.ToString(CultureInfo.InvariantCulture)], run.Lines[^1]);
            }

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{Workers} processes, {Workers * Rounds} on-demand rotations tried: {rotated.Count} landed, " +
                $"{failures.Count(f => f[1] == "rotate")} failed with ConflictException after {MaxConflictRetries} retries; " +
                $"{ciphertexts.Count} ciphertexts ({failures.Count(f => f[1] == "encrypt")} encryptions failed) decrypted in {Workers + 1} processes.");
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    /// <summary>
    /// Row 47: key manager B (this process) encrypts under the key's first material; process A rotates
    /// the key and encrypts under the new material; B's next encryption carries A's new material id (it
    /// reads the key record on every call: no stale cache), B decrypts A's ciphertext, and A decrypts B's.
    /// </summary>
    public static async Task OtherProcessSeesRotationAsync(CrashStoreKind kind, string workDirectory)
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var storeDirectory = Directory.CreateDirectory(Path.Combine(workDirectory, "shared")).FullName;
        var startFile = Path.Combine(workDirectory, "start");
        var store = kind.Open(storeDirectory);
        try
        {
            using var b = new TestKeyManager(store, new StaticRootKeyProvider(rootKey));
            var keyId = (await b.Manager.CreateKeyAsync("row 47", Ct)).KeyId;
            var before = await EncryptAsync(b.Manager, keyId);
            var first = (await b.Manager.DescribeKeyAsync(keyId, Ct)).CurrentKeyMaterialId;
            Assert.Equal(first, before.MaterialId);

            await File.WriteAllTextAsync(startFile, "go", Ct);
            using var a = StartWorker(kind, storeDirectory, rootKey, startFile, keyId, rounds: 1);
            await a.WaitForLineAsync("phase1-done", TimeSpan.FromSeconds(60), Ct);
            var rotatedTo = Assert.Single(a.Lines, l => l is ["ok", "rotate", _])[2];
            var fromA = Assert.Single(a.Lines, l => l is ["ok", "encrypt", _, _, _, _]);
            Assert.Equal(rotatedTo, fromA[5]);
            Assert.NotEqual(first, rotatedTo);

            // B encrypts under A's new material at once, and decrypts A's ciphertext and its own old one.
            var after = await EncryptAsync(b.Manager, keyId);
            Assert.Equal(rotatedTo, after.MaterialId);
            Assert.Equal(Convert.FromBase64String(fromA[4]), await b.Manager.DecryptAsync(Convert.FromBase64String(fromA[3]), Context, Ct));
            Assert.Equal(before.Plaintext, await b.Manager.DecryptAsync(before.Ciphertext, Context, Ct));

            // A decrypts both of B's ciphertexts (old and new material).
            await ReleasePhase2Async(startFile, new[] { before, after }.Select(c => $"{keyId} {Convert.ToBase64String(c.Ciphertext)} {Convert.ToBase64String(c.Plaintext)}"));
            var run = await a.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.True(run.ExitCode == 0, $"Process A failed ({run.ExitCode}):\n{run.Output}\n{run.StandardError}");
            Assert.Equal(["ok", "decrypted", "2"], run.Lines[^1]);
        }
        finally
        {
            await CrashChecks.DisposeAsync(store);
        }
    }

    private static async Task<string> CreateKeyAsync(CrashStoreKind kind, string storeDirectory, byte[] rootKey)
    {
        var store = kind.Open(storeDirectory);
        try
        {
            using var kms = new TestKeyManager(store, new StaticRootKeyProvider(rootKey));
            return (await kms.Manager.CreateKeyAsync("rotation race", Ct)).KeyId;
        }
        finally
        {
            await CrashChecks.DisposeAsync(store);
        }
    }

    private static CrashHostChild StartWorker(CrashStoreKind kind, string storeDirectory, byte[] rootKey, string startFile, string keyId, int rounds)
        => CrashHostChild.Start(
        [
            "rotate-race", kind.HostArgument(storeDirectory), Convert.ToBase64String(rootKey), startFile, keyId,
            rounds.ToString(CultureInfo.InvariantCulture), MaxConflictRetries.ToString(CultureInfo.InvariantCulture),
        ]);

    private static async Task ReleasePhase2Async(string startFile, IEnumerable<string> lines)
    {
        var phase2 = startFile + ".phase2";
        await File.WriteAllLinesAsync(phase2 + ".tmp", lines, Ct);
        File.Move(phase2 + ".tmp", phase2);
    }

    private static async Task<(byte[] Ciphertext, byte[] Plaintext, string MaterialId)> EncryptAsync(KeyManager manager, string keyId)
    {
        var plaintext = RandomNumberGenerator.GetBytes(24);
        var response = await manager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionContext = Context }, Ct);
        return (response.CiphertextBlob, plaintext, response.KeyMaterialId);
    }
}
