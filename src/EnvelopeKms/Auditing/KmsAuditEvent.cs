using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Auditing;

/// <summary>
/// One audit record: written for every operation, whatever its outcome. It never holds plaintext,
/// data keys or key material; the encryption context is recorded because, as in AWS KMS, it is not
/// secret (it is the caller's authenticated, non-secret description of the data).
/// </summary>
public sealed record KmsAuditEvent
{
    /// <summary>A unique id for the request.</summary>
    public required string RequestId { get; init; }
    /// <summary>When the operation finished.</summary>
    public required DateTimeOffset EventTime { get; init; }
    /// <summary>The operation.</summary>
    public required KmsOperation Operation { get; init; }
    /// <summary>
    /// The CloudTrail <c>eventName</c>: the AWS KMS operation name (<c>ReEncrypt</c> for both halves of a
    /// re-encryption, <c>DeleteKey</c> for the purge of a key whose waiting period ended).
    /// </summary>
    public string EventName => AuditEventNames.Of(Operation);
    /// <summary>
    /// The CloudTrail <c>eventType</c>: <c>AwsApiCall</c> for a caller's request, <c>AwsServiceEvent</c> for
    /// what the key manager did by itself (automatic rotation, the purge of a key).
    /// </summary>
    public string EventType => AuditEventNames.IsServiceEvent(Operation) ? "AwsServiceEvent" : "AwsApiCall";
    /// <summary>The caller's principal ARN.</summary>
    public required string Caller { get; init; }
    /// <summary>The outcome.</summary>
    public required KmsOutcome Outcome { get; init; }
    /// <summary>The key id the operation resolved to, when it got that far.</summary>
    public string? KeyId { get; init; }
    /// <summary>The key material used, for cryptographic operations.</summary>
    public string? KeyMaterialId { get; init; }
    /// <summary>For <c>ReEncrypt</c>, the destination key id.</summary>
    public string? DestinationKeyId { get; init; }
    /// <summary>The alias named in the request, when an alias was used.</summary>
    public string? AliasName { get; init; }
    /// <summary>The error code of a failure or denial.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>
    /// The parameters of the request as CloudTrail's <c>requestParameters</c>: a JSON object with the
    /// parameters the caller gave in camelCase, enumerations by their AWS KMS names. Secrets never appear:
    /// binary parameters (plaintext, messages, ciphertext, signatures, public keys), grant tokens and the
    /// caller are left out by rule; the encryption context has its own field.
    /// </summary>
    public System.Text.Json.JsonElement? RequestParameters
    {
        get
        {
            if (_parameters is { } computed)
            {
                return computed.Value;
            }

            // Taken from the request on first read, so that sinks that never read them (the default
            // ILogger sink) do not pay for the serialization on every call.
            var parameters = new ParametersHolder(AuditRequestParameters.Of(SourceRequest));
            return (Interlocked.CompareExchange(ref _parameters, parameters, null) ?? parameters).Value;
        }

        init => _parameters = new ParametersHolder(value);
    }

    /// <summary>The request the parameters are taken from when <see cref="RequestParameters"/> was not given.</summary>
    internal KmsRequest? SourceRequest { get; init; }

    private ParametersHolder? _parameters;
    /// <summary>The grant that allowed the operation, when a grant did.</summary>
    public string? GrantId { get; init; }
    /// <summary>
    /// Set on every record of a key manager configured to fail open
    /// (<see cref="EnvelopeKmsOptions.AuditFailOpen"/>), so that the choice is itself on the trail.
    /// </summary>
    public bool AuditFailOpen { get; init; }
    /// <summary>
    /// How many records the sink failed to accept (fail-open only) since the previous record it did
    /// accept: the trail says where it has a gap and how large it is.
    /// </summary>
    public long RecordsLost { get; init; }
    /// <summary>The encryption context of the request.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>A one-line summary of the authorization decision.</summary>
    public string? AuthorizationSummary { get; init; }
    /// <summary>When the request named a verified <c>Recipient</c>: the attested module id (as CloudTrail's <c>attestationDocumentModuleId</c>).</summary>
    public string? RecipientModuleId { get; init; }
    /// <summary>When the request named a verified <c>Recipient</c>: its image digest, PCR0, as lowercase hex (as CloudTrail's <c>attestationDocumentEnclaveImageDigest</c>).</summary>
    public string? RecipientImageSha384 { get; init; }
}

/// <summary>
/// Receives audit events. The key manager awaits every write, with a timeout
/// (<see cref="EnvelopeKmsOptions.AuditWriteTimeout"/>) whose expiry cancels the token passed in. A sink
/// that keeps events to process later should read <see cref="KmsAuditEvent.RequestParameters"/> during
/// the write: they are taken from the caller's request object when first read.
/// </summary>
public interface IKmsAuditSink
{
    /// <summary>Records one event.</summary>
    ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken);
}

/// <summary>The default sink: one structured <see cref="ILogger"/> entry per event, category <c>EnvelopeKms.Audit</c>.</summary>
public sealed class LoggerAuditSink : IKmsAuditSink
{
    private readonly ILogger _logger;

    /// <summary>Creates the sink.</summary>
    public LoggerAuditSink(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _logger = loggerFactory.CreateLogger("EnvelopeKms.Audit");
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        if (auditEvent.Outcome == KmsOutcome.Success)
        {
            Internal.Log.AuditSuccess(_logger, auditEvent.EventName, auditEvent.KeyId, auditEvent.KeyMaterialId, auditEvent.Caller,
                auditEvent.RequestId, auditEvent.EncryptionContext);
        }
        else
        {
            Internal.Log.AuditFailure(_logger, auditEvent.EventName, auditEvent.Outcome, auditEvent.ErrorCode, auditEvent.KeyId, auditEvent.Caller,
                auditEvent.RequestId, auditEvent.EncryptionContext);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>CloudTrail's names for the operations.</summary>
internal static class AuditEventNames
{
    /// <summary>The <c>eventName</c> of an operation.</summary>
    public static string Of(KmsOperation operation) => operation switch
    {
        KmsOperation.ReEncryptFrom or KmsOperation.ReEncryptTo => "ReEncrypt",
        KmsOperation.DeleteExpiredKey => "DeleteKey",
        _ => operation.ToString(),
    };

    /// <summary>The operation of a record's <c>eventName</c> (the inverse of <see cref="Of"/>; <c>ReEncrypt</c> reads as its source half).</summary>
    public static bool TryParse(string? eventName, out KmsOperation operation)
    {
        switch (eventName)
        {
            case "ReEncrypt":
                operation = KmsOperation.ReEncryptFrom;
                return true;
            case "DeleteKey":
                operation = KmsOperation.DeleteExpiredKey;
                return true;
            default:
                return Enum.TryParse(eventName, ignoreCase: false, out operation) && Enum.IsDefined(operation) && !int.TryParse(eventName, out _);
        }
    }

    /// <summary>Whether the key manager did it by itself rather than for a caller's request.</summary>
    public static bool IsServiceEvent(KmsOperation operation) => operation is KmsOperation.RotateKey or KmsOperation.DeleteExpiredKey or KmsOperation.DeleteExpiredKeyMaterial;
}

/// <summary>Holds computed request parameters, so that a record publishes them with one reference write.</summary>
internal sealed record ParametersHolder(System.Text.Json.JsonElement? Value);
