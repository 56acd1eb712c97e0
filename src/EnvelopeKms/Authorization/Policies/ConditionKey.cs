using System.Collections.Frozen;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>
/// The condition keys the engine knows by name. A key policy may use any other key too (<see cref="Other"/>): the request
/// is then asked for it by name. Each member names the key it stands for.
/// </summary>
public enum ConditionKeyKind
{
    /// <summary>A key the engine does not know; <see cref="ConditionKey.Name"/> is the key as written.</summary>
    Other,
    /// <summary><c>kms:EncryptionContext:&lt;context-key&gt;</c>; the qualifier is the context key.</summary>
    KmsEncryptionContext,
    /// <summary><c>kms:EncryptionContextKeys</c> (multi-valued).</summary>
    KmsEncryptionContextKeys,
    /// <summary><c>kms:CallerAccount</c>.</summary>
    KmsCallerAccount,
    /// <summary><c>kms:EncryptionAlgorithm</c>.</summary>
    KmsEncryptionAlgorithm,
    /// <summary><c>kms:SigningAlgorithm</c>.</summary>
    KmsSigningAlgorithm,
    /// <summary><c>kms:MacAlgorithm</c>.</summary>
    KmsMacAlgorithm,
    /// <summary><c>kms:KeySpec</c>.</summary>
    KmsKeySpec,
    /// <summary><c>kms:KeyUsage</c>.</summary>
    KmsKeyUsage,
    /// <summary><c>kms:KeyOrigin</c>.</summary>
    KmsKeyOrigin,
    /// <summary><c>kms:MessageType</c>.</summary>
    KmsMessageType,
    /// <summary><c>kms:DataKeyPairSpec</c>.</summary>
    KmsDataKeyPairSpec,
    /// <summary><c>kms:GrantOperations</c> (multi-valued).</summary>
    KmsGrantOperations,
    /// <summary><c>kms:GranteePrincipal</c>.</summary>
    KmsGranteePrincipal,
    /// <summary><c>kms:RetiringPrincipal</c>.</summary>
    KmsRetiringPrincipal,
    /// <summary><c>kms:GrantIsForAWSResource</c>.</summary>
    KmsGrantIsForAwsResource,
    /// <summary><c>kms:GrantConstraintType</c>.</summary>
    KmsGrantConstraintType,
    /// <summary><c>kms:RequestAlias</c>.</summary>
    KmsRequestAlias,
    /// <summary><c>kms:ResourceAliases</c> (multi-valued).</summary>
    KmsResourceAliases,
    /// <summary><c>kms:RotationPeriodInDays</c>.</summary>
    KmsRotationPeriodInDays,
    /// <summary><c>kms:ScheduleKeyDeletionPendingWindowInDays</c>.</summary>
    KmsScheduleKeyDeletionPendingWindowInDays,
    /// <summary><c>kms:ReEncryptOnSameKey</c>.</summary>
    KmsReEncryptOnSameKey,
    /// <summary><c>kms:BypassPolicyLockoutSafetyCheck</c>.</summary>
    KmsBypassPolicyLockoutSafetyCheck,
    /// <summary><c>kms:RecipientAttestation:ImageSha384</c>.</summary>
    KmsRecipientAttestationImageSha384,
    /// <summary><c>kms:RecipientAttestation:PCR&lt;n&gt;</c>; the qualifier is the PCR number as written (digits).</summary>
    KmsRecipientAttestationPcr,
    /// <summary><c>kms:ViaService</c>.</summary>
    KmsViaService,
    /// <summary><c>kms:MultiRegion</c>.</summary>
    KmsMultiRegion,
    /// <summary><c>kms:MultiRegionKeyType</c>.</summary>
    KmsMultiRegionKeyType,
    /// <summary><c>kms:ReplicaRegion</c>.</summary>
    KmsReplicaRegion,
    /// <summary><c>kms:PrimaryRegion</c>.</summary>
    KmsPrimaryRegion,
    /// <summary><c>kms:CustomerMasterKeySpec</c> (deprecated alias of <c>kms:KeySpec</c>).</summary>
    KmsCustomerMasterKeySpec,
    /// <summary><c>kms:CustomerMasterKeyUsage</c> (deprecated alias of <c>kms:KeyUsage</c>).</summary>
    KmsCustomerMasterKeyUsage,
    /// <summary><c>kms:WrappingAlgorithm</c>.</summary>
    KmsWrappingAlgorithm,
    /// <summary><c>kms:WrappingKeySpec</c>.</summary>
    KmsWrappingKeySpec,
    /// <summary><c>kms:ExpirationModel</c>.</summary>
    KmsExpirationModel,
    /// <summary><c>kms:ValidTo</c>.</summary>
    KmsValidTo,
    /// <summary><c>kms:KeyAgreementAlgorithm</c>.</summary>
    KmsKeyAgreementAlgorithm,
    /// <summary><c>aws:PrincipalArn</c>.</summary>
    AwsPrincipalArn,
    /// <summary><c>aws:PrincipalAccount</c>.</summary>
    AwsPrincipalAccount,
    /// <summary><c>aws:PrincipalTag/&lt;tag-key&gt;</c>; the qualifier is the tag key.</summary>
    AwsPrincipalTag,
    /// <summary><c>aws:ResourceTag/&lt;tag-key&gt;</c>; the qualifier is the tag key.</summary>
    AwsResourceTag,
    /// <summary><c>aws:RequestTag/&lt;tag-key&gt;</c>; the qualifier is the tag key.</summary>
    AwsRequestTag,
    /// <summary><c>aws:TagKeys</c> (multi-valued).</summary>
    AwsTagKeys,
    /// <summary><c>aws:CurrentTime</c>.</summary>
    AwsCurrentTime,
    /// <summary><c>aws:EpochTime</c>.</summary>
    AwsEpochTime,
    /// <summary><c>aws:SourceIp</c>.</summary>
    AwsSourceIp,
    /// <summary><c>aws:PrincipalType</c>.</summary>
    AwsPrincipalType,
    /// <summary><c>aws:userid</c>.</summary>
    AwsUserId,
    /// <summary><c>aws:username</c>.</summary>
    AwsUserName,
    /// <summary><c>aws:SecureTransport</c>.</summary>
    AwsSecureTransport,
    /// <summary><c>aws:ViaAWSService</c>.</summary>
    AwsViaAwsService,
    /// <summary><c>aws:CalledVia</c> (multi-valued).</summary>
    AwsCalledVia,
    /// <summary><c>aws:SourceVpce</c>.</summary>
    AwsSourceVpce,
    /// <summary><c>aws:SourceAccount</c>.</summary>
    AwsSourceAccount,
    /// <summary><c>aws:SourceArn</c>.</summary>
    AwsSourceArn,
    /// <summary><c>aws:RequestedRegion</c>.</summary>
    AwsRequestedRegion,
    /// <summary><c>aws:PrincipalIsAWSService</c>.</summary>
    AwsPrincipalIsAwsService,
    /// <summary><c>aws:PrincipalServiceName</c>.</summary>
    AwsPrincipalServiceName,
    /// <summary><c>aws:PrincipalOrgID</c>.</summary>
    AwsPrincipalOrgId,
    /// <summary><c>aws:MultiFactorAuthPresent</c>.</summary>
    AwsMultiFactorAuthPresent,
    /// <summary><c>aws:TokenIssueTime</c>.</summary>
    AwsTokenIssueTime,
}

/// <summary>
/// A condition key of a policy, resolved when the policy is compiled. Condition key names are not case-sensitive
/// (IAM policy reference, Condition element), so <c>KMS:encryptioncontext:Tenant</c> and <c>kms:EncryptionContext:Tenant</c>
/// resolve to the same <see cref="Kind"/>. For keys with a variable part, <see cref="Qualifier"/> is that part as written;
/// it is compared case-insensitively too: the request must look it up with <see cref="StringComparer.OrdinalIgnoreCase"/>
/// (AWS KMS documents that the context-key part of <c>kms:EncryptionContext:context-key</c> is not case-sensitive; use
/// <c>kms:EncryptionContextKeys</c> to require a case-sensitive key).
/// </summary>
public readonly struct ConditionKey : IEquatable<ConditionKey>
{
    private static readonly FrozenDictionary<string, ConditionKeyKind> Fixed = new Dictionary<string, ConditionKeyKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["kms:EncryptionContextKeys"] = ConditionKeyKind.KmsEncryptionContextKeys,
        ["kms:CallerAccount"] = ConditionKeyKind.KmsCallerAccount,
        ["kms:EncryptionAlgorithm"] = ConditionKeyKind.KmsEncryptionAlgorithm,
        ["kms:SigningAlgorithm"] = ConditionKeyKind.KmsSigningAlgorithm,
        ["kms:MacAlgorithm"] = ConditionKeyKind.KmsMacAlgorithm,
        ["kms:KeySpec"] = ConditionKeyKind.KmsKeySpec,
        ["kms:KeyUsage"] = ConditionKeyKind.KmsKeyUsage,
        ["kms:KeyOrigin"] = ConditionKeyKind.KmsKeyOrigin,
        ["kms:MessageType"] = ConditionKeyKind.KmsMessageType,
        ["kms:DataKeyPairSpec"] = ConditionKeyKind.KmsDataKeyPairSpec,
        ["kms:GrantOperations"] = ConditionKeyKind.KmsGrantOperations,
        ["kms:GranteePrincipal"] = ConditionKeyKind.KmsGranteePrincipal,
        ["kms:RetiringPrincipal"] = ConditionKeyKind.KmsRetiringPrincipal,
        ["kms:GrantIsForAWSResource"] = ConditionKeyKind.KmsGrantIsForAwsResource,
        ["kms:GrantConstraintType"] = ConditionKeyKind.KmsGrantConstraintType,
        ["kms:RequestAlias"] = ConditionKeyKind.KmsRequestAlias,
        ["kms:ResourceAliases"] = ConditionKeyKind.KmsResourceAliases,
        ["kms:RotationPeriodInDays"] = ConditionKeyKind.KmsRotationPeriodInDays,
        ["kms:ScheduleKeyDeletionPendingWindowInDays"] = ConditionKeyKind.KmsScheduleKeyDeletionPendingWindowInDays,
        ["kms:ReEncryptOnSameKey"] = ConditionKeyKind.KmsReEncryptOnSameKey,
        ["kms:BypassPolicyLockoutSafetyCheck"] = ConditionKeyKind.KmsBypassPolicyLockoutSafetyCheck,
        ["kms:RecipientAttestation:ImageSha384"] = ConditionKeyKind.KmsRecipientAttestationImageSha384,
        ["kms:ViaService"] = ConditionKeyKind.KmsViaService,
        ["kms:MultiRegion"] = ConditionKeyKind.KmsMultiRegion,
        ["kms:MultiRegionKeyType"] = ConditionKeyKind.KmsMultiRegionKeyType,
        ["kms:ReplicaRegion"] = ConditionKeyKind.KmsReplicaRegion,
        ["kms:PrimaryRegion"] = ConditionKeyKind.KmsPrimaryRegion,
        ["kms:CustomerMasterKeySpec"] = ConditionKeyKind.KmsCustomerMasterKeySpec,
        ["kms:CustomerMasterKeyUsage"] = ConditionKeyKind.KmsCustomerMasterKeyUsage,
        ["kms:WrappingAlgorithm"] = ConditionKeyKind.KmsWrappingAlgorithm,
        ["kms:WrappingKeySpec"] = ConditionKeyKind.KmsWrappingKeySpec,
        ["kms:ExpirationModel"] = ConditionKeyKind.KmsExpirationModel,
        ["kms:ValidTo"] = ConditionKeyKind.KmsValidTo,
        ["kms:KeyAgreementAlgorithm"] = ConditionKeyKind.KmsKeyAgreementAlgorithm,
        ["aws:PrincipalArn"] = ConditionKeyKind.AwsPrincipalArn,
        ["aws:PrincipalAccount"] = ConditionKeyKind.AwsPrincipalAccount,
        ["aws:TagKeys"] = ConditionKeyKind.AwsTagKeys,
        ["aws:CurrentTime"] = ConditionKeyKind.AwsCurrentTime,
        ["aws:EpochTime"] = ConditionKeyKind.AwsEpochTime,
        ["aws:SourceIp"] = ConditionKeyKind.AwsSourceIp,
        ["aws:PrincipalType"] = ConditionKeyKind.AwsPrincipalType,
        ["aws:userid"] = ConditionKeyKind.AwsUserId,
        ["aws:username"] = ConditionKeyKind.AwsUserName,
        ["aws:SecureTransport"] = ConditionKeyKind.AwsSecureTransport,
        ["aws:ViaAWSService"] = ConditionKeyKind.AwsViaAwsService,
        ["aws:CalledVia"] = ConditionKeyKind.AwsCalledVia,
        ["aws:SourceVpce"] = ConditionKeyKind.AwsSourceVpce,
        ["aws:SourceAccount"] = ConditionKeyKind.AwsSourceAccount,
        ["aws:SourceArn"] = ConditionKeyKind.AwsSourceArn,
        ["aws:RequestedRegion"] = ConditionKeyKind.AwsRequestedRegion,
        ["aws:PrincipalIsAWSService"] = ConditionKeyKind.AwsPrincipalIsAwsService,
        ["aws:PrincipalServiceName"] = ConditionKeyKind.AwsPrincipalServiceName,
        ["aws:PrincipalOrgID"] = ConditionKeyKind.AwsPrincipalOrgId,
        ["aws:MultiFactorAuthPresent"] = ConditionKeyKind.AwsMultiFactorAuthPresent,
        ["aws:TokenIssueTime"] = ConditionKeyKind.AwsTokenIssueTime,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private ConditionKey(ConditionKeyKind kind, string? qualifier, string name)
    {
        Kind = kind;
        Qualifier = qualifier;
        _name = name;
    }

    private readonly string? _name;

    /// <summary>The key, when the engine knows it; otherwise <see cref="ConditionKeyKind.Other"/>.</summary>
    public ConditionKeyKind Kind { get; }

    /// <summary>The variable part (context key, tag key, PCR number) as written in the policy, or <see langword="null"/>.</summary>
    public string? Qualifier { get; }

    /// <summary>The key as written in the policy.</summary>
    public string Name => _name ?? string.Empty;

    /// <summary>Resolves a condition key name as written in a policy (or by a caller that wants to ask a request directly).</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public static ConditionKey Parse(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Fixed.TryGetValue(name, out ConditionKeyKind kind))
        {
            return new ConditionKey(kind, null, name);
        }
        if (TryQualified(name, "kms:EncryptionContext:", out string? q))
        {
            return new ConditionKey(ConditionKeyKind.KmsEncryptionContext, q, name);
        }
        if (TryQualified(name, "aws:PrincipalTag/", out q))
        {
            return new ConditionKey(ConditionKeyKind.AwsPrincipalTag, q, name);
        }
        if (TryQualified(name, "aws:ResourceTag/", out q))
        {
            return new ConditionKey(ConditionKeyKind.AwsResourceTag, q, name);
        }
        if (TryQualified(name, "aws:RequestTag/", out q))
        {
            return new ConditionKey(ConditionKeyKind.AwsRequestTag, q, name);
        }
        if (TryQualified(name, "kms:RecipientAttestation:PCR", out q) && q.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0)
        {
            return new ConditionKey(ConditionKeyKind.KmsRecipientAttestationPcr, q, name);
        }
        return new ConditionKey(ConditionKeyKind.Other, null, name);
    }

    private static bool TryQualified(string name, string prefix, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? qualifier)
    {
        if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            qualifier = name[prefix.Length..];
            return true;
        }
        qualifier = null;
        return false;
    }

    /// <inheritdoc />
    public bool Equals(ConditionKey other) =>
        Kind == other.Kind && string.Equals(Qualifier, other.Qualifier, StringComparison.OrdinalIgnoreCase)
        && (Kind != ConditionKeyKind.Other || string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ConditionKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind,
        Qualifier is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(Qualifier),
        Kind == ConditionKeyKind.Other ? StringComparer.OrdinalIgnoreCase.GetHashCode(Name) : 0);

    /// <summary>Equality.</summary>
    public static bool operator ==(ConditionKey left, ConditionKey right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(ConditionKey left, ConditionKey right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => Name;
}
