using System.Collections.Concurrent;
using EnvelopeKms.Authorization;
using EnvelopeKms.Authorization.Policies;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

/// <summary>Key policies: <c>PutKeyPolicy</c>, <c>GetKeyPolicy</c>, <c>ListKeyPolicies</c>, the simulate call, and what every authorization is given.</summary>
public sealed partial class KeyManager
{
    /// <summary>The only key policy name KMS has.</summary>
    public const string DefaultPolicyName = "default";

    /// <summary>Per key, its compiled key policy; the stored text is compared on every use, so a changed policy recompiles.</summary>
    private readonly ConcurrentDictionary<string, CompiledKeyPolicy> _keyPolicies = new(StringComparer.Ordinal);

    /// <summary>KMS's default key policy per account (keys restored from another account's snapshot keep their account).</summary>
    private readonly ConcurrentDictionary<string, CompiledKeyPolicy> _defaultKeyPolicies = new(StringComparer.Ordinal);

    /// <summary>
    /// KMS's default key policy for keys of <paramref name="accountId"/>: one statement,
    /// <c>Enable IAM User Permissions</c>, that gives the account's root principal <c>kms:*</c> and so
    /// delegates to the account's identity policies. Keys created without a policy have it.
    /// </summary>
    public static string DefaultKeyPolicy(string accountId, string partition = "aws")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountId);
        ArgumentException.ThrowIfNullOrWhiteSpace(partition);
        return $$"""
            {
              "Version": "2012-10-17",
              "Id": "key-default-1",
              "Statement": [
                {
                  "Sid": "Enable IAM User Permissions",
                  "Effect": "Allow",
                  "Principal": { "AWS": "arn:{{partition}}:iam::{{accountId}}:root" },
                  "Action": "kms:*",
                  "Resource": "*"
                }
              ]
            }
            """;
    }

    /// <summary>
    /// <c>PutKeyPolicy</c>: replaces the key's policy. The document is parsed and compiled first; a
    /// malformed one fails with <see cref="KmsMalformedPolicyDocumentException"/> naming the problem and
    /// its place, and the previous policy stays. Unless <see cref="PutKeyPolicyRequest.BypassPolicyLockoutSafetyCheck"/>
    /// is set, a policy that would not let the caller call <c>PutKeyPolicy</c> again is refused the same way.
    /// </summary>
    public Task PutKeyPolicyAsync(PutKeyPolicyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.PutKeyPolicy, request, async ctx =>
        {
            RequirePolicyName(request.PolicyName);
            var policy = ParseKeyPolicy(request.Policy, nameof(request.Policy));
            await MutateKeyAsync(ctx, KmsOperation.PutKeyPolicy, request.KeyId, key => key with { Policy = policy.Text }, cancellationToken,
                async key => await RequireNoLockoutAsync(ctx, policy, key.KeyId, request.BypassPolicyLockoutSafetyCheck, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary><c>GetKeyPolicy</c>: the key's policy document (KMS's default key policy for a key that never had another).</summary>
    public Task<GetKeyPolicyResponse> GetKeyPolicyAsync(GetKeyPolicyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GetKeyPolicy, request, async ctx =>
        {
            RequirePolicyName(request.PolicyName);
            var key = await UseKeyAsync(ctx, KmsOperation.GetKeyPolicy, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            return new GetKeyPolicyResponse { Policy = KeyPolicyOf(key).Text, PolicyName = DefaultPolicyName };
        });
    }

    /// <summary><c>ListKeyPolicies</c>: the names of the key's policies, which is <c>default</c>.</summary>
    public Task<ListKeyPoliciesResponse> ListKeyPoliciesAsync(ListKeyPoliciesRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListKeyPolicies, request, async ctx =>
        {
            InputValidation.ValidateLimit(request.Limit, 1000, 100);
            if (request.Marker is not null)
            {
                // The only page is the first one: no marker is ever returned.
                throw new KmsInvalidMarkerException("Marker is not a marker returned by a previous call of this operation.");
            }

            await UseKeyAsync(ctx, KmsOperation.ListKeyPolicies, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            return new ListKeyPoliciesResponse { Items = [DefaultPolicyName] };
        });
    }

    /// <summary>
    /// Explains how a request by another principal would be decided on a key — statement by statement
    /// of the key policy and the principal's identity policies, grant by grant — without running it.
    /// The caller needs <c>kms:GetKeyPolicy</c> on the key.
    /// </summary>
    public Task<AuthorizationExplanation> SimulateAuthorizationAsync(SimulateAuthorizationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.SimulateAuthorization, request, async ctx =>
        {
            if (request.Principal is null)
            {
                throw new KmsValidationException("Principal is required: the principal whose request to simulate.");
            }
            if (!Enum.IsDefined(request.Operation))
            {
                throw new KmsValidationException("Operation is not a known operation.");
            }

            var draft = request.Policy is null ? null : ParseKeyPolicy(request.Policy, nameof(request.Policy));
            var key = await UseKeyAsync(ctx, KmsOperation.SimulateAuthorization, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            var simulated = new OperationContext(request.Operation, request.Principal, ctx.RequestId)
            {
                EncryptionContext = request.EncryptionContext,
                AliasName = request.RequestAlias,
                Conditions = request.RequestConditions is null ? null : new Dictionary<ConditionKeyKind, ConditionValues>(request.RequestConditions),
            };
            var authorization = await AuthorizationRequestOfAsync(simulated, request.Operation, key, cancellationToken, draft).ConfigureAwait(false);

            if (_authorizer is KeyPolicyAuthorizer policies)
            {
                return await policies.ExplainAsync(authorization, cancellationToken).ConfigureAwait(false);
            }

            var decision = await _authorizer.AuthorizeAsync(authorization, cancellationToken).ConfigureAwait(false);
            return new AuthorizationExplanation
            {
                IsAllowed = decision.IsAllowed,
                Summary = decision.Summary,
                Action = KmsPolicyRequest.ActionOf(request.Operation),
                Resource = _ids.KeyArn(key.KeyId),
                Caller = request.Principal.PrincipalArn,
                IdentityPolicies = [],
                Grants = [],
            };
        });
    }

    /// <summary>The compiled key policy of a key: its stored policy, or the default key policy.</summary>
    private CompiledKeyPolicy CompiledKeyPolicyOf(KeyRecord key)
    {
        if (key.Policy is not { } text)
        {
            return _defaultKeyPolicies.GetOrAdd(key.AccountId, account => Compile(DefaultKeyPolicy(account, _ids.Partition)));
        }

        if (_keyPolicies.TryGetValue(key.KeyId, out var cached) && string.Equals(cached.Text, text, StringComparison.Ordinal))
        {
            return cached;
        }

        var compiled = Compile(text);
        _keyPolicies[key.KeyId] = compiled;
        return compiled;
    }

    private PolicyDocument KeyPolicyOf(KeyRecord key) => CompiledKeyPolicyOf(key).Document;

    private static CompiledKeyPolicy Compile(string text)
    {
        PolicyDocument document;
        try
        {
            document = PolicyDocument.Parse(text);
        }
        catch (KmsMalformedPolicyDocumentException e)
        {
            // The record is sealed, so this is a policy stored by a version whose parser accepted more.
            throw new KmsInternalException("The key's stored policy no longer parses; replace it with PutKeyPolicy (BypassPolicyLockoutSafetyCheck is not needed).", e);
        }

        return CompiledKeyPolicy.Of(document);
    }

    private static PolicyDocument ParseKeyPolicy(string? text, string parameterName)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new KmsValidationException($"{parameterName} must be a policy document of 1 to {PolicyDocument.MaxLength} characters.");
        }

        return PolicyDocument.Parse(text);
    }

    private static void RequirePolicyName(string? policyName)
    {
        if (policyName is not null && policyName != DefaultPolicyName)
        {
            throw new KmsValidationException($"PolicyName must be '{DefaultPolicyName}', the only key policy name.");
        }
    }

    /// <summary>
    /// The lockout safety check (row 56): the new policy must let the caller call <c>PutKeyPolicy</c>
    /// on the key again, unless the bypass is set — which is then recorded in the audit event.
    /// </summary>
    private async Task RequireNoLockoutAsync(OperationContext ctx, PolicyDocument policy, string keyId, bool bypass, CancellationToken cancellationToken)
    {
        if (bypass)
        {
            ctx.LockoutCheckBypassed = true;
            return;
        }

        var authorizer = _authorizer as KeyPolicyAuthorizer ?? new KeyPolicyAuthorizer(_ids.AccountId, _ids.Partition);
        var check = new AuthorizationRequest
        {
            Caller = ctx.Caller,
            Operation = KmsOperation.PutKeyPolicy,
            KeyArn = _ids.KeyArn(keyId),
            KeyPolicy = policy,
            RequestTime = _time.GetUtcNow(),
            RequestConditions = new Dictionary<ConditionKeyKind, ConditionValues> { [ConditionKeyKind.KmsBypassPolicyLockoutSafetyCheck] = ConditionValues.Of(false) },
        };
        var explanation = await authorizer.ExplainAsync(check, cancellationToken).ConfigureAwait(false);
        if (!explanation.IsAllowed)
        {
            throw new KmsMalformedPolicyDocumentException(
                $"The new key policy will not allow you to update the key policy in the future ({explanation.Summary}). Add a statement that allows {ctx.Caller.PrincipalArn} kms:PutKeyPolicy, or set BypassPolicyLockoutSafetyCheck.");
        }
    }

    /// <summary>What the authorizer is given: the caller, the key and its policy, the request's condition keys, and a way to the caller's grants.</summary>
    private async ValueTask<AuthorizationRequest> AuthorizationRequestOfAsync(OperationContext ctx, KmsOperation operation, KeyRecord? key, CancellationToken cancellationToken, PolicyDocument? policyOverride = null)
    {
        CompiledKeyPolicy? policy = key is null ? null
            : policyOverride is null ? CompiledKeyPolicyOf(key)
            : CompiledKeyPolicy.Of(policyOverride);
        IReadOnlyList<string>? aliases = null;
        if (key is not null && policy!.UsesResourceAliases)
        {
            var found = await _store.ListAliasesAsync(key.KeyId, afterAliasName: null, limit: 1000, cancellationToken).ConfigureAwait(false);
            aliases = [.. found.Select(a => a.AliasName)];
        }

        var grants = GrantStore;
        var caller = ctx.Caller;
        return new AuthorizationRequest
        {
            Caller = caller,
            Operation = operation,
            Key = key,
            KeyArn = key is null ? null : _ids.KeyArn(key.KeyId),
            EncryptionContext = ctx.EncryptionContext,
            RequestAlias = ctx.AliasName,
            RecipientAttestation = ctx.RecipientAttestation,
            KeyPolicy = policy?.Document,
            // A grant's RetireGrant operation lets its grantee retire that grant only (RetireGrantAsync checks it), never others.
            Grants = key is null || operation == KmsOperation.RetireGrant ? null : grants,
            RequestTime = _time.GetUtcNow(),
            ResourceAliases = aliases,
            RequestTags = ctx.RequestTags,
            Request = ctx.Request,
            RequestConditions = ctx.Conditions,
        };
    }

    /// <summary>Stops a dry run once the request is validated, authorized and its key state allows it (<c>DryRunOperationException</c>).</summary>
    private static void ThrowIfDryRun(OperationContext ctx, KmsOperation operation)
    {
        // ReEncrypt stops after its destination key is checked too.
        if (ctx.DryRun && operation != KmsOperation.ReEncryptFrom)
        {
            throw new KmsDryRunOperationException("The request would have succeeded, but the DryRun parameter was set.");
        }
    }

    private sealed record CompiledKeyPolicy(string Text, PolicyDocument Document, bool UsesResourceAliases)
    {
        /// <summary>Whether the policy can ask for <c>kms:ResourceAliases</c> decides whether the key's aliases are read for it.</summary>
        public static CompiledKeyPolicy Of(PolicyDocument document)
            => new(document.Text, document, document.Text.Contains("ResourceAliases", StringComparison.OrdinalIgnoreCase));
    }
}
