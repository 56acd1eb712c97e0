using System.Security.Cryptography;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.Import;

/// <summary>Imported asymmetric private keys (DER PKCS#8) and HMAC keys of every length KMS imports.</summary>
public sealed class ImportAsymmetricTests
{
    private static readonly ImportWrappingAlgorithm KeyWrap = ImportWrappingAlgorithm.RsaAesKeyWrapSha256;

    public static TheoryData<KeySpec> SigningSpecs() =>
    [
        KeySpec.Rsa2048, KeySpec.Rsa3072, KeySpec.Rsa4096,
        KeySpec.EccNistP256, KeySpec.EccNistP384, KeySpec.EccNistP521, KeySpec.EccSecgP256k1,
        KeySpec.EccNistEdwards25519, KeySpec.MlDsa44, KeySpec.MlDsa65, KeySpec.MlDsa87,
    ];

    private static async Task<KeyMetadata> NewExternalAsync(IKeyManager km, KeySpec spec, KeyUsage usage)
        => (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = usage, Origin = KeyOrigin.External }, Kms.Ct)).KeyMetadata;

    [Theory]
    [MemberData(nameof(SigningSpecs))]
    public async Task An_imported_private_key_signs_and_its_public_key_is_the_original_one(KeySpec spec)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, spec, KeyUsage.SignVerify);
        var (pkcs8, spki) = KeySpecs.GenerateAsymmetricKeyPair(spec);

        var materialId = await km.ImportAsync(key.KeyId, pkcs8, algorithm: KeyWrap, spec: WrappingKeySpec.Rsa4096);

        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.Enabled, described.KeyState);
        Assert.Equal(materialId, described.CurrentKeyMaterialId);
        var publicKey = await km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(spki, publicKey.PublicKey);
        var algorithm = KeySpecs.SigningAlgorithmsOf(spec)[0];
        var message = Kms.Utf8("imported and signing");
        var signature = await km.SignAsync(new SignRequest { KeyId = key.KeyId, Message = message, SigningAlgorithm = algorithm }, Kms.Ct);
        // The signature verifies outside the key manager with the original public key.
        Assert.True(KeySpecs.Verify(spec, spki, algorithm, message, MessageType.Raw, signature.Signature));
        var verified = await km.VerifyAsync(new VerifyRequest { KeyId = key.KeyId, Message = message, Signature = signature.Signature, SigningAlgorithm = algorithm }, Kms.Ct);
        Assert.True(verified.SignatureValid);
    }

    [Fact]
    public async Task An_imported_RSA_key_decrypts_what_its_original_public_key_encrypted()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.Rsa3072, KeyUsage.EncryptDecrypt);
        using var rsa = RSA.Create(3072);
        await km.ImportAsync(key.KeyId, rsa.ExportPkcs8PrivateKey(), algorithm: ImportWrappingAlgorithm.RsaAesKeyWrapSha1, spec: WrappingKeySpec.Rsa2048);

        var ciphertext = rsa.Encrypt(Kms.Utf8("to the imported key"), RSAEncryptionPadding.OaepSHA256);
        var plaintext = await km.DecryptAsync(new DecryptRequest { KeyId = key.KeyId, CiphertextBlob = ciphertext, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Kms.Ct);

        Assert.Equal(Kms.Utf8("to the imported key"), plaintext.Plaintext);
    }

    [Fact]
    public async Task An_imported_EC_key_derives_the_same_shared_secret_as_its_original()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.EccNistP384, KeyUsage.KeyAgreement);
        using var ours = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        await km.ImportAsync(key.KeyId, ours.ExportPkcs8PrivateKey(), algorithm: ImportWrappingAlgorithm.RsaesOaepSha256);

        var derived = await km.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = key.KeyId, PublicKey = peer.ExportSubjectPublicKeyInfo() }, Kms.Ct);

        Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), derived.SharedSecret);
    }

    public static TheoryData<KeySpec, KeySpec> WrongSpecs() => new()
    {
        { KeySpec.Rsa2048, KeySpec.Rsa3072 },
        { KeySpec.Rsa4096, KeySpec.Rsa2048 },
        { KeySpec.EccNistP256, KeySpec.EccNistP384 },
        { KeySpec.EccNistP256, KeySpec.EccSecgP256k1 },
        { KeySpec.EccNistP521, KeySpec.EccNistP256 },
        { KeySpec.EccSecgP256k1, KeySpec.EccNistP256 },
        { KeySpec.EccNistEdwards25519, KeySpec.EccNistP256 },
        { KeySpec.MlDsa44, KeySpec.MlDsa65 },
        { KeySpec.Rsa2048, KeySpec.EccNistP256 },
    };

    [Theory]
    [MemberData(nameof(WrongSpecs))]
    public async Task A_private_key_of_another_spec_is_refused_and_the_key_stays_as_it_was(KeySpec keySpec, KeySpec materialSpec)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, keySpec, KeyUsage.SignVerify);
        var (pkcs8, _) = KeySpecs.GenerateAsymmetricKeyPair(materialSpec);

        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, pkcs8, algorithm: KeyWrap, spec: WrappingKeySpec.Rsa4096));

        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.PendingImport, described.KeyState);
        Assert.Null(described.CurrentKeyMaterialId);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task Material_that_is_not_a_private_key_is_refused()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.EccNistP256, KeyUsage.SignVerify);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var valid = ec.ExportPkcs8PrivateKey();

        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, ec.ExportSubjectPublicKeyInfo()));
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, [.. valid, 0]));
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, valid[..^1]));
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    [Fact]
    public async Task An_RSA_key_below_2048_bits_and_EC_scalars_of_zero_or_at_least_the_order_are_refused()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var rsaKey = await NewExternalAsync(km, KeySpec.Rsa2048, KeyUsage.SignVerify);
        var ecKey = await NewExternalAsync(km, KeySpec.EccNistP256, KeyUsage.SignVerify);
        using var small = RSA.Create(1024);
        var order = Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        var orderPlusOne = order.ToArray();
        orderPlusOne[^1]++;

        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(rsaKey.KeyId, small.ExportPkcs8PrivateKey(), algorithm: KeyWrap));
        foreach (var scalar in new[] { new byte[32], order, orderPlusOne, Enumerable.Repeat((byte)0xFF, 32).ToArray() })
        {
            await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(ecKey.KeyId, EcPkcs8(scalar, "1.2.840.10045.3.1.7")));
        }

        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(rsaKey.KeyId)).KeyState);
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(ecKey.KeyId)).KeyState);
    }

    [Theory]
    [InlineData(KeySpec.Rsa2048, ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec.Rsa4096)]
    [InlineData(KeySpec.Rsa4096, ImportWrappingAlgorithm.RsaesOaepSha1, WrappingKeySpec.Rsa4096)]
    [InlineData(KeySpec.EccNistP521, ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec.Rsa2048)]
    [InlineData(KeySpec.EccNistP521, ImportWrappingAlgorithm.RsaesOaepSha1, WrappingKeySpec.Rsa2048)]
    public async Task Wrapping_that_KMS_does_not_allow_for_the_spec_is_refused_when_the_parameters_are_requested(KeySpec spec, ImportWrappingAlgorithm algorithm, WrappingKeySpec wrappingKeySpec)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, spec, KeyUsage.SignVerify);

        await Assert.ThrowsAsync<KmsValidationException>(() => km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = algorithm, WrappingKeySpec = wrappingKeySpec }, Kms.Ct));
    }

    [Fact]
    public async Task P521_material_wraps_with_RSA_OAEP_under_a_larger_wrapping_key()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.EccNistP521, KeyUsage.SignVerify);
        var (pkcs8, spki) = KeySpecs.GenerateAsymmetricKeyPair(KeySpec.EccNistP521);

        await km.ImportAsync(key.KeyId, pkcs8, algorithm: ImportWrappingAlgorithm.RsaesOaepSha256, spec: WrappingKeySpec.Rsa3072);

        Assert.Equal(spki, (await km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Kms.Ct)).PublicKey);
    }

    [Fact]
    public async Task A_re_import_of_the_same_private_key_restores_the_key_and_another_key_is_refused()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.EccNistP256, KeyUsage.SignVerify);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var materialId = await km.ImportAsync(key.KeyId, ec.ExportPkcs8PrivateKey());
        await km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, other.ExportPkcs8PrivateKey()));
        // The same key, encoded differently (without the optional public key), is the same material.
        var reimported = await km.ImportAsync(key.KeyId, WithoutPublicKey(ec));

        Assert.Equal(materialId, reimported);
        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
        Assert.Equal(ec.ExportSubjectPublicKeyInfo(), (await km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Kms.Ct)).PublicKey);
    }

    [Fact]
    public async Task An_asymmetric_key_takes_no_second_material()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.EccNistP256, KeyUsage.SignVerify);
        await km.ImportAsync(key.KeyId, KeySpecs.GenerateAsymmetricKeyPair(KeySpec.EccNistP256).Pkcs8);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.ImportAsync(key.KeyId, KeySpecs.GenerateAsymmetricKeyPair(KeySpec.EccNistP256).Pkcs8, importType: ImportType.NewKeyMaterial));
    }

    [Fact]
    public async Task ML_KEM_keys_take_no_imported_material_as_ML_KEM_is_not_a_KMS_key_spec()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, KeySpec.MlKem768, KeyUsage.EncapsulateDecapsulate);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = KeyWrap, WrappingKeySpec = WrappingKeySpec.Rsa4096 }, Kms.Ct));
    }

    // ---------------------------------------------------------------- HMAC lengths

    public static TheoryData<KeySpec, int> HmacLengths()
    {
        var data = new TheoryData<KeySpec, int>();
        foreach (var (spec, min, max) in new[] { (KeySpec.Hmac224, 28, 64), (KeySpec.Hmac256, 32, 64), (KeySpec.Hmac384, 48, 128), (KeySpec.Hmac512, 64, 128) })
        {
            data.Add(spec, min);
            data.Add(spec, (min + max) / 2);
            data.Add(spec, max);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(HmacLengths))]
    public async Task HMAC_keys_import_every_length_KMS_allows_and_compute_the_standard_HMAC(KeySpec spec, int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, spec, KeyUsage.GenerateVerifyMac);
        var material = RandomNumberGenerator.GetBytes(length);
        await km.ImportAsync(key.KeyId, material);
        var algorithm = KeySpecs.MacAlgorithmOf(spec);
        var message = Kms.Utf8("mac me");

        var mac = await km.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = message, MacAlgorithm = algorithm }, Kms.Ct);

        Assert.Equal(StandardHmac(spec, material, message), mac.Mac.ToArray());
        var verified = await km.VerifyMacAsync(new VerifyMacRequest { KeyId = key.KeyId, Message = message, Mac = mac.Mac, MacAlgorithm = algorithm }, Kms.Ct);
        Assert.True(verified.MacValid);
    }

    [Theory]
    [InlineData(KeySpec.Hmac224, 27)]
    [InlineData(KeySpec.Hmac224, 65)]
    [InlineData(KeySpec.Hmac256, 31)]
    [InlineData(KeySpec.Hmac256, 65)]
    [InlineData(KeySpec.Hmac384, 47)]
    [InlineData(KeySpec.Hmac384, 129)]
    [InlineData(KeySpec.Hmac512, 63)]
    [InlineData(KeySpec.Hmac512, 129)]
    public async Task HMAC_material_outside_the_spec_s_range_is_refused(KeySpec spec, int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await NewExternalAsync(km, spec, KeyUsage.GenerateVerifyMac);

        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, RandomNumberGenerator.GetBytes(length), algorithm: KeyWrap));

        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    private static byte[] StandardHmac(KeySpec spec, byte[] key, byte[] message) => spec switch
    {
        KeySpec.Hmac224 => Sha224Hmac(key, message),
        KeySpec.Hmac256 => HMACSHA256.HashData(key, message),
        KeySpec.Hmac384 => HMACSHA384.HashData(key, message),
        _ => HMACSHA512.HashData(key, message),
    };

    private static byte[] Sha224Hmac(byte[] key, byte[] message)
    {
        var hmac = new Org.BouncyCastle.Crypto.Macs.HMac(new Org.BouncyCastle.Crypto.Digests.Sha224Digest());
        hmac.Init(new Org.BouncyCastle.Crypto.Parameters.KeyParameter(key));
        hmac.BlockUpdate(message, 0, message.Length);
        var output = new byte[28];
        hmac.DoFinal(output, 0);
        return output;
    }

    /// <summary>The PKCS#8 of an EC key whose ECPrivateKey omits the optional public key (RFC 5915), as some tools write it.</summary>
    private static byte[] WithoutPublicKey(ECDsa ec)
    {
        var parameters = ec.ExportParameters(includePrivateParameters: true);
        return EcPkcs8(parameters.D!, parameters.Curve.Oid.Value!);
    }

    /// <summary>A PKCS#8 EC private key of any scalar on a named curve, without the public key.</summary>
    private static byte[] EcPkcs8(byte[] scalar, string curveOid)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(1);
            writer.WriteOctetString(scalar);
        }

        var ecPrivateKey = writer.Encode();
        var outer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (outer.PushSequence())
        {
            outer.WriteInteger(0);
            using (outer.PushSequence())
            {
                outer.WriteObjectIdentifier("1.2.840.10045.2.1");
                outer.WriteObjectIdentifier(curveOid);
            }

            outer.WriteOctetString(ecPrivateKey);
        }

        return outer.Encode();
    }
}
