using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms;

/// <summary>
/// Input of <c>SimulateAuthorization</c> (EnvelopeKms's own call, no KMS API): how would a request by
/// <see cref="Principal"/> be decided against the key's policy, the principal's identity policies and
/// grants? Nothing runs. The caller needs <c>kms:GetKeyPolicy</c> on the key.
/// </summary>
public sealed class SimulateAuthorizationRequest : KeyRequest
{
    /// <summary>The principal whose request to simulate.</summary>
    public required CallerIdentity Principal { get; init; }
    /// <summary>The operation to simulate (its <c>kms:</c> action).</summary>
    public required KmsOperation Operation { get; init; }
    /// <summary>The encryption context of the simulated request.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>The alias the simulated request names, for <c>kms:RequestAlias</c>.</summary>
    public string? RequestAlias { get; init; }
    /// <summary>Other request-parameter condition keys of the simulated request (<c>kms:EncryptionAlgorithm</c>, <c>kms:GrantOperations</c>, ...).</summary>
    public IReadOnlyDictionary<ConditionKeyKind, ConditionValues>? RequestConditions { get; init; }
    /// <summary>
    /// A key policy to simulate instead of the stored one (for example a draft before <c>PutKeyPolicy</c>);
    /// the stored policy when <see langword="null"/>.
    /// </summary>
    public string? Policy { get; init; }
}
