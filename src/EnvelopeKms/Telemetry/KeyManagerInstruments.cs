using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace EnvelopeKms.Telemetry;

/// <summary>
/// The key manager's instruments, created from an <see cref="IMeterFactory"/>; without one every
/// instrument is <see langword="null"/> and nothing is recorded. Recording allocates nothing: tag
/// values are cached strings and tags travel in a <see cref="TagList"/>.
/// </summary>
internal sealed class KeyManagerInstruments
{
    private static readonly string[] OperationNames = BuildOperationNames();
    private static readonly string[] SpanNames = [.. OperationNames.Select(n => n.Length == 0 ? "" : "KMS " + n)];

    private readonly Counter<long>? _operations;
    private readonly Histogram<double>? _duration;
    private readonly Counter<long>? _rotations;
    private readonly Counter<long>? _denials;

    public KeyManagerInstruments(IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            return;
        }

        var meter = meterFactory.Create(new MeterOptions(EnvelopeKmsTelemetry.MeterName) { Version = typeof(KeyManagerInstruments).Assembly.GetName().Version?.ToString() });
        _operations = meter.CreateCounter<long>(EnvelopeKmsTelemetry.OperationsInstrument, "{operation}", "Key-manager operations by operation and outcome.");
        _duration = meter.CreateHistogram<double>(
            EnvelopeKmsTelemetry.OperationDurationInstrument,
            "s",
            "Duration of key-manager operations.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _rotations = meter.CreateCounter<long>(EnvelopeKmsTelemetry.KeyRotationsInstrument, "{rotation}", "Key rotations by rotation type and trigger.");
        _denials = meter.CreateCounter<long>(EnvelopeKmsTelemetry.AuthorizationDenialsInstrument, "{denial}", "Requests denied by the authorizer, by operation.");
    }

    /// <summary>The operation's name as a tag value (the <see cref="KmsOperation"/> member name).</summary>
    public static string NameOf(KmsOperation operation)
        => (uint)operation < (uint)OperationNames.Length && OperationNames[(int)operation].Length > 0 ? OperationNames[(int)operation] : operation.ToString();

    /// <summary>The span name: <c>KMS &lt;operation&gt;</c>.</summary>
    public static string SpanNameOf(KmsOperation operation)
        => (uint)operation < (uint)SpanNames.Length && SpanNames[(int)operation].Length > 0 ? SpanNames[(int)operation] : "KMS " + operation;

    public static string OutcomeName(KmsOutcome outcome) => outcome switch
    {
        KmsOutcome.Success => "success",
        KmsOutcome.Denied => "denied",
        _ => "failure",
    };

    public void RecordOperation(KmsOperation operation, KmsOutcome outcome, string? errorType, TimeSpan elapsed)
    {
        if (_operations is null || _duration is null)
        {
            return;
        }

        var tags = new TagList
        {
            { EnvelopeKmsTelemetry.OperationTag, NameOf(operation) },
            { EnvelopeKmsTelemetry.OutcomeTag, OutcomeName(outcome) },
        };
        if (errorType is not null)
        {
            tags.Add(EnvelopeKmsTelemetry.ErrorTypeTag, errorType);
        }

        _operations.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
        if (outcome == KmsOutcome.Denied)
        {
            _denials?.Add(1, new KeyValuePair<string, object?>(EnvelopeKmsTelemetry.OperationTag, NameOf(operation)));
        }
    }

    public void RecordRotation(KeyRotationType type, KeyRotationTrigger trigger)
        => _rotations?.Add(
            1,
            new KeyValuePair<string, object?>(EnvelopeKmsTelemetry.RotationTypeTag, type == KeyRotationType.OnDemand ? "ON_DEMAND" : "AUTOMATIC"),
            new KeyValuePair<string, object?>(EnvelopeKmsTelemetry.RotationTriggerTag, trigger switch
            {
                KeyRotationTrigger.Schedule => "schedule",
                KeyRotationTrigger.Usage => "usage",
                _ => "request",
            }));

    private static string[] BuildOperationNames()
    {
        var values = Enum.GetValues<KmsOperation>();
        var names = new string[values.Max(v => (int)v) + 1];
        Array.Fill(names, "");
        foreach (var value in values)
        {
            names[(int)value] = value.ToString();
        }

        return names;
    }
}
