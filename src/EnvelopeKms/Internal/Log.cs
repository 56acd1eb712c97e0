using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Internal;

/// <summary>
/// The log messages of the package, source-generated. Event ids are stable and grouped by area
/// (the table is in <c>docs/telemetry.md</c>; a test keeps every id unique and inside its area's range):
/// 1000–1999 audit; 2000–2999 key stores and root keys (2100s SQLite, 2200s PostgreSQL);
/// 3000–3999 rotation, purge and maintenance; 4000–4999 envelope encryption and the data-key cache;
/// 5000–5999 telemetry and lifecycle events.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "KMS {Operation} succeeded: key {KeyId}, material {KeyMaterialId}, caller {Caller}, request {RequestId}, context {EncryptionContext}", EventName = "AuditSuccess")]
    public static partial void AuditSuccess(ILogger logger, string operation, string? keyId, string? keyMaterialId, string caller, string requestId, IReadOnlyDictionary<string, string>? encryptionContext);

    [LoggerMessage(1002, LogLevel.Warning, "KMS {Operation} {Outcome} with {ErrorCode}: key {KeyId}, caller {Caller}, request {RequestId}, context {EncryptionContext}", EventName = "AuditFailure")]
    public static partial void AuditFailure(ILogger logger, string operation, KmsOutcome outcome, string? errorCode, string? keyId, string caller, string requestId, IReadOnlyDictionary<string, string>? encryptionContext);

    [LoggerMessage(2001, LogLevel.Warning, "EnvelopeKms is using the in-memory key store: every key is lost when the process exits. Use PersistKeysToFileSystem or another durable store outside tests and demos.", EventName = "InMemoryKeyStore")]
    public static partial void InMemoryStore(ILogger logger);

    [LoggerMessage(2002, LogLevel.Warning, "Created a development root key at {Path} (owner-only permissions). Anyone who can read this file can read every key; supply the root key from a secret store in production.", EventName = "DevelopmentRootKeyCreated")]
    public static partial void CreatedDevelopmentRootKey(ILogger logger, string path);

    [LoggerMessage(3002, LogLevel.Information, "Purged key {KeyId}: its deletion waiting period ended at {DeletionDate}.", EventName = "KeyPurged")]
    public static partial void PurgedKey(ILogger logger, string keyId, DateTimeOffset deletionDate);

    [LoggerMessage(3003, LogLevel.Error, "Key {KeyId} reads as past its deletion date, but its stored record failed its integrity check; it was not purged and was left in place.", EventName = "UnauthenticRecordNotPurged")]
    public static partial void UnauthenticRecordNotPurged(ILogger logger, string keyId);

    [LoggerMessage(3001, LogLevel.Information, "Rotated key {KeyId}: material {KeyMaterialId} is current ({RotationType}).", EventName = "KeyRotated")]
    public static partial void RotatedKey(ILogger logger, string keyId, string keyMaterialId, string rotationType);

    [LoggerMessage(5001, LogLevel.Warning, "A subscriber of the key lifecycle events threw on {EventType} of key {KeyId} (request {RequestId}); the exception was ignored and the operation was not affected.", EventName = "LifecycleSubscriberFailed")]
    public static partial void LifecycleSubscriberFailed(ILogger logger, EnvelopeKms.Telemetry.KeyLifecycleEventType? eventType, string? keyId, string? requestId, Exception exception);

    [LoggerMessage(1003, LogLevel.Error, "The audit sink did not accept the record of {Operation} (request {RequestId}, key {KeyId}): {Reason}. AuditFailOpen is set, so the operation went ahead and the trail has a gap; the next accepted record counts the records lost.", EventName = "AuditRecordLost")]
    public static partial void AuditRecordLost(ILogger logger, string operation, string requestId, string? keyId, string reason, Exception exception);

    [LoggerMessage(1004, LogLevel.Warning, "EnvelopeKms is configured to fail open on audit failures (AuditFailOpen): operations complete even when their audit record is lost. Every record says so.", EventName = "AuditFailOpenConfigured")]
    public static partial void AuditFailOpenConfigured(ILogger logger);
}
