using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// The SQLite store at 1,000 and at 1,000,000 keys: <c>DescribeKey</c> and <c>Encrypt</c> latency on
/// keys picked at random across the whole store, against raw baselines on the same database in the
/// same run (a plain Microsoft.Data.Sqlite <c>SELECT document</c> by key id on one open connection,
/// and <see cref="AesGcm"/> on the same payload). The filled databases are cached between runs;
/// the create rate and the bytes on disk per key are measured while filling (see
/// <see cref="SqliteScaleDatabase"/>) and printed in each benchmark process's log.
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class SqliteScaleBenchmarks
{
    private const int SampledKeys = 4096;
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme", ["purpose"] = "benchmark" };
    private KeyManager _kms = null!;
    private SqliteConnection _raw = null!;
    private SqliteCommand _select = null!;
    private SqliteParameter _selectId = null!;
    private string[] _keyIds = null!;
    private int _next;
    private byte[] _plaintext = null!;
    private AesGcm _aes = null!;
    private byte[] _nonce = null!;
    private byte[] _ciphertext = null!;
    private byte[] _tag = null!;
    private byte[] _aad = null!;

    /// <summary>Keys in the store.</summary>
    [Params(1_000, 1_000_000)]
    public int KeyCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var database = SqliteScaleDatabase.EnsureFilled(KeyCount);
        Console.WriteLine($"// SqliteScale {KeyCount:N0} keys: {database.Summary}");
        _kms = new KeyManager(new SqliteKeyStore(database.Path), new StaticRootKeyProvider(SqliteScaleDatabase.RootKey));

        _raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database.Path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        _raw.Open();
        _keyIds = SampleKeyIds(_raw, SampledKeys);
        _select = _raw.CreateCommand();
        _select.CommandText = "SELECT document FROM keys WHERE key_id = $id";
        _selectId = _select.Parameters.Add("$id", SqliteType.Text);
        _selectId.Value = _keyIds[0];
        _select.Prepare();

        _plaintext = RandomNumberGenerator.GetBytes(32);
        _aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        _nonce = RandomNumberGenerator.GetBytes(12);
        _ciphertext = new byte[_plaintext.Length];
        _tag = new byte[16];
        _aad = RandomNumberGenerator.GetBytes(80);

        // Every sampled key works (and its material is unwrapped once, as in a warm process).
        foreach (var keyId in _keyIds)
        {
            _kms.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = _plaintext, EncryptionContext = Context }).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _kms.Dispose();
        _select.Dispose();
        _raw.Dispose();
        _aes.Dispose();
        SqliteConnection.ClearAllPools();
    }

    /// <summary>Raw baseline: the key's row by primary key on one open connection with a prepared statement.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("DescribeKey")]
    public int RawSqlite_SelectDocument()
    {
        _selectId.Value = NextKeyId();
        return ((string)_select.ExecuteScalar()!).Length;
    }

    /// <summary>IKeyManager.DescribeKey by key id (the store opens a pooled connection per call).</summary>
    [Benchmark]
    [BenchmarkCategory("DescribeKey")]
    public async Task<KeyState> KeyManager_DescribeKey()
        => (await _kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = NextKeyId() })).KeyMetadata.KeyState;

    /// <summary>Raw baseline: one AES-256-GCM encryption of the same 32-byte payload with a reused instance.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Encrypt")]
    public int RawAesGcm_Encrypt()
    {
        NextKeyId();
        _aes.Encrypt(_nonce, _plaintext, _ciphertext, _tag, _aad);
        return _tag[0];
    }

    /// <summary>IKeyManager.Encrypt of 32 bytes with an encryption context (reads the key's row on every call).</summary>
    [Benchmark]
    [BenchmarkCategory("Encrypt")]
    public async Task<int> KeyManager_Encrypt()
        => (await _kms.EncryptAsync(new EncryptRequest { KeyId = NextKeyId(), Plaintext = _plaintext, EncryptionContext = Context })).CiphertextBlob.Length;

    private string NextKeyId()
    {
        var index = _next++;
        if (_next == _keyIds.Length)
        {
            _next = 0;
        }

        return _keyIds[index];
    }

    private static string[] SampleKeyIds(SqliteConnection connection, int count)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key_id FROM keys ORDER BY random() LIMIT $count";
        command.Parameters.AddWithValue("$count", count);
        using var reader = command.ExecuteReader();
        var ids = new List<string>();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return [.. ids];
    }
}

/// <summary>
/// Builds (once) and caches a SQLite key store with a given number of keys under the temporary
/// folder (<c>envelopekms-benchmarks/sqlite-scale-N.db</c>, with <c>.txt</c> beside it holding the fill
/// measurements; delete them to measure again).
/// </summary>
/// <remarks>
/// <para>
/// The create rate is measured honestly through <see cref="KeyManager.CreateKeyAsync(CreateKeyRequest, CancellationToken)"/>
/// on the real store (each key one durable transaction, WAL with <c>synchronous=FULL</c>): the first
/// <see cref="DurableSample"/> keys of the database, and the last <see cref="DurableTail"/> keys, when it already holds
/// the rest.
/// </para>
/// <para>
/// The keys in between are filled faster, with rows identical to the store's own: a key manager with
/// the same root key creates them in a <see cref="SqliteKeyStore"/> on an in-memory database that
/// carries a copy of the target's metadata row (so nothing waits for the disk), and every
/// <see cref="BulkBatch"/> keys the rows it wrote (key id, version, JSON document, byte for byte) are
/// copied into the target's <c>keys</c> table in one transaction and removed from the in-memory one.
/// Only the <c>keys</c> table is bulk filled; nothing else in the schema depends on the key count.
/// </para>
/// </remarks>
public static class SqliteScaleDatabase
{
    /// <summary>Keys created through the key manager on the durable store at the start.</summary>
    public const int DurableSample = 10_000;

    /// <summary>Keys created through the key manager on the durable store at the end (on a store that holds all the others).</summary>
    public const int DurableTail = 1_000;

    /// <summary>Rows per bulk transaction.</summary>
    public const int BulkBatch = 20_000;

    /// <summary>The benchmark's root key: a constant, because the database outlives the process. Never do this outside a benchmark.</summary>
    internal static byte[] RootKey { get; } = [.. Enumerable.Range(0, 32).Select(i => (byte)(0xA5 ^ i))];

    /// <summary>Returns the cached database with <paramref name="keyCount"/> keys, filling it first when missing.</summary>
    public static (string Path, string Summary) EnsureFilled(int keyCount)
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "envelopekms-benchmarks");
        Directory.CreateDirectory(folder);
        var path = System.IO.Path.Combine(folder, $"sqlite-scale-{keyCount}.db");
        var summaryPath = path + ".txt";
        if (File.Exists(summaryPath) && File.Exists(path))
        {
            return (path, File.ReadAllText(summaryPath));
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm", summaryPath })
        {
            File.Delete(file);
        }

        var summary = Fill(path, keyCount);
        File.WriteAllText(summaryPath, summary);
        return (path, summary);
    }

    private static string Fill(string path, int keyCount)
    {
        var durableHead = Math.Min(keyCount, DurableSample);
        var durableTail = keyCount > DurableSample + DurableTail ? DurableTail : 0;
        var bulk = keyCount - durableHead - durableTail;
        var parts = new List<string>();

        using (var kms = new KeyManager(new SqliteKeyStore(path), new StaticRootKeyProvider(RootKey)))
        {
            var rate = CreateDurably(kms, durableHead);
            Report(parts, Invariant($"create rate 0..{durableHead:N0} keys (KeyManager, synchronous=FULL): {rate:N0} keys/s"));
        }

        if (bulk > 0)
        {
            var stopwatch = Stopwatch.StartNew();
            BulkFill(path, bulk);
            Report(parts, Invariant($"bulk fill of {bulk:N0} keys (KeyManager on an in-memory store, rows copied in {BulkBatch:N0}-row transactions): {bulk / stopwatch.Elapsed.TotalSeconds:N0} keys/s"));
        }

        if (durableTail > 0)
        {
            using var kms = new KeyManager(new SqliteKeyStore(path), new StaticRootKeyProvider(RootKey));
            var rate = CreateDurably(kms, durableTail);
            Report(parts, Invariant($"create rate {keyCount - durableTail:N0}..{keyCount:N0} keys (KeyManager, synchronous=FULL): {rate:N0} keys/s"));
        }

        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM keys";
            var count = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (count != keyCount)
            {
                throw new InvalidOperationException($"The database holds {count} keys, not {keyCount}.");
            }
        }

        var bytes = new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);
        Report(parts, Invariant($"on disk after checkpoint: {bytes:N0} bytes (database + WAL), {(double)bytes / keyCount:N0} bytes per key"));
        return string.Join("; ", parts);
    }

    /// <summary>Creates keys one by one through the key manager on the durable store; returns keys per second.</summary>
    private static double CreateDurably(KeyManager kms, int count)
    {
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            kms.CreateKeyAsync(new CreateKeyRequest { Description = "scale benchmark key" }).GetAwaiter().GetResult();
        }

        return count / stopwatch.Elapsed.TotalSeconds;
    }

    private static void BulkFill(string path, int count)
    {
        // The in-memory database lives as long as one connection to it is open: this one.
        var scratchName = "envelopekms-scale-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var scratchConnectionString = new SqliteConnectionStringBuilder { DataSource = scratchName, Mode = SqliteOpenMode.Memory, Cache = SqliteCacheMode.Shared }.ToString();
        using var scratch = new SqliteConnection(scratchConnectionString);
        scratch.Open();
        var scratchStore = new SqliteKeyStore(scratchConnectionString);
        _ = scratchStore.GetMetadataAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult(); // creates the schema

        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        target.Open();
        using (var copyMetadata = scratch.CreateCommand())
        {
            copyMetadata.CommandText = "INSERT INTO metadata (id, document) VALUES (1, $document)";
            using var read = target.CreateCommand();
            read.CommandText = "SELECT document FROM metadata WHERE id = 1";
            copyMetadata.Parameters.AddWithValue("$document", (string)read.ExecuteScalar()!);
            copyMetadata.ExecuteNonQuery();
        }

        for (var done = 0; done < count;)
        {
            var batch = Math.Min(BulkBatch, count - done);

            // A key manager per batch: it keeps the key material it touched, which would add up over a million keys.
            using (var kms = new KeyManager(scratchStore, new StaticRootKeyProvider(RootKey)))
            {
                for (var i = 0; i < batch; i++)
                {
                    kms.CreateKeyAsync(new CreateKeyRequest { Description = "scale benchmark key" }).GetAwaiter().GetResult();
                }
            }

            using (var transaction = target.BeginTransaction())
            using (var insert = target.CreateCommand())
            using (var read = scratch.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO keys (key_id, version, document) VALUES ($id, $version, $document)";
                var id = insert.Parameters.Add("$id", SqliteType.Text);
                var version = insert.Parameters.Add("$version", SqliteType.Integer);
                var document = insert.Parameters.Add("$document", SqliteType.Text);
                read.CommandText = "SELECT key_id, version, document FROM keys";
                using var reader = read.ExecuteReader();
                while (reader.Read())
                {
                    id.Value = reader.GetString(0);
                    version.Value = reader.GetInt64(1);
                    document.Value = reader.GetString(2);
                    insert.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            using (var clear = scratch.CreateCommand())
            {
                clear.CommandText = "DELETE FROM keys";
                clear.ExecuteNonQuery();
            }

            done += batch;
            Console.WriteLine(Invariant($"// bulk fill: {done:N0} of {count:N0}"));
        }
    }

    private static void Report(List<string> parts, string part)
    {
        Console.WriteLine("// " + part);
        parts.Add(part);
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The same four operations on both databases in one process, interleaved round by round (1,000 keys,
/// then 1,000,000, then 1,000 ...), so that whatever else the machine does weighs on both sides alike;
/// every call is timed on its own and the report gives percentiles. Run with
/// <c>dotnet run -c Release --project benchmarks/EnvelopeKms.Benchmarks -- sqlite-scale</c>.
/// </summary>
public static class SqliteScaleReport
{
    private const int Rounds = 20;
    private const int CallsPerRound = 1000;

    public static void Run()
    {
        int[] counts = [1_000, 1_000_000];
        var sides = counts.Select(count => new SqliteScaleBenchmarks { KeyCount = count }).ToArray();
        foreach (var side in sides)
        {
            side.Setup();
        }

        (string Name, Func<SqliteScaleBenchmarks, object> Call)[] operations =
        [
            ("RawSqlite_SelectDocument (baseline)", b => b.RawSqlite_SelectDocument()),
            ("KeyManager_DescribeKey", b => b.KeyManager_DescribeKey().GetAwaiter().GetResult()),
            ("RawAesGcm_Encrypt (baseline)", b => b.RawAesGcm_Encrypt()),
            ("KeyManager_Encrypt", b => b.KeyManager_Encrypt().GetAwaiter().GetResult()),
        ];

        var samples = new List<double>[sides.Length, operations.Length];
        for (var s = 0; s < sides.Length; s++)
        {
            for (var o = 0; o < operations.Length; o++)
            {
                samples[s, o] = new List<double>(Rounds * CallsPerRound);
            }
        }

        for (var round = -1; round < Rounds; round++) // round -1 warms up and is not recorded
        {
            for (var step = 0; step < sides.Length; step++)
            {
                var s = (round + step) % 2 == 0 ? 0 : 1; // alternate which side goes first
                for (var o = 0; o < operations.Length; o++)
                {
                    for (var i = 0; i < CallsPerRound; i++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        operations[o].Call(sides[s]);
                        var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                        if (round >= 0)
                        {
                            samples[s, o].Add(elapsed);
                        }
                    }
                }
            }
        }

        Console.WriteLine($"SQLite store at {counts[0]:N0} and {counts[1]:N0} keys: {Rounds} interleaved rounds of {CallsPerRound:N0} calls per operation and side, random keys from a sample of each store, per-call latency in µs");
        Console.WriteLine();
        Console.WriteLine("| Operation | 1,000 keys p50 | p90 | p99 | mean | 1,000,000 keys p50 | p90 | p99 | mean | p50 ratio 1M / 1k |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var o = 0; o < operations.Length; o++)
        {
            var small = samples[0, o].Order().ToArray();
            var large = samples[1, o].Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {operations[o].Name} | {P(small, 0.5):F1} | {P(small, 0.9):F1} | {P(small, 0.99):F1} | {small.Average():F1} | {P(large, 0.5):F1} | {P(large, 0.9):F1} | {P(large, 0.99):F1} | {large.Average():F1} | {P(large, 0.5) / P(small, 0.5):F2} |"));
        }

        foreach (var side in sides)
        {
            side.Cleanup();
        }
    }

    private static double P(double[] sorted, double quantile) => sorted[Math.Min(sorted.Length - 1, (int)(quantile * sorted.Length))];
}
