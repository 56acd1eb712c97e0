using System.Diagnostics;
using EnvelopeKms.Telemetry;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace EnvelopeKms.Tests.Telemetry;

/// <summary>Spans and metrics of key-manager operations, observed with the in-box <c>ActivityListener</c> and <c>MetricCollector</c>.</summary>
public sealed class OperationTelemetryTests
{
    private const string ContextValue = "context-value-that-must-not-appear";

    private static object? Tag(Activity activity, string name) => activity.GetTagItem(name);

    [Fact]
    public async Task An_operation_produces_one_span_and_one_count_with_its_outcome()
    {
        using var spans = new SpanRecorder();
        using var h = TelemetryHarness.Create();
        using var operations = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.OperationsInstrument);
        using var durations = new MetricCollector<double>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.OperationDurationInstrument);
        var key = await h.Manager.Api().NewKeyAsync();

        await h.Manager.Api().EncryptBlobAsync(key.KeyId, [1, 2, 3], new Dictionary<string, string> { ["purpose"] = ContextValue });

        var requestId = h.RequestIdOf(KmsOperation.Encrypt);
        var span = Assert.Single(spans.WithRequestId(requestId));
        Assert.Equal("KMS Encrypt", span.DisplayName);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal("Encrypt", Tag(span, EnvelopeKmsTelemetry.OperationTag));
        Assert.Equal(key.KeyId, Tag(span, EnvelopeKmsTelemetry.KeyIdTag));
        Assert.Equal("success", Tag(span, EnvelopeKmsTelemetry.OutcomeTag));
        Assert.NotNull(Tag(span, EnvelopeKmsTelemetry.KeyMaterialIdTag));
        Assert.Null(Tag(span, EnvelopeKmsTelemetry.ErrorCodeTag));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.DoesNotContain(span.TagObjects, t => t.Value is string s && s.Contains(ContextValue, StringComparison.Ordinal));

        var encrypts = operations.GetMeasurementSnapshot().Where(m => m.Tags[EnvelopeKmsTelemetry.OperationTag] as string == "Encrypt").ToList();
        var count = Assert.Single(encrypts);
        Assert.Equal(1, count.Value);
        Assert.Equal("success", count.Tags[EnvelopeKmsTelemetry.OutcomeTag]);
        Assert.False(count.ContainsTags(EnvelopeKmsTelemetry.ErrorTypeTag));
        Assert.Single(operations.GetMeasurementSnapshot(), m => m.Tags[EnvelopeKmsTelemetry.OperationTag] as string == "CreateKey");

        var duration = Assert.Single(durations.GetMeasurementSnapshot(), m => m.Tags[EnvelopeKmsTelemetry.OperationTag] as string == "Encrypt");
        Assert.InRange(duration.Value, 0, 60);
        Assert.Equal("s", durations.Instrument!.Unit);
    }

    [Fact]
    public async Task A_failed_operation_has_an_error_span_and_is_counted_with_its_error_type()
    {
        using var spans = new SpanRecorder();
        using var h = TelemetryHarness.Create();
        using var operations = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.OperationsInstrument);
        var missing = "11111111-2222-3333-4444-555555555555";

        await Assert.ThrowsAsync<KmsNotFoundException>(() => h.Manager.Api().DescribeAsync(missing));

        var span = Assert.Single(spans.WithRequestId(h.RequestIdOf(KmsOperation.DescribeKey)));
        Assert.Equal("KMS DescribeKey", span.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(KmsErrorCodes.NotFound, span.StatusDescription);
        Assert.Equal("failure", Tag(span, EnvelopeKmsTelemetry.OutcomeTag));
        Assert.Equal(KmsErrorCodes.NotFound, Tag(span, EnvelopeKmsTelemetry.ErrorCodeTag));
        Assert.Equal(missing, Tag(span, EnvelopeKmsTelemetry.KeyIdTag));

        var count = Assert.Single(operations.GetMeasurementSnapshot());
        Assert.True(count.MatchesTags(
            new KeyValuePair<string, object?>(EnvelopeKmsTelemetry.OperationTag, "DescribeKey"),
            new KeyValuePair<string, object?>(EnvelopeKmsTelemetry.OutcomeTag, "failure"),
            new KeyValuePair<string, object?>(EnvelopeKmsTelemetry.ErrorTypeTag, KmsErrorCodes.NotFound)));
    }

    [Fact]
    public async Task A_denial_is_counted_as_a_denial_and_as_a_denied_operation()
    {
        using var spans = new SpanRecorder();
        using var h = TelemetryHarness.Create();
        using var operations = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.OperationsInstrument);
        using var denials = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.AuthorizationDenialsInstrument);
        var key = await h.Manager.Api().NewKeyAsync();

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => h.Manager.EncryptAsync(new EncryptRequest { Caller = new CallerIdentity(Kms.RoleArn), KeyId = key.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct));

        var denial = Assert.Single(denials.GetMeasurementSnapshot());
        Assert.Equal(1, denial.Value);
        Assert.Equal("Encrypt", denial.Tags[EnvelopeKmsTelemetry.OperationTag]);
        var denied = Assert.Single(operations.GetMeasurementSnapshot(), m => m.Tags[EnvelopeKmsTelemetry.OperationTag] as string == "Encrypt");
        Assert.Equal("denied", denied.Tags[EnvelopeKmsTelemetry.OutcomeTag]);
        Assert.Equal(KmsErrorCodes.AccessDenied, denied.Tags[EnvelopeKmsTelemetry.ErrorTypeTag]);
        var span = Assert.Single(spans.WithRequestId(h.RequestIdOf(KmsOperation.Encrypt)));
        Assert.Equal("denied", Tag(span, EnvelopeKmsTelemetry.OutcomeTag));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
    }

    [Fact]
    public async Task Rotations_are_counted_with_their_type_and_trigger()
    {
        using var spans = new SpanRecorder();
        using var h = TelemetryHarness.Create(o => o.MaxEncryptionsPerKeyMaterial = 5);
        using var rotations = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.KeyRotationsInstrument);
        var api = h.Manager.Api();
        var key = await api.NewKeyAsync();

        await api.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        await api.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 }, Kms.Ct);
        h.Clock.Advance(TimeSpan.FromDays(91));
        await api.DescribeAsync(key.KeyId); // Applies the due scheduled rotation.
        for (var i = 0; i < 6; i++)
        {
            await api.EncryptBlobAsync(key.KeyId, [1]); // The sixth passes the cap of five.
        }

        static (string?, string?) Of(Microsoft.Extensions.Diagnostics.Metrics.Testing.CollectedMeasurement<long> m)
            => (m.Tags[EnvelopeKmsTelemetry.RotationTypeTag] as string, m.Tags[EnvelopeKmsTelemetry.RotationTriggerTag] as string);
        Assert.Equal(
            [("ON_DEMAND", "request"), ("AUTOMATIC", "schedule"), ("AUTOMATIC", "usage")],
            rotations.GetMeasurementSnapshot().Select(Of).ToArray());

        // The automatic rotations have spans of their own (KMS RotateKey), with the request ids of their audit records.
        var automatic = h.Audit.Events.Where(e => e.Operation == KmsOperation.RotateKey).ToList();
        Assert.Equal(2, automatic.Count);
        Assert.All(automatic, e => Assert.Equal("KMS RotateKey", Assert.Single(spans.WithRequestId(e.RequestId)).DisplayName));
    }

    [Fact]
    public async Task A_purge_has_a_span_of_its_own_inside_the_request_that_found_the_key_expired()
    {
        using var spans = new SpanRecorder();
        using var h = TelemetryHarness.Create();
        var api = h.Manager.Api();
        var key = await api.NewKeyAsync();
        await api.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        h.Clock.Advance(TimeSpan.FromDays(8));

        await Assert.ThrowsAsync<KmsNotFoundException>(() => api.DescribeAsync(key.KeyId));

        var purge = Assert.Single(spans.WithRequestId(h.RequestIdOf(KmsOperation.DeleteExpiredKey)));
        var describe = Assert.Single(spans.WithRequestId(h.RequestIdOf(KmsOperation.DescribeKey)));
        Assert.Equal("KMS DeleteExpiredKey", purge.DisplayName);
        Assert.Equal("success", Tag(purge, EnvelopeKmsTelemetry.OutcomeTag));
        Assert.Equal(describe.SpanId, purge.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Error, describe.Status);
    }

    [Fact]
    public async Task Without_a_meter_factory_spans_are_still_recorded()
    {
        using var spans = new SpanRecorder();
        using var kms = new TestKeyManager();
        var key = await kms.Manager.Api().NewKeyAsync();

        var span = Assert.Single(spans.WithRequestId(Assert.Single(kms.Audit.Events).RequestId));

        Assert.Equal("KMS CreateKey", span.DisplayName);
        Assert.Equal(key.KeyId, Tag(span, EnvelopeKmsTelemetry.KeyIdTag));
    }

    [Fact]
    public async Task Data_key_cache_hits_and_misses_are_counted_per_direction()
    {
        using var h = TelemetryHarness.Create();
        using var hits = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.DataKeyCacheHitsInstrument);
        using var misses = new MetricCollector<long>(h.MeterFactory, EnvelopeKmsTelemetry.MeterName, EnvelopeKmsTelemetry.DataKeyCacheMissesInstrument);
        var encryptor = h.Services.GetRequiredService<EnvelopeKms.Envelope.IEnvelopeEncryptor>();
        var key = await h.Manager.Api().NewKeyAsync();
        var protector = encryptor.CreateProtector(key.KeyId, new Dictionary<string, string> { ["test"] = "cache" });

        var envelopes = Enumerable.Range(0, 3).Select(i => protector.Encrypt([(byte)i])).ToList();
        foreach (var envelope in envelopes)
        {
            protector.Decrypt(envelope);
        }

        hits.RecordObservableInstruments();
        misses.RecordObservableInstruments();
        long Last(MetricCollector<long> collector, string direction)
            => collector.GetMeasurementSnapshot().Last(m => m.Tags[EnvelopeKmsTelemetry.CacheDirectionTag] as string == direction).Value;
        var statistics = encryptor.CacheStatistics;
        Assert.Equal(2, Last(hits, "encrypt"));
        Assert.Equal(1, Last(misses, "encrypt"));
        Assert.Equal(statistics.DecryptHits, Last(hits, "decrypt"));
        Assert.Equal(statistics.DecryptMisses, Last(misses, "decrypt"));
        Assert.Equal(3, Last(hits, "decrypt") + Last(misses, "decrypt"));
        Assert.Equal("{message}", hits.Instrument!.Unit);
    }
}
