using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Internal;

/// <summary>Every log message of the package, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "KMS {Operation} succeeded: key {KeyId}, material {KeyMaterialId}, caller {Caller}, request {RequestId}, context {EncryptionContext}")]
    public static partial void AuditSuccess(ILogger logger, string operation, string? keyId, string? keyMaterialId, string caller, string requestId, IReadOnlyDictionary<string, string>? encryptionContext);

    [LoggerMessage(2, LogLevel.Warning, "KMS {Operation} {Outcome} with {ErrorCode}: key {KeyId}, caller {Caller}, request {RequestId}, context {EncryptionContext}")]
    public static partial void AuditFailure(ILogger logger, string operation, KmsOutcome outcome, string? errorCode, string? keyId, string caller, string requestId, IReadOnlyDictionary<string, string>? encryptionContext);

    [LoggerMessage(3, LogLevel.Warning, "EnvelopeKms is using the in-memory key store: every key is lost when the process exits. Use PersistKeysToFileSystem or another durable store outside tests and demos.")]
    public static partial void InMemoryStore(ILogger logger);

    [LoggerMessage(4, LogLevel.Warning, "Created a development root key at {Path} (owner-only permissions). Anyone who can read this file can read every key; supply the root key from a secret store in production.")]
    public static partial void CreatedDevelopmentRootKey(ILogger logger, string path);

    [LoggerMessage(5, LogLevel.Information, "Purged key {KeyId}: its deletion waiting period ended at {DeletionDate}.")]
    public static partial void PurgedKey(ILogger logger, string keyId, DateTimeOffset deletionDate);

    [LoggerMessage(6, LogLevel.Error, "Key {KeyId} reads as past its deletion date, but its stored record failed its integrity check; it was not purged and was left in place.")]
    public static partial void UnauthenticRecordNotPurged(ILogger logger, string keyId);

    [LoggerMessage(7, LogLevel.Information, "Rotated key {KeyId}: material {KeyMaterialId} is current ({RotationType}).")]
    public static partial void RotatedKey(ILogger logger, string keyId, string keyMaterialId, string rotationType);

    [LoggerMessage(8, LogLevel.Error, "The audit sink did not accept the record of {Operation} (request {RequestId}, key {KeyId}): {Reason}. AuditFailOpen is set, so the operation went ahead and the trail has a gap; the next accepted record counts the records lost.")]
    public static partial void AuditRecordLost(ILogger logger, string operation, string requestId, string? keyId, string reason, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "EnvelopeKms is configured to fail open on audit failures (AuditFailOpen): operations complete even when their audit record is lost. Every record says so.")]
    public static partial void AuditFailOpenConfigured(ILogger logger);
}
