using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion and CancelKeyDeletion.</summary>
public sealed class KeyLifecycleTests
{
    [Fact]
    public async Task Update_key_description_replaces_the_description()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("old");

        await km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "new" }, Kms.Ct);
        Assert.Equal("new", (await km.DescribeAsync(key.KeyId)).Description);

        await km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "" }, Kms.Ct);
        Assert.Equal("", (await km.DescribeAsync(key.KeyId)).Description);

        var longest = new string('x', 8192);
        await km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = longest }, Kms.Ct);
        Assert.Equal(longest, (await km.DescribeAsync(key.KeyId)).Description);
    }

    [Fact]
    public async Task A_description_above_8192_characters_is_a_validation_error_and_keeps_the_old_one()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("kept");

        await Assert.ThrowsAsync<KmsValidationException>(() => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = new string('x', 8193) }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = null! }, Kms.Ct));

        Assert.Equal("kept", (await km.DescribeAsync(key.KeyId)).Description);
    }

    [Fact]
    public async Task Disable_key_stops_cryptographic_use_and_enable_key_restores_it()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [1, 2, 3]);

        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.Disabled, described.KeyState);
        Assert.False(described.Enabled);
        var e = await Assert.ThrowsAsync<KmsDisabledException>(() => km.EncryptBlobAsync(key.KeyId, [1]));
        Assert.Equal("DisabledException", e.ErrorCode);
        await Assert.ThrowsAsync<KmsDisabledException>(() => km.DecryptBlobAsync(blob));

        await km.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
        Assert.Equal([1, 2, 3], await km.DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task Disable_key_and_enable_key_are_idempotent()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await km.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);

        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(KeyState.Disabled, (await km.DescribeAsync(key.KeyId)).KeyState);

        await km.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await km.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    [Fact]
    public async Task A_disabled_key_can_still_be_described_tagged_and_given_aliases()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [new KeyTag("t", "v")] }, Kms.Ct);
        await km.CreateAliasAsync("alias/disabled", key.KeyId);
        await km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = key.KeyId, Description = "d" }, Kms.Ct);

        Assert.Equal(KeyState.Disabled, (await km.DescribeAsync("alias/disabled")).KeyState);
        Assert.Equal([new KeyTag("t", "v")], await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task Schedule_key_deletion_defaults_to_a_30_day_waiting_period()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        kms.Clock.Advance(TimeSpan.FromHours(5));
        var now = kms.Clock.GetUtcNow();

        var response = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(key.Arn, response.KeyId);
        Assert.Equal(KeyState.PendingDeletion, response.KeyState);
        Assert.Equal(30, response.PendingWindowInDays);
        Assert.Equal(now.AddDays(30), response.DeletionDate);
        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.PendingDeletion, described.KeyState);
        Assert.Equal(now.AddDays(30), described.DeletionDate);
        Assert.Equal(30, described.PendingDeletionWindowInDays);
        Assert.False(described.Enabled);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(29)]
    [InlineData(30)]
    public async Task Schedule_key_deletion_accepts_7_to_30_days(int days)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var now = kms.Clock.GetUtcNow();

        var response = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = days }, Kms.Ct);

        Assert.Equal(days, response.PendingWindowInDays);
        Assert.Equal(now.AddDays(days), response.DeletionDate);
        Assert.Equal(now.AddDays(days), (await km.DescribeAsync(key.KeyId)).DeletionDate);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(31)]
    [InlineData(0)]
    [InlineData(-7)]
    [InlineData(int.MaxValue)]
    public async Task A_waiting_period_outside_7_to_30_days_is_a_validation_error_and_changes_nothing(int days)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = days }, Kms.Ct));

        Assert.Contains("PendingWindowInDays", e.Message, StringComparison.Ordinal);
        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.Enabled, described.KeyState);
        Assert.Null(described.DeletionDate);
    }

    [Fact]
    public async Task A_disabled_key_can_be_scheduled_for_deletion()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        Assert.Equal(KeyState.PendingDeletion, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    [Fact]
    public async Task Scheduling_a_deletion_twice_is_an_invalid_state_error_that_keeps_the_first_date()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var first = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 30 }, Kms.Ct));

        Assert.Equal(first.DeletionDate, (await km.DescribeAsync(key.KeyId)).DeletionDate);
    }

    [Fact]
    public async Task Cryptographic_operations_on_a_key_pending_deletion_are_invalid_state_errors()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [9]);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.EncryptBlobAsync(key.KeyId, [1]));
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.DecryptBlobAsync(blob));
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct));
        Assert.Equal(KeyState.PendingDeletion, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    [Fact]
    public async Task Cancel_key_deletion_leaves_the_key_disabled_until_it_is_enabled()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [4, 2]);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        var response = await km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(key.Arn, response.KeyId);
        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.Disabled, described.KeyState);
        Assert.Null(described.DeletionDate);
        Assert.Null(described.PendingDeletionWindowInDays);
        await Assert.ThrowsAsync<KmsDisabledException>(() => km.DecryptBlobAsync(blob));

        await km.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal([4, 2], await km.DecryptBlobAsync(blob));
    }

    [Theory]
    [InlineData(KeyState.Enabled)]
    [InlineData(KeyState.Disabled)]
    [InlineData(KeyState.PendingImport)]
    public async Task Cancel_key_deletion_on_a_key_not_pending_deletion_is_an_invalid_state_error(KeyState state)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync(origin: state == KeyState.PendingImport ? KeyOrigin.External : KeyOrigin.AwsKms);
        if (state == KeyState.Disabled)
        {
            await km.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        }

        var e = await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct));

        Assert.Equal("KMSInvalidStateException", e.ErrorCode);
        Assert.Equal(state, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    [Fact]
    public async Task Lifecycle_operations_on_a_key_that_does_not_exist_are_not_found()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        const string missing = "11111111-1111-4111-8111-111111111111";

        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.EnableKeyAsync(new EnableKeyRequest { KeyId = missing }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DisableKeyAsync(new DisableKeyRequest { KeyId = missing }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = missing, Description = "" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = missing }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = missing }, Kms.Ct));
        Assert.Empty(await km.AllKeyIdsAsync());
    }
}
