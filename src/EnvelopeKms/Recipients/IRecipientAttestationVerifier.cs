namespace EnvelopeKms;

/// <summary>
/// Checks the attestation document of a <c>Recipient</c> and returns what it attests. The key manager
/// calls it before it authorizes the request, so that the authorizer sees verified measurements, and
/// before any key material is touched. Without a verifier, every request with a recipient fails with
/// <see cref="KmsUnsupportedOperationException"/>: an unverified document is never trusted.
/// </summary>
/// <remarks>
/// <see cref="NitroAttestationDocumentVerifier"/> checks the Nitro-shaped signed document described in
/// <c>docs/recipients.md</c>. To reject a document, throw <see cref="KmsValidationException"/> naming the
/// problem (a <see cref="FormatException"/> or <see cref="System.Security.Cryptography.CryptographicException"/>
/// is reported the same way); the key manager reports it as <c>ValidationException</c>, as AWS KMS does.
/// </remarks>
public interface IRecipientAttestationVerifier
{
    /// <summary>Verifies <paramref name="attestationDocument"/> and returns its attested contents.</summary>
    /// <exception cref="KmsValidationException">The document is malformed, forged, untrusted or stale.</exception>
    ValueTask<RecipientAttestation> VerifyAsync(ReadOnlyMemory<byte> attestationDocument, CancellationToken cancellationToken);
}
