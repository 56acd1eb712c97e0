using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// <c>GenerateDataKeyPair</c> and <c>GenerateDataKeyPairWithoutPlaintext</c>: the private key is PKCS#8, the
/// public key a SubjectPublicKeyInfo, and the encrypted private key an ordinary symmetric ciphertext that
/// <c>Decrypt</c> opens under the same encryption context. Each pair is used outside the library — by the
/// platform (RSA, ECDSA) or BouncyCastle (Ed25519, ML-KEM) — to prove the two halves belong together.
/// </summary>
public sealed class DataKeyPairTests
{
    private static readonly byte[] Document = "purchase order 7731: 40 pallets"u8.ToArray();
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme", ["purpose"] = "signing-keys" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<DataKeyPairSpec> Specs => [.. Enum.GetValues<DataKeyPairSpec>()];

    [Theory]
    [MemberData(nameof(Specs))]
    public async Task Each_key_pair_spec_round_trips_through_decrypt_and_its_halves_work_together_outside_the_library(DataKeyPairSpec spec)
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("wrapping");

        using var pair = await kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = spec, EncryptionContext = Context }, Ct);

        Assert.Equal(key.Arn, pair.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, pair.KeyMaterialId);
        Assert.Equal(spec, pair.KeyPairSpec);
        using (var decrypted = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = pair.PrivateKeyCiphertextBlob, EncryptionContext = Context }, Ct))
        {
            Assert.Equal(pair.PrivateKeyPlaintext, decrypted.Plaintext);
            Assert.Equal(key.Arn, decrypted.KeyId);
        }

        AssertHalvesBelongTogether(spec, pair.PrivateKeyPlaintext, pair.PublicKey);
    }

    [Theory]
    [InlineData(DataKeyPairSpec.Rsa2048)]
    [InlineData(DataKeyPairSpec.EccNistP384)]
    [InlineData(DataKeyPairSpec.EccNistEdwards25519)]
    [InlineData(DataKeyPairSpec.MlKem768)]
    public async Task Without_plaintext_returns_no_private_key_and_decrypt_recovers_the_one_that_matches_the_public_key(DataKeyPairSpec spec)
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("wrapping");

        var pair = await kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = spec, EncryptionContext = Context }, Ct);

        Assert.False(typeof(IDisposable).IsAssignableFrom(typeof(GenerateDataKeyPairWithoutPlaintextResponse)));
        Assert.DoesNotContain(typeof(GenerateDataKeyPairWithoutPlaintextResponse).GetProperties(), p => p.Name.Contains("Plaintext", StringComparison.Ordinal));
        Assert.Equal(key.Arn, pair.KeyId);
        Assert.Equal(spec, pair.KeyPairSpec);
        var privateKey = await kms.Api().DecryptBlobAsync(pair.PrivateKeyCiphertextBlob, Context);
        AssertHalvesBelongTogether(spec, privateKey, pair.PublicKey);
    }

    [Fact]
    public async Task Every_call_returns_a_new_pair_and_the_response_zeroes_the_private_key_on_dispose()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("wrapping");

        var first = await kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct);
        using var second = await kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct);
        Assert.NotEqual(first.PublicKey, second.PublicKey);
        Assert.NotEqual(first.PrivateKeyPlaintext, second.PrivateKeyPlaintext);

        var privateKey = first.PrivateKeyPlaintext;
        first.Dispose();
        Assert.All(privateKey, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task The_encrypted_private_key_needs_its_encryption_context_to_decrypt()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("wrapping");
        var pair = await kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256, EncryptionContext = Context }, Ct);

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Api().DecryptBlobAsync(pair.PrivateKeyCiphertextBlob));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Api().DecryptBlobAsync(pair.PrivateKeyCiphertextBlob, new Dictionary<string, string> { ["tenant"] = "acme" }));
        Assert.NotEmpty(await kms.Api().DecryptBlobAsync(pair.PrivateKeyCiphertextBlob, Context));
    }

    [Theory]
    [InlineData(KeySpec.Hmac256, KeyUsage.GenerateVerifyMac)]
    [InlineData(KeySpec.Rsa2048, KeyUsage.EncryptDecrypt)]
    [InlineData(KeySpec.EccNistP256, KeyUsage.SignVerify)]
    [InlineData(KeySpec.MlKem512, KeyUsage.EncapsulateDecapsulate)]
    public async Task A_wrapping_key_that_is_not_a_symmetric_encryption_key_is_an_invalid_key_usage_error(KeySpec spec, KeyUsage usage)
    {
        using var kms = new TestKeyManager();
        var key = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { Description = "not a wrapping key", KeySpec = spec, KeyUsage = usage }, Ct)).KeyMetadata;
        var eventsBefore = kms.Audit.Events.Count;

        var e = await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct));

        Assert.Equal("InvalidKeyUsageException", e.ErrorCode);
        var audit = kms.Audit.Events.Skip(eventsBefore).ToList();
        Assert.Equal([KmsOperation.GenerateDataKeyPair, KmsOperation.GenerateDataKeyPairWithoutPlaintext], audit.Select(a => a.Operation));
        Assert.All(audit, a => Assert.Equal("InvalidKeyUsageException", a.ErrorCode));
    }

    [Fact]
    public async Task An_unknown_key_pair_spec_or_a_bad_context_is_a_validation_error_before_the_key_is_read()
    {
        using var kms = new TestKeyManager();
        const string missing = "11111111-1111-4111-8111-111111111111";

        // The key does not exist: validation comes first, so the error is about the input, not the key.
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = missing, KeyPairSpec = (DataKeyPairSpec)99 }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = missing, KeyPairSpec = 0 }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = missing, KeyPairSpec = DataKeyPairSpec.Rsa2048, EncryptionContext = new Dictionary<string, string> { [""] = "x" } }, Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = missing, KeyPairSpec = DataKeyPairSpec.Rsa2048 }, Ct));
    }

    [Fact]
    public async Task A_disabled_wrapping_key_is_a_disabled_error_and_an_alias_names_the_key()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("wrapping");
        await kms.Api().CreateAliasAsync("alias/pairs", key.KeyId);

        var pair = await kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = "alias/pairs", KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct);
        Assert.Equal(key.Arn, pair.KeyId);

        await kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Ct);
        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = "alias/pairs", KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct));
        await Assert.ThrowsAsync<KmsDisabledException>(() => kms.Manager.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Ct));
    }

    [Fact]
    public async Task The_audit_event_records_the_wrapping_key_and_context_but_no_key_bytes()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("wrapping");

        using var pair = await kms.Manager.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.Rsa2048, EncryptionContext = Context }, Ct);

        var audit = kms.Audit.Events[^1];
        Assert.Equal(KmsOperation.GenerateDataKeyPair, audit.Operation);
        Assert.Equal(KmsOutcome.Success, audit.Outcome);
        Assert.Equal(key.KeyId, audit.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, audit.KeyMaterialId);
        Assert.Equal(Context, audit.EncryptionContext);
        var text = audit.ToString();
        Assert.DoesNotContain(Convert.ToBase64String(pair.PrivateKeyPlaintext), text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(pair.PrivateKeyPlaintext[^16..]), text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(pair.PublicKey), text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_wire_names_of_data_key_pair_specs_parse_and_sm2_is_reported_as_unsupported_with_the_reason()
    {
        foreach (var spec in Enum.GetValues<DataKeyPairSpec>())
        {
            Assert.Equal(spec, KmsNames.ParseDataKeyPairSpec(spec.ToKmsName()));
        }

        foreach (var spec in Enum.GetValues<KeySpec>())
        {
            Assert.Equal(spec, KmsNames.ParseKeySpec(spec.ToKmsName()));
        }

        Assert.Equal("ECC_NIST_EDWARDS25519", DataKeyPairSpec.EccNistEdwards25519.ToKmsName());
        var pairSpec = Assert.Throws<KmsUnsupportedOperationException>(() => KmsNames.ParseDataKeyPairSpec("SM2"));
        var keySpec = Assert.Throws<KmsUnsupportedOperationException>(() => KmsNames.ParseKeySpec("SM2"));
        Assert.Equal("UnsupportedOperationException", pairSpec.ErrorCode);
        Assert.Contains("KeyPairSpec SM2 is not supported", pairSpec.Message, StringComparison.Ordinal);
        Assert.Contains("KeySpec SM2 is not supported", keySpec.Message, StringComparison.Ordinal);
        Assert.Contains("China", keySpec.Message, StringComparison.Ordinal);
        Assert.Contains("Wycheproof", keySpec.Message, StringComparison.Ordinal);

        // ML-DSA data key pairs are not offered (AWS KMS lists none); unknown and differently cased names are validation errors.
        Assert.Throws<KmsValidationException>(() => KmsNames.ParseDataKeyPairSpec("ML_DSA_65"));
        Assert.Throws<KmsValidationException>(() => KmsNames.ParseDataKeyPairSpec("SYMMETRIC_DEFAULT"));
        Assert.Throws<KmsValidationException>(() => KmsNames.ParseKeySpec("rsa_2048"));
        Assert.Throws<KmsValidationException>(() => KmsNames.ParseKeySpec("sm2"));
    }

    /// <summary>Imports both halves outside the library and uses them against each other.</summary>
    private static void AssertHalvesBelongTogether(DataKeyPairSpec spec, byte[] pkcs8, byte[] spki)
    {
        switch (spec)
        {
            case DataKeyPairSpec.Rsa2048 or DataKeyPairSpec.Rsa3072 or DataKeyPairSpec.Rsa4096:
            {
                using var privateKey = RSA.Create();
                privateKey.ImportPkcs8PrivateKey(pkcs8, out var read);
                Assert.Equal(pkcs8.Length, read);
                using var publicKey = RSA.Create();
                publicKey.ImportSubjectPublicKeyInfo(spki, out _);
                Assert.Equal(int.Parse(spec.ToKmsName()[4..], System.Globalization.CultureInfo.InvariantCulture), publicKey.KeySize);
                var signature = privateKey.SignData(Document, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
                Assert.True(publicKey.VerifyData(Document, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
                var ciphertext = publicKey.Encrypt(Document, RSAEncryptionPadding.OaepSHA256);
                Assert.Equal(Document, privateKey.Decrypt(ciphertext, RSAEncryptionPadding.OaepSHA256));
                break;
            }

            case DataKeyPairSpec.EccNistP256 or DataKeyPairSpec.EccNistP384 or DataKeyPairSpec.EccNistP521 or DataKeyPairSpec.EccSecgP256k1:
            {
                using var privateKey = ECDsa.Create();
                privateKey.ImportPkcs8PrivateKey(pkcs8, out _);
                using var publicKey = ECDsa.Create();
                publicKey.ImportSubjectPublicKeyInfo(spki, out _);
                var expectedOid = spec switch
                {
                    DataKeyPairSpec.EccNistP256 => "1.2.840.10045.3.1.7",
                    DataKeyPairSpec.EccNistP384 => "1.3.132.0.34",
                    DataKeyPairSpec.EccNistP521 => "1.3.132.0.35",
                    _ => "1.3.132.0.10",
                };
                Assert.Equal(expectedOid, publicKey.ExportParameters(false).Curve.Oid.Value);
                var signature = privateKey.SignData(Document, HashAlgorithmName.SHA256);
                Assert.True(publicKey.VerifyData(Document, signature, HashAlgorithmName.SHA256));
                Assert.Equal(spki, privateKey.ExportSubjectPublicKeyInfo());
                break;
            }

            case DataKeyPairSpec.EccNistEdwards25519:
            {
                var privateKey = Assert.IsType<Ed25519PrivateKeyParameters>(PrivateKeyFactory.CreateKey(pkcs8));
                var publicKey = Assert.IsType<Ed25519PublicKeyParameters>(PublicKeyFactory.CreateKey(spki));
                Assert.Equal(publicKey.GetEncoded(), privateKey.GeneratePublicKey().GetEncoded());
                var signer = new Ed25519Signer();
                signer.Init(true, privateKey);
                signer.BlockUpdate(Document, 0, Document.Length);
                var signature = signer.GenerateSignature();
                var verifier = new Ed25519Signer();
                verifier.Init(false, publicKey);
                verifier.BlockUpdate(Document, 0, Document.Length);
                Assert.True(verifier.VerifySignature(signature));
                break;
            }

            default:
            {
                var privateKey = Assert.IsType<MLKemPrivateKeyParameters>(PrivateKeyFactory.CreateKey(pkcs8));
                var publicKey = Assert.IsType<MLKemPublicKeyParameters>(PublicKeyFactory.CreateKey(spki));
                var expected = spec switch
                {
                    DataKeyPairSpec.MlKem512 => MLKemParameters.ml_kem_512,
                    DataKeyPairSpec.MlKem768 => MLKemParameters.ml_kem_768,
                    _ => MLKemParameters.ml_kem_1024,
                };
                Assert.Equal(expected, publicKey.Parameters);
                var encapsulator = new MLKemEncapsulator(publicKey.Parameters);
                encapsulator.Init(new ParametersWithRandom(publicKey, new SecureRandom()));
                var ciphertext = new byte[encapsulator.EncapsulationLength];
                var secret = new byte[encapsulator.SecretLength];
                encapsulator.Encapsulate(ciphertext, secret);
                var decapsulator = new MLKemDecapsulator(privateKey.Parameters);
                decapsulator.Init(privateKey);
                var recovered = new byte[decapsulator.SecretLength];
                decapsulator.Decapsulate(ciphertext, recovered);
                Assert.Equal(secret, recovered);
                break;
            }
        }
    }
}
