namespace EnvelopeKms;

/// <summary>Input of <c>PutKeyPolicy</c>.</summary>
public sealed class PutKeyPolicyRequest : KeyRequest
{
    /// <summary>The policy name: <c>default</c>, the only one a key has (and the default).</summary>
    public string? PolicyName { get; init; }
    /// <summary>The key policy, a JSON policy document of at most 32 KB (see <c>docs/policies.md</c>).</summary>
    public required string Policy { get; init; }
    /// <summary>
    /// Skips the lockout safety check, which otherwise refuses a policy that would not let the caller
    /// change the policy again. Setting it is recorded in the audit event; use it sparingly.
    /// </summary>
    public bool BypassPolicyLockoutSafetyCheck { get; init; }
}

/// <summary>Input of <c>GetKeyPolicy</c>.</summary>
public sealed class GetKeyPolicyRequest : KeyRequest
{
    /// <summary>The policy name: <c>default</c> (the default).</summary>
    public string? PolicyName { get; init; }
}

/// <summary>Output of <c>GetKeyPolicy</c>.</summary>
public sealed class GetKeyPolicyResponse
{
    /// <summary>The key policy document: as stored by <c>CreateKey</c> or <c>PutKeyPolicy</c>, or KMS's default key policy.</summary>
    public required string Policy { get; init; }
    /// <summary>Always <c>default</c>.</summary>
    public required string PolicyName { get; init; }
}

/// <summary>Input of <c>ListKeyPolicies</c>.</summary>
public sealed class ListKeyPoliciesRequest : KeyRequest
{
    /// <summary>The page size, 1–1000; 100 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
}

/// <summary>Output of <c>ListKeyPolicies</c>: the names of the key's policies, that is, <c>default</c>.</summary>
public sealed class ListKeyPoliciesResponse : PagedResponse<string>;
