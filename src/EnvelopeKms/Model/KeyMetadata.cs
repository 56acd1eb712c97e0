namespace EnvelopeKms;

/// <summary>Metadata of a KMS key, as <c>DescribeKey</c> returns it (<c>KeyMetadata</c>).</summary>
public sealed class KeyMetadata
{
    /// <summary>The key id, a lowercase UUID.</summary>
    public required string KeyId { get; init; }
    /// <summary>The key ARN, <c>arn:aws:kms:REGION:ACCOUNT:key/KEY_ID</c>.</summary>
    public required string Arn { get; init; }
    /// <summary>The 12-digit account that owns the key.</summary>
    public required string AwsAccountId { get; init; }
    /// <summary>When the key was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>The key's description.</summary>
    public required string Description { get; init; }
    /// <summary>Whether the key state is <see cref="KeyState.Enabled"/>.</summary>
    public bool Enabled => KeyState == KeyState.Enabled;
    /// <summary>The key state.</summary>
    public required KeyState KeyState { get; init; }
    /// <summary>The key usage.</summary>
    public required KeyUsage KeyUsage { get; init; }
    /// <summary>The key spec.</summary>
    public required KeySpec KeySpec { get; init; }
    /// <summary>Where the key material came from.</summary>
    public required KeyOrigin Origin { get; init; }
    /// <summary>Who manages the key.</summary>
    public required KeyManagerType KeyManager { get; init; }
    /// <summary>The encryption algorithms the key supports.</summary>
    public required IReadOnlyList<EncryptionAlgorithm> EncryptionAlgorithms { get; init; }
    /// <summary>The MAC algorithms the key supports (HMAC keys only; empty otherwise).</summary>
    public IReadOnlyList<MacAlgorithm> MacAlgorithms { get; init; } = [];
    /// <summary>The signing algorithms the key supports (<see cref="KeyUsage.SignVerify"/> keys only; empty otherwise).</summary>
    public IReadOnlyList<SigningAlgorithm> SigningAlgorithms { get; init; } = [];
    /// <summary>The key agreement algorithms the key supports (<see cref="KeyUsage.KeyAgreement"/> keys only; empty otherwise).</summary>
    public IReadOnlyList<KeyAgreementAlgorithm> KeyAgreementAlgorithms { get; init; } = [];
    /// <summary>When the key will be purged, for a key in <see cref="KeyState.PendingDeletion"/>.</summary>
    public DateTimeOffset? DeletionDate { get; init; }
    /// <summary>The waiting period chosen when the deletion was scheduled.</summary>
    public int? PendingDeletionWindowInDays { get; init; }
    /// <summary>The id of the current key material (64 lowercase hex characters), or <see langword="null"/> without material.</summary>
    public string? CurrentKeyMaterialId { get; init; }
    /// <summary>Whether this is a multi-Region key (an <c>mrk-</c> key id): a primary key or a replica; see <see cref="MultiRegionConfiguration"/>.</summary>
    public bool MultiRegion { get; init; }
    /// <summary>For a key of origin <c>EXTERNAL</c> with current material: whether that material expires.</summary>
    public ExpirationModel? ExpirationModel { get; init; }
    /// <summary>For a key of origin <c>EXTERNAL</c>: when its current material expires, if it does.</summary>
    public DateTimeOffset? ValidTo { get; init; }
    /// <summary>For a multi-Region key: whether it is the primary or a replica, and the ARNs and Regions of the primary and of every replica.</summary>
    public MultiRegionConfiguration? MultiRegionConfiguration { get; init; }
    /// <summary>The custom key store the key lives in, or <see langword="null"/>.</summary>
    public string? CustomKeyStoreId { get; init; }
    /// <summary>Keys in an HSM key store: the cluster id of the store.</summary>
    public string? CloudHsmClusterId { get; init; }
    /// <summary>Keys in an external key store: the external key.</summary>
    public XksKeyConfiguration? XksKeyConfiguration { get; init; }
}

/// <summary>A key tag (<c>Tag</c>): a key of 1–128 characters and a value of 0–256 characters.</summary>
/// <param name="TagKey">The tag key.</param>
/// <param name="TagValue">The tag value.</param>
public sealed record KeyTag(string TagKey, string TagValue);

/// <summary>An entry of <c>ListKeys</c>.</summary>
/// <param name="KeyId">The key id.</param>
/// <param name="KeyArn">The key ARN.</param>
public sealed record KeyListEntry(string KeyId, string KeyArn);

/// <summary>An entry of <c>ListAliases</c>.</summary>
public sealed class AliasListEntry
{
    /// <summary>The alias name, <c>alias/...</c>.</summary>
    public required string AliasName { get; init; }
    /// <summary>The alias ARN.</summary>
    public required string AliasArn { get; init; }
    /// <summary>The id of the key the alias points to.</summary>
    public required string TargetKeyId { get; init; }
    /// <summary>When the alias was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>When the alias was last pointed at a key.</summary>
    public required DateTimeOffset LastUpdatedDate { get; init; }
}
