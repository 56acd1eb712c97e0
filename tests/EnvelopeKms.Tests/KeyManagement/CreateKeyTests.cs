using System.Text.RegularExpressions;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

public sealed partial class CreateKeyTests
{
    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex LowercaseUuidV4();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex MaterialId();

    [Fact]
    public async Task Create_key_defaults_to_an_enabled_symmetric_customer_managed_key()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();

        var created = (await km.CreateKeyAsync(new CreateKeyRequest(), Kms.Ct)).KeyMetadata;

        Assert.Matches(LowercaseUuidV4(), created.KeyId);
        Assert.Equal($"arn:aws:kms:local:000000000000:key/{created.KeyId}", created.Arn);
        Assert.Equal(Kms.AccountId, created.AwsAccountId);
        Assert.Equal(kms.Clock.GetUtcNow(), created.CreationDate);
        Assert.Equal("", created.Description);
        Assert.Equal(KeyState.Enabled, created.KeyState);
        Assert.True(created.Enabled);
        Assert.Equal(KeySpec.SymmetricDefault, created.KeySpec);
        Assert.Equal(KeyUsage.EncryptDecrypt, created.KeyUsage);
        Assert.Equal(KeyOrigin.AwsKms, created.Origin);
        Assert.Equal(KeyManagerType.Customer, created.KeyManager);
        Assert.Equal([EncryptionAlgorithm.SymmetricDefault], created.EncryptionAlgorithms);
        Assert.False(created.MultiRegion);
        Assert.Null(created.DeletionDate);
        Assert.Null(created.PendingDeletionWindowInDays);
        Assert.NotNull(created.CurrentKeyMaterialId);
        Assert.Matches(MaterialId(), created.CurrentKeyMaterialId);
    }

    [Fact]
    public async Task Create_key_metadata_uses_the_aws_kms_wire_names()
    {
        using var kms = new TestKeyManager();
        var created = await kms.Api().NewKeyAsync();

        Assert.Equal("Enabled", created.KeyState.ToKmsName());
        Assert.Equal("SYMMETRIC_DEFAULT", created.KeySpec.ToKmsName());
        Assert.Equal("ENCRYPT_DECRYPT", created.KeyUsage.ToKmsName());
        Assert.Equal("AWS_KMS", created.Origin.ToKmsName());
        Assert.Equal("CUSTOMER", created.KeyManager.ToKmsName());
        Assert.Equal("SYMMETRIC_DEFAULT", created.EncryptionAlgorithms[0].ToKmsName());
    }

    [Fact]
    public async Task Describe_key_returns_what_create_key_returned()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var created = await km.NewKeyAsync("payments");

        var described = await km.DescribeAsync(created.KeyId);

        Assert.Equivalent(created, described, strict: true);
    }

    [Fact]
    public async Task Every_key_gets_its_own_key_id_and_key_material_id()
    {
        using var kms = new TestKeyManager();
        var keys = new List<KeyMetadata>();
        for (var i = 0; i < 20; i++)
        {
            keys.Add(await kms.Api().NewKeyAsync());
        }

        Assert.Equal(20, keys.Select(k => k.KeyId).Distinct().Count());
        Assert.Equal(20, keys.Select(k => k.CurrentKeyMaterialId).Distinct().Count());
    }

    [Fact]
    public async Task A_description_of_8192_characters_is_accepted()
    {
        using var kms = new TestKeyManager();
        var description = new string('d', 8192);

        var created = await kms.Api().NewKeyAsync(description);

        Assert.Equal(description, (await kms.Api().DescribeAsync(created.KeyId)).Description);
    }

    [Fact]
    public async Task A_description_of_8193_characters_is_a_validation_error_and_creates_no_key()
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().NewKeyAsync(new string('d', 8193)));

        Assert.Contains("8192", e.Message, StringComparison.Ordinal);
        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task Tags_given_at_creation_are_stored_in_tag_key_order()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();

        var created = await km.CreateKeyAsync(new CreateKeyRequest
        {
            Tags = [new KeyTag("team", "payments"), new KeyTag("env", "prod"), new KeyTag("Cost", "")],
        }, Kms.Ct);

        var tags = await km.AllTagsAsync(created.KeyMetadata.KeyId);
        Assert.Equal([new KeyTag("Cost", ""), new KeyTag("env", "prod"), new KeyTag("team", "payments")], tags);
    }

    [Theory]
    [MemberData(nameof(TagCases.AtLimitNames), MemberType = typeof(TagCases))]
    public async Task Tags_exactly_at_the_limits_are_accepted_at_creation(string tagCase)
    {
        using var kms = new TestKeyManager();
        var tags = TagCases.AtLimit(tagCase);

        var created = await kms.Api().CreateKeyAsync(new CreateKeyRequest { Tags = tags }, Kms.Ct);

        Assert.Equal(tags.OrderBy(t => t.TagKey, StringComparer.Ordinal), await kms.Api().AllTagsAsync(created.KeyMetadata.KeyId));
    }

    [Theory]
    [MemberData(nameof(TagCases.InvalidNames), MemberType = typeof(TagCases))]
    public async Task Invalid_tags_at_creation_fail_with_a_tag_error_and_create_no_key(string tagCase)
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsTagException>(() => kms.Api().CreateKeyAsync(new CreateKeyRequest { Tags = TagCases.Invalid(tagCase) }, Kms.Ct));

        Assert.Equal("TagException", e.ErrorCode);
        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task More_than_50_tags_at_creation_exceed_the_limit_and_create_no_key()
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsLimitExceededException>(() => kms.Api().CreateKeyAsync(new CreateKeyRequest { Tags = TagCases.Numbered(51) }, Kms.Ct));

        Assert.Equal("LimitExceededException", e.ErrorCode);
        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task An_external_origin_key_waits_for_import_without_material()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();

        var created = await km.NewKeyAsync(origin: KeyOrigin.External);

        Assert.Equal(KeyState.PendingImport, created.KeyState);
        Assert.False(created.Enabled);
        Assert.Equal(KeyOrigin.External, created.Origin);
        Assert.Null(created.CurrentKeyMaterialId);
        var record = await kms.Store.GetKeyAsync(created.KeyId, Kms.Ct);
        Assert.NotNull(record);
        Assert.Empty(record.KeyMaterials);
    }

    [Fact]
    public async Task Encrypt_under_a_pending_import_key_is_an_invalid_state_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var created = await km.NewKeyAsync(origin: KeyOrigin.External);

        var e = await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.EncryptBlobAsync(created.KeyId, [1, 2, 3]));
        Assert.Equal("KMSInvalidStateException", e.ErrorCode);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = created.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct));
    }

    [Theory]
    [InlineData(KeyOrigin.AwsCloudHsm)]
    [InlineData(KeyOrigin.ExternalKeyStore)]
    public async Task Custom_key_store_origins_without_a_custom_key_store_are_a_validation_error_and_create_nothing(KeyOrigin origin)
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().NewKeyAsync(origin: origin));

        Assert.Equal("ValidationException", e.ErrorCode);
        Assert.Contains(origin.ToKmsName(), e.Message, StringComparison.Ordinal);
        Assert.Contains("CustomKeyStoreId", e.Message, StringComparison.Ordinal);
        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task Multi_region_keys_get_an_mrk_key_id()
    {
        using var kms = new TestKeyManager();

        var key = (await kms.Api().CreateKeyAsync(new CreateKeyRequest { MultiRegion = true }, Kms.Ct)).KeyMetadata;

        Assert.StartsWith("mrk-", key.KeyId, StringComparison.Ordinal);
        Assert.True(key.MultiRegion);
        Assert.Equal([key.KeyId], await kms.Api().AllKeyIdsAsync());
    }

    [Theory]
    [InlineData(KeyUsage.SignVerify)]
    [InlineData(KeyUsage.GenerateVerifyMac)]
    [InlineData(KeyUsage.KeyAgreement)]
    [InlineData((KeyUsage)0)]
    [InlineData((KeyUsage)99)]
    public async Task A_key_usage_other_than_encrypt_decrypt_is_a_validation_error_for_symmetric_keys(KeyUsage usage)
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().CreateKeyAsync(new CreateKeyRequest { KeyUsage = usage }, Kms.Ct));

        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task An_unknown_key_spec_or_origin_is_a_validation_error()
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().CreateKeyAsync(new CreateKeyRequest { KeySpec = (KeySpec)42 }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().CreateKeyAsync(new CreateKeyRequest { Origin = (KeyOrigin)42 }, Kms.Ct));
        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task Account_region_and_partition_options_appear_in_every_arn()
    {
        var options = new EnvelopeKmsOptions { AccountId = "111122223333", Region = "eu-west-1", Partition = "aws-cn" };
        using var kms = new TestKeyManager(options: options);
        var km = kms.Api();

        var created = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/app", created.KeyId);
        var encrypted = await km.EncryptAsync(new EncryptRequest { KeyId = "alias/app", Plaintext = new byte[] { 1 } }, Kms.Ct);
        var listed = await km.ListKeysAsync(new ListKeysRequest(), Kms.Ct);
        var aliases = await km.AllAliasesAsync();

        var keyArn = $"arn:aws-cn:kms:eu-west-1:111122223333:key/{created.KeyId}";
        Assert.Equal(keyArn, created.Arn);
        Assert.Equal("111122223333", created.AwsAccountId);
        Assert.Equal(keyArn, encrypted.KeyId);
        Assert.Equal(keyArn, Assert.Single(listed.Items).KeyArn);
        Assert.Equal("arn:aws-cn:kms:eu-west-1:111122223333:alias/app", Assert.Single(aliases).AliasArn);
        Assert.Equal(created.KeyId, (await km.DescribeAsync(keyArn)).KeyId);
        Assert.Equal(created.KeyId, (await km.DescribeAsync("arn:aws-cn:kms:eu-west-1:111122223333:alias/app")).KeyId);
        Assert.Equal("arn:aws-cn:iam::111122223333:root", kms.Audit.Events[^1].Caller);
    }

    [Fact]
    public async Task The_default_arn_form_does_not_name_a_key_of_a_manager_configured_for_another_account()
    {
        var options = new EnvelopeKmsOptions { AccountId = "111122223333", Region = "eu-west-1" };
        using var kms = new TestKeyManager(options: options);
        var created = await kms.Api().NewKeyAsync();

        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DescribeAsync(Kms.KeyArn(created.KeyId)));
    }
}
