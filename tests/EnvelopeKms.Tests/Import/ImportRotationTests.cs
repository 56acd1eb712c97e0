using System.Security.Cryptography;
using EnvelopeKms.Import;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using FsCheck;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Import;

/// <summary>Several imported materials per key: NEW_KEY_MATERIAL waits PENDING_ROTATION, RotateKeyOnDemand makes it current, expiry and re-import per material.</summary>
public sealed class ImportRotationTests
{
    private static readonly byte[] First = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Second = RandomNumberGenerator.GetBytes(32);

    private static async Task<IReadOnlyList<RotationsListEntry>> AllMaterialsAsync(IKeyManager km, string keyId, IncludeKeyMaterial include = IncludeKeyMaterial.AllKeyMaterial)
        => (await km.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = keyId, IncludeKeyMaterial = include }, Kms.Ct)).Items;

    private static async Task<string> EncryptedWithAsync(IKeyManager km, string keyId)
        => (await km.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = Kms.Utf8("x") }, Kms.Ct)).KeyMaterialId;

    [Fact]
    public async Task New_material_waits_pending_rotation_and_RotateKeyOnDemand_makes_it_current_while_the_old_one_keeps_decrypting()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var firstId = await km.ImportAsync(key.KeyId, First, description: "first material");
        var oldBlob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("old"));

        var secondId = await km.ImportAsync(key.KeyId, Second, importType: ImportType.NewKeyMaterial, description: "second material", validTo: kms.Clock.GetUtcNow().AddDays(30));

        var listed = await AllMaterialsAsync(km, key.KeyId);
        Assert.Equal([firstId, secondId], listed.Select(e => e.KeyMaterialId));
        Assert.Equal(KeyMaterialState.Current, listed[0].KeyMaterialState);
        Assert.Equal(KeyMaterialState.PendingRotation, listed[1].KeyMaterialState);
        Assert.All(listed, e => Assert.Equal(ImportState.Imported, e.ImportState));
        Assert.Equal("second material", listed[1].KeyMaterialDescription);
        Assert.Equal(ExpirationModel.KeyMaterialExpires, listed[1].ExpirationModel);
        Assert.Equal(ExpirationModel.KeyMaterialDoesNotExpire, listed[0].ExpirationModel);
        Assert.Empty(await AllMaterialsAsync(km, key.KeyId, IncludeKeyMaterial.RotationsOnly));
        Assert.Equal(firstId, await EncryptedWithAsync(km, key.KeyId));
        Assert.Equal(firstId, (await km.DescribeAsync(key.KeyId)).CurrentKeyMaterialId);

        kms.Clock.Advance(TimeSpan.FromHours(1));
        var rotated = await km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(secondId, rotated.KeyMaterialId);
        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(secondId, described.CurrentKeyMaterialId);
        Assert.Equal(ExpirationModel.KeyMaterialExpires, described.ExpirationModel);
        Assert.Equal(kms.Clock.GetUtcNow().AddDays(30).AddHours(-1), described.ValidTo);
        Assert.Equal(secondId, await EncryptedWithAsync(km, key.KeyId));
        Assert.Equal(Kms.Utf8("old"), await km.DecryptBlobAsync(oldBlob));
        listed = await AllMaterialsAsync(km, key.KeyId);
        Assert.Equal(KeyMaterialState.NonCurrent, listed[0].KeyMaterialState);
        Assert.Equal(KeyMaterialState.Current, listed[1].KeyMaterialState);
        var rotation = Assert.Single(await AllMaterialsAsync(km, key.KeyId, IncludeKeyMaterial.RotationsOnly));
        Assert.Equal(secondId, rotation.KeyMaterialId);
        Assert.Equal(KeyRotationType.OnDemand, rotation.RotationType);
        Assert.Equal(kms.Clock.GetUtcNow(), rotation.RotationDate);
        Assert.Contains(kms.Audit.Events, e => e.Operation == KmsOperation.RotateKeyOnDemand && e.Outcome == KmsOutcome.Success && e.KeyMaterialId == secondId);
    }

    [Fact]
    public async Task RotateKeyOnDemand_of_an_imported_key_needs_material_pending_rotation()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var firstId = await km.ImportAsync(key.KeyId, First);

        await Assert.ThrowsAsync<KmsValidationException>(() => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct));

        Assert.Equal(firstId, (await km.DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
        Assert.Single(await AllMaterialsAsync(km, key.KeyId));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task An_imported_HMAC_key_does_not_rotate_on_demand()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac, Origin = KeyOrigin.External }, Kms.Ct)).KeyMetadata;
        await km.ImportAsync(key.KeyId, First);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.ImportAsync(key.KeyId, Second, importType: ImportType.NewKeyMaterial));
    }

    [Fact]
    public async Task One_material_waits_at_a_time_and_deleting_it_lets_different_material_take_its_place()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        await km.ImportAsync(key.KeyId, First);
        var secondId = await km.ImportAsync(key.KeyId, Second, importType: ImportType.NewKeyMaterial);
        var third = RandomNumberGenerator.GetBytes(32);

        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportAsync(key.KeyId, third, importType: ImportType.NewKeyMaterial));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportAsync(key.KeyId, First, importType: ImportType.NewKeyMaterial));

        await km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = key.KeyId, KeyMaterialId = secondId }, Kms.Ct);
        Assert.Single(await AllMaterialsAsync(km, key.KeyId));
        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
        var thirdId = await km.ImportAsync(key.KeyId, third, importType: ImportType.NewKeyMaterial);

        Assert.Equal(KeyMaterialState.PendingRotation, (await AllMaterialsAsync(km, key.KeyId))[1].KeyMaterialState);
        Assert.Equal(thirdId, (await km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct)).KeyMaterialId);
    }

    [Fact]
    public async Task A_non_current_material_expires_alone_and_a_re_import_naming_it_restores_its_ciphertexts()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var firstId = await km.ImportAsync(key.KeyId, First, validTo: kms.Clock.GetUtcNow().AddDays(5));
        var oldBlob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("old"));
        var secondId = await km.ImportAsync(key.KeyId, Second, importType: ImportType.NewKeyMaterial);
        await km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);

        kms.Clock.Advance(TimeSpan.FromDays(6));
        Assert.Equal(1, await km.ExpireImportedKeyMaterialAsync(Kms.Ct));

        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
        var listed = await AllMaterialsAsync(km, key.KeyId);
        Assert.Equal(ImportState.PendingImport, listed[0].ImportState);
        Assert.Null(listed[0].ExpirationModel);
        Assert.Null(listed[0].ValidTo);
        Assert.Equal(ImportState.Imported, listed[1].ImportState);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.DecryptBlobAsync(oldBlob));
        Assert.Equal(secondId, await EncryptedWithAsync(km, key.KeyId));

        // Re-importing other material under the expired material's id is refused; the same material restores it.
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, RandomNumberGenerator.GetBytes(32), importType: ImportType.ExistingKeyMaterial, keyMaterialId: firstId));
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, Second, importType: ImportType.ExistingKeyMaterial, keyMaterialId: firstId));
        Assert.Equal(firstId, await km.ImportAsync(key.KeyId, First, importType: ImportType.ExistingKeyMaterial, keyMaterialId: firstId));

        Assert.Equal(Kms.Utf8("old"), await km.DecryptBlobAsync(oldBlob));
        Assert.Equal(secondId, (await km.DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
    }

    [Fact]
    public async Task When_the_current_material_expires_the_key_is_PendingImport_even_with_other_materials()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        await km.ImportAsync(key.KeyId, First);
        await km.ImportAsync(key.KeyId, Second, importType: ImportType.NewKeyMaterial, validTo: kms.Clock.GetUtcNow().AddDays(2));
        await km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(ExpirationModel.KeyMaterialExpires, described.ExpirationModel);

        kms.Clock.Advance(TimeSpan.FromDays(3));

        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.EncryptBlobAsync(key.KeyId, Kms.Utf8("x")));
        described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.PendingImport, described.KeyState);
        Assert.Null(described.ExpirationModel);
        Assert.Null(described.ValidTo);
    }

    [Fact]
    public async Task A_failed_import_of_new_material_leaves_the_key_as_it_was()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        await km.ImportAsync(key.KeyId, First);
        var before = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaAesKeyWrapSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct);
        var wrapped = ImportSupport.Wrap(parameters.PublicKey, ImportWrappingAlgorithm.RsaAesKeyWrapSha256, Second);
        wrapped[^1] ^= 1; // The AES-KWP integrity check fails.
        ImportKeyMaterialRequest Request(byte[] encrypted, byte[] token) => new() { KeyId = key.KeyId, ImportToken = token, EncryptedKeyMaterial = encrypted, ImportType = ImportType.NewKeyMaterial, ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire };

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.ImportKeyMaterialAsync(Request(wrapped, parameters.ImportToken), Kms.Ct));
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportKeyMaterialAsync(Request(ImportSupport.Wrap(parameters.PublicKey, ImportWrappingAlgorithm.RsaAesKeyWrapSha256, new byte[16]), parameters.ImportToken), Kms.Ct));
        kms.Clock.Advance(TimeSpan.FromHours(25));
        await Assert.ThrowsAsync<KmsExpiredImportTokenException>(() => km.ImportKeyMaterialAsync(Request(ImportSupport.Wrap(parameters.PublicKey, ImportWrappingAlgorithm.RsaAesKeyWrapSha256, Second), parameters.ImportToken), Kms.Ct));

        var after = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        Assert.Equal(before!.Version, after!.Version);
        Assert.Single(await AllMaterialsAsync(km, key.KeyId));
    }

    [Fact]
    public async Task KeyMaterialDescription_follows_the_KMS_pattern()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);

        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportAsync(key.KeyId, First, description: "no <angle> brackets"));
        await km.ImportAsync(key.KeyId, First, description: "HSM export 2026-11/batch_7: v1.2");

        Assert.Equal("HSM export 2026-11/batch_7: v1.2", (await AllMaterialsAsync(km, key.KeyId))[0].KeyMaterialDescription);
    }

    [Property(MaxTest = 200)]
    public bool HMAC_material_is_accepted_exactly_when_its_length_is_in_the_spec_s_range(PositiveInt length, bool wide)
    {
        var spec = wide ? KeySpec.Hmac384 : KeySpec.Hmac224;
        var n = length.Get % 200;
        var (min, max) = ImportedMaterial.HmacLengthRange(spec);
        try
        {
            var accepted = ImportedMaterial.Accept(spec, new byte[n]);
            return n >= min && n <= max && accepted.Length == n;
        }
        catch (KmsIncorrectKeyMaterialException)
        {
            return n < min || n > max;
        }
    }
}
