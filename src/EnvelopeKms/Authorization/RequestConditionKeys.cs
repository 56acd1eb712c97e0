using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Authorization;

/// <summary>
/// The request-parameter condition keys KMS defines, read from a request when a policy asks for one
/// (nothing is computed for requests whose policies never look).
/// </summary>
internal static class RequestConditionKeys
{
    public static ConditionValues Of(KmsRequest request, ConditionKeyKind kind)
    {
        try
        {
            return OfCore(request, kind);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A parameter that is not a known value: the operation's own validation reports it.
            return ConditionValues.Absent;
        }
    }

    private static ConditionValues OfCore(KmsRequest request, ConditionKeyKind kind) => (request, kind) switch
    {
        (EncryptRequest r, ConditionKeyKind.KmsEncryptionAlgorithm) => ConditionValues.Of(r.EncryptionAlgorithm.ToKmsName()),
        (DecryptRequest r, ConditionKeyKind.KmsEncryptionAlgorithm) => ConditionValues.Of(r.EncryptionAlgorithm.ToKmsName()),
        (ReEncryptRequest r, ConditionKeyKind.KmsEncryptionAlgorithm) => ConditionValues.Of(r.SourceEncryptionAlgorithm.ToKmsName()),
        (GenerateDataKeyRequest, ConditionKeyKind.KmsEncryptionAlgorithm) => ConditionValues.Of(EncryptionAlgorithm.SymmetricDefault.ToKmsName()),
        (GenerateDataKeyPairRequest, ConditionKeyKind.KmsEncryptionAlgorithm) => ConditionValues.Of(EncryptionAlgorithm.SymmetricDefault.ToKmsName()),
        (GenerateDataKeyPairRequest r, ConditionKeyKind.KmsDataKeyPairSpec) => ConditionValues.Of(r.KeyPairSpec.ToKmsName()),
        (SignRequest r, ConditionKeyKind.KmsSigningAlgorithm) => ConditionValues.Of(r.SigningAlgorithm.ToKmsName()),
        (SignRequest r, ConditionKeyKind.KmsMessageType) => ConditionValues.Of(r.MessageType.ToKmsName()),
        (VerifyRequest r, ConditionKeyKind.KmsSigningAlgorithm) => ConditionValues.Of(r.SigningAlgorithm.ToKmsName()),
        (VerifyRequest r, ConditionKeyKind.KmsMessageType) => ConditionValues.Of(r.MessageType.ToKmsName()),
        (GenerateMacRequest r, ConditionKeyKind.KmsMacAlgorithm) => ConditionValues.Of(r.MacAlgorithm.ToKmsName()),
        (VerifyMacRequest r, ConditionKeyKind.KmsMacAlgorithm) => ConditionValues.Of(r.MacAlgorithm.ToKmsName()),
        (DeriveSharedSecretRequest r, ConditionKeyKind.KmsKeyAgreementAlgorithm) => ConditionValues.Of(r.KeyAgreementAlgorithm.ToKmsName()),
        (CreateKeyRequest r, ConditionKeyKind.KmsKeySpec or ConditionKeyKind.KmsCustomerMasterKeySpec) => ConditionValues.Of(r.KeySpec.ToKmsName()),
        (CreateKeyRequest r, ConditionKeyKind.KmsKeyUsage or ConditionKeyKind.KmsCustomerMasterKeyUsage) => ConditionValues.Of(r.KeyUsage.ToKmsName()),
        (CreateKeyRequest r, ConditionKeyKind.KmsKeyOrigin) => ConditionValues.Of(r.Origin.ToKmsName()),
        (CreateKeyRequest r, ConditionKeyKind.KmsMultiRegion) => ConditionValues.Of(r.MultiRegion),
        (ReplicateKeyRequest { ReplicaRegion: { } replicaRegion }, ConditionKeyKind.KmsReplicaRegion) => ConditionValues.Of(replicaRegion),
        (UpdatePrimaryRegionRequest { PrimaryRegion: { } primaryRegion }, ConditionKeyKind.KmsPrimaryRegion) => ConditionValues.Of(primaryRegion),
        (CreateKeyRequest r, ConditionKeyKind.KmsBypassPolicyLockoutSafetyCheck) => ConditionValues.Of(r.BypassPolicyLockoutSafetyCheck),
        (PutKeyPolicyRequest r, ConditionKeyKind.KmsBypassPolicyLockoutSafetyCheck) => ConditionValues.Of(r.BypassPolicyLockoutSafetyCheck),
        (EnableKeyRotationRequest { RotationPeriodInDays: { } days }, ConditionKeyKind.KmsRotationPeriodInDays) => ConditionValues.Of(days),
        (ScheduleKeyDeletionRequest r, ConditionKeyKind.KmsScheduleKeyDeletionPendingWindowInDays) => ConditionValues.Of(r.PendingWindowInDays ?? 30),
        (CreateGrantRequest, ConditionKeyKind.KmsGrantIsForAwsResource) => ConditionValues.Of(false),
        (CreateGrantRequest { Operations: { } operations }, ConditionKeyKind.KmsGrantOperations) => ConditionValues.Of([.. operations.Select(o => o.ToString())]),
        (CreateGrantRequest { GranteePrincipal: { } grantee }, ConditionKeyKind.KmsGranteePrincipal) => ConditionValues.Of(grantee),
        (CreateGrantRequest { RetiringPrincipal: { } retiring }, ConditionKeyKind.KmsRetiringPrincipal) => ConditionValues.Of(retiring),
        (CreateGrantRequest { Constraints: { } constraints }, ConditionKeyKind.KmsGrantConstraintType) => ConstraintTypes(constraints),
        _ => ConditionValues.Absent,
    };

    private static ConditionValues ConstraintTypes(GrantConstraints constraints)
    {
        var types = new List<string>(2);
        if (constraints.EncryptionContextEquals is not null)
        {
            types.Add("EncryptionContextEquals");
        }

        if (constraints.EncryptionContextSubset is not null)
        {
            types.Add("EncryptionContextSubset");
        }

        return types.Count > 0 ? ConditionValues.Of(types) : ConditionValues.Absent;
    }
}
