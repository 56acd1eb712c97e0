namespace EnvelopeKms;

/// <summary>The RSA key that wraps key material for import (<c>WrappingKeySpec</c>).</summary>
public enum WrappingKeySpec
{
    /// <summary><c>RSA_2048</c>.</summary>
    Rsa2048 = 1,
    /// <summary><c>RSA_3072</c>.</summary>
    Rsa3072,
    /// <summary><c>RSA_4096</c>.</summary>
    Rsa4096,
}

/// <summary>How key material is wrapped for import (<c>WrappingAlgorithm</c>).</summary>
public enum ImportWrappingAlgorithm
{
    /// <summary><c>RSAES_OAEP_SHA_1</c>: RSA-OAEP with SHA-1 (and MGF1-SHA-1) over the material.</summary>
    RsaesOaepSha1 = 1,
    /// <summary><c>RSAES_OAEP_SHA_256</c>: RSA-OAEP with SHA-256 (and MGF1-SHA-256) over the material.</summary>
    RsaesOaepSha256,
    /// <summary><c>RSA_AES_KEY_WRAP_SHA_1</c>: RSA-OAEP-SHA-1 of an ephemeral AES-256 key, followed by the material wrapped with it (AES key wrap with padding, RFC 5649).</summary>
    RsaAesKeyWrapSha1,
    /// <summary><c>RSA_AES_KEY_WRAP_SHA_256</c>: RSA-OAEP-SHA-256 of an ephemeral AES-256 key, followed by the material wrapped with it (AES key wrap with padding, RFC 5649).</summary>
    RsaAesKeyWrapSha256,
}

/// <summary>Whether imported key material expires (<c>ExpirationModel</c>).</summary>
public enum ExpirationModel
{
    /// <summary><c>KEY_MATERIAL_EXPIRES</c>: the material is deleted at <c>ValidTo</c> (the default).</summary>
    KeyMaterialExpires = 1,
    /// <summary><c>KEY_MATERIAL_DOES_NOT_EXPIRE</c>.</summary>
    KeyMaterialDoesNotExpire,
}

/// <summary>Whether imported material is new to the key or a re-import (<c>ImportType</c>).</summary>
public enum ImportType
{
    /// <summary><c>NEW_KEY_MATERIAL</c>: the key's first material, or (symmetric encryption keys) new material that waits in <see cref="KeyMaterialState.PendingRotation"/> for <c>RotateKeyOnDemand</c>.</summary>
    NewKeyMaterial = 1,
    /// <summary><c>EXISTING_KEY_MATERIAL</c>: the same material the key had before (after it expired or was deleted); <c>KeyMaterialId</c> names which.</summary>
    ExistingKeyMaterial,
}

/// <summary>Whether a key's imported material is in the key manager (<c>ImportState</c>).</summary>
public enum ImportState
{
    /// <summary><c>IMPORTED</c>: the material is available.</summary>
    Imported = 1,
    /// <summary><c>PENDING_IMPORT</c>: the material expired or was deleted; re-import it to use it again.</summary>
    PendingImport,
}

/// <summary>Input of <c>GetParametersForImport</c>.</summary>
public sealed class GetParametersForImportRequest : KmsRequest
{
    /// <summary>The key (key id or key ARN) of an <c>EXTERNAL</c> key.</summary>
    public required string KeyId { get; init; }
    /// <summary>The wrapping algorithm the material will be wrapped with.</summary>
    public required ImportWrappingAlgorithm WrappingAlgorithm { get; init; }
    /// <summary>The size of the RSA wrapping key.</summary>
    public required WrappingKeySpec WrappingKeySpec { get; init; }
}

/// <summary>Output of <c>GetParametersForImport</c>.</summary>
public sealed class GetParametersForImportResponse
{
    /// <summary>The key ARN.</summary>
    public required string KeyId { get; init; }
    /// <summary>The import token to pass to <c>ImportKeyMaterial</c>: opaque, sealed by the root key, usable once.</summary>
    public required byte[] ImportToken { get; init; }
    /// <summary>The RSA public key to wrap the material with, DER SubjectPublicKeyInfo.</summary>
    public required byte[] PublicKey { get; init; }
    /// <summary>When the token and public key stop being valid (24 hours after the call).</summary>
    public required DateTimeOffset ParametersValidTo { get; init; }
}

/// <summary>Input of <c>ImportKeyMaterial</c>.</summary>
public sealed class ImportKeyMaterialRequest : KmsRequest
{
    /// <summary>The key (key id or key ARN) the token was issued for.</summary>
    public required string KeyId { get; init; }
    /// <summary>The import token of the <c>GetParametersForImport</c> response whose public key wrapped the material.</summary>
    public required byte[] ImportToken { get; init; }
    /// <summary>The wrapped key material.</summary>
    public required byte[] EncryptedKeyMaterial { get; init; }
    /// <summary>Whether the material expires; <see cref="EnvelopeKms.ExpirationModel.KeyMaterialExpires"/> when omitted, as in KMS.</summary>
    public ExpirationModel? ExpirationModel { get; init; }
    /// <summary>When the material expires: required with <see cref="EnvelopeKms.ExpirationModel.KeyMaterialExpires"/>, in the future and at most 365 days ahead; otherwise omitted.</summary>
    public DateTimeOffset? ValidTo { get; init; }
    /// <summary><see cref="EnvelopeKms.ImportType.NewKeyMaterial"/> when the key never had material, otherwise <see cref="EnvelopeKms.ImportType.ExistingKeyMaterial"/> when omitted.</summary>
    public ImportType? ImportType { get; init; }
    /// <summary>A description of the material (at most 256 characters).</summary>
    public string? KeyMaterialDescription { get; init; }
    /// <summary>For a re-import: the id of the material being re-imported (checked against the material).</summary>
    public string? KeyMaterialId { get; init; }
}

/// <summary>Output of <c>ImportKeyMaterial</c>.</summary>
public sealed class ImportKeyMaterialResponse
{
    /// <summary>The key ARN.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the imported material, derived from the key id and the material.</summary>
    public required string KeyMaterialId { get; init; }
}

/// <summary>Input of <c>DeleteImportedKeyMaterial</c>.</summary>
public sealed class DeleteImportedKeyMaterialRequest : KmsRequest
{
    /// <summary>The key (key id or key ARN) of an <c>EXTERNAL</c> key.</summary>
    public required string KeyId { get; init; }
    /// <summary>The material to delete; the current one when omitted.</summary>
    public string? KeyMaterialId { get; init; }
}

/// <summary>Output of <c>DeleteImportedKeyMaterial</c>.</summary>
public sealed class DeleteImportedKeyMaterialResponse
{
    /// <summary>The key ARN.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the deleted material.</summary>
    public required string KeyMaterialId { get; init; }
}
