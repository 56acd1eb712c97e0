namespace EnvelopeKms;

/// <summary>The operations of the key manager, named as in AWS KMS.</summary>
public enum KmsOperation
{
    /// <summary><c>CreateKey</c>.</summary>
    CreateKey = 1,
    /// <summary><c>DescribeKey</c>.</summary>
    DescribeKey,
    /// <summary><c>ListKeys</c>.</summary>
    ListKeys,
    /// <summary><c>UpdateKeyDescription</c>.</summary>
    UpdateKeyDescription,
    /// <summary><c>EnableKey</c>.</summary>
    EnableKey,
    /// <summary><c>DisableKey</c>.</summary>
    DisableKey,
    /// <summary><c>ScheduleKeyDeletion</c>.</summary>
    ScheduleKeyDeletion,
    /// <summary><c>CancelKeyDeletion</c>.</summary>
    CancelKeyDeletion,
    /// <summary><c>CreateAlias</c>.</summary>
    CreateAlias,
    /// <summary><c>UpdateAlias</c>.</summary>
    UpdateAlias,
    /// <summary><c>DeleteAlias</c>.</summary>
    DeleteAlias,
    /// <summary><c>ListAliases</c>.</summary>
    ListAliases,
    /// <summary><c>TagResource</c>.</summary>
    TagResource,
    /// <summary><c>UntagResource</c>.</summary>
    UntagResource,
    /// <summary><c>ListResourceTags</c>.</summary>
    ListResourceTags,
    /// <summary><c>Encrypt</c>.</summary>
    Encrypt,
    /// <summary><c>Decrypt</c>.</summary>
    Decrypt,
    /// <summary><c>ReEncrypt</c> on the source key (the <c>kms:ReEncryptFrom</c> permission).</summary>
    ReEncryptFrom,
    /// <summary><c>ReEncrypt</c> on the destination key (the <c>kms:ReEncryptTo</c> permission).</summary>
    ReEncryptTo,
    /// <summary><c>GenerateDataKey</c>.</summary>
    GenerateDataKey,
    /// <summary><c>GenerateDataKeyWithoutPlaintext</c>.</summary>
    GenerateDataKeyWithoutPlaintext,
    /// <summary><c>GenerateRandom</c>.</summary>
    GenerateRandom,
    /// <summary>The purge of a key whose deletion waiting period has passed (no KMS API; recorded in the audit trail).</summary>
    DeleteExpiredKey,
    /// <summary><c>GenerateMac</c>.</summary>
    GenerateMac,
    /// <summary><c>VerifyMac</c>.</summary>
    VerifyMac,
    /// <summary><c>Sign</c>.</summary>
    Sign,
    /// <summary><c>Verify</c>.</summary>
    Verify,
    /// <summary><c>GetPublicKey</c>.</summary>
    GetPublicKey,
    /// <summary><c>DeriveSharedSecret</c>.</summary>
    DeriveSharedSecret,
    /// <summary><c>Decapsulate</c> (ML-KEM).</summary>
    Decapsulate,
    /// <summary><c>Encapsulate</c> (ML-KEM, with the key's public key).</summary>
    Encapsulate,
    /// <summary><c>GenerateDataKeyPair</c>.</summary>
    GenerateDataKeyPair,
    /// <summary><c>GenerateDataKeyPairWithoutPlaintext</c>.</summary>
    GenerateDataKeyPairWithoutPlaintext,
    /// <summary><c>EnableKeyRotation</c>.</summary>
    EnableKeyRotation,
    /// <summary><c>DisableKeyRotation</c>.</summary>
    DisableKeyRotation,
    /// <summary><c>GetKeyRotationStatus</c>.</summary>
    GetKeyRotationStatus,
    /// <summary><c>RotateKeyOnDemand</c>.</summary>
    RotateKeyOnDemand,
    /// <summary><c>ListKeyRotations</c>.</summary>
    ListKeyRotations,
    /// <summary>An automatic rotation: by schedule or by the encryption-count cap (no KMS API; AWS records it as <c>RotateKey</c>).</summary>
    RotateKey,
    /// <summary><c>PutKeyPolicy</c>.</summary>
    PutKeyPolicy,
    /// <summary><c>GetKeyPolicy</c>.</summary>
    GetKeyPolicy,
    /// <summary><c>ListKeyPolicies</c>.</summary>
    ListKeyPolicies,
    /// <summary><c>CreateGrant</c>.</summary>
    CreateGrant,
    /// <summary><c>ListGrants</c>.</summary>
    ListGrants,
    /// <summary><c>ListRetirableGrants</c>.</summary>
    ListRetirableGrants,
    /// <summary><c>RetireGrant</c>.</summary>
    RetireGrant,
    /// <summary><c>RevokeGrant</c>.</summary>
    RevokeGrant,
    /// <summary>EnvelopeKms's simulate call (no KMS API): explains how a request would be authorized; needs <c>kms:GetKeyPolicy</c>.</summary>
    SimulateAuthorization,
    /// <summary>EnvelopeKms's <c>GetKeyLastUsage</c> (no KMS API): the last operation and cryptographic operation on a key; needs <c>kms:GetKeyLastUsage</c>.</summary>
    GetKeyLastUsage,
    /// <summary>EnvelopeKms's <c>GetUsageReport</c> (no KMS API): request counts and their price on AWS KMS over a period; on no key, needs <c>kms:GetUsageReport</c>.</summary>
    GetUsageReport,
    /// <summary><c>GetParametersForImport</c>: a wrapping public key and import token for an <c>EXTERNAL</c> key.</summary>
    GetParametersForImport,
    /// <summary><c>ImportKeyMaterial</c>.</summary>
    ImportKeyMaterial,
    /// <summary><c>DeleteImportedKeyMaterial</c>.</summary>
    DeleteImportedKeyMaterial,
    /// <summary>The key manager deleted imported key material whose <c>ValidTo</c> passed (CloudTrail's <c>DeleteExpiredKeyMaterial</c> service event); not a request.</summary>
    DeleteExpiredKeyMaterial,
    /// <summary><c>ReplicateKey</c>: copies a multi-Region primary key into another Region.</summary>
    ReplicateKey,
    /// <summary><c>UpdatePrimaryRegion</c>: makes a replica of a multi-Region key the primary key.</summary>
    UpdatePrimaryRegion,
    /// <summary><c>CreateCustomKeyStore</c>.</summary>
    CreateCustomKeyStore,
    /// <summary><c>ConnectCustomKeyStore</c>.</summary>
    ConnectCustomKeyStore,
    /// <summary><c>DisconnectCustomKeyStore</c>.</summary>
    DisconnectCustomKeyStore,
    /// <summary><c>DescribeCustomKeyStores</c>.</summary>
    DescribeCustomKeyStores,
    /// <summary><c>UpdateCustomKeyStore</c>.</summary>
    UpdateCustomKeyStore,
    /// <summary><c>DeleteCustomKeyStore</c>.</summary>
    DeleteCustomKeyStore,
}

/// <summary>Describes a change to a key that caches of its data keys must honour.</summary>
public sealed class KeyChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public KeyChangedEventArgs(string? keyId, string? aliasName, KmsOperation? operation)
    {
        KeyId = keyId;
        AliasName = aliasName;
        Operation = operation;
    }

    /// <summary>The id of the key that changed, when known.</summary>
    public string? KeyId { get; }

    /// <summary>The alias that was moved or deleted, for alias operations.</summary>
    public string? AliasName { get; }

    /// <summary>
    /// The operation of this key manager that made the change, or <see langword="null"/> for a change
    /// the key store reported (made by another instance sharing the store).
    /// </summary>
    public KmsOperation? Operation { get; }

    /// <summary>Whether anything may have changed: the key store lost track of changes, so every cache entry is suspect.</summary>
    public bool IsReset => KeyId is null && AliasName is null;
}
