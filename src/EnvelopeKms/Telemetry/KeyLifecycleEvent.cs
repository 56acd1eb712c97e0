namespace EnvelopeKms.Telemetry;

/// <summary>What happened to a key (the EventBridge "KMS" event types, and the key-manager operations that change a key's life).</summary>
public enum KeyLifecycleEventType
{
    /// <summary><c>CreateKey</c> succeeded.</summary>
    KeyCreated = 1,
    /// <summary>A new current key material: automatically (schedule or usage cap) or on demand; see <see cref="KeyLifecycleEvent.RotationType"/> and <see cref="KeyLifecycleEvent.RotationTrigger"/>.</summary>
    KeyRotated,
    /// <summary><c>DisableKey</c> succeeded.</summary>
    KeyDisabled,
    /// <summary><c>EnableKey</c> succeeded.</summary>
    KeyEnabled,
    /// <summary><c>ScheduleKeyDeletion</c> succeeded; see <see cref="KeyLifecycleEvent.DeletionDate"/>.</summary>
    KeyDeletionScheduled,
    /// <summary><c>CancelKeyDeletion</c> succeeded.</summary>
    KeyDeletionCanceled,
    /// <summary>The key was purged after its deletion waiting period ended (KMS's "KMS CMK Deletion").</summary>
    KeyDeleted,
    /// <summary>
    /// Imported key material expires within 7 days (<see cref="KeyLifecycleEvent.ValidTo"/>): raised once
    /// per material and key manager instance by the maintenance pass
    /// (<see cref="IKeyManager.ExpireImportedKeyMaterialAsync"/>, run by <c>AddKeyMaintenanceService</c>),
    /// so that the material can be re-imported with a later <c>ValidTo</c> in time. Nothing changed, so
    /// there is no audit record: its <see cref="KeyLifecycleEvent.RequestId"/> is its own.
    /// </summary>
    ImportedMaterialExpiring,
    /// <summary>Imported key material reached its <c>ValidTo</c> and was deleted (CloudTrail's <c>DeleteExpiredKeyMaterial</c>); the key needs a re-import.</summary>
    ImportedMaterialExpired,
}

/// <summary>What started a rotation.</summary>
public enum KeyRotationTrigger
{
    /// <summary>The key's rotation period ended.</summary>
    Schedule = 1,
    /// <summary>The current material reached <see cref="EnvelopeKmsOptions.MaxEncryptionsPerKeyMaterial"/> encryptions.</summary>
    Usage,
    /// <summary><c>RotateKeyOnDemand</c>.</summary>
    Request,
}

/// <summary>
/// A change in a key's life, raised after the change is stored and its audit record written. Carries
/// ids, dates and the request id of the audit record; never key material or an encryption context.
/// </summary>
public sealed record KeyLifecycleEvent
{
    /// <summary>What happened.</summary>
    public required KeyLifecycleEventType Type { get; init; }

    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }

    /// <summary>The key ARN.</summary>
    public required string KeyArn { get; init; }

    /// <summary>When the change was stored (the key manager's clock).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The request id of the audit record that recorded the change.</summary>
    public required string RequestId { get; init; }

    /// <summary>The key material made current (<see cref="KeyLifecycleEventType.KeyCreated"/>, <see cref="KeyLifecycleEventType.KeyRotated"/>), when there is one.</summary>
    public string? KeyMaterialId { get; init; }

    /// <summary>For <see cref="KeyLifecycleEventType.KeyRotated"/>: <see cref="KeyRotationType.Automatic"/> or <see cref="KeyRotationType.OnDemand"/>.</summary>
    public KeyRotationType? RotationType { get; init; }

    /// <summary>For <see cref="KeyLifecycleEventType.KeyRotated"/>: what started the rotation.</summary>
    public KeyRotationTrigger? RotationTrigger { get; init; }

    /// <summary>For <see cref="KeyLifecycleEventType.KeyDeletionScheduled"/> and <see cref="KeyLifecycleEventType.KeyDeleted"/>: the deletion date.</summary>
    public DateTimeOffset? DeletionDate { get; init; }

    /// <summary>For <see cref="KeyLifecycleEventType.ImportedMaterialExpiring"/>: when the imported material (<see cref="KeyMaterialId"/>) expires.</summary>
    public DateTimeOffset? ValidTo { get; init; }
}
