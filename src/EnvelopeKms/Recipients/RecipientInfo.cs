namespace EnvelopeKms;

/// <summary>How a secret is encrypted for a recipient's public key (<c>KeyEncryptionMechanism</c>).</summary>
public enum KeyEncryptionMechanism
{
    /// <summary><c>RSAES_OAEP_SHA_256</c>: RSAES-OAEP with SHA-256 and MGF1-SHA-256, the only mechanism AWS KMS offers.</summary>
    RsaesOaepSha256 = 1,
}

/// <summary>
/// The <c>Recipient</c> parameter of <c>Decrypt</c>, <c>GenerateDataKey</c>, <c>GenerateDataKeyPair</c>,
/// <c>GenerateRandom</c> and <c>DeriveSharedSecret</c>: a signed attestation document that carries the
/// recipient's RSA public key. With it, the secret is returned only as <c>CiphertextForRecipient</c>,
/// a CMS EnvelopedData that only the holder of the attested private key can open (see <c>docs/recipients.md</c>).
/// </summary>
public sealed class RecipientInfo
{
    /// <summary>The mechanism that encrypts for the attested public key; <see cref="KeyEncryptionMechanism.RsaesOaepSha256"/>, the only one.</summary>
    public KeyEncryptionMechanism KeyEncryptionAlgorithm { get; init; } = KeyEncryptionMechanism.RsaesOaepSha256;

    /// <summary>The signed attestation document, 1–262144 bytes, checked by the configured <see cref="IRecipientAttestationVerifier"/>.</summary>
    public required ReadOnlyMemory<byte> AttestationDocument { get; init; }
}
