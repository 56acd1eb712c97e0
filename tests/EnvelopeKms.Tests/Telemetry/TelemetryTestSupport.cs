using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using EnvelopeKms.Telemetry;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Telemetry;

/// <summary>Records the spans of the <c>EnvelopeKms</c> source; tests pick theirs by request id (other tests run in parallel).</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == EnvelopeKmsTelemetry.ActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public int Count => _stopped.Count;

    /// <summary>The spans whose request id tag is <paramref name="requestId"/>.</summary>
    public IReadOnlyList<Activity> WithRequestId(string requestId)
        => [.. _stopped.Where(a => (a.GetTagItem(EnvelopeKmsTelemetry.RequestIdTag) as string) == requestId)];

    public void Dispose() => _listener.Dispose();
}

/// <summary>A key manager and envelope encryptor from a container with a real <see cref="IMeterFactory"/> (<c>AddMetrics</c>), a fake clock and a recording audit sink.</summary>
internal sealed class TelemetryHarness : IDisposable
{
    private TelemetryHarness(ServiceProvider services, RecordingAuditSink audit, FakeTimeProvider clock)
    {
        Services = services;
        Audit = audit;
        Clock = clock;
    }

    public ServiceProvider Services { get; }

    public RecordingAuditSink Audit { get; }

    public FakeTimeProvider Clock { get; }

    public KeyManager Manager => Services.GetRequiredService<KeyManager>();

    public IMeterFactory MeterFactory => Services.GetRequiredService<IMeterFactory>();

    public Microsoft.Extensions.Logging.Testing.FakeLogCollector Logs => Services.GetFakeLogCollector();

    public static TelemetryHarness Create(Action<EnvelopeKmsOptions>? configure = null)
    {
        var audit = new RecordingAuditSink();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddFakeLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddEnvelopeKms(b =>
        {
            b.UseAuditSink(_ => audit);
            if (configure is not null)
            {
                b.Configure(configure);
            }
        });
        return new TelemetryHarness(services.BuildServiceProvider(), audit, clock);
    }

    /// <summary>The request id of the only audit record of <paramref name="operation"/> on <paramref name="keyId"/>.</summary>
    public string RequestIdOf(KmsOperation operation, string? keyId = null)
        => Assert.Single(Audit.Events, e => e.Operation == operation && (keyId is null || e.KeyId == keyId)).RequestId;

    public void Dispose() => Services.Dispose();
}
