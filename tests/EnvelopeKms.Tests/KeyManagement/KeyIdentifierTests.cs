using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>How requests name keys: key id, key ARN, alias name and alias ARN, as AWS KMS accepts them.</summary>
public sealed class KeyIdentifierTests
{
    private const string Alias = "alias/orders";

    private static async Task<(TestKeyManager Kms, KeyMetadata Key)> KeyWithAliasAsync()
    {
        var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("orders");
        await kms.Api().CreateAliasAsync(Alias, key.KeyId);
        return (kms, key);
    }

    private static string Form(string form, string keyId) => form switch
    {
        "key id" => keyId,
        "key ARN" => Kms.KeyArn(keyId),
        "alias name" => Alias,
        "alias ARN" => Kms.AliasArn(Alias),
        _ => throw new ArgumentOutOfRangeException(nameof(form)),
    };

    [Theory]
    [InlineData("key id")]
    [InlineData("key ARN")]
    [InlineData("alias name")]
    [InlineData("alias ARN")]
    public async Task Describe_key_accepts_every_form_of_key_identifier(string form)
    {
        var (kms, key) = await KeyWithAliasAsync();
        using var _ = kms;

        var described = await kms.Api().DescribeAsync(Form(form, key.KeyId));

        Assert.Equal(key.KeyId, described.KeyId);
        Assert.Equal(key.Arn, described.Arn);
    }

    [Theory]
    [InlineData("key id")]
    [InlineData("key ARN")]
    [InlineData("alias name")]
    [InlineData("alias ARN")]
    public async Task Encrypt_and_generate_data_key_accept_every_form_of_key_identifier(string form)
    {
        var (kms, key) = await KeyWithAliasAsync();
        using var _ = kms;
        var km = kms.Api();

        var encrypted = await km.EncryptAsync(new EncryptRequest { KeyId = Form(form, key.KeyId), Plaintext = new byte[] { 7 } }, Kms.Ct);
        using var dataKey = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = Form(form, key.KeyId), KeySpec = DataKeySpec.Aes256 }, Kms.Ct);
        var withoutPlaintext = await km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = Form(form, key.KeyId), NumberOfBytes = 8 }, Kms.Ct);

        Assert.Equal(key.Arn, encrypted.KeyId);
        Assert.Equal(key.Arn, dataKey.KeyId);
        Assert.Equal(key.Arn, withoutPlaintext.KeyId);
    }

    [Theory]
    [InlineData("arn:aws:kms:local:111122223333:key/{0}")]
    [InlineData("arn:aws:kms:us-east-1:000000000000:key/{0}")]
    [InlineData("arn:aws-cn:kms:local:000000000000:key/{0}")]
    [InlineData("arn:aws:kms:local:111122223333:alias/orders")]
    [InlineData("arn:aws:kms:eu-west-1:000000000000:alias/orders")]
    public async Task An_arn_of_another_account_region_or_partition_is_not_found(string arnFormat)
    {
        var (kms, key) = await KeyWithAliasAsync();
        using var _ = kms;

        var e = await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DescribeAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, arnFormat, key.KeyId)));

        Assert.Equal("NotFoundException", e.ErrorCode);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("1234")]
    [InlineData("key/not-a-uuid")]
    [InlineData("00000000-0000-4000-8000-000000000000")]
    [InlineData("arn:aws:kms:local:000000000000:key/garbage")]
    [InlineData("arn:aws:kms:local:000000000000:key/00000000-0000-4000-8000-000000000000")]
    [InlineData("arn:aws:kms:local:000000000000:something-else")]
    [InlineData("arn:aws:s3:::bucket")]
    [InlineData("arn:aws:kms")]
    [InlineData("alias/does-not-exist")]
    [InlineData("arn:aws:kms:local:000000000000:alias/does-not-exist")]
    public async Task A_key_identifier_that_names_no_key_is_not_found(string keyId)
    {
        var (kms, _) = await KeyWithAliasAsync();
        using var __ = kms;

        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DescribeAsync(keyId));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().EncryptBlobAsync(keyId, [1]));
    }

    [Fact]
    public async Task Key_ids_are_matched_exactly_so_an_upper_case_key_id_is_not_found()
    {
        var (kms, key) = await KeyWithAliasAsync();
        using var _ = kms;

        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DescribeAsync(key.KeyId.ToUpperInvariant()));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DescribeAsync(Alias.ToUpperInvariant()));
    }

    [Fact]
    public async Task An_empty_key_identifier_is_a_validation_error()
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().DescribeAsync(""));

        Assert.Contains("KeyId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_identifier_longer_than_2048_characters_is_a_validation_error()
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().DescribeAsync("alias/" + new string('a', 2043)));
    }

    public static TheoryData<string, string> ManagementOperationsAndAliasForms()
    {
        string[] operations =
        [
            "EnableKey", "DisableKey", "UpdateKeyDescription", "ScheduleKeyDeletion", "CancelKeyDeletion",
            "TagResource", "UntagResource", "ListResourceTags", "CreateAlias", "UpdateAlias", "ListAliases",
        ];
        var data = new TheoryData<string, string>();
        foreach (var operation in operations)
        {
            data.Add(operation, "alias name");
            data.Add(operation, "alias ARN");
        }

        return data;
    }

    /// <summary>AWS KMS management operations take a key id or key ARN only; an alias names no key there.</summary>
    [Theory]
    [MemberData(nameof(ManagementOperationsAndAliasForms))]
    public async Task Management_operations_given_an_alias_fail_with_not_found_naming_the_problem(string operation, string form)
    {
        var (kms, key) = await KeyWithAliasAsync();
        using var _ = kms;
        var km = kms.Api();
        await km.CreateAliasAsync("alias/spare", (await km.NewKeyAsync()).KeyId);
        var before = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        var id = Form(form, key.KeyId);

        Func<Task> call = operation switch
        {
            "EnableKey" => () => km.EnableKeyAsync(new EnableKeyRequest { KeyId = id }, Kms.Ct),
            "DisableKey" => () => km.DisableKeyAsync(new DisableKeyRequest { KeyId = id }, Kms.Ct),
            "UpdateKeyDescription" => () => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = id, Description = "x" }, Kms.Ct),
            "ScheduleKeyDeletion" => () => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = id }, Kms.Ct),
            "CancelKeyDeletion" => () => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = id }, Kms.Ct),
            "TagResource" => () => km.TagResourceAsync(new TagResourceRequest { KeyId = id, Tags = [new KeyTag("a", "b")] }, Kms.Ct),
            "UntagResource" => () => km.UntagResourceAsync(new UntagResourceRequest { KeyId = id, TagKeys = ["a"] }, Kms.Ct),
            "ListResourceTags" => () => km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = id }, Kms.Ct),
            "CreateAlias" => () => km.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/new", TargetKeyId = id }, Kms.Ct),
            "UpdateAlias" => () => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/spare", TargetKeyId = id }, Kms.Ct),
            "ListAliases" => () => km.ListAliasesAsync(new ListAliasesRequest { KeyId = id }, Kms.Ct),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

        var e = await Assert.ThrowsAsync<KmsNotFoundException>(call);

        Assert.Contains("not an alias", e.Message, StringComparison.Ordinal);
        Assert.Contains(id, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
        Assert.Equal(["alias/orders", "alias/spare"], (await km.AllAliasesAsync()).Select(a => a.AliasName));
    }

    [Fact]
    public async Task Management_operations_accept_a_key_arn()
    {
        var (kms, key) = await KeyWithAliasAsync();
        using var _ = kms;
        var km = kms.Api();

        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.Arn }, Kms.Ct);
        await km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.Arn, Description = "by arn" }, Kms.Ct);
        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.Arn, Tags = [new KeyTag("a", "b")] }, Kms.Ct);

        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.Disabled, described.KeyState);
        Assert.Equal("by arn", described.Description);
        Assert.Equal([new KeyTag("a", "b")], await km.AllTagsAsync(key.Arn));
    }
}
