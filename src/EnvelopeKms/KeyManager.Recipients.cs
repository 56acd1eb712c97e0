using System.Security.Cryptography;
using EnvelopeKms.Recipients;

namespace EnvelopeKms;

// Secrets for an attested recipient (the Recipient parameter): see docs/recipients.md.
public sealed partial class KeyManager
{
    /// <summary>The longest attestation document AWS KMS accepts.</summary>
    private const int MaxAttestationDocumentLength = 262_144;

    /// <summary>
    /// Validates a <c>Recipient</c> parameter and verifies its attestation document, before the key is
    /// resolved and authorized (the authorizer sees the verified measurements) and before any key
    /// material is touched. No-op without a recipient.
    /// </summary>
    private async Task VerifyRecipientAsync(OperationContext ctx, RecipientInfo? recipient, CancellationToken cancellationToken)
    {
        if (recipient is null)
        {
            return;
        }

        if (!Enum.IsDefined(recipient.KeyEncryptionAlgorithm))
        {
            throw new KmsValidationException("Recipient.KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256.");
        }

        if (recipient.AttestationDocument.Length is 0 or > MaxAttestationDocumentLength)
        {
            throw new KmsValidationException($"Recipient.AttestationDocument must be 1–{MaxAttestationDocumentLength} bytes; it has {recipient.AttestationDocument.Length}.");
        }

        var verifier = _recipientVerifier
            ?? throw new KmsUnsupportedOperationException($"{ctx.Operation} with a Recipient needs an attestation verifier, and none is configured (UseRecipientAttestationVerifier); an unverified attestation document is never trusted.");
        RecipientAttestation attestation;
        try
        {
            attestation = await verifier.VerifyAsync(recipient.AttestationDocument, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsValidationException("Recipient.AttestationDocument was not accepted by the attestation verifier.");
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            throw new KmsValidationException($"Recipient.AttestationDocument is not a valid attestation document ({e.GetType().Name}).", e);
        }

        RecipientEnvelope.ValidatePublicKey(attestation.PublicKey.Span);
        ctx.RecipientAttestation = attestation;
    }

    /// <summary>
    /// For an operation with a verified recipient: encrypts <paramref name="secret"/> for the recipient
    /// (the <c>CiphertextForRecipient</c> to return), zeroes it and replaces it with an empty array (the
    /// <c>Plaintext</c> to return). Without a recipient, returns <see langword="null"/> and leaves the
    /// secret alone. One call per secret-returning operation, e.g.
    /// <c>var forRecipient = SealForRecipient(ctx, ref privateKeyPlaintext);</c>.
    /// </summary>
    private byte[]? SealForRecipient(OperationContext ctx, ref byte[] secret)
    {
        if (ctx.RecipientAttestation is not { } recipient)
        {
            return null;
        }

        try
        {
            return RecipientEnvelope.Seal(recipient.PublicKey.Span, secret, _time.GetUtcNow());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            secret = [];
        }
    }
}
