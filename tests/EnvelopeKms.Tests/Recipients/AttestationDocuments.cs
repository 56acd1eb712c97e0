using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using EnvelopeKms.Auditing;
using EnvelopeKms.Authorization;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Recipients;

/// <summary>The contents of a test attestation document, in the format of docs/recipients.md.</summary>
internal sealed record AttestationFields
{
    public string ModuleId { get; init; } = "i-0123456789abcdef0-enc0123456789abcd";
    public string Digest { get; init; } = "SHA384";
    public required DateTimeOffset Timestamp { get; init; }
    public required IReadOnlyDictionary<int, byte[]> Pcrs { get; init; }
    public byte[]? PublicKey { get; init; }
    public byte[]? Certificate { get; init; }
    public IReadOnlyList<byte[]> CaBundle { get; init; } = [];
    public byte[]? UserData { get; init; }
    public byte[]? Nonce { get; init; }
}

/// <summary>
/// Makes signed attestation documents as an attesting platform would (a Nitro-shaped COSE_Sign1, ES384,
/// over a CBOR map), and holds the recipient's RSA key pair that opens <c>CiphertextForRecipient</c>.
/// </summary>
internal sealed class AttestationDocuments : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public ECDsa Signer { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP384);

    public RSA Recipient { get; } = RSA.Create(2048);

    public byte[] ImagePcr0 { get; } = SHA384.HashData("enclave image v1"u8);

    public byte[] KernelPcr1 { get; } = SHA384.HashData("kernel"u8);

    public byte[] ApplicationPcr2 { get; } = SHA384.HashData("application"u8);

    public byte[] SignerPcr8 { get; } = SHA384.HashData("signing certificate"u8);

    public string ImageSha384 => Convert.ToHexStringLower(ImagePcr0);

    public AttestationFields Fields => new()
    {
        Timestamp = Now,
        Pcrs = new Dictionary<int, byte[]> { [0] = ImagePcr0, [1] = KernelPcr1, [2] = ApplicationPcr2, [8] = SignerPcr8 },
        PublicKey = Recipient.ExportSubjectPublicKeyInfo(),
    };

    /// <summary>A valid document signed by <see cref="Signer"/>.</summary>
    public byte[] Document() => Sign(Fields, Signer);

    public RecipientInfo RecipientInfo(byte[]? document = null) => new() { AttestationDocument = document ?? Document() };

    public static byte[] Payload(AttestationFields fields)
    {
        var writer = new CborWriter(CborConformanceMode.Strict);
        var count = 5 + (fields.PublicKey is null ? 0 : 1) + (fields.Certificate is null ? 0 : 1) + (fields.UserData is null ? 0 : 1) + (fields.Nonce is null ? 0 : 1);
        writer.WriteStartMap(count);
        writer.WriteTextString("module_id");
        writer.WriteTextString(fields.ModuleId);
        writer.WriteTextString("digest");
        writer.WriteTextString(fields.Digest);
        writer.WriteTextString("timestamp");
        writer.WriteUInt64((ulong)fields.Timestamp.ToUnixTimeMilliseconds());
        writer.WriteTextString("pcrs");
        writer.WriteStartMap(fields.Pcrs.Count);
        foreach (var (index, value) in fields.Pcrs.OrderBy(p => p.Key))
        {
            writer.WriteUInt32((uint)index);
            writer.WriteByteString(value);
        }

        writer.WriteEndMap();
        if (fields.Certificate is not null)
        {
            writer.WriteTextString("certificate");
            writer.WriteByteString(fields.Certificate);
        }

        writer.WriteTextString("cabundle");
        writer.WriteStartArray(fields.CaBundle.Count);
        foreach (var certificate in fields.CaBundle)
        {
            writer.WriteByteString(certificate);
        }

        writer.WriteEndArray();
        WriteOptional(writer, "public_key", fields.PublicKey);
        WriteOptional(writer, "user_data", fields.UserData);
        WriteOptional(writer, "nonce", fields.Nonce);
        writer.WriteEndMap();
        return writer.Encode();
    }

    public static byte[] Sign(AttestationFields fields, ECDsa signer, HashAlgorithmName? hash = null)
        => CoseSign1Message.SignEmbedded(Payload(fields), new CoseSigner(signer, hash ?? HashAlgorithmName.SHA384));

    /// <summary>The verifier a host would configure: trusting <see cref="Signer"/>, on the test clock.</summary>
    public NitroAttestationDocumentVerifier Verifier(TimeProvider clock)
    {
        var options = new NitroAttestationVerifierOptions();
        options.TrustedSigningKeys.Add(Signer.ExportSubjectPublicKeyInfo());
        return new NitroAttestationDocumentVerifier(options, clock);
    }

    /// <summary>What the recipient does: decode the EnvelopedData and decrypt it with its private key.</summary>
    public byte[] Open(byte[] ciphertextForRecipient)
    {
        var envelope = new EnvelopedCms();
        envelope.Decode(ciphertextForRecipient);
        envelope.Decrypt(envelope.RecipientInfos[0], Recipient);
        return envelope.ContentInfo.Content;
    }

    public void Dispose()
    {
        Signer.Dispose();
        Recipient.Dispose();
    }

    private static void WriteOptional(CborWriter writer, string name, byte[]? value)
    {
        if (value is null)
        {
            return;
        }

        writer.WriteTextString(name);
        writer.WriteByteString(value);
    }
}

/// <summary>A key manager with a recipient verifier, a fake clock and a recording audit sink.</summary>
internal sealed class RecipientKeyManager : IDisposable
{
    public RecipientKeyManager(AttestationDocuments documents, IRecipientAttestationVerifier? verifier = null, bool withVerifier = true, IKeyAuthorizer? authorizer = null)
    {
        Documents = documents;
        Verifier = verifier ?? (withVerifier ? new CountingVerifier(documents.Verifier(Clock)) : null);
        Manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), null, Clock, authorizer, Audit, recipientAttestationVerifier: Verifier);
    }

    public AttestationDocuments Documents { get; }

    public FakeTimeProvider Clock { get; } = new(AttestationDocuments.Now);

    public RecordingAuditSink Audit { get; } = new();

    public IRecipientAttestationVerifier? Verifier { get; }

    public int VerifierCalls => (Verifier as CountingVerifier)?.Calls ?? 0;

    public KeyManager Manager { get; }

    public KmsAuditEvent LastEvent => Audit.Events[^1];

    public void Dispose()
    {
        Manager.Dispose();
        (Verifier as IDisposable)?.Dispose();
    }

    /// <summary>The real verifier, counted: shows whether a request got as far as verification.</summary>
    private sealed class CountingVerifier(NitroAttestationDocumentVerifier inner) : IRecipientAttestationVerifier, IDisposable
    {
        private int _calls;

        public int Calls => _calls;

        public ValueTask<RecipientAttestation> VerifyAsync(ReadOnlyMemory<byte> attestationDocument, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return inner.VerifyAsync(attestationDocument, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>A certificate authority for the certificate-chain path of the verifier.</summary>
internal sealed class TestAttestationPki : IDisposable
{
    public TestAttestationPki(string name = "Test Nitro Root")
    {
        RootKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var request = new CertificateRequest($"CN={name}", RootKey, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Root = request.CreateSelfSigned(AttestationDocuments.Now.AddYears(-1), AttestationDocuments.Now.AddYears(10));
    }

    public ECDsa RootKey { get; }

    public X509Certificate2 Root { get; }

    /// <summary>Issues a leaf certificate for <paramref name="leafKey"/>, valid from/to the given times.</summary>
    public byte[] IssueLeaf(ECDsa leafKey, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest("CN=i-0123456789abcdef0.enclave", leafKey, HashAlgorithmName.SHA384);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        using var leaf = request.Create(Root, notBefore, notAfter, [1, 2, 3, 4, 5, 6, 7, 8]);
        return leaf.RawData;
    }

    public void Dispose()
    {
        Root.Dispose();
        RootKey.Dispose();
    }
}
