using System.Globalization;
using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>
/// RELIABILITY rows 45–46 on SQLite: several processes start on the same empty database file at the
/// same moment (a start barrier), initialise it together and then write concurrently. The store ends
/// with one metadata row and one root-key check value, no lost update, the expected keys, and every
/// ciphertext of every process decrypts here and in every other process.
/// </summary>
public sealed class SqliteMultiProcessTests : IDisposable
{
    private const int Workers = 4;
    private const int OwnKeys = 3;
    private const int Rounds = 10;

    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "multi-process" };

    private readonly TemporaryStoreDirectory _work = new("sqlite-multi");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    public async Task Processes_starting_together_on_an_empty_file_share_one_store_lose_no_update_and_decrypt_each_others_ciphertexts()
    {
        var rootKey = RandomNumberGenerator.GetBytes(32);
        var database = Path.Combine(_work.Parent, "shared", "keys.db");
        var startFile = Path.Combine(_work.Parent, "start");
        var children = Enumerable.Range(0, Workers).Select(i => CrashHostChild.Start(
        [
            "multi", CrashStoreKind.Sqlite.HostArgument(Path.GetDirectoryName(database)!), Convert.ToBase64String(rootKey),
            i.ToString(CultureInfo.InvariantCulture), startFile, OwnKeys.ToString(CultureInfo.InvariantCulture), Rounds.ToString(CultureInfo.InvariantCulture),
        ])).ToList();
        try
        {
            // Phase 1: every worker is up and waiting; then they all start at once on the empty file.
            foreach (var child in children)
            {
                await child.WaitForLineAsync("waiting", TimeSpan.FromSeconds(60), Ct);
            }

            Assert.False(File.Exists(database));
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
            using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
            {
                connection.Open();
                Assert.Equal(1L, Scalar(connection, "SELECT count(*) FROM metadata"));
                Assert.Equal((long)SqliteKeyStore.CurrentSchemaVersion, Scalar(connection, "SELECT version FROM schema_version WHERE id = 1"));
                Assert.Equal("ok", Scalar(connection, "PRAGMA integrity_check"));
            }

            using var store = new SqliteKeyStore($"Data Source={database};Pooling=False");
            using var root = new AesGcmRootKey(rootKey, parameters: null);
            Assert.Equal(root.KeyCheckValue, (await store.GetMetadataAsync(Ct))!.RootKeyCheckValue);
            var keys = await store.ListKeysAsync(null, 1000, Ct);
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
            using (var kms = new TestKeyManager(new SqliteKeyStore($"Data Source={database};Pooling=False"), new StaticRootKeyProvider(rootKey)))
            {
                foreach (var (_, ciphertext, plaintext) in ciphertexts)
                {
                    Assert.Equal(Convert.FromBase64String(plaintext), await kms.Manager.DecryptAsync(Convert.FromBase64String(ciphertext), Context, Ct));
                }
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

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
