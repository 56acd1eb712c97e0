using System.Text.Json;
using EnvelopeKms.Auditing;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Tests.Auditing;

/// <summary>
/// Issue 8, item 3: when the audit sink throws, hangs past the timeout (whether or not it honours
/// cancellation) or the disk is full, the operation fails with <c>AuditUnavailableException</c>,
/// returns nothing and commits nothing; failing open is explicit and itself on the trail.
/// </summary>
public sealed class AuditFailClosedTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static TheoryData<string, string> OperationsAndFaults()
    {
        var data = new TheoryData<string, string>();
        foreach (var operation in OperationCatalog.Operations.Keys)
        {
            foreach (var fault in new[] { "throws", "hangs", "hangs ignoring cancellation" })
            {
                data.Add(operation, fault);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OperationsAndFaults))]
    public async Task When_the_sink_fails_the_operation_fails_closed_and_commits_nothing(string operation, string fault)
    {
        using var catalog = await OperationCatalog.CreateAsync(new TestKeyManager(options: new EnvelopeKmsOptions { AuditWriteTimeout = Timeout }));
        await PrepareAsync(catalog, operation);
        var before = await catalog.SnapshotAsync();
        var recorded = catalog.Kms.Audit.Events.Count;
        var attempts = 0;
        catalog.Kms.Audit.Fault = (_, cancellationToken) =>
        {
            attempts++;
            switch (fault)
            {
                case "throws":
                    throw new IOException("The audit volume is gone.");
                case "hangs":
                    catalog.Kms.Clock.Advance(Timeout + TimeSpan.FromMilliseconds(1));
                    return new ValueTask(Task.Delay(System.Threading.Timeout.Infinite, cancellationToken));
                default:
                    catalog.Kms.Clock.Advance(Timeout + TimeSpan.FromMilliseconds(1));
                    return new ValueTask(new TaskCompletionSource().Task);
            }
        };

        var e = await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => catalog.InvokeAsync(operation));

        Assert.Equal("AuditUnavailableException", e.ErrorCode);
        Assert.Equal(1, attempts);
        Assert.Contains(fault == "throws" ? "failed with IOException" : "did not accept it within 5000 ms", e.Message, StringComparison.Ordinal);
        catalog.Kms.Audit.Fault = null;
        Assert.Equal(recorded, catalog.Kms.Audit.Events.Count);
        Assert.Equal(before, await catalog.SnapshotAsync());

        // Nothing was half-done: once the sink is back the same call succeeds and is recorded once.
        await catalog.InvokeAsync(operation);
        Assert.Single(catalog.Kms.Audit.Events.Skip(recorded));
    }

    [Fact]
    public async Task A_sink_that_hangs_in_real_time_is_abandoned_after_the_timeout()
    {
        var sink = new RecordingAuditSink();
        using var manager = new KeyManager(new InMemoryKeyStore(), new EnvelopeKms.Protection.StaticRootKeyProvider(new byte[32]),
            new EnvelopeKmsOptions { AuditWriteTimeout = TimeSpan.FromMilliseconds(200) }, auditSink: sink);
        var key = (await manager.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;
        sink.Fault = (_, _) => new ValueTask(new TaskCompletionSource().Task);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct));

        Assert.Contains("did not accept it within 200 ms", e.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "The timeout bounds the wait.");
        sink.Fault = null;
        Assert.Equal(KeyState.Enabled, (await manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, Kms.Ct)).KeyMetadata.KeyState);
    }

    [Fact]
    public async Task A_secret_is_never_returned_when_its_record_is_refused()
    {
        using var catalog = await OperationCatalog.CreateAsync();
        catalog.Kms.Audit.Fault = (_, _) => throw new IOException("disk");
        GenerateDataKeyResponse? response = null;

        await Assert.ThrowsAsync<KmsAuditUnavailableException>(async () => response = await catalog.Api.GenerateDataKeyAsync(
            new GenerateDataKeyRequest { KeyId = catalog.Key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct));

        Assert.Null(response);
    }

    [Fact]
    public async Task Failing_open_completes_the_operation_logs_the_loss_and_counts_the_gap_on_the_next_record()
    {
        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        var sink = new RecordingAuditSink();
        using var manager = new KeyManager(new InMemoryKeyStore(), new EnvelopeKms.Protection.StaticRootKeyProvider(new byte[32]),
            new EnvelopeKmsOptions { AuditFailOpen = true }, auditSink: sink, loggerFactory: loggerFactory);
        Assert.Contains(logs.Messages, m => m.Contains("fail open", StringComparison.Ordinal));
        var key = (await manager.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;
        sink.Fault = (_, _) => throw new IOException("disk");

        await manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await manager.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        sink.Fault = null;
        await manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(2, logs.Messages.Count(m => m.Contains("did not accept the record", StringComparison.Ordinal)));
        Assert.All(sink.Events, e => Assert.True(e.AuditFailOpen));
        Assert.Equal([0L, 2L], sink.Events.Select(e => e.RecordsLost));
        Assert.Equal([KmsOperation.CreateKey, KmsOperation.DescribeKey], sink.Events.Select(e => e.Operation));
    }

    [Fact]
    public async Task A_change_whose_commit_fails_after_its_record_gets_a_second_record_with_the_same_request_id()
    {
        var store = new FailingUpdateStore(new InMemoryKeyStore());
        using var kms = new TestKeyManager(store);
        var key = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;
        store.FailUpdates = true;

        await Assert.ThrowsAsync<KmsInternalException>(() => kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct));

        var records = kms.Audit.Events.Skip(1).ToList();
        Assert.Equal(2, records.Count);
        Assert.Equal(records[0].RequestId, records[1].RequestId);
        Assert.Equal([KmsOutcome.Success, KmsOutcome.Failure], records.Select(r => r.Outcome));
        Assert.Equal("KMSInternalException", records[1].ErrorCode);
    }

    [Fact]
    public async Task An_automatic_rotation_whose_record_is_refused_does_not_rotate_and_the_use_fails_closed()
    {
        using var kms = new TestKeyManager();
        var km = kms.Manager;
        var key = (await km.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;
        await km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(91));
        kms.Audit.Fault = (_, _) => throw new IOException("disk");

        await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct));

        kms.Audit.Fault = null;
        var stored = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        Assert.Single(stored!.KeyMaterials);
        await km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct);
        Assert.Equal(["RotateKey", "Encrypt"], kms.Audit.Events.TakeLast(2).Select(e => e.EventName));
        Assert.Equal("AwsServiceEvent", kms.Audit.Events[^2].EventType);
    }

    [Fact]
    public async Task A_purge_whose_record_is_refused_leaves_the_key_pending_deletion()
    {
        using var kms = new TestKeyManager();
        var km = kms.Manager;
        var key = (await km.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;
        await km.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/doomed", TargetKeyId = key.KeyId }, Kms.Ct);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(8));
        kms.Audit.Fault = (_, _) => throw new IOException("disk");

        await Assert.ThrowsAsync<KmsAuditUnavailableException>(() => km.PurgeExpiredKeysAsync(Kms.Ct));

        kms.Audit.Fault = null;
        Assert.NotNull(await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
        Assert.NotNull(await kms.Store.GetAliasAsync("alias/doomed", Kms.Ct));
        Assert.Equal(1, await km.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Equal("DeleteKey", kms.Audit.Events[^1].EventName);
    }

    [Fact]
    public void The_write_timeout_is_validated()
    {
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new KeyManager(new InMemoryKeyStore(),
            new EnvelopeKms.Protection.StaticRootKeyProvider(new byte[32]), new EnvelopeKmsOptions { AuditWriteTimeout = TimeSpan.Zero }));
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new KeyManager(new InMemoryKeyStore(),
            new EnvelopeKms.Protection.StaticRootKeyProvider(new byte[32]), new EnvelopeKmsOptions { AuditWriteTimeout = TimeSpan.FromMinutes(6) }));
    }

    /// <summary>
    /// Puts the key in the state the operation acts on (a deletion to cancel, a disabled key to enable).
    /// For <c>ReEncrypt</c>, encrypts under the destination once first: the first encryption under a
    /// key material reserves a block of its usage count in the store, bookkeeping that may be written
    /// before the record (a lost reservation over-counts, which docs/rotation.md allows) and that would
    /// show in the snapshot as a new record version.
    /// </summary>
    internal static async Task PrepareAsync(OperationCatalog catalog, string operation)
    {
        if (operation == "ReEncrypt")
        {
            await catalog.Api.EncryptAsync(new EncryptRequest { KeyId = catalog.Other.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct);
        }

        if (operation == "CancelKeyDeletion")
        {
            await catalog.Api.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = catalog.Key.KeyId }, Kms.Ct);
        }
        else if (operation == "EnableKey")
        {
            await catalog.Api.DisableKeyAsync(new DisableKeyRequest { KeyId = catalog.Key.KeyId }, Kms.Ct);
        }
    }

    private sealed class FailingUpdateStore(InMemoryKeyStore inner) : DelegatingGrantStore(inner)
    {
        public bool FailUpdates { get; set; }

        public override ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
            => FailUpdates ? throw new IOException("The store's disk failed.") : base.UpdateKeyAsync(key, cancellationToken);
    }
}

/// <summary>Collects formatted log messages.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (provider._messages)
            {
                provider._messages.Add(formatter(state, exception) + (exception is null ? string.Empty : " | " + exception.Message));
            }
        }
    }
}
