using System.Text.Json.Serialization;

namespace EnvelopeKms.Storage;

/// <summary>The stored form of a key: its metadata and its wrapped key material versions.</summary>
public sealed record KeyRecord
{
    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }
    /// <summary>The account that owns the key.</summary>
    public required string AccountId { get; init; }
    /// <summary>When the key was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>The description.</summary>
    public string Description { get; init; } = "";
    /// <summary>The key state.</summary>
    public required KeyState KeyState { get; init; }
    /// <summary>The key spec.</summary>
    public required KeySpec KeySpec { get; init; }
    /// <summary>The key usage.</summary>
    public required KeyUsage KeyUsage { get; init; }
    /// <summary>The origin.</summary>
    public required KeyOrigin Origin { get; init; }
    /// <summary>Who manages the key.</summary>
    public KeyManagerType KeyManager { get; init; } = KeyManagerType.Customer;
    /// <summary>When the key is to be purged (an absolute instant), in <see cref="KeyState.PendingDeletion"/>.</summary>
    public DateTimeOffset? DeletionDate { get; init; }
    /// <summary>The waiting period chosen when the deletion was scheduled.</summary>
    public int? PendingDeletionWindowInDays { get; init; }
    /// <summary>The tags, ordered by tag key.</summary>
    public IReadOnlyList<KeyTag> Tags { get; init; } = [];
    /// <summary>The automatic rotation period in days (90–2560), or <see langword="null"/> when automatic rotation is off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int? RotationPeriodInDays { get; init; }
    /// <summary>When the next automatic rotation is due, while automatic rotation is on.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public DateTimeOffset? NextRotationDate { get; init; }
    /// <summary>
    /// The key policy document (JSON text, at most 32 KB), or <see langword="null"/> for a key stored before
    /// key policies: it has the default key policy, which the key manager supplies.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? Policy { get; init; }
    /// <summary>The id of the material new encryptions use.</summary>
    public string? CurrentKeyMaterialId { get; init; }
    /// <summary>Every material version the key has; old ones stay to decrypt old ciphertexts.</summary>
    public IReadOnlyList<KeyMaterialRecord> KeyMaterials { get; init; } = [];
    /// <summary>Import tokens used on this key that have not expired yet (an import token is usable once).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<UsedImportToken>? UsedImportTokens { get; init; }
    /// <summary>The custom key store the key lives in (<c>cks-...</c>), or <see langword="null"/> for a key in this store.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? CustomKeyStoreId { get; init; }
    /// <summary>The key's id inside its custom key store's backend: the HSM object's label, or the external key's <c>XksKeyId</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? CustomKeyStoreKeyId { get; init; }
    /// <summary>The multi-Region configuration of a multi-Region key (an <c>mrk-</c> key id), or <see langword="null"/> for a single-Region key.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public MultiRegionKeyRecord? MultiRegion { get; init; }
    /// <summary>
    /// The root key's seal over every other field (except <see cref="Version"/>), written by the key
    /// manager and checked on every read; stores keep it as given. See <c>docs/storage.md</c>.
    /// </summary>
    public byte[]? Seal { get; init; }
    /// <summary>The optimistic-concurrency version; assigned by the store.</summary>
    public long Version { get; init; }
}

/// <summary>One version of a key's material, wrapped by the root key.</summary>
public sealed record KeyMaterialRecord
{
    /// <summary>The key-material id: 64 lowercase hex characters.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>When the material was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>The material wrapped by the root key; the wrap binds key id, material id, spec and usage.</summary>
    public required byte[] WrappedMaterial { get; init; }
    /// <summary>How the material was made by a rotation, or <see langword="null"/> for a key's first material.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public KeyRotationType? RotationType { get; init; }
    /// <summary>
    /// How many encryptions with this material key-manager instances have reserved: an upper bound of the
    /// encryptions it has done (instances reserve blocks ahead; a block unused at shutdown still counts).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long EncryptionsReserved { get; init; }
    /// <summary>
    /// For imported material: when it expires (<see langword="null"/>: it does not). Imported material
    /// that expired or was deleted keeps its record with an empty <see cref="WrappedMaterial"/>, so that
    /// the same material can be imported again.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public DateTimeOffset? ValidTo { get; init; }
    /// <summary>For imported material: the <c>KeyMaterialDescription</c> given at import.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? Description { get; init; }
    /// <summary>Whether the material was imported (the key's origin is <c>EXTERNAL</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Imported { get; init; }
}

/// <summary>An import token already used on a key, kept until it would have expired, so that it cannot be used again.</summary>
public sealed record UsedImportToken
{
    /// <summary>The token's id: 32 lowercase hex characters.</summary>
    public required string TokenId { get; init; }
    /// <summary>When the token expires; the entry is dropped after.</summary>
    public required DateTimeOffset ValidTo { get; init; }
}

/// <summary>The stored form of an alias.</summary>
public sealed record AliasRecord
{
    /// <summary>The alias name, <c>alias/...</c>.</summary>
    public required string AliasName { get; init; }
    /// <summary>The key the alias points to.</summary>
    public required string TargetKeyId { get; init; }
    /// <summary>When the alias was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>When the alias was last pointed at a key.</summary>
    public required DateTimeOffset LastUpdatedDate { get; init; }
    /// <summary>The root key's seal over every other field (except <see cref="Version"/>); stores keep it as given.</summary>
    public byte[]? Seal { get; init; }
    /// <summary>The optimistic-concurrency version; assigned by the store.</summary>
    public long Version { get; init; }
}

/// <summary>
/// The stored form of a grant: lets <see cref="GranteePrincipal"/> run <see cref="Operations"/> on
/// <see cref="KeyId"/> (with optional encryption-context constraints) until it is retired or revoked.
/// Grants never change once written: they are inserted and deleted.
/// </summary>
public sealed record GrantRecord
{
    /// <summary>The key the grant is for.</summary>
    public required string KeyId { get; init; }
    /// <summary>The grant id: 64 lowercase hex characters.</summary>
    public required string GrantId { get; init; }
    /// <summary>The grant's name (1–256 characters of <c>[a-zA-Z0-9:/_-]</c>), or <see langword="null"/>.</summary>
    public string? Name { get; init; }
    /// <summary>The principal the grant lets use the key.</summary>
    public required string GranteePrincipal { get; init; }
    /// <summary>The principal that may retire the grant, or <see langword="null"/>.</summary>
    public string? RetiringPrincipal { get; init; }
    /// <summary>The account root of the caller who created the grant: <c>arn:aws:iam::ACCOUNT:root</c>.</summary>
    public required string IssuingAccount { get; init; }
    /// <summary>The KMS operation names the grant allows, such as <c>Decrypt</c>: distinct, in ordinal order.</summary>
    public required IReadOnlyList<string> Operations { get; init; }
    /// <summary>Pairs the request's encryption context must include, or <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContextSubset { get; init; }
    /// <summary>The exact encryption context the request must have, or <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContextEquals { get; init; }
    /// <summary>When the grant was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>The root key's seal over every other field (except <see cref="Version"/>); stores keep it as given.</summary>
    public byte[]? Seal { get; init; }
    /// <summary>The optimistic-concurrency version; assigned by the store (1: grants are never updated).</summary>
    public long Version { get; init; }
}

/// <summary>Facts about a key store that every instance using it must agree on.</summary>
public sealed record KeyStoreMetadata
{
    /// <summary>The storage format version: 2 (every record sealed) for stores created by this release; 1 for older stores.</summary>
    public required int FormatVersion { get; init; }
    /// <summary>A key check value of the root key (not the key): detects a wrong root key before anything is written.</summary>
    public required string RootKeyCheckValue { get; init; }
    /// <summary>Public parameters of the root-key provider, such as a passphrase KDF's salt and cost.</summary>
    public string? RootKeyParameters { get; init; }
    /// <summary>When the store was initialized.</summary>
    public required DateTimeOffset CreationDate { get; init; }
}
