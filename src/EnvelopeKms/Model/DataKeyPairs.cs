namespace EnvelopeKms;

/// <summary>Input of <c>GenerateDataKeyPair</c> and <c>GenerateDataKeyPairWithoutPlaintext</c>.</summary>
/// <remarks>
/// <see cref="KeyRequest.KeyId"/> names the <c>SYMMETRIC_DEFAULT</c> <c>ENCRYPT_DECRYPT</c> key that encrypts
/// the private key; an asymmetric or HMAC key fails with <see cref="KmsInvalidKeyUsageException"/>.
/// </remarks>
public sealed class GenerateDataKeyPairRequest : KeyRequest, IGrantTokenRequest, IDryRunRequest
{
    /// <summary>Up to 10 grant tokens from <c>CreateGrant</c>; each must be a token this key manager issued (<see cref="KmsInvalidGrantTokenException"/> otherwise). Grants take effect at once here, so tokens are only checked, never needed.</summary>
    public IReadOnlyList<string>? GrantTokens { get; init; }
    /// <summary>When <see langword="true"/>, the request is validated and authorized but not run: it fails with <see cref="KmsDryRunOperationException"/> when it would have succeeded.</summary>
    public bool DryRun { get; init; }
    /// <summary>The type of key pair to generate.</summary>
    public required DataKeyPairSpec KeyPairSpec { get; init; }
    /// <summary>The encryption context of the encrypted private key; the same pairs must be given to <c>Decrypt</c> it.</summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; init; }
    /// <summary>
    /// An attested recipient (<c>GenerateDataKeyPair</c> only): the private key is then returned only in
    /// <see cref="GenerateDataKeyPairResponse.CiphertextForRecipient"/>, and <c>PrivateKeyPlaintext</c> is empty.
    /// </summary>
    public RecipientInfo? Recipient { get; init; }
}

/// <summary>Output of <c>GenerateDataKeyPair</c>. Dispose it to zero <see cref="PrivateKeyPlaintext"/>.</summary>
public sealed class GenerateDataKeyPairResponse : SecretResponse
{
    /// <summary>The private key as a DER PKCS#8 <c>PrivateKeyInfo</c> (RFC 5958): use it, then zero it.</summary>
    public required byte[] PrivateKeyPlaintext { get; init; }
    /// <summary>The private key encrypted under the KMS key, a ciphertext like <c>Encrypt</c>'s: <c>Decrypt</c> (with the same encryption context) returns the PKCS#8.</summary>
    public required byte[] PrivateKeyCiphertextBlob { get; init; }
    /// <summary>The public key as a DER X.509 SubjectPublicKeyInfo (RFC 5280).</summary>
    public required byte[] PublicKey { get; init; }
    /// <summary>The ARN of the key that encrypted the private key.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the key material that encrypted the private key.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>The type of the key pair.</summary>
    public required DataKeyPairSpec KeyPairSpec { get; init; }
    /// <summary>With a <c>Recipient</c>: the PKCS#8 private key as a CMS EnvelopedData for the attested key; otherwise <see langword="null"/>.</summary>
    public byte[]? CiphertextForRecipient { get; init; }
    private protected override byte[]? Secret => PrivateKeyPlaintext;
}

/// <summary>Output of <c>GenerateDataKeyPairWithoutPlaintext</c>: no plaintext private key.</summary>
public sealed class GenerateDataKeyPairWithoutPlaintextResponse
{
    /// <summary>The private key (PKCS#8) encrypted under the KMS key; <c>Decrypt</c> it when it is needed.</summary>
    public required byte[] PrivateKeyCiphertextBlob { get; init; }
    /// <summary>The public key as a DER X.509 SubjectPublicKeyInfo (RFC 5280).</summary>
    public required byte[] PublicKey { get; init; }
    /// <summary>The ARN of the key that encrypted the private key.</summary>
    public required string KeyId { get; init; }
    /// <summary>The id of the key material that encrypted the private key.</summary>
    public required string KeyMaterialId { get; init; }
    /// <summary>The type of the key pair.</summary>
    public required DataKeyPairSpec KeyPairSpec { get; init; }
}
