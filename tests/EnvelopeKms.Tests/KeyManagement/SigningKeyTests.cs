using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// Asymmetric signing keys (RSA, ECC NIST and secp256k1, Ed25519, ML-DSA; usage <c>SIGN_VERIFY</c>):
/// <c>Sign</c>, <c>Verify</c> and <c>GetPublicKey</c>. Every signature is also checked outside the library,
/// by the platform (RSA, ECDSA) or BouncyCastle (Ed25519, ML-DSA) with the public key <c>GetPublicKey</c>
/// exports, which proves the export. A wrong signature is <c>SignatureValid = false</c> (not an exception,
/// unlike AWS KMS); algorithms and usages are enforced both ways; the keys survive a durable store.
/// </summary>
public sealed class SigningKeyTests : IDisposable
{
    private static readonly byte[] Document = "invoice 2026-0042: 1,250.00 EUR to ACME GmbH"u8.ToArray();
    private readonly TemporaryStoreDirectory _directory = new("signing");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, string[]> Specs => new()
    {
        { nameof(KeySpec.Rsa2048), ["RsassaPssSha256", "RsassaPssSha384", "RsassaPssSha512", "RsassaPkcs1V15Sha256", "RsassaPkcs1V15Sha384", "RsassaPkcs1V15Sha512"] },
        { nameof(KeySpec.Rsa3072), ["RsassaPssSha256", "RsassaPssSha384", "RsassaPssSha512", "RsassaPkcs1V15Sha256", "RsassaPkcs1V15Sha384", "RsassaPkcs1V15Sha512"] },
        { nameof(KeySpec.Rsa4096), ["RsassaPssSha256", "RsassaPssSha384", "RsassaPssSha512", "RsassaPkcs1V15Sha256", "RsassaPkcs1V15Sha384", "RsassaPkcs1V15Sha512"] },
        { nameof(KeySpec.EccNistP256), ["EcdsaSha256"] },
        { nameof(KeySpec.EccNistP384), ["EcdsaSha384"] },
        { nameof(KeySpec.EccNistP521), ["EcdsaSha512"] },
        { nameof(KeySpec.EccSecgP256k1), ["EcdsaSha256"] },
        { nameof(KeySpec.EccNistEdwards25519), ["Ed25519Sha512", "Ed25519PhSha512"] },
        { nameof(KeySpec.MlDsa44), ["MlDsaShake256"] },
        { nameof(KeySpec.MlDsa65), ["MlDsaShake256"] },
        { nameof(KeySpec.MlDsa87), ["MlDsaShake256"] },
    };

    private static Task<KeyMetadataResponse> CreateAsync(KeyManager kms, KeySpec spec)
        => kms.CreateKeyAsync(new CreateKeyRequest { Description = "signing", KeySpec = spec, KeyUsage = KeyUsage.SignVerify }, Ct);

    private static async Task<byte[]> SignAsync(KeyManager kms, string keyId, SigningAlgorithm algorithm, byte[] message, MessageType type = MessageType.Raw)
        => (await kms.SignAsync(new SignRequest { KeyId = keyId, Message = message, MessageType = type, SigningAlgorithm = algorithm }, Ct)).Signature;

    private static async Task<bool> VerifyAsync(KeyManager kms, string keyId, SigningAlgorithm algorithm, byte[] message, byte[] signature, MessageType type = MessageType.Raw)
        => (await kms.VerifyAsync(new VerifyRequest { KeyId = keyId, Message = message, MessageType = type, Signature = signature, SigningAlgorithm = algorithm }, Ct)).SignatureValid;

    [Theory]
    [MemberData(nameof(Specs))]
    public async Task A_signing_key_signs_with_each_of_its_algorithms_and_the_exported_public_key_verifies_outside_the_library(string specName, string[] algorithmNames)
    {
        var spec = Enum.Parse<KeySpec>(specName);
        var algorithms = algorithmNames.Select(Enum.Parse<SigningAlgorithm>).ToArray();
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, spec)).KeyMetadata;
        Assert.Equal(spec, key.KeySpec);
        Assert.Equal(KeyUsage.SignVerify, key.KeyUsage);
        Assert.Equal(algorithms, key.SigningAlgorithms);
        Assert.Empty(key.EncryptionAlgorithms);
        Assert.Empty(key.MacAlgorithms);

        var publicKey = await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(key.Arn, publicKey.KeyId);
        Assert.Equal(spec, publicKey.KeySpec);
        Assert.Equal(KeyUsage.SignVerify, publicKey.KeyUsage);
        Assert.Equal(algorithms, publicKey.SigningAlgorithms);

        foreach (var algorithm in algorithms)
        {
            var signed = await kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Document, SigningAlgorithm = algorithm }, Ct);
            Assert.Equal(key.Arn, signed.KeyId);
            Assert.Equal(algorithm, signed.SigningAlgorithm);
            var verified = await kms.Manager.VerifyAsync(new VerifyRequest { KeyId = key.KeyId, Message = Document, Signature = signed.Signature, SigningAlgorithm = algorithm }, Ct);
            Assert.True(verified.SignatureValid, $"{algorithm.ToKmsName()} RAW did not verify in the key manager.");
            Assert.Equal(key.Arn, verified.KeyId);
            Assert.True(ExternalVerify(publicKey.PublicKey, algorithm, Document, signed.Signature), $"{algorithm.ToKmsName()} RAW did not verify outside the library.");

            if (Digest(algorithm, Document) is { } digest)
            {
                // A DIGEST signature is the signature of the message the digest was made of.
                var fromDigest = await SignAsync(kms.Manager, key.KeyId, algorithm, digest, MessageType.Digest);
                Assert.True(ExternalVerify(publicKey.PublicKey, algorithm, Document, fromDigest), $"{algorithm.ToKmsName()} DIGEST did not verify outside the library.");
                Assert.True(await VerifyAsync(kms.Manager, key.KeyId, algorithm, digest, fromDigest, MessageType.Digest));
                Assert.True(await VerifyAsync(kms.Manager, key.KeyId, algorithm, Document, fromDigest));
            }
        }
    }

    [Theory]
    [InlineData(nameof(KeySpec.EccNistP256), nameof(SigningAlgorithm.EcdsaSha256))]
    [InlineData(nameof(KeySpec.Rsa2048), nameof(SigningAlgorithm.RsassaPssSha256))]
    [InlineData(nameof(KeySpec.Rsa2048), nameof(SigningAlgorithm.RsassaPkcs1V15Sha512))]
    [InlineData(nameof(KeySpec.EccNistEdwards25519), nameof(SigningAlgorithm.Ed25519Sha512))]
    [InlineData(nameof(KeySpec.EccNistEdwards25519), nameof(SigningAlgorithm.Ed25519PhSha512))]
    [InlineData(nameof(KeySpec.MlDsa44), nameof(SigningAlgorithm.MlDsaShake256))]
    public async Task A_tampered_message_or_signature_or_another_keys_signature_is_false_not_an_exception(string specName, string algorithmName)
    {
        var spec = Enum.Parse<KeySpec>(specName);
        var algorithm = Enum.Parse<SigningAlgorithm>(algorithmName);
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, spec)).KeyMetadata;
        var other = (await CreateAsync(kms.Manager, spec)).KeyMetadata;
        var signature = await SignAsync(kms.Manager, key.KeyId, algorithm, Document);

        for (var bit = 0; bit < signature.Length * 8; bit += Math.Max(1, signature.Length * 8 / 24))
        {
            var flipped = (byte[])signature.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(await VerifyAsync(kms.Manager, key.KeyId, algorithm, Document, flipped));
        }

        var changed = (byte[])Document.Clone();
        changed[0] ^= 1;
        Assert.False(await VerifyAsync(kms.Manager, key.KeyId, algorithm, changed, signature));
        Assert.False(await VerifyAsync(kms.Manager, key.KeyId, algorithm, Document, signature[..^1]));
        Assert.False(await VerifyAsync(kms.Manager, key.KeyId, algorithm, Document, [.. signature, 0]));
        Assert.False(await VerifyAsync(kms.Manager, other.KeyId, algorithm, Document, signature));
        Assert.True(await VerifyAsync(kms.Manager, key.KeyId, algorithm, Document, signature));
    }

    [Fact]
    public async Task An_ecdsa_signature_in_p1363_form_or_with_non_minimal_der_is_false()
    {
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, KeySpec.EccNistP256)).KeyMetadata;
        var der = await SignAsync(kms.Manager, key.KeyId, SigningAlgorithm.EcdsaSha256, Document);
        var spki = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct)).PublicKey;
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
        var p1363 = new byte[64];
        Assert.True(EnvelopeKms.Cryptography.EcdsaDer.TryToP1363(der, 32, p1363));
        Assert.True(ecdsa.VerifyData(Document, p1363, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

        Assert.False(await VerifyAsync(kms.Manager, key.KeyId, SigningAlgorithm.EcdsaSha256, Document, p1363));
        // The same SEQUENCE with a long-form length: BER, not DER.
        byte[] longForm = [0x30, 0x81, .. der[1..]];
        Assert.False(await VerifyAsync(kms.Manager, key.KeyId, SigningAlgorithm.EcdsaSha256, Document, longForm));
        Assert.True(await VerifyAsync(kms.Manager, key.KeyId, SigningAlgorithm.EcdsaSha256, Document, der));
    }

    [Fact]
    public async Task Bad_messages_are_validation_errors()
    {
        using var kms = new TestKeyManager();
        var ec = (await CreateAsync(kms.Manager, KeySpec.EccNistP384)).KeyMetadata;
        var rsa = (await CreateAsync(kms.Manager, KeySpec.Rsa2048)).KeyMetadata;
        var ed = (await CreateAsync(kms.Manager, KeySpec.EccNistEdwards25519)).KeyMetadata;
        var mlDsa = (await CreateAsync(kms.Manager, KeySpec.MlDsa65)).KeyMetadata;

        // A DIGEST must be as long as the algorithm's hash.
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ec.KeyId, SigningAlgorithm.EcdsaSha384, new byte[32], MessageType.Digest));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, rsa.KeyId, SigningAlgorithm.RsassaPssSha512, new byte[48], MessageType.Digest));
        await Assert.ThrowsAsync<KmsValidationException>(() => VerifyAsync(kms.Manager, rsa.KeyId, SigningAlgorithm.RsassaPkcs1V15Sha256, new byte[33], new byte[256], MessageType.Digest));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ed.KeyId, SigningAlgorithm.Ed25519PhSha512, new byte[32], MessageType.Digest));
        // Pure Ed25519 and ML-DSA take no DIGEST; an EXTERNAL_MU is exactly 64 bytes (MlDsaExternalMuTests).
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ed.KeyId, SigningAlgorithm.Ed25519Sha512, new byte[64], MessageType.Digest));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, mlDsa.KeyId, SigningAlgorithm.MlDsaShake256, new byte[64], MessageType.Digest));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, mlDsa.KeyId, SigningAlgorithm.MlDsaShake256, new byte[63], MessageType.ExternalMu));
        // RAW is 1–4096 bytes; unknown enum values are refused.
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ec.KeyId, SigningAlgorithm.EcdsaSha384, new byte[4097]));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ec.KeyId, SigningAlgorithm.EcdsaSha384, []));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ec.KeyId, (SigningAlgorithm)99, Document));
        await Assert.ThrowsAsync<KmsValidationException>(() => SignAsync(kms.Manager, ec.KeyId, SigningAlgorithm.EcdsaSha384, Document, (MessageType)9));
        await Assert.ThrowsAsync<KmsValidationException>(() => VerifyAsync(kms.Manager, ec.KeyId, SigningAlgorithm.EcdsaSha384, Document, []));
    }

    [Fact]
    public async Task Algorithms_and_usages_are_enforced_both_ways()
    {
        using var kms = new TestKeyManager();
        var p256 = (await CreateAsync(kms.Manager, KeySpec.EccNistP256)).KeyMetadata;
        var rsa = (await CreateAsync(kms.Manager, KeySpec.Rsa2048)).KeyMetadata;
        var ed = (await CreateAsync(kms.Manager, KeySpec.EccNistEdwards25519)).KeyMetadata;
        var symmetric = await kms.Manager.CreateKeyAsync("aes", Ct);
        var hmac = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac }, Ct)).KeyMetadata;

        // An algorithm the key does not have.
        var wrongCurve = await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => SignAsync(kms.Manager, p256.KeyId, SigningAlgorithm.EcdsaSha384, Document));
        Assert.Contains("ECDSA_SHA_256", wrongCurve.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => SignAsync(kms.Manager, rsa.KeyId, SigningAlgorithm.EcdsaSha256, Document));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => SignAsync(kms.Manager, ed.KeyId, SigningAlgorithm.MlDsaShake256, Document));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => VerifyAsync(kms.Manager, p256.KeyId, SigningAlgorithm.RsassaPssSha256, Document, new byte[256]));

        // A key that does not sign.
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => SignAsync(kms.Manager, symmetric.KeyId, SigningAlgorithm.EcdsaSha256, Document));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => SignAsync(kms.Manager, hmac.KeyId, SigningAlgorithm.EcdsaSha256, Document));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => VerifyAsync(kms.Manager, hmac.KeyId, SigningAlgorithm.EcdsaSha256, Document, new byte[70]));
        var noPublicKey = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = symmetric.KeyId }, Ct));
        Assert.Equal("UnsupportedOperationException", noPublicKey.ErrorCode);

        // A signing key given to the other families' operations.
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.EncryptAsync(rsa.KeyId, Document, cancellationToken: Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = p256.KeyId, KeySpec = DataKeySpec.Aes256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = p256.KeyId, Message = Document, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.VerifyMacAsync(new VerifyMacRequest { KeyId = ed.KeyId, Message = Document, Mac = new byte[32], MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
    }

    [Fact]
    public async Task Create_key_takes_only_the_usages_a_spec_allows_and_names_them()
    {
        using var kms = new TestKeyManager();

        var rsaMac = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Rsa3072, KeyUsage = KeyUsage.GenerateVerifyMac }, Ct));
        Assert.Contains("ENCRYPT_DECRYPT or SIGN_VERIFY", rsaMac.Message, StringComparison.Ordinal);
        var edAgreement = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistEdwards25519, KeyUsage = KeyUsage.KeyAgreement }, Ct));
        Assert.Contains("SIGN_VERIFY", edAgreement.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP384, KeyUsage = KeyUsage.EncryptDecrypt }, Ct));
        var defaultUsage = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistEdwards25519 }, Ct));
        Assert.Contains("SIGN_VERIFY", defaultUsage.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlDsa44, KeyUsage = KeyUsage.GenerateVerifyMac }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.SymmetricDefault, KeyUsage = KeyUsage.SignVerify }, Ct));
        Assert.Empty((await kms.Manager.ListKeysAsync(new ListKeysRequest(), Ct)).Items);
    }

    [Fact]
    public async Task Signing_keys_in_a_durable_store_sign_and_verify_after_a_restart_with_the_same_public_key()
    {
        var path = Path.Combine(_directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var specs = new (KeySpec Spec, SigningAlgorithm Algorithm)[]
        {
            (KeySpec.Rsa2048, SigningAlgorithm.RsassaPssSha384),
            (KeySpec.EccNistP521, SigningAlgorithm.EcdsaSha512),
            (KeySpec.EccNistEdwards25519, SigningAlgorithm.Ed25519Sha512),
            (KeySpec.MlDsa87, SigningAlgorithm.MlDsaShake256),
        };
        var made = new List<(string KeyId, SigningAlgorithm Algorithm, byte[] Signature, byte[] PublicKey)>();
        using (var first = new TestKeyManager(new SqliteKeyStore(path), root))
        {
            foreach (var (spec, algorithm) in specs)
            {
                var keyId = (await CreateAsync(first.Manager, spec)).KeyMetadata.KeyId;
                var signature = await SignAsync(first.Manager, keyId, algorithm, Document);
                var publicKey = (await first.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey;
                made.Add((keyId, algorithm, signature, publicKey));
            }
        }

        using var second = new TestKeyManager(new SqliteKeyStore(path), root);
        foreach (var (keyId, algorithm, signature, publicKey) in made)
        {
            Assert.True(await VerifyAsync(second.Manager, keyId, algorithm, Document, signature));
            Assert.Equal(publicKey, (await second.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey);
            var again = await SignAsync(second.Manager, keyId, algorithm, Document);
            Assert.True(ExternalVerify(publicKey, algorithm, Document, again));
        }
    }

    [Fact]
    public async Task A_signing_key_restored_from_a_snapshot_under_another_root_key_keeps_its_key_pair()
    {
        using var source = new TestKeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
        var keyId = (await CreateAsync(source.Manager, KeySpec.EccSecgP256k1)).KeyMetadata.KeyId;
        var signature = await SignAsync(source.Manager, keyId, SigningAlgorithm.EcdsaSha256, Document);
        var publicKey = (await source.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey;
        using var snapshot = new MemoryStream();
        await KeyStoreSnapshot.ExportAsync(source.Store, source.RootKey, snapshot, source.Clock, Ct);

        var destinationRoot = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        var destinationStore = new InMemoryKeyStore();
        snapshot.Position = 0;
        await KeyStoreSnapshot.ImportAsync(snapshot, destinationStore, source.RootKey, new KeyStoreImportOptions { DestinationRootKeyProvider = destinationRoot }, Ct);

        using var destination = new TestKeyManager(destinationStore, destinationRoot);
        Assert.Equal(publicKey, (await destination.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = keyId }, Ct)).PublicKey);
        Assert.True(await VerifyAsync(destination.Manager, keyId, SigningAlgorithm.EcdsaSha256, Document, signature));
    }

    [Fact]
    public async Task Stored_material_of_a_length_no_private_key_of_the_spec_has_is_a_storage_integrity_error()
    {
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, KeySpec.Rsa2048)).KeyMetadata;
        var metadata = await kms.Store.GetMetadataAsync(Ct);
        using (var root = await kms.RootKey.GetRootKeyAsync(metadata!.RootKeyParameters ?? "", Ct))
        {
            await kms.RewriteKeyInStoreAsync(key.KeyId, record => record with
            {
                KeyMaterials = [record.KeyMaterials[0] with { WrappedMaterial = root.Wrap(new byte[32], KeyManager.WrapAssociatedData(record, record.KeyMaterials[0].KeyMaterialId)) }],
            });
        }

        // A fresh key manager: nothing cached.
        using var restarted = new KeyManager(kms.Store, kms.RootKey);
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => SignAsync(restarted, key.KeyId, SigningAlgorithm.RsassaPssSha256, Document));
        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => restarted.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct));
    }

    // ------------------------------------------------------------------ verification outside the library

    /// <summary>The digest a DIGEST message of <paramref name="algorithm"/> is, or null when the algorithm takes RAW messages only.</summary>
    private static byte[]? Digest(SigningAlgorithm algorithm, byte[] message) => algorithm switch
    {
        SigningAlgorithm.RsassaPssSha256 or SigningAlgorithm.RsassaPkcs1V15Sha256 or SigningAlgorithm.EcdsaSha256 => SHA256.HashData(message),
        SigningAlgorithm.RsassaPssSha384 or SigningAlgorithm.RsassaPkcs1V15Sha384 or SigningAlgorithm.EcdsaSha384 => SHA384.HashData(message),
        SigningAlgorithm.RsassaPssSha512 or SigningAlgorithm.RsassaPkcs1V15Sha512 or SigningAlgorithm.EcdsaSha512 or SigningAlgorithm.Ed25519PhSha512 => SHA512.HashData(message),
        _ => null,
    };

    private static bool ExternalVerify(byte[] spki, SigningAlgorithm algorithm, byte[] message, byte[] signature)
    {
        switch (algorithm)
        {
            case SigningAlgorithm.EcdsaSha256 or SigningAlgorithm.EcdsaSha384 or SigningAlgorithm.EcdsaSha512:
                using (var ecdsa = ECDsa.Create())
                {
                    ecdsa.ImportSubjectPublicKeyInfo(spki, out var read);
                    Assert.Equal(spki.Length, read);
                    return ecdsa.VerifyData(message, signature, Hash(algorithm), DSASignatureFormat.Rfc3279DerSequence);
                }

            case SigningAlgorithm.Ed25519Sha512:
            {
                var signer = new Ed25519Signer();
                signer.Init(false, (Ed25519PublicKeyParameters)PublicKeyFactory.CreateKey(spki));
                signer.BlockUpdate(message, 0, message.Length);
                return signer.VerifySignature(signature);
            }

            case SigningAlgorithm.Ed25519PhSha512:
            {
                var signer = new Ed25519phSigner([]);
                signer.Init(false, (Ed25519PublicKeyParameters)PublicKeyFactory.CreateKey(spki));
                signer.BlockUpdate(message, 0, message.Length);
                return signer.VerifySignature(signature);
            }

            case SigningAlgorithm.MlDsaShake256:
            {
                var publicKey = (MLDsaPublicKeyParameters)PublicKeyFactory.CreateKey(spki);
                var signer = new MLDsaSigner(publicKey.Parameters, deterministic: false);
                signer.Init(false, publicKey);
                signer.BlockUpdate(message, 0, message.Length);
                return signer.VerifySignature(signature);
            }

            default:
                using (var rsa = RSA.Create())
                {
                    rsa.ImportSubjectPublicKeyInfo(spki, out var read);
                    Assert.Equal(spki.Length, read);
                    var padding = algorithm is SigningAlgorithm.RsassaPssSha256 or SigningAlgorithm.RsassaPssSha384 or SigningAlgorithm.RsassaPssSha512
                        ? RSASignaturePadding.Pss
                        : RSASignaturePadding.Pkcs1;
                    return rsa.VerifyData(message, signature, Hash(algorithm), padding);
                }
        }
    }

    private static HashAlgorithmName Hash(SigningAlgorithm algorithm) => algorithm switch
    {
        SigningAlgorithm.RsassaPssSha256 or SigningAlgorithm.RsassaPkcs1V15Sha256 or SigningAlgorithm.EcdsaSha256 => HashAlgorithmName.SHA256,
        SigningAlgorithm.RsassaPssSha384 or SigningAlgorithm.RsassaPkcs1V15Sha384 or SigningAlgorithm.EcdsaSha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };
}
