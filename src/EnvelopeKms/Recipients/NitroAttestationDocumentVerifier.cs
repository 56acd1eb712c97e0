using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Security.Cryptography.X509Certificates;

namespace EnvelopeKms;

/// <summary>Settings of <see cref="NitroAttestationDocumentVerifier"/>: whom to trust, and how fresh a document must be.</summary>
public sealed class NitroAttestationVerifierOptions
{
    /// <summary>
    /// Root certificates a document's <c>certificate</c> (with the intermediates of its <c>cabundle</c>)
    /// must chain to. For real AWS Nitro Enclaves documents, the AWS Nitro Enclaves root certificate.
    /// </summary>
    public IList<X509Certificate2> TrustedRootCertificates { get; } = [];

    /// <summary>
    /// ECDSA P-384 public keys (DER SubjectPublicKeyInfo) that may sign documents directly, without a
    /// certificate: for an attestation service of your own, for tests and for development.
    /// </summary>
    public IList<ReadOnlyMemory<byte>> TrustedSigningKeys { get; } = [];

    /// <summary>How old a document may be; 5 minutes by default.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far in the future a document's timestamp may be (clock skew); 1 minute by default.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Verifies attestation documents in the AWS Nitro Enclaves format: an ES384 <c>COSE_Sign1</c> (RFC 9052,
/// tagged or untagged) whose payload is a CBOR map with <c>module_id</c>, <c>digest</c> (<c>"SHA384"</c>),
/// <c>timestamp</c> (milliseconds since the Unix epoch), <c>pcrs</c> (index → 48-byte measurement),
/// <c>public_key</c> (the recipient's DER SubjectPublicKeyInfo), and optional <c>certificate</c>,
/// <c>cabundle</c>, <c>user_data</c> and <c>nonce</c>. The signer is either the document's certificate,
/// chained through <c>cabundle</c> to one of <see cref="NitroAttestationVerifierOptions.TrustedRootCertificates"/>
/// and valid at the document's timestamp, or one of <see cref="NitroAttestationVerifierOptions.TrustedSigningKeys"/>.
/// See <c>docs/recipients.md</c>.
/// </summary>
public sealed class NitroAttestationDocumentVerifier : IRecipientAttestationVerifier, IDisposable
{
    /// <summary>The COSE algorithm id of ES384 (ECDSA P-384 with SHA-384).</summary>
    private const int Es384 = -35;
    private const int Sha384Length = 48;
    private const int MaxDocumentLength = 262_144;

    private readonly X509Certificate2Collection _roots;
    private readonly ECDsa[] _signingKeys;
    private readonly TimeSpan _maxAge;
    private readonly TimeSpan _maxSkew;
    private readonly TimeProvider _time;

    /// <summary>Creates the verifier.</summary>
    /// <param name="options">Whom to trust: at least one root certificate or signing key.</param>
    /// <param name="timeProvider">The clock for the freshness check; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public NitroAttestationDocumentVerifier(NitroAttestationVerifierOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TrustedRootCertificates.Count == 0 && options.TrustedSigningKeys.Count == 0)
        {
            throw new ArgumentException("Configure at least one trusted root certificate or signing key.", nameof(options));
        }

        if (options.MaxAge <= TimeSpan.Zero || options.MaxClockSkew < TimeSpan.Zero)
        {
            throw new ArgumentException("MaxAge must be positive and MaxClockSkew not negative.", nameof(options));
        }

        _roots = [.. options.TrustedRootCertificates];
        _signingKeys = [.. options.TrustedSigningKeys.Select(ImportSigningKey)];
        _maxAge = options.MaxAge;
        _maxSkew = options.MaxClockSkew;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public ValueTask<RecipientAttestation> VerifyAsync(ReadOnlyMemory<byte> attestationDocument, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Verify(attestationDocument.Span));
    }

    /// <summary>Releases the imported signing keys.</summary>
    public void Dispose()
    {
        foreach (var key in _signingKeys)
        {
            key.Dispose();
        }
    }

    private RecipientAttestation Verify(ReadOnlySpan<byte> document)
    {
        if (document.Length is 0 or > MaxDocumentLength)
        {
            throw Invalid($"it must be 1–{MaxDocumentLength} bytes");
        }

        CoseSign1Message message;
        try
        {
            message = CoseSign1Message.DecodeSign1(document);
        }
        catch (CryptographicException e)
        {
            throw Invalid("it is not a COSE_Sign1 message", e);
        }

        if (!message.ProtectedHeaders.TryGetValue(CoseHeaderLabel.Algorithm, out var algorithm) || !IsEs384(algorithm))
        {
            throw Invalid("its protected header must name ES384 (-35) as the algorithm");
        }

        if (message.Content is not { } content)
        {
            throw Invalid("its payload is detached");
        }

        var payload = Payload.Read(content);
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(payload.TimestampMilliseconds);
        if (!VerifySignature(message, payload, timestamp))
        {
            throw Invalid("its signature does not verify with a trusted key or certificate chain");
        }

        var now = _time.GetUtcNow();
        if (timestamp < now - _maxAge || timestamp > now + _maxSkew)
        {
            throw Invalid($"its timestamp {timestamp:O} is outside the accepted window (at most {_maxAge} old)");
        }

        if (payload.PublicKey is not { Length: > 0 } publicKey)
        {
            throw Invalid("it carries no public_key");
        }

        return new RecipientAttestation(publicKey, payload.Pcrs, payload.ModuleId, timestamp)
        {
            UserData = payload.UserData,
            Nonce = payload.Nonce,
        };
    }

    private bool VerifySignature(CoseSign1Message message, Payload payload, DateTimeOffset timestamp)
    {
        if (payload.Certificate is { } certificateDer && _roots.Count > 0)
        {
            using var leaf = LoadCertificate(certificateDer);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = timestamp.UtcDateTime;
            chain.ChainPolicy.VerificationTimeIgnored = false;
            var intermediates = payload.CaBundle.Select(LoadCertificate).ToList();
            try
            {
                chain.ChainPolicy.ExtraStore.AddRange(intermediates.ToArray());
                if (!chain.Build(leaf))
                {
                    var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
                    throw Invalid($"its certificate does not chain to a trusted root ({status})");
                }

                using var key = leaf.GetECDsaPublicKey() ?? throw Invalid("its certificate does not hold an ECDSA key");
                return key.KeySize == 384 && message.VerifyEmbedded(key);
            }
            finally
            {
                foreach (var certificate in intermediates)
                {
                    certificate.Dispose();
                }

                foreach (var element in chain.ChainElements)
                {
                    element.Certificate.Dispose();
                }
            }
        }

        foreach (var key in _signingKeys)
        {
            if (message.VerifyEmbedded(key))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsEs384(CoseHeaderValue algorithm)
    {
        try
        {
            return algorithm.GetValueAsInt32() == Es384;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static X509Certificate2 LoadCertificate(byte[] der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException e)
        {
            throw Invalid("a certificate in it is not a DER X.509 certificate", e);
        }
    }

    private static ECDsa ImportSigningKey(ReadOnlyMemory<byte> spki)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki.Span, out var read);
            if (read != spki.Length || key.KeySize != 384)
            {
                throw new ArgumentException("A trusted signing key must be an ECDSA P-384 SubjectPublicKeyInfo.", nameof(spki));
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static KmsValidationException Invalid(string problem, Exception? inner = null)
        => new($"Recipient.AttestationDocument is not a valid attestation document: {problem}.", inner);

    /// <summary>The fields of the CBOR payload.</summary>
    private sealed class Payload
    {
        public string ModuleId { get; private set; } = "";
        public long TimestampMilliseconds { get; private set; } = -1;
        public Dictionary<int, ReadOnlyMemory<byte>> Pcrs { get; } = [];
        public byte[]? Certificate { get; private set; }
        public List<byte[]> CaBundle { get; } = [];
        public byte[]? PublicKey { get; private set; }
        public byte[]? UserData { get; private set; }
        public byte[]? Nonce { get; private set; }

        public static Payload Read(ReadOnlyMemory<byte> content)
        {
            try
            {
                var reader = new CborReader(content, CborConformanceMode.Strict);
                var payload = new Payload();
                string? digest = null;
                var count = reader.ReadStartMap();
                for (var i = 0; count is null || i < count; i++)
                {
                    if (count is null && reader.PeekState() == CborReaderState.EndMap)
                    {
                        break;
                    }

                    switch (reader.ReadTextString())
                    {
                        case "module_id": payload.ModuleId = reader.ReadTextString(); break;
                        case "digest": digest = reader.ReadTextString(); break;
                        case "timestamp": payload.TimestampMilliseconds = checked((long)reader.ReadUInt64()); break;
                        case "pcrs": ReadPcrs(reader, payload.Pcrs); break;
                        case "certificate": payload.Certificate = reader.ReadByteString(); break;
                        case "cabundle":
                            var n = reader.ReadStartArray();
                            for (var j = 0; n is null ? reader.PeekState() != CborReaderState.EndArray : j < n; j++)
                            {
                                payload.CaBundle.Add(reader.ReadByteString());
                            }

                            reader.ReadEndArray();
                            break;
                        case "public_key": payload.PublicKey = ReadOptionalBytes(reader); break;
                        case "user_data": payload.UserData = ReadOptionalBytes(reader); break;
                        case "nonce": payload.Nonce = ReadOptionalBytes(reader); break;
                        default: reader.SkipValue(); break;
                    }
                }

                reader.ReadEndMap();
                if (reader.BytesRemaining != 0)
                {
                    throw Invalid("its payload has trailing data");
                }

                if (payload.ModuleId.Length == 0)
                {
                    throw Invalid("its payload has no module_id");
                }

                if (digest != "SHA384")
                {
                    throw Invalid("its payload's digest must be \"SHA384\"");
                }

                if (payload.TimestampMilliseconds < 0 || payload.TimestampMilliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
                {
                    throw Invalid("its payload has no valid timestamp");
                }

                if (payload.Pcrs.Count == 0)
                {
                    throw Invalid("its payload has no pcrs");
                }

                return payload;
            }
            catch (Exception e) when (e is CborContentException or InvalidOperationException or OverflowException)
            {
                throw Invalid("its payload is not the expected CBOR map", e);
            }
        }

        private static void ReadPcrs(CborReader reader, Dictionary<int, ReadOnlyMemory<byte>> pcrs)
        {
            var count = reader.ReadStartMap();
            for (var i = 0; count is null ? reader.PeekState() != CborReaderState.EndMap : i < count; i++)
            {
                var index = reader.ReadUInt32();
                var value = reader.ReadByteString();
                if (index > RecipientAttestation.MaxPcrIndex || value.Length != Sha384Length)
                {
                    throw Invalid($"its PCRs must be indexes 0–{RecipientAttestation.MaxPcrIndex} of {Sha384Length}-byte SHA-384 measurements");
                }

                pcrs[(int)index] = value;
            }

            reader.ReadEndMap();
        }

        private static byte[]? ReadOptionalBytes(CborReader reader)
        {
            if (reader.PeekState() == CborReaderState.Null)
            {
                reader.ReadNull();
                return null;
            }

            return reader.ReadByteString();
        }
    }
}
