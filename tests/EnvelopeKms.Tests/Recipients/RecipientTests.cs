using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using EnvelopeKms.Authorization;
using Microsoft.Extensions.DependencyInjection;
using CmsRecipientInfo = System.Security.Cryptography.Pkcs.RecipientInfo;

namespace EnvelopeKms.Tests.Recipients;

/// <summary>
/// The <c>Recipient</c> parameter: with a verified attestation document, <c>Decrypt</c>,
/// <c>GenerateDataKey</c>, <c>GenerateRandom</c> and <c>DeriveSharedSecret</c> return the secret only as
/// <c>CiphertextForRecipient</c>, which the recipient opens with <see cref="EnvelopedCms"/> and its own
/// private key; the measurements reach the authorizer and the audit event.
/// </summary>
public sealed class RecipientTests : IDisposable
{
    private static readonly byte[] Secret = "launch codes: 0000-1111-2222"u8.ToArray();
    private readonly AttestationDocuments _documents = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _documents.Dispose();

    private static async Task<string> NewKeyAsync(KeyManager kms, KeySpec spec = KeySpec.SymmetricDefault, KeyUsage usage = KeyUsage.EncryptDecrypt)
        => (await kms.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = usage }, Ct)).KeyMetadata.KeyId;

    // ------------------------------------------------------------ the four operations

    [Fact]
    public async Task Decrypt_with_a_recipient_returns_the_plaintext_only_in_an_envelope_the_recipient_opens()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        var blob = (await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = Secret }, Ct)).CiphertextBlob;

        using var response = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, Recipient = _documents.RecipientInfo() }, Ct);

        Assert.Empty(response.Plaintext);
        Assert.NotNull(response.CiphertextForRecipient);
        Assert.Equal(Secret, _documents.Open(response.CiphertextForRecipient));
        Assert.Equal(-1, response.CiphertextForRecipient.AsSpan().IndexOf(Secret));
        Assert.Equal($"arn:aws:kms:local:000000000000:key/{keyId}", response.KeyId);
    }

    [Fact]
    public async Task Decrypt_of_an_rsa_ciphertext_with_a_recipient_returns_the_plaintext_only_for_the_recipient()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager, KeySpec.Rsa2048);
        var blob = (await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = Secret, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Ct)).CiphertextBlob;

        using var response = await kms.Manager.DecryptAsync(new DecryptRequest
        {
            KeyId = keyId, CiphertextBlob = blob, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256, Recipient = _documents.RecipientInfo(),
        }, Ct);

        Assert.Empty(response.Plaintext);
        Assert.Equal(Secret, _documents.Open(response.CiphertextForRecipient!));
    }

    [Fact]
    public async Task GenerateDataKey_with_a_recipient_returns_the_data_key_for_the_recipient_and_the_blob_that_decrypts_to_it()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        var context = new Dictionary<string, string> { ["purpose"] = "enclave" };

        using var response = await kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest
        {
            KeyId = keyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = context, Recipient = _documents.RecipientInfo(),
        }, Ct);

        Assert.Empty(response.Plaintext);
        var dataKey = _documents.Open(response.CiphertextForRecipient!);
        Assert.Equal(32, dataKey.Length);
        using var decrypted = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = response.CiphertextBlob, EncryptionContext = context }, Ct);
        Assert.Equal(decrypted.Plaintext, dataKey);
        Assert.Null(decrypted.CiphertextForRecipient);
    }

    [Fact]
    public async Task GenerateDataKeyPair_with_a_recipient_returns_the_private_key_only_for_the_recipient()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        var context = new Dictionary<string, string> { ["purpose"] = "enclave-signing" };

        using var response = await kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest
        {
            KeyId = keyId, KeyPairSpec = DataKeyPairSpec.EccNistP256, EncryptionContext = context, Recipient = _documents.RecipientInfo(),
        }, Ct);

        Assert.Empty(response.PrivateKeyPlaintext);
        var privateKey = _documents.Open(response.CiphertextForRecipient!);
        using var decrypted = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = response.PrivateKeyCiphertextBlob, EncryptionContext = context }, Ct);
        Assert.Equal(decrypted.Plaintext, privateKey);
        using var signer = System.Security.Cryptography.ECDsa.Create();
        signer.ImportPkcs8PrivateKey(privateKey, out _);
        using var verifier = System.Security.Cryptography.ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(response.PublicKey, out _);
        var signature = signer.SignData("enclave"u8, System.Security.Cryptography.HashAlgorithmName.SHA256);
        Assert.True(verifier.VerifyData("enclave"u8, signature, System.Security.Cryptography.HashAlgorithmName.SHA256));
    }

    [Fact]
    public async Task GenerateDataKeyPairWithoutPlaintext_refuses_a_recipient()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest
        {
            KeyId = keyId, KeyPairSpec = DataKeyPairSpec.EccNistP256, Recipient = _documents.RecipientInfo(),
        }, Ct));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(1024)]
    public async Task GenerateRandom_with_a_recipient_returns_the_bytes_only_for_the_recipient(int numberOfBytes)
    {
        using var kms = new RecipientKeyManager(_documents);

        using var response = await kms.Manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = numberOfBytes, Recipient = _documents.RecipientInfo() }, Ct);

        Assert.Empty(response.Plaintext);
        Assert.Equal(numberOfBytes, _documents.Open(response.CiphertextForRecipient!).Length);
    }

    [Fact]
    public async Task DeriveSharedSecret_with_a_recipient_returns_the_secret_the_peer_derives_only_for_the_recipient()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager, KeySpec.EccNistP256, KeyUsage.KeyAgreement);
        var kmsPublicKey = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey;
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var kmsKey = ECDiffieHellman.Create();
        kmsKey.ImportSubjectPublicKeyInfo(kmsPublicKey, out _);
        var expected = peer.DeriveRawSecretAgreement(kmsKey.PublicKey);

        using var response = await kms.Manager.DeriveSharedSecretAsync(new DeriveSharedSecretRequest
        {
            KeyId = keyId, PublicKey = peer.ExportSubjectPublicKeyInfo(), Recipient = _documents.RecipientInfo(),
        }, Ct);

        Assert.Empty(response.SharedSecret);
        Assert.Equal(expected, _documents.Open(response.CiphertextForRecipient!));
    }

    [Fact]
    public async Task Without_a_recipient_nothing_changes_and_CiphertextForRecipient_is_null()
    {
        using var kms = new RecipientKeyManager(_documents);
        using var random = await kms.Manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 16 }, Ct);
        Assert.Equal(16, random.Plaintext.Length);
        Assert.Null(random.CiphertextForRecipient);
        Assert.Null(kms.LastEvent.RecipientImageSha384);
        Assert.Equal(0, kms.VerifierCalls);
    }

    // ------------------------------------------------------------ the CMS profile

    [Fact]
    public async Task CiphertextForRecipient_is_an_EnvelopedData_with_rsaes_oaep_sha256_key_transport_and_aes_256_cbc_content()
    {
        using var kms = new RecipientKeyManager(_documents);
        using var response = await kms.Manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32, Recipient = _documents.RecipientInfo() }, Ct);

        var envelope = new EnvelopedCms();
        envelope.Decode(response.CiphertextForRecipient!);
        Assert.Equal("2.16.840.1.101.3.4.1.42", envelope.ContentEncryptionAlgorithm.Oid.Value); // id-aes256-CBC
        Assert.Empty(envelope.Certificates);
        var recipient = Assert.Single(envelope.RecipientInfos.Cast<CmsRecipientInfo>());
        Assert.Equal(RecipientInfoType.KeyTransport, recipient.Type);
        Assert.Equal("1.2.840.113549.1.1.7", recipient.KeyEncryptionAlgorithm.Oid.Value); // id-RSAES-OAEP
        // The OAEP parameters name SHA-256 for both the hash and MGF1 (RFC 4055).
        var parameters = Convert.ToHexString(recipient.KeyEncryptionAlgorithm.Parameters);
        Assert.Contains("0609608648016503040201", parameters, StringComparison.Ordinal);
        Assert.Equal(2, CountOccurrences(parameters, "0609608648016503040201"));

        // Identified by SubjectKeyIdentifier: SHA-1 of the attested key's subjectPublicKey BIT STRING (RFC 5280, method 1).
        Assert.Equal(SubjectIdentifierType.SubjectKeyIdentifier, recipient.RecipientIdentifier.Type);
        var spki = new AsnReader(_documents.Recipient.ExportSubjectPublicKeyInfo(), AsnEncodingRules.DER).ReadSequence();
        spki.ReadSequence();
        var subjectPublicKey = spki.ReadBitString(out _);
#pragma warning disable CA5350 // RFC 5280 §4.2.1.2 method 1 defines the key identifier with SHA-1; it is an identifier, not a security function.
        Assert.Equal(Convert.ToHexString(SHA1.HashData(subjectPublicKey)), recipient.RecipientIdentifier.Value);
#pragma warning restore CA5350
    }

    [Fact]
    public async Task Another_private_key_cannot_open_CiphertextForRecipient()
    {
        using var kms = new RecipientKeyManager(_documents);
        using var response = await kms.Manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32, Recipient = _documents.RecipientInfo() }, Ct);
        using var stranger = RSA.Create(2048);
        var envelope = new EnvelopedCms();
        envelope.Decode(response.CiphertextForRecipient!);
        Assert.ThrowsAny<CryptographicException>(() => envelope.Decrypt(envelope.RecipientInfos[0], stranger));
    }

    // ------------------------------------------------------------ validation and verification

    [Fact]
    public async Task A_KeyEncryptionAlgorithm_other_than_RSAES_OAEP_SHA_256_is_a_ValidationException_before_the_document_is_read()
    {
        using var kms = new RecipientKeyManager(_documents);
        var recipient = new EnvelopeKms.RecipientInfo { KeyEncryptionAlgorithm = (KeyEncryptionMechanism)2, AttestationDocument = _documents.Document() };
        var error = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 8, Recipient = recipient }, Ct));
        Assert.Contains("RSAES_OAEP_SHA_256", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kms.VerifierCalls);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(262_145)]
    public async Task An_empty_or_oversized_attestation_document_is_a_ValidationException_before_the_document_is_read(int length)
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        var error = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest
        {
            KeyId = keyId, NumberOfBytes = 32, Recipient = new EnvelopeKms.RecipientInfo { AttestationDocument = new byte[length] },
        }, Ct));
        Assert.Contains("Recipient.AttestationDocument", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, kms.VerifierCalls);
        Assert.Null(kms.LastEvent.KeyMaterialId);
    }

    [Fact]
    public async Task Without_a_verifier_a_request_with_a_recipient_is_UnsupportedOperation_and_touches_no_key()
    {
        using var kms = new RecipientKeyManager(_documents, withVerifier: false);
        var keyId = await NewKeyAsync(kms.Manager);
        var blob = (await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = Secret }, Ct)).CiphertextBlob;

        var error = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, Recipient = _documents.RecipientInfo() }, Ct));

        Assert.Contains("attestation verifier", error.Message, StringComparison.Ordinal);
        Assert.Equal(KmsOutcome.Failure, kms.LastEvent.Outcome);
        Assert.Equal(KmsErrorCodes.UnsupportedOperation, kms.LastEvent.ErrorCode);
        Assert.Null(kms.LastEvent.KeyId);
        Assert.Null(kms.LastEvent.KeyMaterialId);
    }

    public static TheoryData<string> BadDocuments() => ["untrusted signer", "tampered payload", "tampered signature", "not COSE", "stale", "from the future",
        "wrong digest", "no public key", "small RSA key", "EC public key", "no pcrs", "short pcr", "pcr index 32", "no module id", "ES256 signature"];

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task A_forged_tampered_stale_or_malformed_attestation_document_is_a_ValidationException_before_the_key_is_used(string problem)
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        var blob = (await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = Secret }, Ct)).CiphertextBlob;
        // The key is disabled: a request that got past the attestation check would fail with DisabledException instead.
        await kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, Ct);

        var document = BadDocument(problem);
        var error = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, Recipient = _documents.RecipientInfo(document) }, Ct));

        Assert.Contains("AttestationDocument", error.Message, StringComparison.Ordinal);
        Assert.Equal(KmsErrorCodes.Validation, kms.LastEvent.ErrorCode);
        Assert.Null(kms.LastEvent.KeyId);
        Assert.Null(kms.LastEvent.RecipientImageSha384);
    }

    private byte[] BadDocument(string problem)
    {
        var fields = _documents.Fields;
        switch (problem)
        {
            case "untrusted signer":
                using (var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP384))
                {
                    return AttestationDocuments.Sign(fields, stranger);
                }

            case "tampered payload":
            {
                var document = _documents.Document();
                var at = document.AsSpan().IndexOf(_documents.ImagePcr0);
                document[at] ^= 1;
                return document;
            }

            case "tampered signature":
            {
                var document = _documents.Document();
                document[^1] ^= 1;
                return document;
            }

            case "not COSE": return AttestationDocuments.Payload(fields);
            case "stale": return AttestationDocuments.Sign(fields with { Timestamp = AttestationDocuments.Now.AddMinutes(-6) }, _documents.Signer);
            case "from the future": return AttestationDocuments.Sign(fields with { Timestamp = AttestationDocuments.Now.AddMinutes(2) }, _documents.Signer);
            case "wrong digest": return AttestationDocuments.Sign(fields with { Digest = "SHA256" }, _documents.Signer);
            case "no public key": return AttestationDocuments.Sign(fields with { PublicKey = null }, _documents.Signer);
            case "small RSA key":
                using (var small = RSA.Create(1024))
                {
                    return AttestationDocuments.Sign(fields with { PublicKey = small.ExportSubjectPublicKeyInfo() }, _documents.Signer);
                }

            case "EC public key":
                using (var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    return AttestationDocuments.Sign(fields with { PublicKey = ec.ExportSubjectPublicKeyInfo() }, _documents.Signer);
                }

            case "no pcrs": return AttestationDocuments.Sign(fields with { Pcrs = new Dictionary<int, byte[]>() }, _documents.Signer);
            case "short pcr": return AttestationDocuments.Sign(fields with { Pcrs = new Dictionary<int, byte[]> { [0] = new byte[32] } }, _documents.Signer);
            case "pcr index 32": return AttestationDocuments.Sign(fields with { Pcrs = new Dictionary<int, byte[]> { [32] = new byte[48] } }, _documents.Signer);
            case "no module id": return AttestationDocuments.Sign(fields with { ModuleId = "" }, _documents.Signer);
            case "ES256 signature": return AttestationDocuments.Sign(fields, _documents.Signer, HashAlgorithmName.SHA256);
            default: throw new ArgumentOutOfRangeException(nameof(problem));
        }
    }

    [Fact]
    public async Task An_untagged_COSE_Sign1_document_as_Nitro_produces_is_accepted()
    {
        using var kms = new RecipientKeyManager(_documents);
        var tagged = _documents.Document();
        Assert.Equal(0xD2, tagged[0]); // CBOR tag 18 (COSE_Sign1)
        using var response = await kms.Manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 8, Recipient = _documents.RecipientInfo(tagged[1..]) }, Ct);
        Assert.Equal(8, _documents.Open(response.CiphertextForRecipient!).Length);
    }

    [Fact]
    public async Task A_document_signed_by_a_certificate_that_chains_to_a_trusted_root_is_accepted_and_one_from_another_root_is_not()
    {
        using var pki = new TestAttestationPki();
        using var otherPki = new TestAttestationPki("Other Root");
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var options = new NitroAttestationVerifierOptions();
        options.TrustedRootCertificates.Add(pki.Root);
        using var verifier = new NitroAttestationDocumentVerifier(options, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(AttestationDocuments.Now));

        var leaf = pki.IssueLeaf(leafKey, AttestationDocuments.Now.AddHours(-1), AttestationDocuments.Now.AddHours(2));
        var attestation = await verifier.VerifyAsync(AttestationDocuments.Sign(_documents.Fields with { Certificate = leaf }, leafKey), Ct);
        Assert.Equal(_documents.ImageSha384, attestation.ImageSha384);
        Assert.Equal(_documents.Recipient.ExportSubjectPublicKeyInfo(), attestation.PublicKey.ToArray());

        var foreignLeaf = otherPki.IssueLeaf(leafKey, AttestationDocuments.Now.AddHours(-1), AttestationDocuments.Now.AddHours(2));
        await Assert.ThrowsAsync<KmsValidationException>(async () => await verifier.VerifyAsync(AttestationDocuments.Sign(_documents.Fields with { Certificate = foreignLeaf }, leafKey), Ct));

        var expiredLeaf = pki.IssueLeaf(leafKey, AttestationDocuments.Now.AddHours(-3), AttestationDocuments.Now.AddHours(-1));
        await Assert.ThrowsAsync<KmsValidationException>(async () => await verifier.VerifyAsync(AttestationDocuments.Sign(_documents.Fields with { Certificate = expiredLeaf }, leafKey), Ct));

        using var impostor = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        await Assert.ThrowsAsync<KmsValidationException>(async () => await verifier.VerifyAsync(AttestationDocuments.Sign(_documents.Fields with { Certificate = leaf }, impostor), Ct));
    }

    [Fact]
    public async Task GenerateDataKeyWithoutPlaintext_refuses_a_recipient()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest
        {
            KeyId = keyId, NumberOfBytes = 32, Recipient = _documents.RecipientInfo(),
        }, Ct));
    }

    // ------------------------------------------------------------ policy and audit

    [Fact]
    public async Task An_authorizer_sees_the_verified_measurements_and_can_allow_only_one_image()
    {
        var authorizer = new AllowOnlyImage(_documents.ImageSha384);
        using var kms = new RecipientKeyManager(_documents, authorizer: authorizer);
        var keyId = await NewKeyAsync(kms.Manager);
        var blob = (await kms.Manager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = Secret }, Ct)).CiphertextBlob;

        using (var allowed = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, Recipient = _documents.RecipientInfo() }, Ct))
        {
            Assert.Equal(Secret, _documents.Open(allowed.CiphertextForRecipient!));
        }

        var seen = authorizer.Seen!;
        Assert.Equal(_documents.ImageSha384, seen.ImageSha384);
        Assert.True(seen.TryGetConditionValue("kms:RecipientAttestation:PCR8", out var pcr8));
        Assert.Equal(Convert.ToHexStringLower(_documents.SignerPcr8), pcr8);

        var otherImage = _documents.Fields with { Pcrs = new Dictionary<int, byte[]> { [0] = SHA384.HashData("enclave image v2"u8) } };
        var denied = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Manager.DecryptAsync(new DecryptRequest
        {
            CiphertextBlob = blob, Recipient = _documents.RecipientInfo(AttestationDocuments.Sign(otherImage, _documents.Signer)),
        }, Ct));
        Assert.Contains("kms:RecipientAttestation:ImageSha384", denied.Message, StringComparison.Ordinal);

        // Without a recipient there is nothing to match: this authorizer denies.
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }, Ct));
    }

    [Fact]
    public void Condition_keys_are_read_by_name_as_lowercase_hex()
    {
        var attestation = new RecipientAttestation(_documents.Recipient.ExportSubjectPublicKeyInfo(),
            new Dictionary<int, ReadOnlyMemory<byte>> { [0] = _documents.ImagePcr0, [17] = new byte[48] }, "module", AttestationDocuments.Now);

        Assert.True(attestation.TryGetConditionValue("kms:RecipientAttestation:ImageSha384", out var image));
        Assert.Equal(_documents.ImageSha384, image);
        Assert.True(attestation.TryGetConditionValue("kms:recipientattestation:pcr0", out var pcr0));
        Assert.Equal(image, pcr0);
        Assert.True(attestation.TryGetConditionValue("kms:RecipientAttestation:PCR17", out var pcr17));
        Assert.Equal(new string('0', 96), pcr17);
        Assert.False(attestation.TryGetConditionValue("kms:RecipientAttestation:PCR1", out _));
        Assert.False(attestation.TryGetConditionValue("kms:RecipientAttestation:PCR017", out _));
        Assert.False(attestation.TryGetConditionValue("kms:RecipientAttestation:PCR+1", out _));
        Assert.False(attestation.TryGetConditionValue("kms:RecipientAttestation:PCR", out _));
        Assert.False(attestation.TryGetConditionValue("kms:EncryptionContext:x", out _));
    }

    [Fact]
    public async Task The_audit_event_records_the_recipient_module_and_image_but_no_secret()
    {
        using var kms = new RecipientKeyManager(_documents);
        var keyId = await NewKeyAsync(kms.Manager);
        using var response = await kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, NumberOfBytes = 32, Recipient = _documents.RecipientInfo() }, Ct);
        var dataKey = _documents.Open(response.CiphertextForRecipient!);

        var audit = kms.LastEvent;
        Assert.Equal(KmsOperation.GenerateDataKey, audit.Operation);
        Assert.Equal(KmsOutcome.Success, audit.Outcome);
        Assert.Equal(_documents.Fields.ModuleId, audit.RecipientModuleId);
        Assert.Equal(_documents.ImageSha384, audit.RecipientImageSha384);
        Assert.DoesNotContain(Convert.ToHexStringLower(dataKey), audit.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(dataKey), audit.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_verifier_is_taken_from_UseRecipientAttestationVerifier()
    {
        using var manager = KeyManagerFactory.Create(
            kms => kms.UseRecipientAttestationVerifier(_ => _documents.Verifier(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(AttestationDocuments.Now))),
            timeProvider: new Microsoft.Extensions.Time.Testing.FakeTimeProvider(AttestationDocuments.Now));
        using var response = await manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 4, Recipient = _documents.RecipientInfo() }, Ct);
        Assert.Equal(4, _documents.Open(response.CiphertextForRecipient!).Length);
    }

    [Fact]
    public async Task The_verifier_is_taken_from_the_service_container()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(AttestationDocuments.Now));
        services.AddSingleton<IRecipientAttestationVerifier>(sp => _documents.Verifier(sp.GetRequiredService<TimeProvider>()));
        services.AddEnvelopeKms();
        await using var provider = services.BuildServiceProvider();
        var manager = provider.GetRequiredService<IKeyManager>();
        using var response = await manager.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 4, Recipient = _documents.RecipientInfo() }, Ct);
        Assert.Equal(4, _documents.Open(response.CiphertextForRecipient!).Length);
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>A policy in the spirit of <c>"StringEqualsIgnoreCase": {"kms:RecipientAttestation:ImageSha384": "..."}</c>.</summary>
    private sealed class AllowOnlyImage(string imageSha384) : IKeyAuthorizer
    {
        public RecipientAttestation? Seen { get; private set; }

        public ValueTask<AuthorizationDecision> AuthorizeAsync(AuthorizationRequest request, CancellationToken cancellationToken)
        {
            if (request.Operation != KmsOperation.Decrypt)
            {
                return ValueTask.FromResult(new AuthorizationDecision(true, "Not a Decrypt."));
            }

            Seen = request.RecipientAttestation;
            var allowed = request.RecipientAttestation is { } attestation
                && attestation.TryGetConditionValue(RecipientAttestation.ImageSha384ConditionKey, out var image)
                && image == imageSha384;
            return ValueTask.FromResult(new AuthorizationDecision(allowed, allowed
                ? "Allowed: kms:RecipientAttestation:ImageSha384 matches."
                : "Denied: kms:RecipientAttestation:ImageSha384 does not match the allowed image."));
        }
    }
}
