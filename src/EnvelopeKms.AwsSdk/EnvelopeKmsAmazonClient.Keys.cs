// The overloads with optional parameters are the shape of IAmazonKeyManagementService itself.
#pragma warning disable RS0026
using EnvelopeKms.CustomKeyStores;
using static EnvelopeKms.AwsSdk.AwsMapping;
using Sdk = Amazon.KeyManagementService;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

// Key lifecycle, aliases, tags, key policies, grants, rotation, imported material, key usage,
// multi-Region keys and custom key stores.
public sealed partial class EnvelopeKmsAmazonClient
{
    /// <summary>Runs an operation whose AWS response has no members.</summary>
    private static Task<T> Send<T>(Func<Task> call)
        where T : Amazon.Runtime.AmazonWebServiceResponse, new()
        => Translate(async () =>
        {
            await call().ConfigureAwait(false);
            return Ok(new T());
        });

    private static async Task<T> Translate<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (KmsException e)
        {
            throw AwsErrors.ToAmazon(e);
        }
    }

    /// <inheritdoc />
    public Task<Aws.CreateKeyResponse> CreateKeyAsync(Aws.CreateKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
#pragma warning disable CS0618 // CustomerMasterKeySpec is deprecated in favour of KeySpec; KMS still accepts it.
            var legacySpec = request.CustomerMasterKeySpec;
#pragma warning restore CS0618
            if (request.KeySpec is not null && legacySpec is not null)
            {
                throw new KmsValidationException("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.");
            }

            var spec = Parse<KeySpec>((Amazon.Runtime.ConstantClass?)request.KeySpec ?? legacySpec, request.KeySpec is null ? "CustomerMasterKeySpec" : "KeySpec", static v => v.ToKmsName());
            var response = await _keyManager.CreateKeyAsync(new CreateKeyRequest
            {
                Caller = _caller,
                Description = request.Description,
                KeySpec = spec ?? KeySpec.SymmetricDefault,
                KeyUsage = Parse<KeyUsage>(request.KeyUsage, "KeyUsage", static v => v.ToKmsName()) ?? KeyUsage.EncryptDecrypt,
                Origin = Parse<KeyOrigin>(request.Origin, "Origin", static v => v.ToKmsName()) ?? KeyOrigin.AwsKms,
                Tags = Tags(request.Tags),
                MultiRegion = request.MultiRegion ?? false,
                Policy = request.Policy,
                BypassPolicyLockoutSafetyCheck = request.BypassPolicyLockoutSafetyCheck ?? false,
                CustomKeyStoreId = request.CustomKeyStoreId,
                XksKeyId = request.XksKeyId,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.CreateKeyResponse { KeyMetadata = Metadata(response.KeyMetadata) });
        });
    }

    /// <inheritdoc />
    public Task<Aws.DescribeKeyResponse> DescribeKeyAsync(string keyId, CancellationToken cancellationToken = default)
        => DescribeKeyAsync(new Aws.DescribeKeyRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.DescribeKeyResponse> DescribeKeyAsync(Aws.DescribeKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.DescribeKeyAsync(new DescribeKeyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                GrantTokens = Tokens(request.GrantTokens),
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.DescribeKeyResponse { KeyMetadata = Metadata(response.KeyMetadata) });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ListKeysResponse> ListKeysAsync(Aws.ListKeysRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var page = await _keyManager.ListKeysAsync(new ListKeysRequest { Caller = _caller, Limit = request.Limit, Marker = request.Marker }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListKeysResponse
            {
                Keys = page.Items.Select(static k => new Aws.KeyListEntry { KeyId = k.KeyId, KeyArn = k.KeyArn }).ToList(),
                NextMarker = page.NextMarker,
                Truncated = page.Truncated,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.UpdateKeyDescriptionResponse> UpdateKeyDescriptionAsync(string keyId, string description, CancellationToken cancellationToken = default)
        => UpdateKeyDescriptionAsync(new Aws.UpdateKeyDescriptionRequest { KeyId = keyId, Description = description }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.UpdateKeyDescriptionResponse> UpdateKeyDescriptionAsync(Aws.UpdateKeyDescriptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.UpdateKeyDescriptionResponse>(() => _keyManager.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            Description = Required<string>(request.Description, "Description"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.EnableKeyResponse> EnableKeyAsync(string keyId, CancellationToken cancellationToken = default)
        => EnableKeyAsync(new Aws.EnableKeyRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.EnableKeyResponse> EnableKeyAsync(Aws.EnableKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.EnableKeyResponse>(() => _keyManager.EnableKeyAsync(new EnableKeyRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.DisableKeyResponse> DisableKeyAsync(string keyId, CancellationToken cancellationToken = default)
        => DisableKeyAsync(new Aws.DisableKeyRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.DisableKeyResponse> DisableKeyAsync(Aws.DisableKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.DisableKeyResponse>(() => _keyManager.DisableKeyAsync(new DisableKeyRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(string keyId, CancellationToken cancellationToken = default)
        => ScheduleKeyDeletionAsync(new Aws.ScheduleKeyDeletionRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(string keyId, int? pendingWindowInDays, CancellationToken cancellationToken = default)
        => ScheduleKeyDeletionAsync(new Aws.ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = pendingWindowInDays }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(Aws.ScheduleKeyDeletionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                PendingWindowInDays = request.PendingWindowInDays,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ScheduleKeyDeletionResponse
            {
                KeyId = response.KeyId,
                DeletionDate = response.DeletionDate.UtcDateTime,
                KeyState = Sdk.KeyState.FindValue(response.KeyState.ToKmsName()),
                PendingWindowInDays = response.PendingWindowInDays,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.CancelKeyDeletionResponse> CancelKeyDeletionAsync(string keyId, CancellationToken cancellationToken = default)
        => CancelKeyDeletionAsync(new Aws.CancelKeyDeletionRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.CancelKeyDeletionResponse> CancelKeyDeletionAsync(Aws.CancelKeyDeletionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.CancelKeyDeletionResponse { KeyId = response.KeyId });
        });
    }

    /// <inheritdoc />
    public Task<Aws.CreateAliasResponse> CreateAliasAsync(string aliasName, string targetKeyId, CancellationToken cancellationToken = default)
        => CreateAliasAsync(new Aws.CreateAliasRequest { AliasName = aliasName, TargetKeyId = targetKeyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.CreateAliasResponse> CreateAliasAsync(Aws.CreateAliasRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.CreateAliasResponse>(() => _keyManager.CreateAliasAsync(new CreateAliasRequest
        {
            Caller = _caller,
            AliasName = Required(request.AliasName, "AliasName"),
            TargetKeyId = Required(request.TargetKeyId, "TargetKeyId"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.UpdateAliasResponse> UpdateAliasAsync(string aliasName, string targetKeyId, CancellationToken cancellationToken = default)
        => UpdateAliasAsync(new Aws.UpdateAliasRequest { AliasName = aliasName, TargetKeyId = targetKeyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.UpdateAliasResponse> UpdateAliasAsync(Aws.UpdateAliasRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.UpdateAliasResponse>(() => _keyManager.UpdateAliasAsync(new UpdateAliasRequest
        {
            Caller = _caller,
            AliasName = Required(request.AliasName, "AliasName"),
            TargetKeyId = Required(request.TargetKeyId, "TargetKeyId"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.DeleteAliasResponse> DeleteAliasAsync(string aliasName, CancellationToken cancellationToken = default)
        => DeleteAliasAsync(new Aws.DeleteAliasRequest { AliasName = aliasName }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.DeleteAliasResponse> DeleteAliasAsync(Aws.DeleteAliasRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.DeleteAliasResponse>(() => _keyManager.DeleteAliasAsync(new DeleteAliasRequest { Caller = _caller, AliasName = Required(request.AliasName, "AliasName") }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.ListAliasesResponse> ListAliasesAsync(Aws.ListAliasesRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var page = await _keyManager.ListAliasesAsync(new ListAliasesRequest
            {
                Caller = _caller,
                KeyId = request.KeyId,
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListAliasesResponse
            {
                Aliases = page.Items.Select(static a => new Aws.AliasListEntry
                {
                    AliasName = a.AliasName,
                    AliasArn = a.AliasArn,
                    TargetKeyId = a.TargetKeyId,
                    CreationDate = a.CreationDate.UtcDateTime,
                    LastUpdatedDate = a.LastUpdatedDate.UtcDateTime,
                }).ToList(),
                NextMarker = page.NextMarker,
                Truncated = page.Truncated,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.TagResourceResponse> TagResourceAsync(Aws.TagResourceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.TagResourceResponse>(() => _keyManager.TagResourceAsync(new TagResourceRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            Tags = Required(Tags(request.Tags), "Tags"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.UntagResourceResponse> UntagResourceAsync(Aws.UntagResourceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.UntagResourceResponse>(() => _keyManager.UntagResourceAsync(new UntagResourceRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            TagKeys = Required(request.TagKeys, "TagKeys"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.ListResourceTagsResponse> ListResourceTagsAsync(Aws.ListResourceTagsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var page = await _keyManager.ListResourceTagsAsync(new ListResourceTagsRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListResourceTagsResponse { Tags = Tags(page.Items), NextMarker = page.NextMarker, Truncated = page.Truncated });
        });
    }

    /// <inheritdoc />
    public Task<Aws.PutKeyPolicyResponse> PutKeyPolicyAsync(string keyId, string policy, string policyName, CancellationToken cancellationToken = default)
        => PutKeyPolicyAsync(new Aws.PutKeyPolicyRequest { KeyId = keyId, Policy = policy, PolicyName = policyName }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.PutKeyPolicyResponse> PutKeyPolicyAsync(Aws.PutKeyPolicyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.PutKeyPolicyResponse>(() => _keyManager.PutKeyPolicyAsync(new PutKeyPolicyRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            Policy = Required(request.Policy, "Policy"),
            PolicyName = request.PolicyName,
            BypassPolicyLockoutSafetyCheck = request.BypassPolicyLockoutSafetyCheck ?? false,
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.GetKeyPolicyResponse> GetKeyPolicyAsync(string keyId, string policyName, CancellationToken cancellationToken = default)
        => GetKeyPolicyAsync(new Aws.GetKeyPolicyRequest { KeyId = keyId, PolicyName = policyName }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.GetKeyPolicyResponse> GetKeyPolicyAsync(Aws.GetKeyPolicyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GetKeyPolicyAsync(new GetKeyPolicyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                PolicyName = request.PolicyName,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GetKeyPolicyResponse { Policy = response.Policy, PolicyName = response.PolicyName });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ListKeyPoliciesResponse> ListKeyPoliciesAsync(Aws.ListKeyPoliciesRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var page = await _keyManager.ListKeyPoliciesAsync(new ListKeyPoliciesRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListKeyPoliciesResponse { PolicyNames = page.Items.ToList(), NextMarker = page.NextMarker, Truncated = page.Truncated });
        });
    }

    /// <inheritdoc />
    public Task<Aws.CreateGrantResponse> CreateGrantAsync(Aws.CreateGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseServicePrincipal(request.GranteeServicePrincipal, "GranteeServicePrincipal");
            RefuseServicePrincipal(request.RetiringServicePrincipal, "RetiringServicePrincipal");
            if (request.Constraints?.SourceArn is { Length: > 0 })
            {
                throw new KmsUnsupportedOperationException("The grant constraint SourceArn is not supported: it names the AWS resource an AWS service acts for, and no AWS service calls this key manager.");
            }

            var operations = Required(request.Operations, "Operations")
                .Select(o => Parse<GrantOperation>(o, "Operations", static v => v.ToString()) ?? throw new KmsValidationException("An operation of the grant is null."))
                .ToList();
            var response = await _keyManager.CreateGrantAsync(new CreateGrantRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                GranteePrincipal = Required(request.GranteePrincipal, "GranteePrincipal"),
                RetiringPrincipal = request.RetiringPrincipal,
                Operations = operations,
                Constraints = request.Constraints is { } c
                    ? new GrantConstraints { EncryptionContextEquals = Context(c.EncryptionContextEquals), EncryptionContextSubset = Context(c.EncryptionContextSubset) }
                    : null,
                Name = request.Name,
                GrantTokens = Tokens(request.GrantTokens),
                DryRun = request.DryRun ?? false,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.CreateGrantResponse { GrantId = response.GrantId, GrantToken = response.GrantToken });
        });
    }

    private static void RefuseServicePrincipal(string? value, string parameter)
    {
        if (!string.IsNullOrEmpty(value))
        {
            throw new KmsUnsupportedOperationException($"{parameter} is not supported: grants here are for IAM principals, since no AWS service principal calls this key manager.");
        }
    }

    /// <inheritdoc />
    public Task<Aws.ListGrantsResponse> ListGrantsAsync(Aws.ListGrantsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseServicePrincipal(request.GranteeServicePrincipal, "GranteeServicePrincipal");
            var page = await _keyManager.ListGrantsAsync(new ListGrantsRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                GrantId = request.GrantId,
                GranteePrincipal = request.GranteePrincipal,
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListGrantsResponse { Grants = page.Items.Select(Grant).ToList(), NextMarker = page.NextMarker, Truncated = page.Truncated });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ListRetirableGrantsResponse> ListRetirableGrantsAsync(CancellationToken cancellationToken = default)
        => ListRetirableGrantsAsync(new Aws.ListRetirableGrantsRequest(), cancellationToken);

    /// <inheritdoc />
    public Task<Aws.ListRetirableGrantsResponse> ListRetirableGrantsAsync(string retiringPrincipal, CancellationToken cancellationToken = default)
        => ListRetirableGrantsAsync(new Aws.ListRetirableGrantsRequest { RetiringPrincipal = retiringPrincipal }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.ListRetirableGrantsResponse> ListRetirableGrantsAsync(Aws.ListRetirableGrantsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseServicePrincipal(request.RetiringServicePrincipal, "RetiringServicePrincipal");
            var page = await _keyManager.ListRetirableGrantsAsync(new ListRetirableGrantsRequest
            {
                Caller = _caller,
                RetiringPrincipal = Required(request.RetiringPrincipal, "RetiringPrincipal"),
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListRetirableGrantsResponse { Grants = page.Items.Select(Grant).ToList(), NextMarker = page.NextMarker, Truncated = page.Truncated });
        });
    }

    /// <inheritdoc />
    public Task<Aws.RetireGrantResponse> RetireGrantAsync(string grantToken, CancellationToken cancellationToken = default)
        => RetireGrantAsync(new Aws.RetireGrantRequest { GrantToken = grantToken }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.RetireGrantResponse> RetireGrantAsync(Aws.RetireGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.RetireGrantResponse>(() => _keyManager.RetireGrantAsync(new RetireGrantRequest
        {
            Caller = _caller,
            GrantToken = request.GrantToken,
            KeyId = request.KeyId,
            GrantId = request.GrantId,
            DryRun = request.DryRun ?? false,
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.RevokeGrantResponse> RevokeGrantAsync(string grantId, string keyId, CancellationToken cancellationToken = default)
        => RevokeGrantAsync(new Aws.RevokeGrantRequest { GrantId = grantId, KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.RevokeGrantResponse> RevokeGrantAsync(Aws.RevokeGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.RevokeGrantResponse>(() => _keyManager.RevokeGrantAsync(new RevokeGrantRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            GrantId = Required(request.GrantId, "GrantId"),
            DryRun = request.DryRun ?? false,
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.EnableKeyRotationResponse> EnableKeyRotationAsync(string keyId, CancellationToken cancellationToken = default)
        => EnableKeyRotationAsync(new Aws.EnableKeyRotationRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.EnableKeyRotationResponse> EnableKeyRotationAsync(Aws.EnableKeyRotationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.EnableKeyRotationResponse>(() => _keyManager.EnableKeyRotationAsync(new EnableKeyRotationRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            RotationPeriodInDays = request.RotationPeriodInDays,
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.DisableKeyRotationResponse> DisableKeyRotationAsync(string keyId, CancellationToken cancellationToken = default)
        => DisableKeyRotationAsync(new Aws.DisableKeyRotationRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.DisableKeyRotationResponse> DisableKeyRotationAsync(Aws.DisableKeyRotationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.DisableKeyRotationResponse>(() => _keyManager.DisableKeyRotationAsync(new DisableKeyRotationRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.GetKeyRotationStatusResponse> GetKeyRotationStatusAsync(string keyId, CancellationToken cancellationToken = default)
        => GetKeyRotationStatusAsync(new Aws.GetKeyRotationStatusRequest { KeyId = keyId }, cancellationToken);

    /// <inheritdoc />
    public Task<Aws.GetKeyRotationStatusResponse> GetKeyRotationStatusAsync(Aws.GetKeyRotationStatusRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GetKeyRotationStatusResponse
            {
                KeyId = response.KeyId,
                KeyRotationEnabled = response.KeyRotationEnabled,
                RotationPeriodInDays = response.RotationPeriodInDays,
                NextRotationDate = Utc(response.NextRotationDate),
                OnDemandRotationStartDate = Utc(response.OnDemandRotationStartDate),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.RotateKeyOnDemandResponse> RotateKeyOnDemandAsync(Aws.RotateKeyOnDemandRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.RotateKeyOnDemandResponse { KeyId = response.KeyId });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ListKeyRotationsResponse> ListKeyRotationsAsync(Aws.ListKeyRotationsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var page = await _keyManager.ListKeyRotationsAsync(new ListKeyRotationsRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                IncludeKeyMaterial = Parse<IncludeKeyMaterial>(request.IncludeKeyMaterial, "IncludeKeyMaterial",
                    static v => v == IncludeKeyMaterial.AllKeyMaterial ? "ALL_KEY_MATERIAL" : "ROTATIONS_ONLY"),
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ListKeyRotationsResponse { Rotations = page.Items.Select(Rotation).ToList(), NextMarker = page.NextMarker, Truncated = page.Truncated });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GetParametersForImportResponse> GetParametersForImportAsync(Aws.GetParametersForImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GetParametersForImportAsync(new GetParametersForImportRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                WrappingAlgorithm = Parse<ImportWrappingAlgorithm>(Required(request.WrappingAlgorithm, "WrappingAlgorithm"), "WrappingAlgorithm", static v => v.ToKmsName())!.Value,
                WrappingKeySpec = Parse<WrappingKeySpec>(Required(request.WrappingKeySpec, "WrappingKeySpec"), "WrappingKeySpec", static v => v.ToKmsName())!.Value,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GetParametersForImportResponse
            {
                KeyId = response.KeyId,
                ImportToken = Stream(response.ImportToken),
                PublicKey = Stream(response.PublicKey),
                ParametersValidTo = response.ParametersValidTo.UtcDateTime,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ImportKeyMaterialResponse> ImportKeyMaterialAsync(Aws.ImportKeyMaterialRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                ImportToken = Required(request.ImportToken, "ImportToken").ToArray(),
                EncryptedKeyMaterial = Required(request.EncryptedKeyMaterial, "EncryptedKeyMaterial").ToArray(),
                ExpirationModel = Parse<ExpirationModel>(request.ExpirationModel, "ExpirationModel", static v => v.ToKmsName()),
                ValidTo = Offset(request.ValidTo),
                ImportType = Parse<ImportType>(request.ImportType, "ImportType", static v => v.ToKmsName()),
                KeyMaterialDescription = request.KeyMaterialDescription,
                KeyMaterialId = request.KeyMaterialId,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ImportKeyMaterialResponse { KeyId = response.KeyId, KeyMaterialId = response.KeyMaterialId });
        });
    }

    /// <inheritdoc />
    public Task<Aws.DeleteImportedKeyMaterialResponse> DeleteImportedKeyMaterialAsync(Aws.DeleteImportedKeyMaterialRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                KeyMaterialId = request.KeyMaterialId,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.DeleteImportedKeyMaterialResponse { KeyId = response.KeyId, KeyMaterialId = response.KeyMaterialId });
        });
    }

    /// <inheritdoc />
    public Task<Aws.GetKeyLastUsageResponse> GetKeyLastUsageAsync(Aws.GetKeyLastUsageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { Caller = _caller, KeyId = Required(request.KeyId, "KeyId") }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.GetKeyLastUsageResponse
            {
                KeyId = response.KeyId,
                TrackingStartDate = response.TrackingStartDate.UtcDateTime,
                KeyLastUsage = response.LastCryptographicOperation is { } operation
                    ? new Aws.KeyLastUsageData
                    {
                        Operation = Sdk.KeyLastUsageTrackingOperation.FindValue(operation.ToString()),
                        Timestamp = Utc(response.LastCryptographicDate),
                    }
                    : null,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.ReplicateKeyResponse> ReplicateKeyAsync(Aws.ReplicateKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var response = await _keyManager.ReplicateKeyAsync(new ReplicateKeyRequest
            {
                Caller = _caller,
                KeyId = Required(request.KeyId, "KeyId"),
                ReplicaRegion = Required(request.ReplicaRegion, "ReplicaRegion"),
                Policy = request.Policy,
                BypassPolicyLockoutSafetyCheck = request.BypassPolicyLockoutSafetyCheck ?? false,
                Description = request.Description,
                Tags = Tags(request.Tags),
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.ReplicateKeyResponse
            {
                ReplicaKeyMetadata = Metadata(response.ReplicaKeyMetadata),
                ReplicaPolicy = response.ReplicaPolicy,
                ReplicaTags = Tags(response.ReplicaTags),
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.UpdatePrimaryRegionResponse> UpdatePrimaryRegionAsync(Aws.UpdatePrimaryRegionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.UpdatePrimaryRegionResponse>(() => _keyManager.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest
        {
            Caller = _caller,
            KeyId = Required(request.KeyId, "KeyId"),
            PrimaryRegion = Required(request.PrimaryRegion, "PrimaryRegion"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.CreateCustomKeyStoreResponse> CreateCustomKeyStoreAsync(Aws.CreateCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseVpcEndpointServiceOwner(request.XksProxyVpcEndpointServiceOwner);
            var response = await _keyManager.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest
            {
                Caller = _caller,
                CustomKeyStoreName = Required(request.CustomKeyStoreName, "CustomKeyStoreName"),
                CustomKeyStoreType = Parse<CustomKeyStoreType>(request.CustomKeyStoreType, "CustomKeyStoreType", static v => v.ToKmsName()) ?? CustomKeyStoreType.AwsCloudHsm,
                CloudHsmClusterId = request.CloudHsmClusterId,
                TrustAnchorCertificate = request.TrustAnchorCertificate,
                KeyStorePassword = request.KeyStorePassword,
                XksProxyUriEndpoint = request.XksProxyUriEndpoint,
                XksProxyUriPath = request.XksProxyUriPath,
                XksProxyConnectivity = Parse<XksProxyConnectivityType>(request.XksProxyConnectivity, "XksProxyConnectivity", static v => v.ToKmsName()),
                XksProxyVpcEndpointServiceName = request.XksProxyVpcEndpointServiceName,
                XksProxyAuthenticationCredential = Credential(request.XksProxyAuthenticationCredential),
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.CreateCustomKeyStoreResponse { CustomKeyStoreId = response.CustomKeyStoreId });
        });
    }

    private static void RefuseVpcEndpointServiceOwner(string? owner)
    {
        if (!string.IsNullOrEmpty(owner))
        {
            throw new KmsUnsupportedOperationException(
                "XksProxyVpcEndpointServiceOwner is not supported: external key store proxies are reached over their public endpoint; there are no VPC endpoint services here.");
        }
    }

    /// <inheritdoc />
    public Task<Aws.ConnectCustomKeyStoreResponse> ConnectCustomKeyStoreAsync(Aws.ConnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.ConnectCustomKeyStoreResponse>(() => _keyManager.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest
        {
            Caller = _caller,
            CustomKeyStoreId = Required(request.CustomKeyStoreId, "CustomKeyStoreId"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.DisconnectCustomKeyStoreResponse> DisconnectCustomKeyStoreAsync(Aws.DisconnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.DisconnectCustomKeyStoreResponse>(() => _keyManager.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest
        {
            Caller = _caller,
            CustomKeyStoreId = Required(request.CustomKeyStoreId, "CustomKeyStoreId"),
        }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<Aws.DescribeCustomKeyStoresResponse> DescribeCustomKeyStoresAsync(Aws.DescribeCustomKeyStoresRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            var page = await _keyManager.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest
            {
                Caller = _caller,
                CustomKeyStoreId = request.CustomKeyStoreId,
                CustomKeyStoreName = request.CustomKeyStoreName,
                Limit = request.Limit,
                Marker = request.Marker,
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.DescribeCustomKeyStoresResponse
            {
                CustomKeyStores = page.Items.Select(CustomKeyStore).ToList(),
                NextMarker = page.NextMarker,
                Truncated = page.Truncated,
            });
        });
    }

    /// <inheritdoc />
    public Task<Aws.UpdateCustomKeyStoreResponse> UpdateCustomKeyStoreAsync(Aws.UpdateCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Translate(async () =>
        {
            RefuseVpcEndpointServiceOwner(request.XksProxyVpcEndpointServiceOwner);
            await _keyManager.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest
            {
                Caller = _caller,
                CustomKeyStoreId = Required(request.CustomKeyStoreId, "CustomKeyStoreId"),
                NewCustomKeyStoreName = request.NewCustomKeyStoreName,
                KeyStorePassword = request.KeyStorePassword,
                CloudHsmClusterId = request.CloudHsmClusterId,
                XksProxyUriEndpoint = request.XksProxyUriEndpoint,
                XksProxyUriPath = request.XksProxyUriPath,
                XksProxyConnectivity = Parse<XksProxyConnectivityType>(request.XksProxyConnectivity, "XksProxyConnectivity", static v => v.ToKmsName()),
                XksProxyVpcEndpointServiceName = request.XksProxyVpcEndpointServiceName,
                XksProxyAuthenticationCredential = Credential(request.XksProxyAuthenticationCredential),
            }, cancellationToken).ConfigureAwait(false);
            return Ok(new Aws.UpdateCustomKeyStoreResponse());
        });
    }

    /// <inheritdoc />
    public Task<Aws.DeleteCustomKeyStoreResponse> DeleteCustomKeyStoreAsync(Aws.DeleteCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Send<Aws.DeleteCustomKeyStoreResponse>(() => _keyManager.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest
        {
            Caller = _caller,
            CustomKeyStoreId = Required(request.CustomKeyStoreId, "CustomKeyStoreId"),
        }, cancellationToken));
    }
}
