using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage.PostgreSql;
using Npgsql;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// Throughput of the PostgreSQL key store under 1, 2, 4 and 8 concurrent clients (parallel tasks
/// sharing one key manager, as the threads of one service do), against the raw baseline of the same
/// concurrency issuing Npgsql's <c>SELECT document FROM keys WHERE key_id = $1</c> on a data source
/// of its own. Each invocation runs <see cref="OperationsPerInvoke"/> operations split over the
/// clients, so the reported time is per operation (throughput = 1 / time). The server is a throwaway
/// PostgreSQL started by this process, on the same machine.
/// </summary>
[MemoryDiagnoser]
public class PostgreSqlBenchmarks
{
    private const int OperationsPerInvoke = 256;
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme" };
    private ThrowawayPostgreSql _server = null!;
    private NpgsqlDataSource _raw = null!;
    private PostgreSqlKeyStore _store = null!;
    private KeyManager _kms = null!;
    private string _keyId = null!;
    private string[] _clientKeys = null!;
    private byte[] _plaintext = null!;
    private long _updates;

    /// <summary>Concurrent clients.</summary>
    [Params(1, 2, 4, 8)]
    public int Clients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _server = new ThrowawayPostgreSql();
        try
        {
            Prepare();
        }
        catch
        {
            _server.Dispose();
            throw;
        }
    }

    private void Prepare()
    {
        _store = new PostgreSqlKeyStore(_server.ConnectionString);
        _kms = new KeyManager(_store, new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        _keyId = _kms.CreateKeyAsync(new CreateKeyRequest { Description = "bench" }).GetAwaiter().GetResult().KeyMetadata.KeyId;
        _clientKeys = [.. Enumerable.Range(0, Clients).Select(i => _kms.CreateKeyAsync(new CreateKeyRequest { Description = $"client {i}" }).GetAwaiter().GetResult().KeyMetadata.KeyId)];
        _plaintext = RandomNumberGenerator.GetBytes(32);
        _raw = NpgsqlDataSource.Create(_server.ConnectionString);
        if (RawSelect_Baseline().GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException("The raw baseline read nothing.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _kms.Dispose();
        _store.Dispose();
        _raw.Dispose();
        NpgsqlConnection.ClearAllPools();
        _server.Dispose();
    }

    /// <summary>Raw baseline: Npgsql, a pooled connection per query, <c>SELECT document FROM envelopekms.keys WHERE key_id = $1</c>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = OperationsPerInvoke)]
    public async Task<string?> RawSelect_Baseline()
    {
        string? last = null;
        await RunClients(async _ =>
        {
            await using var command = _raw.CreateCommand("SELECT document FROM envelopekms.keys WHERE key_id = $1");
            command.Parameters.Add(new NpgsqlParameter { Value = _keyId });
            last = (string?)await command.ExecuteScalarAsync();
        });
        return last;
    }

    /// <summary><c>PostgreSqlKeyStore.GetKeyAsync</c>: the same read plus version and JSON parsing.</summary>
    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public Task StoreGetKey() => RunClients(async _ => await _store.GetKeyAsync(_keyId, default));

    /// <summary><c>KeyManager.DescribeKey</c> (store read, authorization, audit event to a disabled logger).</summary>
    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public Task KeyManagerDescribeKey() => RunClients(async _ => await _kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = _keyId }));

    /// <summary><c>KeyManager.Encrypt</c> of 32 bytes (store read, cached unwrapped material, AES-256-GCM).</summary>
    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public Task KeyManagerEncrypt() => RunClients(async _ => await _kms.EncryptAsync(new EncryptRequest { KeyId = _keyId, Plaintext = _plaintext, EncryptionContext = Context }));

    /// <summary><c>KeyManager.UpdateKeyDescription</c>, each client on a key of its own: one write transaction (version check, change row, NOTIFY) per operation.</summary>
    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public Task KeyManagerUpdateDescription() => RunClients(async client => await _kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = _clientKeys[client], Description = $"update {Interlocked.Increment(ref _updates)}" }));

    private Task RunClients(Func<int, Task> operation)
    {
        var perClient = OperationsPerInvoke / Clients;
        return Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            for (var i = 0; i < perClient; i++)
            {
                await operation(client);
            }
        })));
    }
}
