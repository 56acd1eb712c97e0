namespace EnvelopeKms;

/// <summary>The base of every key-manager request: carries the optional per-call caller override.</summary>
public abstract class KmsRequest
{
    /// <summary>
    /// The caller of this request. When <see langword="null"/>, the ambient
    /// <see cref="ICallerIdentityProvider"/> supplies it.
    /// </summary>
    public CallerIdentity? Caller { get; init; }
}

/// <summary>Input of <c>CreateKey</c>.</summary>
public sealed class CreateKeyRequest : KmsRequest
{
    /// <summary>A description of 0–8192 characters.</summary>
    public string? Description { get; init; }
    /// <summary>The key spec; <see cref="KeySpec.SymmetricDefault"/> by default.</summary>
    public KeySpec KeySpec { get; init; } = KeySpec.SymmetricDefault;
    /// <summary>The key usage; <see cref="KeyUsage.EncryptDecrypt"/> by default.</summary>
    public KeyUsage KeyUsage { get; init; } = KeyUsage.EncryptDecrypt;
    /// <summary>The origin; <see cref="KeyOrigin.AwsKms"/> by default. <see cref="KeyOrigin.External"/> creates a key in <see cref="KeyState.PendingImport"/>.</summary>
    public KeyOrigin Origin { get; init; } = KeyOrigin.AwsKms;
    /// <summary>Up to 50 tags.</summary>
    public IReadOnlyList<KeyTag>? Tags { get; init; }
    /// <summary>Must be <see langword="false"/> in this version (multi-region keys are not supported yet).</summary>
    public bool MultiRegion { get; init; }
    /// <summary>The key policy (at most 32 KB); KMS's default key policy when not given (see <c>docs/policies.md</c>).</summary>
    public string? Policy { get; init; }
    /// <summary>Skips the lockout safety check of <see cref="Policy"/> (see <see cref="PutKeyPolicyRequest.BypassPolicyLockoutSafetyCheck"/>).</summary>
    public bool BypassPolicyLockoutSafetyCheck { get; init; }
    /// <summary>The custom key store to create the key in (<c>cks-...</c>); needs <see cref="Origin"/> <see cref="KeyOrigin.AwsCloudHsm"/> or <see cref="KeyOrigin.ExternalKeyStore"/> (see <c>docs/custom-key-stores.md</c>).</summary>
    public string? CustomKeyStoreId { get; init; }
    /// <summary>With origin <see cref="KeyOrigin.ExternalKeyStore"/>: the id of the existing external key in the external key manager.</summary>
    public string? XksKeyId { get; init; }
}

/// <summary>Input naming one key: a key id, key ARN, alias name or alias ARN (which of these an operation accepts follows AWS KMS).</summary>
public abstract class KeyRequest : KmsRequest
{
    /// <summary>The key: key id, key ARN, alias name (<c>alias/...</c>) or alias ARN.</summary>
    public required string KeyId { get; init; }
}

/// <summary>Input of <c>DescribeKey</c>.</summary>
public sealed class DescribeKeyRequest : KeyRequest, IGrantTokenRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
}

/// <summary>Input of <c>EnableKey</c>.</summary>
public sealed class EnableKeyRequest : KeyRequest;

/// <summary>Input of <c>DisableKey</c>.</summary>
public sealed class DisableKeyRequest : KeyRequest;

/// <summary>Input of <c>CancelKeyDeletion</c>.</summary>
public sealed class CancelKeyDeletionRequest : KeyRequest;

/// <summary>Input of <c>UpdateKeyDescription</c>.</summary>
public sealed class UpdateKeyDescriptionRequest : KeyRequest
{
    /// <summary>The new description, 0–8192 characters.</summary>
    public required string Description { get; init; }
}

/// <summary>Input of <c>ScheduleKeyDeletion</c>.</summary>
public sealed class ScheduleKeyDeletionRequest : KeyRequest
{
    /// <summary>The waiting period, 7–30 days; 30 when not given.</summary>
    public int? PendingWindowInDays { get; init; }
}

/// <summary>Input of <c>ListKeys</c>.</summary>
public sealed class ListKeysRequest : KmsRequest
{
    /// <summary>The page size, 1–1000; 100 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
}

/// <summary>Input of <c>CreateAlias</c>.</summary>
public sealed class CreateAliasRequest : KmsRequest
{
    /// <summary>The alias name: <c>alias/</c> followed by 1–250 characters of <c>a-zA-Z0-9/_-</c>; <c>alias/aws/</c> is reserved.</summary>
    public required string AliasName { get; init; }
    /// <summary>The key id or key ARN of the target key.</summary>
    public required string TargetKeyId { get; init; }
}

/// <summary>Input of <c>UpdateAlias</c>.</summary>
public sealed class UpdateAliasRequest : KmsRequest
{
    /// <summary>The alias to move.</summary>
    public required string AliasName { get; init; }
    /// <summary>The key id or key ARN of the new target key.</summary>
    public required string TargetKeyId { get; init; }
}

/// <summary>Input of <c>DeleteAlias</c>.</summary>
public sealed class DeleteAliasRequest : KmsRequest
{
    /// <summary>The alias to delete.</summary>
    public required string AliasName { get; init; }
}

/// <summary>Input of <c>ListAliases</c>.</summary>
public sealed class ListAliasesRequest : KmsRequest
{
    /// <summary>When given, lists only the aliases of this key (key id or key ARN).</summary>
    public string? KeyId { get; init; }
    /// <summary>The page size, 1–100; 50 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
}

/// <summary>Input of <c>TagResource</c>.</summary>
public sealed class TagResourceRequest : KeyRequest
{
    /// <summary>The tags to add or overwrite.</summary>
    public required IReadOnlyList<KeyTag> Tags { get; init; }
}

/// <summary>Input of <c>UntagResource</c>.</summary>
public sealed class UntagResourceRequest : KeyRequest
{
    /// <summary>The tag keys to remove.</summary>
    public required IReadOnlyList<string> TagKeys { get; init; }
}

/// <summary>Input of <c>ListResourceTags</c>.</summary>
public sealed class ListResourceTagsRequest : KeyRequest
{
    /// <summary>The page size, 1–50; 50 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
}

/// <summary>Input of <c>Encrypt</c>.</summary>
public sealed class EncryptRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The plaintext, 1–4096 bytes.</summary>
    public required ReadOnlyMemory<byte> Plaintext { get; init; }
    /// <summary>The encryption context; the same pairs must be given to decrypt.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>The algorithm; <see cref="EncryptionAlgorithm.SymmetricDefault"/> by default.</summary>
    public EncryptionAlgorithm EncryptionAlgorithm { get; init; } = EncryptionAlgorithm.SymmetricDefault;
}

/// <summary>Input of <c>Decrypt</c>.</summary>
public sealed class DecryptRequest : KmsRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The ciphertext blob, 1–6144 bytes.</summary>
    public required ReadOnlyMemory<byte> CiphertextBlob { get; init; }
    /// <summary>The encryption context given at encryption.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>Optional: the key expected to have encrypted the ciphertext; a different key fails with <see cref="KmsIncorrectKeyException"/>.</summary>
    public string? KeyId { get; init; }
    /// <summary>The algorithm; <see cref="EncryptionAlgorithm.SymmetricDefault"/> by default.</summary>
    public EncryptionAlgorithm EncryptionAlgorithm { get; init; } = EncryptionAlgorithm.SymmetricDefault;
    /// <summary>
    /// Optional: an attested recipient. When given, the plaintext is returned only encrypted for the
    /// recipient's public key, in <c>CiphertextForRecipient</c> (see <c>docs/recipients.md</c>).
    /// </summary>
    public RecipientInfo? Recipient { get; init; }
}

/// <summary>Input of <c>ReEncrypt</c>.</summary>
public sealed class ReEncryptRequest : KmsRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The ciphertext to re-encrypt.</summary>
    public required ReadOnlyMemory<byte> CiphertextBlob { get; init; }
    /// <summary>The encryption context the ciphertext was made with.</summary>
    public IReadOnlyDictionary<string, string>? SourceEncryptionContext { get; init; }
    /// <summary>Optional: the key expected to have encrypted the ciphertext.</summary>
    public string? SourceKeyId { get; init; }
    /// <summary>The key to re-encrypt under.</summary>
    public required string DestinationKeyId { get; init; }
    /// <summary>The encryption context of the new ciphertext.</summary>
    public IReadOnlyDictionary<string, string>? DestinationEncryptionContext { get; init; }
    /// <summary>The source algorithm; <see cref="EncryptionAlgorithm.SymmetricDefault"/> by default.</summary>
    public EncryptionAlgorithm SourceEncryptionAlgorithm { get; init; } = EncryptionAlgorithm.SymmetricDefault;
    /// <summary>The destination algorithm; <see cref="EncryptionAlgorithm.SymmetricDefault"/> by default.</summary>
    public EncryptionAlgorithm DestinationEncryptionAlgorithm { get; init; } = EncryptionAlgorithm.SymmetricDefault;
}

/// <summary>Input of <c>GenerateDataKey</c> and <c>GenerateDataKeyWithoutPlaintext</c>.</summary>
public sealed class GenerateDataKeyRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The data key length by name. Give exactly one of <see cref="KeySpec"/> and <see cref="NumberOfBytes"/>.</summary>
    public DataKeySpec? KeySpec { get; init; }
    /// <summary>The data key length in bytes, 1–1024.</summary>
    public int? NumberOfBytes { get; init; }
    /// <summary>The encryption context of the encrypted copy.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>
    /// Optional: an attested recipient. When given, the plaintext data key (<c>GenerateDataKey</c> only: <c>GenerateDataKeyWithoutPlaintext</c> refuses a recipient) is returned only encrypted for the
    /// recipient's public key, in <c>CiphertextForRecipient</c> (see <c>docs/recipients.md</c>).
    /// </summary>
    public RecipientInfo? Recipient { get; init; }
}

/// <summary>Input of <c>GenerateRandom</c>.</summary>
public sealed class GenerateRandomRequest : KmsRequest
{
    /// <summary>The number of bytes, 1–1024.</summary>
    public required int NumberOfBytes { get; init; }
    /// <summary>
    /// Optional: an attested recipient. When given, the random bytes are is returned only encrypted for the
    /// recipient's public key, in <c>CiphertextForRecipient</c> (see <c>docs/recipients.md</c>).
    /// </summary>
    public RecipientInfo? Recipient { get; init; }
}

/// <summary>Input of <c>GenerateMac</c>.</summary>
public sealed class GenerateMacRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The message, 1–4096 bytes. A digest gets no special handling: verify the MAC of the same digest.</summary>
    public required ReadOnlyMemory<byte> Message { get; init; }
    /// <summary>The MAC algorithm; it must be the one of the key's spec (<c>HMAC_256</c> keys take <see cref="MacAlgorithm.HmacSha256"/>).</summary>
    public required MacAlgorithm MacAlgorithm { get; init; }
}

/// <summary>Input of <c>VerifyMac</c>.</summary>
public sealed class VerifyMacRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The message, 1–4096 bytes.</summary>
    public required ReadOnlyMemory<byte> Message { get; init; }
    /// <summary>The MAC to verify, as <c>GenerateMac</c> returned it.</summary>
    public required ReadOnlyMemory<byte> Mac { get; init; }
    /// <summary>The MAC algorithm the MAC was made with.</summary>
    public required MacAlgorithm MacAlgorithm { get; init; }
}

/// <summary>Input of <c>Sign</c>.</summary>
public sealed class SignRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>
    /// The message: with <see cref="MessageType.Raw"/> the message itself (at most 4096 bytes); with
    /// <see cref="MessageType.Digest"/> its digest, exactly as long as the algorithm's hash.
    /// </summary>
    public required ReadOnlyMemory<byte> Message { get; init; }
    /// <summary>How <see cref="Message"/> is to be read; <see cref="MessageType.Raw"/> by default.</summary>
    public MessageType MessageType { get; init; } = MessageType.Raw;
    /// <summary>The signing algorithm; it must be one of the key's <see cref="KeyMetadata.SigningAlgorithms"/>.</summary>
    public required SigningAlgorithm SigningAlgorithm { get; init; }
}

/// <summary>Input of <c>Verify</c>.</summary>
public sealed class VerifyRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The message or digest, as given to <c>Sign</c>.</summary>
    public required ReadOnlyMemory<byte> Message { get; init; }
    /// <summary>How <see cref="Message"/> is to be read; <see cref="MessageType.Raw"/> by default.</summary>
    public MessageType MessageType { get; init; } = MessageType.Raw;
    /// <summary>The signature to verify, as <c>Sign</c> returned it (DER for ECDSA).</summary>
    public required ReadOnlyMemory<byte> Signature { get; init; }
    /// <summary>The signing algorithm the signature was made with.</summary>
    public required SigningAlgorithm SigningAlgorithm { get; init; }
}

/// <summary>Input of <c>GetPublicKey</c>.</summary>
public sealed class GetPublicKeyRequest : KeyRequest, IGrantTokenRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
}

/// <summary>Input of <c>Decapsulate</c>.</summary>
public sealed class DecapsulateRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The ML-KEM ciphertext; it must have the parameter set's length (768, 1088 or 1568 bytes).</summary>
    public required ReadOnlyMemory<byte> Ciphertext { get; init; }
}

/// <summary>Input of <c>Encapsulate</c>.</summary>
public sealed class EncapsulateRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
}

/// <summary>Input of <c>DeriveSharedSecret</c>.</summary>
public sealed class DeriveSharedSecretRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The key agreement algorithm; <see cref="KeyAgreementAlgorithm.Ecdh"/>, the only one.</summary>
    public KeyAgreementAlgorithm KeyAgreementAlgorithm { get; init; } = KeyAgreementAlgorithm.Ecdh;
    /// <summary>The peer's public key: a DER SubjectPublicKeyInfo of a named-curve key on the KMS key's own curve.</summary>
    public required ReadOnlyMemory<byte> PublicKey { get; init; }
    /// <summary>
    /// Optional: an attested recipient. When given, the shared secret is returned only encrypted for the
    /// recipient's public key, in <c>CiphertextForRecipient</c> (see <c>docs/recipients.md</c>).
    /// </summary>
    public RecipientInfo? Recipient { get; init; }
}

/// <summary>Input of <c>EnableKeyRotation</c>.</summary>
public sealed class EnableKeyRotationRequest : KeyRequest
{
    /// <summary>The rotation period in days, 90–2560; 365 when not given.</summary>
    public int? RotationPeriodInDays { get; init; }
}

/// <summary>Input of <c>DisableKeyRotation</c>.</summary>
public sealed class DisableKeyRotationRequest : KeyRequest;

/// <summary>Input of <c>GetKeyRotationStatus</c>.</summary>
public sealed class GetKeyRotationStatusRequest : KeyRequest;

/// <summary>Input of <c>RotateKeyOnDemand</c>.</summary>
public sealed class RotateKeyOnDemandRequest : KeyRequest;

/// <summary>Input of <c>ListKeyRotations</c>.</summary>
public sealed class ListKeyRotationsRequest : KeyRequest
{
    /// <summary>Which material versions to list; <see cref="EnvelopeKms.IncludeKeyMaterial.RotationsOnly"/> when not given.</summary>
    public IncludeKeyMaterial? IncludeKeyMaterial { get; init; }
    /// <summary>The page size, 1–1000; 100 when not given.</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>NextMarker</c> of the previous page.</summary>
    public string? Marker { get; init; }
}
