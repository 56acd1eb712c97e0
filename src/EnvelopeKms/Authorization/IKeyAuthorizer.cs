using EnvelopeKms.Authorization.Policies;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Authorization;

/// <summary>What the authorizer is asked: may this caller run this operation on this key?</summary>
public sealed class AuthorizationRequest
{
    /// <summary>The caller.</summary>
    public required CallerIdentity Caller { get; init; }
    /// <summary>The operation (the <c>kms:</c> action).</summary>
    public required KmsOperation Operation { get; init; }
    /// <summary>The key, or <see langword="null"/> for operations on no key (<c>CreateKey</c>, <c>ListKeys</c>, <c>GenerateRandom</c>, ...).</summary>
    public KeyRecord? Key { get; init; }
    /// <summary>The key ARN, when there is a key.</summary>
    public string? KeyArn { get; init; }
    /// <summary>The encryption context of the request, for condition keys.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>The alias named in the request, for <c>kms:RequestAlias</c>.</summary>
    public string? RequestAlias { get; init; }
    /// <summary>
    /// The verified attestation of the request's <c>Recipient</c>, or <see langword="null"/> when the
    /// request has none. Its <see cref="RecipientAttestation.TryGetConditionValue"/> reads the condition
    /// keys <c>kms:RecipientAttestation:ImageSha384</c> and <c>kms:RecipientAttestation:PCR&lt;n&gt;</c>.
    /// </summary>
    public RecipientAttestation? RecipientAttestation { get; init; }
    /// <summary>The key's key policy, compiled; <see langword="null"/> for operations on no key.</summary>
    public PolicyDocument? KeyPolicy { get; init; }
    /// <summary>
    /// The store of the key's grants; <see langword="null"/> for operations on no key, when the store
    /// keeps no grants, and for <c>RetireGrant</c> (a grant allows retiring itself only, which the key
    /// manager checks). Read the caller's grants from it only when the policies did not decide.
    /// </summary>
    public IGrantStore? Grants { get; init; }
    /// <summary>The request as the caller gave it; its parameters are the request condition keys (see <see cref="GetRequestCondition"/>).</summary>
    public KmsRequest? Request { get; init; }
    /// <summary>When the request is made, for <c>aws:CurrentTime</c> and <c>aws:EpochTime</c>.</summary>
    public DateTimeOffset RequestTime { get; init; }
    /// <summary>The aliases of the key, for <c>kms:ResourceAliases</c>; <see langword="null"/> when not loaded (no policy of the key uses it).</summary>
    public IReadOnlyList<string>? ResourceAliases { get; init; }
    /// <summary>The tags in the request (<c>CreateKey</c>, <c>TagResource</c>), for <c>aws:RequestTag/&lt;key&gt;</c> and <c>aws:TagKeys</c>.</summary>
    public IReadOnlyList<KeyTag>? RequestTags { get; init; }
    /// <summary>
    /// The values of the request-parameter condition keys of this operation (<c>kms:EncryptionAlgorithm</c>,
    /// <c>kms:SigningAlgorithm</c>, <c>kms:GrantOperations</c>, <c>kms:KeySpec</c> of <c>CreateKey</c>, ...);
    /// a key that is not there is absent from the request, as in KMS.
    /// </summary>
    public IReadOnlyDictionary<ConditionKeyKind, ConditionValues>? RequestConditions { get; init; }

    /// <summary>
    /// The value of a request-parameter condition key: from <see cref="RequestConditions"/> when it has
    /// the key, otherwise from <see cref="Request"/> (<c>kms:EncryptionAlgorithm</c> of an <c>Encrypt</c>,
    /// <c>kms:GrantOperations</c> of a <c>CreateGrant</c>, ...); absent when the request has no such
    /// parameter. Allocation-free for single-valued keys.
    /// </summary>
    public ConditionValues GetRequestCondition(ConditionKeyKind kind)
        => RequestConditions is { } given && given.TryGetValue(kind, out var value) ? value
            : Request is { } request ? RequestConditionKeys.Of(request, kind)
            : ConditionValues.Absent;
}

/// <summary>The authorizer's answer.</summary>
/// <param name="IsAllowed">Whether the operation may run.</param>
/// <param name="Summary">A one-line explanation (which rule decided), recorded in the audit trail.</param>
public sealed record AuthorizationDecision(bool IsAllowed, string Summary)
{
    /// <summary>The grant that allowed the operation, when a grant (not a policy) allowed it.</summary>
    public string? GrantId { get; init; }
}

/// <summary>Decides whether a caller may run an operation on a key. The policy-engine package replaces the default.</summary>
public interface IKeyAuthorizer
{
    /// <summary>Decides.</summary>
    ValueTask<AuthorizationDecision> AuthorizeAsync(AuthorizationRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// AWS KMS's default key policy without IAM: the root principal of the account that owns the key
/// (or, for operations on no key, the key manager's account) has full access; every other
/// principal has none.
/// </summary>
public sealed class DefaultKeyPolicyAuthorizer : IKeyAuthorizer
{
    private readonly string _accountId;
    private readonly string _partition;

    /// <summary>Creates the authorizer for the key manager's account and partition.</summary>
    public DefaultKeyPolicyAuthorizer(string accountId, string partition = "aws")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountId);
        ArgumentException.ThrowIfNullOrWhiteSpace(partition);
        _accountId = accountId;
        _partition = partition;
    }

    /// <inheritdoc />
    public ValueTask<AuthorizationDecision> AuthorizeAsync(AuthorizationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var owner = request.Key?.AccountId ?? _accountId;
        var allowed = request.Caller.IsAccountRoot && request.Caller.AccountId == owner && request.Caller.Partition == _partition;
        return ValueTask.FromResult(allowed
            ? new AuthorizationDecision(true, $"Allowed by the default key policy: the root principal of account {owner} has full access.")
            : new AuthorizationDecision(false, $"Denied by the default key policy: only arn:{_partition}:iam::{owner}:root has access; no policy grants '{request.Caller.PrincipalArn}'."));
    }
}
