using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Authorization;

/// <summary>
/// A key-manager request as the policy engine sees it: the action, the key ARN, the caller and the
/// condition keys KMS defines, read from the request, the key and the caller.
/// </summary>
internal sealed class KmsPolicyRequest : PolicyRequest
{
    private readonly AuthorizationRequest _request;
    private readonly string _action;
    private readonly string _resource;
    private readonly string? _accountRoot;

    public KmsPolicyRequest(AuthorizationRequest request, string action, string resource)
    {
        _request = request;
        _action = action;
        _resource = resource;
        _accountRoot = request.Caller.IsAccountRoot ? request.Caller.PrincipalArn : null;
    }

    /// <summary>The <c>kms:</c> action of an operation.</summary>
    public static string ActionOf(KmsOperation operation) => operation switch
    {
        KmsOperation.DeleteExpiredKey => "kms:ScheduleKeyDeletion",
        KmsOperation.SimulateAuthorization => "kms:GetKeyPolicy",
        KmsOperation.RotateKey => "kms:RotateKeyOnDemand",
        KmsOperation.DeleteExpiredKeyMaterial => "kms:DeleteImportedKeyMaterial",
        _ => ActionNames[(int)operation] ??= "kms:" + operation,
    };

    private static readonly string?[] ActionNames = new string?[Enum.GetValues<KmsOperation>().Max(o => (int)o) + 1];

    public override string Action => _action;

    public override string Resource => _resource;

    public override string PrincipalArn => _request.Caller.PrincipalArn;

    public override string PrincipalAccount => _request.Caller.AccountId;

    public override bool IsAccountRoot => _accountRoot is not null;

    public override ConditionValues GetConditionValues(in ConditionKey key)
    {
        var request = _request;
        var caller = request.Caller;
        var fromRequest = request.GetRequestCondition(key.Kind);
        if (fromRequest.IsPresent)
        {
            return fromRequest;
        }

        switch (key.Kind)
        {
            case ConditionKeyKind.KmsEncryptionContext:
                return EncryptionContextValue(request.EncryptionContext, key.Qualifier);
            case ConditionKeyKind.KmsEncryptionContextKeys:
                return request.EncryptionContext is { Count: > 0 } context ? ConditionValues.Of([.. context.Keys]) : ConditionValues.Absent;
            case ConditionKeyKind.KmsCallerAccount:
            case ConditionKeyKind.AwsPrincipalAccount:
                return ConditionValues.Of(caller.AccountId);
            case ConditionKeyKind.AwsPrincipalArn:
                return ConditionValues.Of(caller.PrincipalArn);
            case ConditionKeyKind.AwsPrincipalType:
                return ConditionValues.Of(caller.PrincipalType);
            case ConditionKeyKind.AwsPrincipalTag:
                return key.Qualifier is { } tagKey && caller.Tags.TryGetValue(tagKey, out var tagValue) ? ConditionValues.Of(tagValue) : ConditionValues.Absent;
            case ConditionKeyKind.AwsResourceTag:
                return TagValue(request.Key?.Tags, key.Qualifier);
            case ConditionKeyKind.AwsRequestTag:
                return TagValue(request.RequestTags, key.Qualifier);
            case ConditionKeyKind.AwsTagKeys:
                return request.RequestTags is { } tags ? ConditionValues.Of([.. tags.Select(t => t.TagKey)]) : ConditionValues.Absent;
            case ConditionKeyKind.AwsCurrentTime:
                return ConditionValues.Of(request.RequestTime);
            case ConditionKeyKind.AwsEpochTime:
                return ConditionValues.Of(request.RequestTime.ToUnixTimeSeconds());
            case ConditionKeyKind.AwsSourceIp:
                return caller.SourceIp is { } address ? ConditionValues.Of(address) : ConditionValues.Absent;
            case ConditionKeyKind.AwsSecureTransport:
                return ConditionValues.Of(caller.SecureTransport);
            case ConditionKeyKind.KmsViaService:
                return caller.ViaService is { } via ? ConditionValues.Of(via) : ConditionValues.Absent;
            case ConditionKeyKind.AwsViaAwsService:
                return ConditionValues.Of(caller.ViaService is not null);
            case ConditionKeyKind.AwsPrincipalIsAwsService:
                return ConditionValues.Of(false);
            case ConditionKeyKind.KmsRequestAlias:
                return request.RequestAlias is { } alias ? ConditionValues.Of(alias) : ConditionValues.Absent;
            case ConditionKeyKind.KmsResourceAliases:
                return request.ResourceAliases is { Count: > 0 } aliases ? ConditionValues.Of(aliases) : ConditionValues.Absent;
            case ConditionKeyKind.KmsRecipientAttestationImageSha384:
                return request.RecipientAttestation is { } attestation && attestation.TryGetConditionValue(RecipientAttestation.ImageSha384ConditionKey, out var image)
                    ? ConditionValues.Of(image) : ConditionValues.Absent;
            case ConditionKeyKind.KmsRecipientAttestationPcr:
                return request.RecipientAttestation is { } recipient && key.Qualifier is { } pcr
                    && recipient.TryGetConditionValue(RecipientAttestation.PcrConditionKeyPrefix + pcr, out var measurement)
                    ? ConditionValues.Of(measurement) : ConditionValues.Absent;
            case ConditionKeyKind.KmsKeySpec:
            case ConditionKeyKind.KmsCustomerMasterKeySpec:
                return request.Key is { } specKey ? ConditionValues.Of(specKey.KeySpec.ToKmsName()) : ConditionValues.Absent;
            case ConditionKeyKind.KmsKeyUsage:
            case ConditionKeyKind.KmsCustomerMasterKeyUsage:
                return request.Key is { } usageKey ? ConditionValues.Of(usageKey.KeyUsage.ToKmsName()) : ConditionValues.Absent;
            case ConditionKeyKind.KmsKeyOrigin:
                return request.Key is { } originKey ? ConditionValues.Of(originKey.Origin.ToKmsName()) : ConditionValues.Absent;
            case ConditionKeyKind.KmsMultiRegion:
                return request.Key is { } regionKey ? ConditionValues.Of(regionKey.MultiRegion is not null) : ConditionValues.Absent;
            case ConditionKeyKind.KmsMultiRegionKeyType:
                return request.Key?.MultiRegion is { } multiRegion
                    ? ConditionValues.Of(multiRegion.KeyType == MultiRegionKeyType.Primary ? "PRIMARY" : "REPLICA")
                    : ConditionValues.Absent;
            default:
                return ConditionValues.Absent;
        }
    }

    private static ConditionValues EncryptionContextValue(IReadOnlyDictionary<string, string>? context, string? contextKey)
    {
        if (context is null || contextKey is null)
        {
            return ConditionValues.Absent;
        }

        if (context.TryGetValue(contextKey, out var exact))
        {
            return ConditionValues.Of(exact);
        }

        // The context key inside a condition key name compares case-insensitively (condition key names do).
        foreach (var pair in context)
        {
            if (string.Equals(pair.Key, contextKey, StringComparison.OrdinalIgnoreCase))
            {
                return ConditionValues.Of(pair.Value);
            }
        }

        return ConditionValues.Absent;
    }

    private static ConditionValues TagValue(IReadOnlyList<KeyTag>? tags, string? tagKey)
    {
        if (tags is null || tagKey is null)
        {
            return ConditionValues.Absent;
        }

        foreach (var tag in tags)
        {
            if (string.Equals(tag.TagKey, tagKey, StringComparison.OrdinalIgnoreCase))
            {
                return ConditionValues.Of(tag.TagValue);
            }
        }

        return ConditionValues.Absent;
    }
}
