using System.Security.Cryptography;

namespace EnvelopeKms;

/// <summary>Output of <c>CreateKey</c> and <c>DescribeKey</c>.</summary>
/// <param name="KeyMetadata">The key's metadata.</param>
public sealed record KeyMetadataResponse(KeyMetadata KeyMetadata);

/// <summary>Output of <c>ScheduleKeyDeletion</c>.</summary>
public sealed class ScheduleKeyDeletionResponse
{
    /// <summary>The key ARN.</summary>
    public required string KeyId { get; init; }
    /// <summary>When the key will be purged.</summary>
    public required DateTimeOffset DeletionDate { get; init; }
    /// <summary>Always <see cref="KeyState.PendingDeletion"/>.</summary>
    public required KeyState KeyState { get; init; }
    /// <summary>The waiting period.</summary>
    public required int PendingWindowInDays { get; init; }
}

/// <summary>Output of <c>CancelKeyDeletion</c>.</summary>
/// <param name="KeyId">The key ARN.</param>
public sealed record CancelKeyDeletionResponse(string KeyId);

/// <summary>A page of results.</summary>
/// <typeparam name="T">The entry type.</typeparam>
public abstract class PagedResponse<T>
{
    /// <summary>The entries of this page.</summary>
    public required IReadOnlyList<T> Items { get; init; }
    /// <summary>Whether more entries follow; pass <see cref="NextMarker"/> to get them.</summary>
    public bool Truncated => NextMarker is not null;
    /// <summary>The marker of the next page, or <see langword="null"/> on the last page.</summary>
    public string? NextMarker { get; init; }
}

/// <summary>Output of <c>ListKeys</c>.</summary>
public sealed class ListKeysResponse : PagedResponse<KeyListEntry>;

/// <summary>Output of <c>ListAliases</c>.</summary>
public sealed class ListAliasesResponse : PagedResponse<AliasListEntry>;

/// <summary>Output of <c>ListResourceTags</c>.</summary>
public sealed class ListResourceTagsResponse : PagedResponse<KeyTag>;

/// <summary>Output of <c>Encrypt</c>.</summary>
public sealed class EncryptResponse
{
    /// <summary>The ciphertext blob (see <c>docs/ciphertext-format.md</c>).</summary>
    public required byte[] CiphertextBlob { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the key material used.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>The algorithm used.</summary>
    public required EncryptionAlgorithm EncryptionAlgorithm { get; init; }
}

/// <summary>
/// A response that carries secret bytes. <see cref="Dispose"/> zeroes them; the caller owns the
/// arrays and should dispose the response as soon as the secret is no longer needed.
/// </summary>
public abstract class SecretResponse : IDisposable
{
    /// <summary>The secret bytes to zero on dispose.</summary>
    private protected abstract byte[]? Secret { get; }

    /// <summary>Zeroes the secret bytes.</summary>
    public void Dispose()
    {
        if (Secret is { } secret)
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>Output of <c>Decrypt</c>. Dispose it to zero <see cref="Plaintext"/>.</summary>
public sealed class DecryptResponse : SecretResponse
{
    /// <summary>The plaintext.</summary>
    public required byte[] Plaintext { get; init; }
    /// <summary>The ARN of the key that decrypted.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the key material that decrypted.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>The algorithm used.</summary>
    public required EncryptionAlgorithm EncryptionAlgorithm { get; init; }
    /// <summary>
    /// When the request named a <c>Recipient</c>: the plaintext as a CMS EnvelopedData (RFC 5652) for the
    /// attested public key; <see cref="Plaintext"/> is then empty. <see langword="null"/> otherwise.
    /// </summary>
    public byte[]? CiphertextForRecipient { get; init; }
    private protected override byte[]? Secret => Plaintext;
}

/// <summary>Output of <c>ReEncrypt</c>.</summary>
public sealed class ReEncryptResponse
{
    /// <summary>The new ciphertext.</summary>
    public required byte[] CiphertextBlob { get; init; }
    /// <summary>The ARN of the key that decrypted the source ciphertext.</summary>
    public required string SourceKeyId { get; init; }
    /// <summary>The ARN of the key that encrypted the new ciphertext.</summary>
    public required string KeyId { get; init; }
    /// <summary>The key material that decrypted the source ciphertext.</summary>
    public required string SourceKeyMaterialId { get; init; }
    /// <summary>The key material that encrypted the new ciphertext.</summary>
    public required string DestinationKeyMaterialId { get; init; }
    /// <summary>The source algorithm.</summary>
    public required EncryptionAlgorithm SourceEncryptionAlgorithm { get; init; }
    /// <summary>The destination algorithm.</summary>
    public required EncryptionAlgorithm DestinationEncryptionAlgorithm { get; init; }
}

/// <summary>Output of <c>GenerateDataKey</c>. Dispose it to zero <see cref="Plaintext"/>.</summary>
public sealed class GenerateDataKeyResponse : SecretResponse
{
    /// <summary>The plaintext data key: use it, then zero it.</summary>
    public required byte[] Plaintext { get; init; }
    /// <summary>The data key encrypted under the KMS key; store it beside the data.</summary>
    public required byte[] CiphertextBlob { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the key material used.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>
    /// When the request named a <c>Recipient</c>: the plaintext data key as a CMS EnvelopedData (RFC 5652) for the
    /// attested public key; <see cref="Plaintext"/> is then empty. <see langword="null"/> otherwise.
    /// </summary>
    public byte[]? CiphertextForRecipient { get; init; }
    private protected override byte[]? Secret => Plaintext;
}

/// <summary>Output of <c>GenerateDataKeyWithoutPlaintext</c>.</summary>
public sealed class GenerateDataKeyWithoutPlaintextResponse
{
    /// <summary>The data key encrypted under the KMS key.</summary>
    public required byte[] CiphertextBlob { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the key material used.</summary>
    public required string KeyMaterialId { get; init; }
}

/// <summary>Output of <c>GenerateRandom</c>. Dispose it to zero <see cref="Plaintext"/>.</summary>
public sealed class GenerateRandomResponse : SecretResponse
{
    /// <summary>The random bytes.</summary>
    public required byte[] Plaintext { get; init; }
    /// <summary>
    /// When the request named a <c>Recipient</c>: the random bytes as a CMS EnvelopedData (RFC 5652) for the
    /// attested public key; <see cref="Plaintext"/> is then empty. <see langword="null"/> otherwise.
    /// </summary>
    public byte[]? CiphertextForRecipient { get; init; }
    private protected override byte[]? Secret => Plaintext;
}

/// <summary>Output of <c>GenerateMac</c>.</summary>
public sealed class GenerateMacResponse
{
    /// <summary>The MAC: the standard HMAC of RFC 2104, of the algorithm's full length.</summary>
    public required byte[] Mac { get; init; }
    /// <summary>The MAC algorithm used.</summary>
    public required MacAlgorithm MacAlgorithm { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
}

/// <summary>
/// Output of <c>VerifyMac</c>. Unlike AWS KMS, which fails with <c>KMSInvalidMacException</c>, a MAC
/// that does not verify is <see cref="MacValid"/> <see langword="false"/>, not an exception.
/// </summary>
public sealed class VerifyMacResponse
{
    /// <summary>Whether the MAC is the key's MAC of the message (compared in constant time).</summary>
    public required bool MacValid { get; init; }
    /// <summary>The MAC algorithm used.</summary>
    public required MacAlgorithm MacAlgorithm { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
}

/// <summary>Output of <c>Sign</c>.</summary>
public sealed class SignResponse
{
    /// <summary>The signature: DER <c>SEQUENCE { r, s }</c> for ECDSA, the standard encoding otherwise.</summary>
    public required byte[] Signature { get; init; }
    /// <summary>The signing algorithm used.</summary>
    public required SigningAlgorithm SigningAlgorithm { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
}

/// <summary>
/// Output of <c>Verify</c>. Unlike AWS KMS, which fails with <c>KMSInvalidSignatureException</c>, a
/// signature that does not verify is <see cref="SignatureValid"/> <see langword="false"/>, not an exception.
/// </summary>
public sealed class VerifyResponse
{
    /// <summary>Whether the signature is a valid signature of the message by the key.</summary>
    public required bool SignatureValid { get; init; }
    /// <summary>The signing algorithm used.</summary>
    public required SigningAlgorithm SigningAlgorithm { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
}

/// <summary>Output of <c>GetPublicKey</c>.</summary>
public sealed class GetPublicKeyResponse
{
    /// <summary>The ARN of the key.</summary>
    public required string KeyId { get; init; }
    /// <summary>The public key as a DER-encoded X.509 SubjectPublicKeyInfo (RFC 5280).</summary>
    public required byte[] PublicKey { get; init; }
    /// <summary>The key's spec.</summary>
    public required KeySpec KeySpec { get; init; }
    /// <summary>The key's usage.</summary>
    public required KeyUsage KeyUsage { get; init; }
    /// <summary>The signing algorithms the key supports (empty unless it is a <see cref="KeyUsage.SignVerify"/> key).</summary>
    public required IReadOnlyList<SigningAlgorithm> SigningAlgorithms { get; init; }
    /// <summary>The encryption algorithms the key supports (RSA <see cref="KeyUsage.EncryptDecrypt"/> keys only; empty otherwise).</summary>
    public IReadOnlyList<EncryptionAlgorithm> EncryptionAlgorithms { get; init; } = [];
    /// <summary>The key agreement algorithms the key supports (<see cref="KeyUsage.KeyAgreement"/> keys only; empty otherwise).</summary>
    public IReadOnlyList<KeyAgreementAlgorithm> KeyAgreementAlgorithms { get; init; } = [];
}

/// <summary>Output of <c>Decapsulate</c>. Dispose it to zero <see cref="SharedSecret"/>.</summary>
public sealed class DecapsulateResponse : SecretResponse
{
    /// <summary>The 32-byte shared secret. A changed ciphertext of the right length gives an unrelated secret (implicit rejection), not an error.</summary>
    public required byte[] SharedSecret { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
    private protected override byte[]? Secret => SharedSecret;
}

/// <summary>Output of <c>Encapsulate</c>. Dispose it to zero <see cref="SharedSecret"/>.</summary>
public sealed class EncapsulateResponse : SecretResponse
{
    /// <summary>The fresh 32-byte shared secret.</summary>
    public required byte[] SharedSecret { get; init; }
    /// <summary>The ciphertext to send to the holder of the key, who recovers the secret with <c>Decapsulate</c>.</summary>
    public required byte[] Ciphertext { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
    private protected override byte[]? Secret => SharedSecret;
}

/// <summary>Output of <c>DeriveSharedSecret</c>. Dispose it to zero <see cref="SharedSecret"/>.</summary>
public sealed class DeriveSharedSecretResponse : SecretResponse
{
    /// <summary>The raw shared secret (the x-coordinate of the agreed point): derive keys from it with a KDF, then zero it.</summary>
    public required byte[] SharedSecret { get; init; }
    /// <summary>The ARN of the key used.</summary>
    public required string KeyId { get; init; }
    /// <summary>The key agreement algorithm used.</summary>
    public required KeyAgreementAlgorithm KeyAgreementAlgorithm { get; init; }
    /// <summary>
    /// When the request named a <c>Recipient</c>: the shared secret as a CMS EnvelopedData (RFC 5652) for the
    /// attested public key; <see cref="SharedSecret"/> is then empty. <see langword="null"/> otherwise.
    /// </summary>
    public byte[]? CiphertextForRecipient { get; init; }
    /// <summary>The origin of the key's material (<c>KeyOrigin</c>): <see cref="KeyOrigin.AwsKms"/>, or <see cref="KeyOrigin.External"/> for imported material.</summary>
    public KeyOrigin KeyOrigin { get; init; } = KeyOrigin.AwsKms;
    private protected override byte[]? Secret => SharedSecret;
}

/// <summary>Output of <c>GetKeyRotationStatus</c>.</summary>
public sealed class GetKeyRotationStatusResponse
{
    /// <summary>The key ARN.</summary>
    public required string KeyId { get; init; }
    /// <summary>Whether automatic rotation is on (always <see langword="true"/> for managed keys).</summary>
    public required bool KeyRotationEnabled { get; init; }
    /// <summary>The automatic rotation period in days, while automatic rotation is on.</summary>
    public int? RotationPeriodInDays { get; init; }
    /// <summary>When the next automatic rotation is due, while automatic rotation is on.</summary>
    public DateTimeOffset? NextRotationDate { get; init; }
    /// <summary>
    /// When an on-demand rotation in progress started. Rotations here complete within the call that
    /// starts them, so this is always <see langword="null"/> (AWS KMS sets it while its asynchronous rotation runs).
    /// </summary>
    public DateTimeOffset? OnDemandRotationStartDate { get; init; }
}

/// <summary>Output of <c>RotateKeyOnDemand</c>.</summary>
public sealed class RotateKeyOnDemandResponse
{
    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the new current key material (64 lowercase hex characters); an EnvelopeKms addition.</summary>
    public required string KeyMaterialId { get; init; }
}

/// <summary>One key-material version in <c>ListKeyRotations</c> (<c>RotationsListEntry</c>).</summary>
public sealed class RotationsListEntry
{
    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }
    /// <summary>The key-material id: 64 lowercase hex characters.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>When the material was created (for a rotation: when the rotation happened).</summary>
    public required DateTimeOffset RotationDate { get; init; }
    /// <summary>How the material was made; <see langword="null"/> for the key's first material (listed with <see cref="IncludeKeyMaterial.AllKeyMaterial"/>).</summary>
    public KeyRotationType? RotationType { get; init; }
    /// <summary>Whether the material encrypts (<see cref="KeyMaterialState.Current"/>) or only decrypts.</summary>
    public required KeyMaterialState KeyMaterialState { get; init; }
    /// <summary>For a key of origin <c>EXTERNAL</c>: whether the imported material is available or needs a re-import; otherwise <see langword="null"/>.</summary>
    public ImportState? ImportState { get; init; }
    /// <summary>For a key of origin <c>EXTERNAL</c>: whether the imported material expires (omitted while it is not imported).</summary>
    public ExpirationModel? ExpirationModel { get; init; }
    /// <summary>For a key of origin <c>EXTERNAL</c>: when the imported material expires, if it does.</summary>
    public DateTimeOffset? ValidTo { get; init; }
    /// <summary>For a key of origin <c>EXTERNAL</c>: the <c>KeyMaterialDescription</c> given at import.</summary>
    public string? KeyMaterialDescription { get; init; }
}

/// <summary>Output of <c>ListKeyRotations</c>, oldest material first.</summary>
public sealed class ListKeyRotationsResponse : PagedResponse<RotationsListEntry>;
