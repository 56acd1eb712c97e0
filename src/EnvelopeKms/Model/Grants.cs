namespace EnvelopeKms;

/// <summary>An operation a grant can allow (<c>GrantOperation</c>).</summary>
public enum GrantOperation
{
    /// <summary><c>Decrypt</c>.</summary>
    Decrypt = 1,
    /// <summary><c>Encrypt</c>.</summary>
    Encrypt,
    /// <summary><c>GenerateDataKey</c>.</summary>
    GenerateDataKey,
    /// <summary><c>GenerateDataKeyWithoutPlaintext</c>.</summary>
    GenerateDataKeyWithoutPlaintext,
    /// <summary><c>ReEncryptFrom</c>.</summary>
    ReEncryptFrom,
    /// <summary><c>ReEncryptTo</c>.</summary>
    ReEncryptTo,
    /// <summary><c>Sign</c>.</summary>
    Sign,
    /// <summary><c>Verify</c>.</summary>
    Verify,
    /// <summary><c>GetPublicKey</c>.</summary>
    GetPublicKey,
    /// <summary><c>CreateGrant</c>.</summary>
    CreateGrant,
    /// <summary><c>RetireGrant</c>.</summary>
    RetireGrant,
    /// <summary><c>DescribeKey</c>.</summary>
    DescribeKey,
    /// <summary><c>GenerateDataKeyPair</c>.</summary>
    GenerateDataKeyPair,
    /// <summary><c>GenerateDataKeyPairWithoutPlaintext</c>.</summary>
    GenerateDataKeyPairWithoutPlaintext,
    /// <summary><c>GenerateMac</c>.</summary>
    GenerateMac,
    /// <summary><c>VerifyMac</c>.</summary>
    VerifyMac,
    /// <summary><c>DeriveSharedSecret</c>.</summary>
    DeriveSharedSecret,
    /// <summary><c>Decapsulate</c>.</summary>
    Decapsulate,
    /// <summary><c>Encapsulate</c>.</summary>
    Encapsulate,
}

/// <summary>
/// Encryption-context constraints of a grant (<c>GrantConstraints</c>): the grant allows a
/// cryptographic operation only when the request's encryption context contains
/// (<see cref="EncryptionContextSubset"/>) or is exactly (<see cref="EncryptionContextEquals"/>) these
/// pairs. Keys compare case-insensitively, values case-sensitively (as in KMS). They do not apply to
/// <c>DescribeKey</c>, <c>RetireGrant</c> and <c>CreateGrant</c> (which instead requires grants it
/// creates to be at least as strict).
/// </summary>
public sealed class GrantConstraints
{
    /// <summary>Pairs the request's encryption context must contain; up to 8.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContextSubset { get; init; }
    /// <summary>Pairs the request's encryption context must be exactly; up to 8.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContextEquals { get; init; }
}

/// <summary>Input of <c>CreateGrant</c>.</summary>
public sealed class CreateGrantRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>The principal that gets the permissions: an IAM-style principal ARN (or a 12-digit account id, meaning its root).</summary>
    public required string GranteePrincipal { get; init; }
    /// <summary>A principal that may retire the grant, besides its issuing account (and the grantee, if the grant allows <c>RetireGrant</c>).</summary>
    public string? RetiringPrincipal { get; init; }
    /// <summary>The operations the grant allows: at least one, each valid for the key's type.</summary>
    public required IReadOnlyList<GrantOperation> Operations { get; init; }
    /// <summary>Optional encryption-context constraints; symmetric encryption keys only.</summary>
    public GrantConstraints? Constraints { get; init; }
    /// <summary>
    /// A name (1–256 of <c>a-zA-Z0-9:/_-</c>) that makes the call idempotent: the same request with the
    /// same name returns the same grant id instead of a new grant (with a new token).
    /// </summary>
    public string? Name { get; init; }
    /// <summary>Up to 10 grant tokens (for a grantee creating grants through a grant that allows <c>CreateGrant</c>).</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>Validate and authorize without creating the grant.</summary>
    public bool DryRun { get; init; }
}

/// <summary>Output of <c>CreateGrant</c>.</summary>
public sealed class CreateGrantResponse
{
    /// <summary>The grant id: 64 lowercase hex characters.</summary>
    public required string GrantId { get; init; }
    /// <summary>A grant token for the grant, different on every call; any of a grant's tokens can be used.</summary>
    public required string GrantToken { get; init; }
}

/// <summary>One grant in <c>ListGrants</c> and <c>ListRetirableGrants</c> (<c>GrantListEntry</c>).</summary>
public sealed class GrantListEntry
{
    /// <summary>The key ARN.</summary>
    public required string KeyId { get; init; }
    /// <summary>The grant id.</summary>
    public required string GrantId { get; init; }
    /// <summary>The grant's name, or <see langword="null"/>.</summary>
    public string? Name { get; init; }
    /// <summary>When the grant was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>The grantee principal.</summary>
    public required string GranteePrincipal { get; init; }
    /// <summary>The retiring principal, or <see langword="null"/>.</summary>
    public string? RetiringPrincipal { get; init; }
    /// <summary>The account that created the grant (<c>arn:aws:iam::ACCOUNT:root</c>).</summary>
    public required string IssuingAccount { get; init; }
    /// <summary>The operations the grant allows.</summary>
    public required IReadOnlyList<GrantOperation> Operations { get; init; }
    /// <summary>The encryption-context constraints, or <see langword="null"/>.</summary>
    public GrantConstraints? Constraints { get; init; }
}

/// <summary>Input of <c>ListGrants</c>.</summary>
public sealed class ListGrantsRequest : KeyRequest, IGrantTokenRequest
{
    /// <summary>The page size, 1–100; 50 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
    /// <summary>Only the grant with this id.</summary>
    public string? GrantId { get; init; }
    /// <summary>Only grants for this grantee principal.</summary>
    public string? GranteePrincipal { get; init; }
    /// <summary>Up to 10 grant tokens.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
}

/// <summary>Output of <c>ListGrants</c>, ordered by grant id.</summary>
public sealed class ListGrantsResponse : PagedResponse<GrantListEntry>;

/// <summary>Input of <c>ListRetirableGrants</c>.</summary>
public sealed class ListRetirableGrantsRequest : KmsRequest
{
    /// <summary>The retiring principal whose grants to list.</summary>
    public required string RetiringPrincipal { get; init; }
    /// <summary>The page size, 1–100; 50 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
}

/// <summary>Input of <c>RetireGrant</c>: a grant token, or a key id (or key ARN) and a grant id.</summary>
public sealed class RetireGrantRequest : KmsRequest, IDryRunRequest
{
    /// <summary>The grant token; give it, or <see cref="KeyId"/> and <see cref="GrantId"/>.</summary>
    public string? GrantToken { get; init; }
    /// <summary>The key id or key ARN of the grant's key.</summary>
    public string? KeyId { get; init; }
    /// <summary>The grant id.</summary>
    public string? GrantId { get; init; }
    /// <summary>Validate and authorize without retiring the grant.</summary>
    public bool DryRun { get; init; }
}

/// <summary>Input of <c>RevokeGrant</c>.</summary>
public sealed class RevokeGrantRequest : KeyRequest, IDryRunRequest
{
    /// <summary>The grant id.</summary>
    public required string GrantId { get; init; }
    /// <summary>Validate and authorize without revoking the grant.</summary>
    public bool DryRun { get; init; }
}
