using System.Diagnostics;

namespace EnvelopeKms.Telemetry;

/// <summary>
/// The names under which EnvelopeKms reports traces and metrics, for OpenTelemetry configuration
/// (<c>AddSource(EnvelopeKmsTelemetry.ActivitySourceName)</c>, <c>AddMeter(EnvelopeKmsTelemetry.MeterName)</c>).
/// See <c>docs/telemetry.md</c> for each span, instrument and tag.
/// </summary>
public static class EnvelopeKmsTelemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/>: one span per key-manager operation.</summary>
    public const string ActivitySourceName = "EnvelopeKms";

    /// <summary>The name of the meter created from the container's <c>IMeterFactory</c>.</summary>
    public const string MeterName = "EnvelopeKms";

    /// <summary>Counter <c>{operation}</c>: key-manager operations, tagged <see cref="OperationTag"/>, <see cref="OutcomeTag"/> and, on failures, <see cref="ErrorTypeTag"/>.</summary>
    public const string OperationsInstrument = "envelopekms.operations";

    /// <summary>Histogram in seconds: the duration of key-manager operations, tagged as <see cref="OperationsInstrument"/>.</summary>
    public const string OperationDurationInstrument = "envelopekms.operation.duration";

    /// <summary>Observable counter <c>{message}</c>: envelope messages served by a cached data key, tagged <see cref="CacheDirectionTag"/>.</summary>
    public const string DataKeyCacheHitsInstrument = "envelopekms.data_key_cache.hits";

    /// <summary>Observable counter <c>{data_key}</c>: data keys the envelope encryptor had to ask the key manager for, tagged <see cref="CacheDirectionTag"/>.</summary>
    public const string DataKeyCacheMissesInstrument = "envelopekms.data_key_cache.misses";

    /// <summary>Counter <c>{rotation}</c>: key rotations, tagged <see cref="RotationTypeTag"/> and <see cref="RotationTriggerTag"/>.</summary>
    public const string KeyRotationsInstrument = "envelopekms.key.rotations";

    /// <summary>Counter <c>{denial}</c>: requests the authorizer denied, tagged <see cref="OperationTag"/>.</summary>
    public const string AuthorizationDenialsInstrument = "envelopekms.authorization.denials";

    /// <summary>Tag: the operation, named as <see cref="KmsOperation"/> (for example <c>Encrypt</c>).</summary>
    public const string OperationTag = "kms.operation";

    /// <summary>Tag: <c>success</c>, <c>failure</c> or <c>denied</c>.</summary>
    public const string OutcomeTag = "kms.outcome";

    /// <summary>Tag (OpenTelemetry's <c>error.type</c>): the KMS error code of a failed operation (for example <c>NotFoundException</c>).</summary>
    public const string ErrorTypeTag = "error.type";

    /// <summary>Span tag: the KMS error code of a failed operation.</summary>
    public const string ErrorCodeTag = "kms.error_code";

    /// <summary>Span tag: the key id (never an encryption context or any secret).</summary>
    public const string KeyIdTag = "kms.key_id";

    /// <summary>Span tag: the key material id, where the operation used or made one.</summary>
    public const string KeyMaterialIdTag = "kms.key_material_id";

    /// <summary>Span tag: the request id, the same as in the audit record.</summary>
    public const string RequestIdTag = "kms.request_id";

    /// <summary>Tag: <c>AUTOMATIC</c> or <c>ON_DEMAND</c>, as <c>ListKeyRotations</c> reports it.</summary>
    public const string RotationTypeTag = "kms.rotation.type";

    /// <summary>Tag: what started a rotation: <c>schedule</c>, <c>usage</c> or <c>request</c>.</summary>
    public const string RotationTriggerTag = "kms.rotation.trigger";

    /// <summary>Tag: <c>encrypt</c> or <c>decrypt</c>, the data-key cache side.</summary>
    public const string CacheDirectionTag = "kms.cache.direction";

    /// <summary>The source of the spans; it reports only while an <see cref="ActivityListener"/> listens.</summary>
    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName, typeof(EnvelopeKmsTelemetry).Assembly.GetName().Version?.ToString());
}
