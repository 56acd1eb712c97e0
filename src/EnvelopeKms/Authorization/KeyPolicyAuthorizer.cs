using System.Runtime.CompilerServices;
using System.Text;
using EnvelopeKms.Authorization.Policies;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Authorization;

/// <summary>
/// The key manager's default authorizer: AWS KMS's authorization of a request against the key's key
/// policy, the caller's identity policies and the key's grants.
/// <list type="number">
/// <item>An explicit <c>Deny</c> in the key policy or in an identity policy denies.</item>
/// <item>A key-policy <c>Allow</c> naming the caller (or <c>*</c>) allows; one naming the caller's
/// account allows only when an identity policy of the caller allows too (the account "delegates to
/// IAM"); the account's root principal needs no identity policy. A caller from another account
/// than the key's also needs an identity policy that allows.</item>
/// <item>Otherwise a grant for the caller that covers the operation (and whose encryption-context
/// constraints the request meets) allows.</item>
/// <item>Otherwise the request is denied (default deny).</item>
/// </list>
/// Operations on no key (<c>CreateKey</c>, <c>ListKeys</c>, <c>ListAliases</c>, <c>GenerateRandom</c>,
/// <c>ListRetirableGrants</c>) are decided by identity policies alone; the account's root principal is
/// allowed them. <see cref="ExplainAsync"/> tells why, statement by statement and grant by grant.
/// </summary>
public sealed class KeyPolicyAuthorizer : IKeyAuthorizer
{
    private readonly string _accountId;
    private readonly string _partition;
    private readonly IIdentityPolicyProvider? _identityPolicies;
    private readonly ConditionalWeakTable<PolicyDocument, string?[]> _allowSummaries = new();

    /// <summary>Creates the authorizer for the key manager's account and partition.</summary>
    /// <param name="accountId">The key manager's account.</param>
    /// <param name="partition">The partition (<c>aws</c>).</param>
    /// <param name="identityPolicies">The identity policies of principals; none when <see langword="null"/> (then only key policies and grants allow, and on no key only the account's root principal is allowed).</param>
    public KeyPolicyAuthorizer(string accountId, string partition = "aws", IIdentityPolicyProvider? identityPolicies = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountId);
        ArgumentException.ThrowIfNullOrWhiteSpace(partition);
        _accountId = accountId;
        _partition = partition;
        _identityPolicies = identityPolicies;
    }

    /// <summary>The identity policies this authorizer consults, if any.</summary>
    public IIdentityPolicyProvider? IdentityPolicies => _identityPolicies;

    /// <inheritdoc />
    public async ValueTask<AuthorizationDecision> AuthorizeAsync(AuthorizationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policyRequest = PolicyRequestOf(request);
        var identity = await EvaluateIdentityAsync(request.Caller, policyRequest, cancellationToken).ConfigureAwait(false);
        if (request.KeyPolicy is { } keyPolicy)
        {
            var evaluation = keyPolicy.Evaluate(policyRequest);
            if (evaluation.Outcome == PolicyOutcome.Denied || identity.Outcome == PolicyOutcome.Denied)
            {
                return await DenyAsync(request, cancellationToken).ConfigureAwait(false);
            }

            if (AllowedByKeyPolicy(request, evaluation.Outcome, identity.Outcome))
            {
                return new AuthorizationDecision(true, AllowSummary(keyPolicy, evaluation));
            }

            if (request.Grants is { } grantStore && request.Key is { } key)
            {
                var grants = await grantStore.ListGrantsForGranteeAsync(key.KeyId, request.Caller.PrincipalArn, cancellationToken).ConfigureAwait(false);
                foreach (var grant in grants)
                {
                    if (GrantExplanation.Covers(grant, request, out _))
                    {
                        return new AuthorizationDecision(true, $"Allowed by grant {grant.GrantId}{(grant.Name is null ? "" : $" ('{grant.Name}')")} to {grant.GranteePrincipal}.") { GrantId = grant.GrantId };
                    }
                }
            }

            return await DenyAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (identity.Outcome == PolicyOutcome.Denied)
        {
            return await DenyAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (IsOwnRoot(request.Caller))
        {
            return new AuthorizationDecision(true, $"Allowed: the root principal of account {_accountId} may call operations on no key.");
        }

        if (identity.Outcome == PolicyOutcome.Allowed)
        {
            return new AuthorizationDecision(true, $"Allowed by statement {StatementName(identity.Evaluation)} of identity policy '{identity.PolicyName}'.");
        }

        return await DenyAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Explains the decision on a request: every statement of every policy consulted, and every grant of the caller.</summary>
    public async ValueTask<AuthorizationExplanation> ExplainAsync(AuthorizationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policyRequest = PolicyRequestOf(request);
        var identityExplanations = new List<IdentityPolicyExplanation>();
        var identityOutcome = PolicyOutcome.NotApplicable;
        IdentityPolicyExplanation? identityAllow = null;
        IdentityPolicyExplanation? identityDeny = null;
        if (_identityPolicies is not null)
        {
            foreach (var policy in await _identityPolicies.GetPoliciesAsync(request.Caller, cancellationToken).ConfigureAwait(false))
            {
                var explanation = new IdentityPolicyExplanation(policy.Name, policy.Document.Explain(policyRequest));
                identityExplanations.Add(explanation);
                if (explanation.Explanation.Outcome == PolicyOutcome.Denied)
                {
                    identityOutcome = PolicyOutcome.Denied;
                    identityDeny ??= explanation;
                }
                else if (explanation.Explanation.Outcome is PolicyOutcome.Allowed or PolicyOutcome.AllowedThroughAccount && identityOutcome != PolicyOutcome.Denied)
                {
                    identityOutcome = PolicyOutcome.Allowed;
                    identityAllow ??= explanation;
                }
            }
        }

        var keyExplanation = request.KeyPolicy?.Explain(policyRequest);
        var grantExplanations = new List<GrantExplanation>();
        if (request.Grants is { } grantStore && request.Key is { } grantKey)
        {
            foreach (var grant in await grantStore.ListGrantsForGranteeAsync(grantKey.KeyId, request.Caller.PrincipalArn, cancellationToken).ConfigureAwait(false))
            {
                GrantExplanation.Covers(grant, request, out var explanation);
                grantExplanations.Add(explanation);
            }
        }

        bool allowed;
        string summary;
        var action = policyRequest.Action;
        var who = request.Caller.PrincipalArn;
        if (keyExplanation is not null)
        {
            var keyDenied = keyExplanation.Outcome == PolicyOutcome.Denied;
            if (keyDenied || identityOutcome == PolicyOutcome.Denied)
            {
                allowed = false;
                summary = keyDenied
                    ? $"Explicit deny: {keyExplanation.Summary}"
                    : $"Explicit deny in identity policy '{identityDeny!.PolicyName}': {identityDeny.Explanation.Summary}";
            }
            else if (AllowedByKeyPolicy(request, keyExplanation.Outcome, identityOutcome))
            {
                allowed = true;
                summary = keyExplanation.Outcome == PolicyOutcome.AllowedThroughAccount
                    ? $"Allowed: {keyExplanation.Summary} The key policy delegates to the account, and identity policy '{identityAllow!.PolicyName}' allows {action}."
                    : keyExplanation.Summary;
            }
            else if (grantExplanations.FirstOrDefault(g => g.Allows) is { } grant)
            {
                allowed = true;
                summary = $"Allowed by grant {grant.GrantId}: {grant.Reason}";
            }
            else
            {
                allowed = false;
                var because = new StringBuilder($"Implicit deny: no statement of the key policy allows {who} to call {action}");
                if (keyExplanation.Outcome == PolicyOutcome.AllowedThroughAccount)
                {
                    because.Append(identityExplanations.Count == 0
                        ? " (the key policy delegates to the account, but the caller has no identity policy)"
                        : " (the key policy delegates to the account, but no identity policy of the caller allows it)");
                }
                else if (keyExplanation.Outcome == PolicyOutcome.Allowed)
                {
                    because.Append(" (the key policy allows it, but the caller is in another account and no identity policy of the caller allows it)");
                }

                because.Append(grantExplanations.Count == 0 ? ", and the caller has no grant for the key." : $", and none of the caller's {grantExplanations.Count} grant(s) covers the request.");
                AppendMisses(because, keyExplanation);
                summary = because.ToString();
            }
        }
        else if (identityOutcome == PolicyOutcome.Denied)
        {
            allowed = false;
            summary = $"Explicit deny in identity policy '{identityDeny!.PolicyName}': {identityDeny.Explanation.Summary}";
        }
        else if (IsOwnRoot(request.Caller))
        {
            allowed = true;
            summary = $"Allowed: the root principal of account {_accountId} may call operations on no key.";
        }
        else if (identityOutcome == PolicyOutcome.Allowed)
        {
            allowed = true;
            summary = $"Allowed by identity policy '{identityAllow!.PolicyName}': {identityAllow.Explanation.Summary}";
        }
        else
        {
            allowed = false;
            summary = $"Implicit deny: {action} is on no key, so only identity policies can allow it, and no identity policy of {who} does.";
        }

        return new AuthorizationExplanation
        {
            IsAllowed = allowed,
            Summary = summary,
            Action = action,
            Resource = policyRequest.Resource,
            Caller = who,
            KeyPolicy = keyExplanation,
            IdentityPolicies = identityExplanations,
            Grants = grantExplanations,
        };
    }

    /// <summary>Why each Allow statement of the key policy did not match (its failing element), at most five.</summary>
    private static void AppendMisses(StringBuilder text, PolicyExplanation explanation)
    {
        var misses = explanation.Statements.Where(s => s.Effect == PolicyEffect.Allow && !s.Matched && s.Reasons.Count > 0).Take(5).ToList();
        if (misses.Count == 0)
        {
            return;
        }

        text.Append(" Key-policy statements that did not match: ");
        text.AppendJoin("; ", misses.Select(s => $"{(s.Sid is { } sid ? $"'{sid}'" : $"#{s.Index + 1}")}: {string.Join(", ", Failing(s))}"));
        text.Append('.');
    }

    /// <summary>The reasons of a statement that made it not match (an element that does not match, a condition that is false).</summary>
    private static IEnumerable<string> Failing(StatementExplanation statement)
    {
        var failing = statement.Reasons.Where(r => r.Contains(" does not match", StringComparison.Ordinal) || r.Contains(" is false", StringComparison.Ordinal)).ToList();
        return failing.Count > 0 ? failing : statement.Reasons.Take(1);
    }

    private async ValueTask<AuthorizationDecision> DenyAsync(AuthorizationRequest request, CancellationToken cancellationToken)
    {
        var explanation = await ExplainAsync(request, cancellationToken).ConfigureAwait(false);
        return new AuthorizationDecision(false, explanation.Summary);
    }

    private bool IsOwnRoot(CallerIdentity caller) => caller.IsAccountRoot && caller.AccountId == _accountId && caller.Partition == _partition;

    private static bool AllowedByKeyPolicy(AuthorizationRequest request, PolicyOutcome keyPolicy, PolicyOutcome identity)
    {
        var caller = request.Caller;
        var sameAccount = request.Key is null || caller.AccountId == request.Key.AccountId;
        return keyPolicy switch
        {
            PolicyOutcome.Allowed => sameAccount || caller.IsAccountRoot || identity == PolicyOutcome.Allowed,
            PolicyOutcome.AllowedThroughAccount => caller.IsAccountRoot || identity == PolicyOutcome.Allowed,
            _ => false,
        };
    }

    private async ValueTask<IdentityOutcome> EvaluateIdentityAsync(CallerIdentity caller, PolicyRequest request, CancellationToken cancellationToken)
    {
        if (_identityPolicies is null)
        {
            return default;
        }

        var result = default(IdentityOutcome);
        foreach (var policy in await _identityPolicies.GetPoliciesAsync(caller, cancellationToken).ConfigureAwait(false))
        {
            var evaluation = policy.Document.Evaluate(request);
            if (evaluation.Outcome == PolicyOutcome.Denied)
            {
                return new IdentityOutcome(PolicyOutcome.Denied, policy.Name, evaluation);
            }

            if (evaluation.Outcome is PolicyOutcome.Allowed or PolicyOutcome.AllowedThroughAccount && result.Outcome == PolicyOutcome.NotApplicable)
            {
                result = new IdentityOutcome(PolicyOutcome.Allowed, policy.Name, evaluation);
            }
        }

        return result;
    }

    private static KmsPolicyRequest PolicyRequestOf(AuthorizationRequest request)
        => new(request, KmsPolicyRequest.ActionOf(request.Operation), request.KeyArn ?? "*");

    /// <summary>The summary of an allow by a key-policy statement, made once per statement.</summary>
    private string AllowSummary(PolicyDocument policy, PolicyEvaluation evaluation)
    {
        var summaries = _allowSummaries.GetValue(policy, p => new string?[p.Statements.Count]);
        var index = evaluation.StatementIndex;
        if ((uint)index >= (uint)summaries.Length)
        {
            return "Allowed by the key policy.";
        }

        return summaries[index] ??= evaluation.Outcome == PolicyOutcome.AllowedThroughAccount
            ? $"Allowed by key-policy statement {StatementName(evaluation)}, which delegates to the account, and by an identity policy of the caller."
            : $"Allowed by key-policy statement {StatementName(evaluation)}.";
    }

    private static string StatementName(PolicyEvaluation evaluation)
        => evaluation.StatementSid is { } sid ? $"'{sid}'" : $"#{evaluation.StatementIndex + 1}";

    private readonly record struct IdentityOutcome(PolicyOutcome Outcome, string? PolicyName, PolicyEvaluation Evaluation);
}

/// <summary>Why a request was or would be allowed or denied (<see cref="KeyPolicyAuthorizer.ExplainAsync"/>).</summary>
public sealed class AuthorizationExplanation
{
    /// <summary>Whether the request is allowed.</summary>
    public required bool IsAllowed { get; init; }
    /// <summary>One line: what decided (the statement, grant or default deny), and why the rest did not allow.</summary>
    public required string Summary { get; init; }
    /// <summary>The action, for example <c>kms:Decrypt</c>.</summary>
    public required string Action { get; init; }
    /// <summary>The key ARN, or <c>*</c>.</summary>
    public required string Resource { get; init; }
    /// <summary>The caller's principal ARN.</summary>
    public required string Caller { get; init; }
    /// <summary>The key policy's explanation, statement by statement; <see langword="null"/> on no key.</summary>
    public PolicyExplanation? KeyPolicy { get; init; }
    /// <summary>Each identity policy of the caller, explained.</summary>
    public required IReadOnlyList<IdentityPolicyExplanation> IdentityPolicies { get; init; }
    /// <summary>Each grant of the caller on the key, explained.</summary>
    public required IReadOnlyList<GrantExplanation> Grants { get; init; }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder().Append(IsAllowed ? "ALLOW " : "DENY ").Append(Action).Append(" on ").Append(Resource).Append(" by ").AppendLine(Caller);
        text.Append("  ").AppendLine(Summary);
        if (KeyPolicy is not null)
        {
            text.AppendLine("  key policy:");
            AppendStatements(text, KeyPolicy);
        }

        foreach (var identity in IdentityPolicies)
        {
            text.Append("  identity policy '").Append(identity.PolicyName).AppendLine("':");
            AppendStatements(text, identity.Explanation);
        }

        foreach (var grant in Grants)
        {
            text.Append("  grant ").Append(grant.GrantId).Append(grant.Allows ? ": allows — " : ": does not allow — ").AppendLine(grant.Reason);
        }

        return text.ToString();
    }

    private static void AppendStatements(StringBuilder text, PolicyExplanation explanation)
    {
        foreach (var statement in explanation.Statements)
        {
            text.Append("    ").Append(statement.Sid is { } sid ? $"'{sid}'" : $"#{statement.Index + 1}").Append(' ').Append(statement.Effect)
                .Append(statement.Matched ? ": matches" : ": does not match");
            if (statement.Reasons.Count > 0)
            {
                text.Append(" — ").AppendJoin("; ", statement.Reasons);
            }

            text.AppendLine();
        }
    }
}

/// <summary>An identity policy of the caller, explained.</summary>
/// <param name="PolicyName">The policy's name.</param>
/// <param name="Explanation">Its explanation.</param>
public sealed record IdentityPolicyExplanation(string PolicyName, PolicyExplanation Explanation);

/// <summary>Whether a grant covers a request, and why (not).</summary>
/// <param name="GrantId">The grant id.</param>
/// <param name="Name">The grant's name, or <see langword="null"/>.</param>
/// <param name="Allows">Whether the grant allows the request.</param>
/// <param name="Reason">Why.</param>
public sealed record GrantExplanation(string GrantId, string? Name, bool Allows, string Reason)
{
    /// <summary>Whether <paramref name="grant"/> allows <paramref name="request"/>: its grantee is the caller, it lists the operation, and the request meets its constraints.</summary>
    internal static bool Covers(GrantRecord grant, AuthorizationRequest request, out GrantExplanation explanation)
    {
        var operation = GrantOperationOf(request.Operation);
        string reason;
        var allows = false;
        if (!string.Equals(grant.GranteePrincipal, request.Caller.PrincipalArn, StringComparison.Ordinal))
        {
            reason = $"its grantee is {grant.GranteePrincipal}, not the caller.";
        }
        else if (operation is null || !Contains(grant.Operations, operation))
        {
            reason = $"it allows {string.Join(", ", grant.Operations)}, not {(operation ?? request.Operation.ToString())}.";
        }
        else if (!ConstraintsApply(request.Operation))
        {
            allows = true;
            reason = $"it allows {operation} (encryption-context constraints do not apply to it).";
        }
        else if (grant.EncryptionContextEquals is { } equals && !ContextEquals(request.EncryptionContext, equals))
        {
            reason = "the request's encryption context is not exactly the grant's EncryptionContextEquals constraint.";
        }
        else if (grant.EncryptionContextSubset is { } subset && !ContextContains(request.EncryptionContext, subset))
        {
            reason = "the request's encryption context does not contain every pair of the grant's EncryptionContextSubset constraint.";
        }
        else
        {
            allows = true;
            reason = grant.EncryptionContextEquals is null && grant.EncryptionContextSubset is null
                ? $"it allows {operation} for the caller."
                : $"it allows {operation} for the caller, and the request meets its encryption-context constraint.";
        }

        explanation = new GrantExplanation(grant.GrantId, grant.Name, allows, reason);
        return allows;
    }

    private static bool Contains(IReadOnlyList<string> operations, string operation)
    {
        foreach (var item in operations)
        {
            if (string.Equals(item, operation, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The grant operation name of a key-manager operation, or <see langword="null"/> when no grant can allow it.</summary>
    internal static string? GrantOperationOf(KmsOperation operation) => operation switch
    {
        KmsOperation.Decrypt => "Decrypt",
        KmsOperation.Encrypt => "Encrypt",
        KmsOperation.GenerateDataKey => "GenerateDataKey",
        KmsOperation.GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
        KmsOperation.ReEncryptFrom => "ReEncryptFrom",
        KmsOperation.ReEncryptTo => "ReEncryptTo",
        KmsOperation.Sign => "Sign",
        KmsOperation.Verify => "Verify",
        KmsOperation.GetPublicKey => "GetPublicKey",
        KmsOperation.CreateGrant => "CreateGrant",
        KmsOperation.RetireGrant => "RetireGrant",
        KmsOperation.DescribeKey => "DescribeKey",
        KmsOperation.GenerateDataKeyPair => "GenerateDataKeyPair",
        KmsOperation.GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
        KmsOperation.GenerateMac => "GenerateMac",
        KmsOperation.VerifyMac => "VerifyMac",
        KmsOperation.DeriveSharedSecret => "DeriveSharedSecret",
        KmsOperation.Decapsulate => "Decapsulate",
        KmsOperation.Encapsulate => "Encapsulate",
        _ => null,
    };

    private static bool ConstraintsApply(KmsOperation operation)
        => operation is not (KmsOperation.DescribeKey or KmsOperation.RetireGrant or KmsOperation.CreateGrant);

    /// <summary>Whether the context has exactly the constraint's pairs: keys case-insensitively, values case-sensitively.</summary>
    internal static bool ContextEquals(IReadOnlyDictionary<string, string>? context, IReadOnlyDictionary<string, string> constraint)
        => (context?.Count ?? 0) == constraint.Count && ContextContains(context, constraint);

    /// <summary>Whether the context contains every pair of the constraint: keys case-insensitively, values case-sensitively.</summary>
    internal static bool ContextContains(IReadOnlyDictionary<string, string>? context, IReadOnlyDictionary<string, string> constraint)
    {
        foreach (var required in constraint)
        {
            var found = false;
            if (context is not null)
            {
                foreach (var pair in context)
                {
                    if (string.Equals(pair.Key, required.Key, StringComparison.OrdinalIgnoreCase) && string.Equals(pair.Value, required.Value, StringComparison.Ordinal))
                    {
                        found = true;
                        break;
                    }
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }
}
