namespace EnvelopeKms;

/// <summary>A request that takes grant tokens (<c>GrantTokens</c> in AWS KMS).</summary>
public interface IGrantTokenRequest
{
    /// <summary>The grant tokens, at most 10.</summary>
    IReadOnlyList<string>? GrantTokens { get; }
}

/// <summary>A request that takes <c>DryRun</c> (AWS KMS's "testing your permissions").</summary>
public interface IDryRunRequest
{
    /// <summary>Whether to validate and authorize the request without running it.</summary>
    bool DryRun { get; }
}
