using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace EnvelopeKms.Recipients;

/// <summary>
/// Builds <c>CiphertextForRecipient</c>: a CMS EnvelopedData (RFC 5652) whose content (the secret) is
/// encrypted with AES-256-CBC under a fresh content-encryption key, and that key with RSAES-OAEP
/// (SHA-256, MGF1-SHA-256) under the attested public key — the profile AWS KMS uses.
/// </summary>
/// <remarks>
/// <see cref="CmsRecipient"/> takes only certificates, and an attestation document carries a bare
/// public key. So the key travels in a throwaway certificate, issued by a throwaway ECDSA key, with a
/// SubjectKeyIdentifier extension computed from the public key (RFC 5280 §4.2.1.2, method 1: SHA-1 of
/// the subjectPublicKey BIT STRING); the recipient is identified by that SubjectKeyIdentifier, and the
/// certificate itself is not put in the message. Only its public key and identifier reach the output.
/// </remarks>
internal static class RecipientEnvelope
{
    /// <summary>id-aes256-CBC (NIST).</summary>
    public const string Aes256CbcOid = "2.16.840.1.101.3.4.1.42";

    /// <summary>The smallest accepted recipient key, in bits.</summary>
    public const int MinRsaKeySize = 2048;

    /// <summary>The largest accepted recipient key, in bits (the largest RSA key AWS KMS or OpenSSL handles comfortably).</summary>
    public const int MaxRsaKeySize = 16384;

    /// <summary>Checks that the attested key is a DER SubjectPublicKeyInfo of an RSA key of 2048–16384 bits.</summary>
    public static void ValidatePublicKey(ReadOnlySpan<byte> spki)
    {
        using var rsa = ImportRsa(spki);
    }

    /// <summary>Encrypts <paramref name="secret"/> for the holder of the private key of <paramref name="spki"/>; the caller zeroes <paramref name="secret"/>.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> spki, byte[] secret, DateTimeOffset now)
    {
        using var rsa = ImportRsa(spki);
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=EnvelopeKms attested recipient"), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, X509SubjectKeyIdentifierHashAlgorithm.Sha1, critical: false));
        Span<byte> serial = stackalloc byte[8];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var certificate = request.Create(new X500DistinguishedName("CN=EnvelopeKms ephemeral issuer"), X509SignatureGenerator.CreateForECDsa(issuerKey),
            now.AddMinutes(-5), now.AddMinutes(5), serial);

        var recipient = new CmsRecipient(SubjectIdentifierType.SubjectKeyIdentifier, certificate, RSAEncryptionPadding.OaepSHA256);
        var content = new ContentInfo(secret);
        var envelope = new EnvelopedCms(content, new AlgorithmIdentifier(new Oid(Aes256CbcOid), 256));
        envelope.Encrypt(recipient);
        return envelope.Encode();
    }

    private static RSA ImportRsa(ReadOnlySpan<byte> spki)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(spki, out var read);
            if (read != spki.Length)
            {
                throw new KmsValidationException("The public key in Recipient.AttestationDocument has trailing data after its SubjectPublicKeyInfo.");
            }

            if (rsa.KeySize is < MinRsaKeySize or > MaxRsaKeySize)
            {
                throw new KmsValidationException($"The public key in Recipient.AttestationDocument is a {rsa.KeySize}-bit RSA key; RSAES_OAEP_SHA_256 needs {MinRsaKeySize}–{MaxRsaKeySize} bits.");
            }

            return rsa;
        }
        catch (CryptographicException e)
        {
            rsa.Dispose();
            throw new KmsValidationException("The public key in Recipient.AttestationDocument is not a DER SubjectPublicKeyInfo of an RSA key.", e);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}
