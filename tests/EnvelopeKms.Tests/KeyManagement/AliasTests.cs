using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>CreateAlias, UpdateAlias, DeleteAlias and ListAliases.</summary>
public sealed class AliasTests
{
    [Fact]
    public async Task Create_alias_names_the_key_and_is_listed_with_its_arn_and_dates()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await km.CreateAliasAsync("alias/Example-Alias_1:v2/x", key.KeyId);

        Assert.Equal(key.KeyId, (await km.DescribeAsync("alias/Example-Alias_1:v2/x")).KeyId);
        var entry = Assert.Single(await km.AllAliasesAsync());
        Assert.Equal("alias/Example-Alias_1:v2/x", entry.AliasName);
        Assert.Equal(Kms.AliasArn("alias/Example-Alias_1:v2/x"), entry.AliasArn);
        Assert.Equal(key.KeyId, entry.TargetKeyId);
        Assert.Equal(kms.Clock.GetUtcNow(), entry.CreationDate);
        Assert.Equal(kms.Clock.GetUtcNow(), entry.LastUpdatedDate);
    }

    [Fact]
    public async Task Create_alias_accepts_the_target_as_a_key_arn()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await km.CreateAliasAsync("alias/by-arn", key.Arn);

        Assert.Equal(key.KeyId, Assert.Single(await km.AllAliasesAsync()).TargetKeyId);
    }

    [Theory]
    [InlineData("ExampleAlias")]
    [InlineData("alias")]
    [InlineData("alias/")]
    [InlineData("Alias/upper-prefix")]
    [InlineData("aliases/x")]
    [InlineData("alias/has space")]
    [InlineData("alias/dot.name")]
    [InlineData("alias/star*")]
    [InlineData("alias/ünïcode")]
    [InlineData("alias/aws/reserved")]
    [InlineData("alias/aws/")]
    public async Task An_invalid_alias_name_fails_with_invalid_alias_name_and_creates_nothing(string aliasName)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var e = await Assert.ThrowsAsync<KmsInvalidAliasNameException>(() => km.CreateAliasAsync(aliasName, key.KeyId));

        Assert.Equal("InvalidAliasNameException", e.ErrorCode);
        Assert.Empty(await km.AllAliasesAsync());
    }

    [Fact]
    public async Task An_alias_name_of_256_characters_is_accepted()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var name = "alias/" + new string('a', 250);

        await km.CreateAliasAsync(name, key.KeyId);

        Assert.Equal(key.KeyId, (await km.DescribeAsync(name)).KeyId);
    }

    /// <summary>As in AWS KMS, a length-constraint violation (AliasName is 1–256 characters) is a ValidationException.</summary>
    [Theory]
    [InlineData(257)]
    [InlineData(1000)]
    public async Task An_alias_name_longer_than_256_characters_is_rejected(int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => km.CreateAliasAsync("alias/" + new string('a', length - 6), key.KeyId));

        Assert.Contains("256", e.Message, StringComparison.Ordinal);
        Assert.Empty(await km.AllAliasesAsync());
    }

    [Fact]
    public async Task An_empty_alias_name_is_a_validation_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsValidationException>(() => km.CreateAliasAsync("", key.KeyId));
    }

    [Fact]
    public async Task Creating_an_alias_that_exists_fails_with_already_exists_and_keeps_the_old_target()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var first = await km.NewKeyAsync();
        var second = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/taken", first.KeyId);

        var e = await Assert.ThrowsAsync<KmsAlreadyExistsException>(() => km.CreateAliasAsync("alias/taken", second.KeyId));
        await Assert.ThrowsAsync<KmsAlreadyExistsException>(() => km.CreateAliasAsync("alias/taken", first.KeyId));

        Assert.Equal("AlreadyExistsException", e.ErrorCode);
        Assert.Equal(first.KeyId, (await km.DescribeAsync("alias/taken")).KeyId);
    }

    [Fact]
    public async Task A_key_can_have_50_aliases_and_the_51st_exceeds_the_limit()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var other = await km.NewKeyAsync();
        for (var i = 0; i < 50; i++)
        {
            await km.CreateAliasAsync($"alias/a{i:D2}", key.KeyId);
        }

        var e = await Assert.ThrowsAsync<KmsLimitExceededException>(() => km.CreateAliasAsync("alias/a50", key.KeyId));

        Assert.Equal("LimitExceededException", e.ErrorCode);
        Assert.Equal(50, (await km.AllAliasesAsync(key.KeyId)).Count);
        await km.CreateAliasAsync("alias/a50", other.KeyId);
        await km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/a00" }, Kms.Ct);
        await km.CreateAliasAsync("alias/a51", key.KeyId);
        Assert.Equal(50, (await km.AllAliasesAsync(key.KeyId)).Count);
    }

    [Theory]
    [InlineData("alias/existing")]
    [InlineData("arn:aws:kms:local:000000000000:alias/existing")]
    public async Task A_target_given_as_an_alias_is_not_found(string target)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/existing", key.KeyId);

        var e = await Assert.ThrowsAsync<KmsNotFoundException>(() => km.CreateAliasAsync("alias/new", target));

        Assert.Contains("TargetKeyId", e.Message, StringComparison.Ordinal);
        Assert.Single(await km.AllAliasesAsync());
    }

    [Fact]
    public async Task A_target_that_does_not_exist_is_not_found()
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().CreateAliasAsync("alias/new", "11111111-1111-4111-8111-111111111111"));

        Assert.Empty(await kms.Api().AllAliasesAsync());
    }

    [Fact]
    public async Task A_target_pending_deletion_is_an_invalid_state_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        var e = await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.CreateAliasAsync("alias/new", key.KeyId));

        Assert.Equal("KMSInvalidStateException", e.ErrorCode);
        Assert.Empty(await km.AllAliasesAsync());
    }

    [Fact]
    public async Task Update_alias_moves_the_alias_so_encrypt_through_it_uses_the_new_key()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var oldKey = await km.NewKeyAsync();
        var newKey = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/current", oldKey.KeyId);
        var created = kms.Clock.GetUtcNow();
        var oldBlob = await km.EncryptBlobAsync("alias/current", [1]);
        kms.Clock.Advance(TimeSpan.FromMinutes(5));

        await km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/current", TargetKeyId = newKey.Arn }, Kms.Ct);

        var encrypted = await km.EncryptAsync(new EncryptRequest { KeyId = "alias/current", Plaintext = new byte[] { 2 } }, Kms.Ct);
        Assert.Equal(newKey.Arn, encrypted.KeyId);
        Assert.Equal(newKey.CurrentKeyMaterialId, encrypted.KeyMaterialId);
        using (var decrypted = await km.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob }, Kms.Ct))
        {
            Assert.Equal(newKey.Arn, decrypted.KeyId);
        }

        Assert.Equal([1], await km.DecryptBlobAsync(oldBlob));
        await Assert.ThrowsAsync<KmsIncorrectKeyException>(() => km.DecryptBlobAsync(oldBlob, keyId: "alias/current"));
        var entry = Assert.Single(await km.AllAliasesAsync());
        Assert.Equal(newKey.KeyId, entry.TargetKeyId);
        Assert.Equal(created, entry.CreationDate);
        Assert.Equal(kms.Clock.GetUtcNow(), entry.LastUpdatedDate);
        Assert.Empty(await km.AllAliasesAsync(oldKey.KeyId));
    }

    [Fact]
    public async Task Update_alias_of_an_alias_that_does_not_exist_is_not_found()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/missing", TargetKeyId = key.KeyId }, Kms.Ct));

        Assert.Empty(await km.AllAliasesAsync());
    }

    [Fact]
    public async Task Update_alias_to_a_key_pending_deletion_is_an_invalid_state_error_and_keeps_the_old_target()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var oldKey = await km.NewKeyAsync();
        var doomed = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/current", oldKey.KeyId);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed.KeyId }, Kms.Ct);

        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/current", TargetKeyId = doomed.KeyId }, Kms.Ct));

        Assert.Equal(oldKey.KeyId, (await km.DescribeAsync("alias/current")).KeyId);
    }

    [Fact]
    public async Task Update_alias_to_a_key_with_50_aliases_exceeds_the_limit()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var full = await km.NewKeyAsync();
        var other = await km.NewKeyAsync();
        for (var i = 0; i < 50; i++)
        {
            await km.CreateAliasAsync($"alias/f{i:D2}", full.KeyId);
        }

        await km.CreateAliasAsync("alias/mover", other.KeyId);

        await Assert.ThrowsAsync<KmsLimitExceededException>(() => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/mover", TargetKeyId = full.KeyId }, Kms.Ct));

        Assert.Equal(other.KeyId, (await km.DescribeAsync("alias/mover")).KeyId);
    }

    [Fact]
    public async Task Update_alias_to_its_current_target_is_a_no_op()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/same", key.KeyId);

        await km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/same", TargetKeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(key.KeyId, Assert.Single(await km.AllAliasesAsync()).TargetKeyId);
    }

    [Fact]
    public async Task Delete_alias_removes_the_alias_but_not_the_key()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/gone", key.KeyId);
        await km.CreateAliasAsync("alias/stays", key.KeyId);

        await km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/gone" }, Kms.Ct);

        Assert.Equal(["alias/stays"], (await km.AllAliasesAsync()).Select(a => a.AliasName));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DescribeAsync("alias/gone"));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.EncryptBlobAsync("alias/gone", [1]));
        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/gone" }, Kms.Ct));
        await km.CreateAliasAsync("alias/gone", key.KeyId);
        Assert.Equal(key.KeyId, (await km.DescribeAsync("alias/gone")).KeyId);
    }

    [Theory]
    [InlineData("gone")]
    [InlineData("alias/")]
    [InlineData("alias/bad name")]
    public async Task Delete_alias_with_an_invalid_name_fails_with_invalid_alias_name(string aliasName)
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsInvalidAliasNameException>(() => kms.Api().DeleteAliasAsync(new DeleteAliasRequest { AliasName = aliasName }, Kms.Ct));
    }

    [Fact]
    public async Task An_alias_of_a_key_pending_deletion_can_be_deleted()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/pending", key.KeyId);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        await km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/pending" }, Kms.Ct);

        Assert.Empty(await km.AllAliasesAsync());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task List_aliases_pages_through_every_alias_once_in_name_order(int limit)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        string[] names = ["alias/b", "alias/A", "alias/c/1", "alias/a", "alias/c", "alias/_", "alias/0"];
        foreach (var name in names)
        {
            await km.CreateAliasAsync(name, key.KeyId);
        }

        var seen = new List<string>();
        string? marker = null;
        do
        {
            var page = await km.ListAliasesAsync(new ListAliasesRequest { Limit = limit, Marker = marker }, Kms.Ct);
            Assert.True(page.Items.Count <= limit);
            if (page.Truncated)
            {
                Assert.Equal(limit, page.Items.Count);
            }

            seen.AddRange(page.Items.Select(i => i.AliasName));
            marker = page.NextMarker;
        }
        while (marker is not null);

        Assert.Equal(names.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task List_aliases_returns_50_per_page_by_default()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var first = await km.NewKeyAsync();
        var second = await km.NewKeyAsync();
        for (var i = 0; i < 51; i++)
        {
            await km.CreateAliasAsync($"alias/n{i:D2}", (i % 2 == 0 ? first : second).KeyId);
        }

        var page = await km.ListAliasesAsync(new ListAliasesRequest(), Kms.Ct);
        var rest = await km.ListAliasesAsync(new ListAliasesRequest { Marker = page.NextMarker }, Kms.Ct);

        Assert.Equal(50, page.Items.Count);
        Assert.True(page.Truncated);
        Assert.Equal("alias/n50", Assert.Single(rest.Items).AliasName);
        Assert.False(rest.Truncated);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    [InlineData(-5)]
    public async Task A_list_aliases_limit_outside_1_to_100_is_a_validation_error(int limit)
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().ListAliasesAsync(new ListAliasesRequest { Limit = limit }, Kms.Ct));
    }

    [Theory]
    [InlineData("@@@")]
    [InlineData("bm90LWFuLWFsaWFz")]
    public async Task A_list_aliases_marker_not_returned_by_list_aliases_is_an_invalid_marker_error(string marker)
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => kms.Api().ListAliasesAsync(new ListAliasesRequest { Marker = marker }, Kms.Ct));
    }

    [Fact]
    public async Task List_aliases_filtered_by_key_returns_only_that_keys_aliases()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var first = await km.NewKeyAsync();
        var second = await km.NewKeyAsync();
        var third = await km.NewKeyAsync();
        for (var i = 0; i < 5; i++)
        {
            await km.CreateAliasAsync($"alias/first{i}", first.KeyId);
            await km.CreateAliasAsync($"alias/second{i}", second.KeyId);
        }

        var byId = await km.AllAliasesAsync(first.KeyId);
        var byArn = await km.AllAliasesAsync(second.Arn);
        var paged = await km.ListAliasesAsync(new ListAliasesRequest { KeyId = first.KeyId, Limit = 2 }, Kms.Ct);
        var next = await km.ListAliasesAsync(new ListAliasesRequest { KeyId = first.KeyId, Limit = 2, Marker = paged.NextMarker }, Kms.Ct);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"alias/first{i}"), byId.Select(a => a.AliasName));
        Assert.All(byId, a => Assert.Equal(first.KeyId, a.TargetKeyId));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"alias/second{i}"), byArn.Select(a => a.AliasName));
        Assert.Empty(await km.AllAliasesAsync(third.KeyId));
        Assert.Equal(["alias/first0", "alias/first1"], paged.Items.Select(a => a.AliasName));
        Assert.Equal(["alias/first2", "alias/first3"], next.Items.Select(a => a.AliasName));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.ListAliasesAsync(new ListAliasesRequest { KeyId = "11111111-1111-4111-8111-111111111111" }, Kms.Ct));
    }
}
