using EnvelopeKms.Auditing;
using EnvelopeKms.Auditing.Usage;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.KeyManagement;
using EnvelopeKms.Tests.Storage;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Auditing.Usage;

public sealed class KeyUsageReplayTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Runs a workload on a key manager whose audit trail is a real JSON Lines file; returns its meter and the keys.</summary>
    private static async Task<(KeyUsageMeter Meter, string[] Keys)> RunWorkloadAsync(string path, FakeTimeProvider clock, long? maxFileBytes = 2_000)
    {
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = path, MaxFileBytes = maxFileBytes });
        await using (sink)
        {
            using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), timeProvider: clock, auditSink: sink);
            var km = manager.Api();
            var a = await km.NewKeyAsync("a");
            var b = await km.NewKeyAsync("b");
            for (var i = 0; i < 12; i++)
            {
                clock.Advance(TimeSpan.FromMinutes(17));
                var blob = await km.EncryptBlobAsync(i % 3 == 0 ? b.KeyId : a.KeyId, Kms.Utf8("x"));
                await km.DecryptBlobAsync(blob);
                await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.EncryptAsync(new EncryptRequest { Caller = new CallerIdentity(Kms.RoleArn), KeyId = a.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct));
            }

            clock.Advance(TimeSpan.FromMinutes(5));
            await km.DescribeAsync(b.KeyId);
            await km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = await km.EncryptBlobAsync(a.KeyId, Kms.Utf8("y")), DestinationKeyId = b.KeyId }, Kms.Ct);
            await km.ListKeysAsync(new ListKeysRequest(), Kms.Ct);
            await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DescribeKeyAsync(new DescribeKeyRequest { KeyId = "11111111-1111-4111-8111-111111111111" }, Kms.Ct));
            return (manager.UsageMeter, [a.KeyId, b.KeyId]);
        }
    }

    [Fact]
    public async Task A_replay_of_a_real_trail_reproduces_the_meter_of_the_key_manager_that_wrote_it()
    {
        using var directory = new TemporaryStoreDirectory("usage-replay");
        var path = Path.Combine(directory.Parent, "audit.jsonl");
        var clock = new FakeTimeProvider(Start);
        var (live, keys) = await RunWorkloadAsync(path, clock);
        Assert.True(AuditChainVerifier.ListChainFiles(path).Count > 1, "The workload should have rotated the trail.");

        var replayed = new KeyUsageMeter(timeProvider: clock);
        var result = await replayed.ReplayAsync(path, verifyChain: true, Kms.Ct);

        Assert.True(result.Verification?.IsIntact);
        Assert.Equal(0, result.RecordsSkipped);
        Assert.Equal(AuditChainVerifier.ListChainFiles(path), result.Files);
        Assert.Equal(UsageTestSupport.Describe(live.GetUsage(Start.AddDays(-1), Start.AddDays(1))), UsageTestSupport.Describe(replayed.GetUsage(Start.AddDays(-1), Start.AddDays(1))));
        Assert.Equal(result.RecordsReplayed, live.GetUsage(Start.AddDays(-1), Start.AddDays(1)).Sum(u => u.Operation == KmsOperation.ReEncryptTo ? 0 : u.Total));
        foreach (var key in keys)
        {
            Assert.Equal(live.GetLastUsage(key), replayed.GetLastUsage(key));
        }

        Assert.Equal(KmsOperation.ReEncryptTo, replayed.GetLastUsage(keys[1]).LastCryptographicOperation);
        Assert.Equal(Start, replayed.TrackingStartDate);
    }

    [Fact]
    public async Task A_replay_moves_the_tracking_start_back_to_the_oldest_record()
    {
        using var directory = new TemporaryStoreDirectory("usage-replay");
        var path = Path.Combine(directory.Parent, "audit.jsonl");
        var clock = new FakeTimeProvider(Start);
        await RunWorkloadAsync(path, clock, maxFileBytes: null);
        clock.Advance(TimeSpan.FromDays(3));

        var meter = new KeyUsageMeter(timeProvider: clock);
        Assert.Equal(clock.GetUtcNow(), meter.TrackingStartDate);
        await meter.ReplayAsync(path, cancellationToken: Kms.Ct);

        Assert.Equal(Start, meter.TrackingStartDate);
    }

    [Fact]
    public async Task A_tampered_trail_is_refused_when_verification_is_asked_and_replays_nothing()
    {
        using var directory = new TemporaryStoreDirectory("usage-replay");
        var path = Path.Combine(directory.Parent, "audit.jsonl");
        var clock = new FakeTimeProvider(Start);
        await RunWorkloadAsync(path, clock, maxFileBytes: null);
        var lines = File.ReadAllLines(path);
        lines[3] = lines[3].Replace("\"Success\"", "\"Failure\"", StringComparison.Ordinal);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");

        var meter = new KeyUsageMeter(timeProvider: clock);
        var e = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => meter.ReplayAsync(path, verifyChain: true, Kms.Ct));

        Assert.Contains("record 4", e.Message, StringComparison.Ordinal);
        Assert.Empty(meter.GetUsage(Start.AddDays(-1), Start.AddDays(1)));
    }

    [Fact]
    public async Task Without_verification_a_torn_last_line_is_skipped_and_counted()
    {
        using var directory = new TemporaryStoreDirectory("usage-replay");
        var path = Path.Combine(directory.Parent, "audit.jsonl");
        var clock = new FakeTimeProvider(Start);
        var (live, _) = await RunWorkloadAsync(path, clock, maxFileBytes: null);
        await File.AppendAllTextAsync(path, "{\"eventVersion\":\"1.0\",\"sequence\":", Kms.Ct);

        var meter = new KeyUsageMeter(timeProvider: clock);
        var result = await meter.ReplayAsync(path, cancellationToken: Kms.Ct);

        Assert.Equal(1, result.RecordsSkipped);
        Assert.Null(result.Verification);
        Assert.Equal(UsageTestSupport.Describe(live.GetUsage(Start.AddDays(-1), Start.AddDays(1))), UsageTestSupport.Describe(meter.GetUsage(Start.AddDays(-1), Start.AddDays(1))));
    }

    [Fact]
    public async Task A_trail_in_hmac_mode_replays_like_any_other_and_unknown_operations_are_skipped()
    {
        using var directory = new TemporaryStoreDirectory("usage-replay");
        var path = Path.Combine(directory.Parent, "audit.jsonl");
        var options = new JsonLinesAuditSinkOptions { Path = path, HmacKey = new byte[32] };
        await AuditTestSupport.WriteEventsAsync(options, 0, 10, Kms.Ct);
        var lines = File.ReadAllLines(path);
        // A record of an operation this version does not know (written by a newer one), chained correctly.
        var unknown = System.Text.RegularExpressions.Regex.Replace(lines[^1], "\"eventName\":\"[A-Za-z]+\"", "\"eventName\":\"FutureOperation\"");
        Assert.NotEqual(lines[^1], unknown);
        File.WriteAllText(path, string.Join('\n', lines[..^1].Append(unknown)) + "\n");

        var meter = new KeyUsageMeter(timeProvider: new FakeTimeProvider(AuditTestSupport.Epoch));
        var result = await meter.ReplayAsync(path, cancellationToken: Kms.Ct);

        Assert.Equal(9, result.RecordsReplayed);
        Assert.Equal(1, result.RecordsSkipped);
        var usage = meter.GetUsage(AuditTestSupport.Epoch.AddHours(-1), AuditTestSupport.Epoch.AddHours(1));
        Assert.Equal(9, usage.Sum(u => u.Total));
        Assert.Equal(1, usage.Sum(u => u.Denied)); // Record 5; record 10, also denied, was the unknown one.
    }

    [Fact]
    public async Task Replaying_a_trail_that_does_not_exist_replays_nothing()
    {
        using var directory = new TemporaryStoreDirectory("usage-replay");
        var meter = new KeyUsageMeter();

        var result = await meter.ReplayAsync(Path.Combine(directory.Parent, "none.jsonl"), cancellationToken: Kms.Ct);

        Assert.Equal(0, result.RecordsReplayed);
        Assert.Empty(result.Files);
    }
}
