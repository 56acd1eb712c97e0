using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>TagResource, UntagResource and ListResourceTags.</summary>
public sealed class TagTests
{
    private static Task TagAsync(IKeyManager km, string keyId, params KeyTag[] tags)
        => km.TagResourceAsync(new TagResourceRequest { KeyId = keyId, Tags = tags }, Kms.Ct);

    [Fact]
    public async Task Tag_resource_adds_new_tags_and_overwrites_existing_values()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await TagAsync(km, key.KeyId, new KeyTag("team", "payments"), new KeyTag("env", "dev"));

        await TagAsync(km, key.KeyId, new KeyTag("env", "prod"), new KeyTag("cost-center", "42"));

        Assert.Equal(
            [new KeyTag("cost-center", "42"), new KeyTag("env", "prod"), new KeyTag("team", "payments")],
            await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task Tag_keys_are_case_sensitive()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await TagAsync(km, key.KeyId, new KeyTag("Env", "a"), new KeyTag("env", "b"));

        Assert.Equal([new KeyTag("Env", "a"), new KeyTag("env", "b")], await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task Untag_resource_removes_the_named_tags_and_ignores_absent_ones()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await TagAsync(km, key.KeyId, new KeyTag("a", "1"), new KeyTag("b", "2"), new KeyTag("c", "3"));

        await km.UntagResourceAsync(new UntagResourceRequest { KeyId = key.KeyId, TagKeys = ["a", "c", "not-there"] }, Kms.Ct);

        Assert.Equal([new KeyTag("b", "2")], await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task Untag_resource_with_an_invalid_tag_key_fails_with_a_tag_error_and_removes_nothing()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await TagAsync(km, key.KeyId, new KeyTag("a", "1"));

        await Assert.ThrowsAsync<KmsTagException>(() => km.UntagResourceAsync(new UntagResourceRequest { KeyId = key.KeyId, TagKeys = ["a", "aws:x"] }, Kms.Ct));
        await Assert.ThrowsAsync<KmsTagException>(() => km.UntagResourceAsync(new UntagResourceRequest { KeyId = key.KeyId, TagKeys = ["a", new string('k', 129)] }, Kms.Ct));

        Assert.Equal([new KeyTag("a", "1")], await km.AllTagsAsync(key.KeyId));
    }

    [Theory]
    [MemberData(nameof(TagCases.AtLimitNames), MemberType = typeof(TagCases))]
    public async Task Tags_exactly_at_the_limits_are_accepted(string tagCase)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var tags = TagCases.AtLimit(tagCase);

        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = tags }, Kms.Ct);

        Assert.Equal(tags.OrderBy(t => t.TagKey, StringComparer.Ordinal), await km.AllTagsAsync(key.KeyId));
    }

    [Theory]
    [MemberData(nameof(TagCases.InvalidNames), MemberType = typeof(TagCases))]
    public async Task Invalid_tags_fail_with_a_tag_error_and_change_nothing(string tagCase)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await TagAsync(km, key.KeyId, new KeyTag("k", "original"));

        var e = await Assert.ThrowsAsync<KmsTagException>(() => km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = TagCases.Invalid(tagCase) }, Kms.Ct));

        Assert.Equal("TagException", e.ErrorCode);
        Assert.Equal([new KeyTag("k", "original")], await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task More_than_50_tags_in_one_request_exceed_the_limit()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsLimitExceededException>(() => km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = TagCases.Numbered(51) }, Kms.Ct));

        Assert.Empty(await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task Tags_that_would_bring_a_key_above_50_exceed_the_limit_and_change_nothing_while_overwrites_at_50_succeed()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = TagCases.Numbered(50) }, Kms.Ct);

        await Assert.ThrowsAsync<KmsLimitExceededException>(() => TagAsync(km, key.KeyId, new KeyTag("k00", "changed"), new KeyTag("one-more", "x")));
        Assert.Equal(TagCases.Numbered(50), await km.AllTagsAsync(key.KeyId));

        await TagAsync(km, key.KeyId, new KeyTag("k00", "changed"));
        var tags = await km.AllTagsAsync(key.KeyId);
        Assert.Equal(50, tags.Count);
        Assert.Equal(new KeyTag("k00", "changed"), tags[0]);
    }

    [Fact]
    public async Task Tag_resource_without_tags_is_a_validation_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsValidationException>(() => km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = null! }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.UntagResourceAsync(new UntagResourceRequest { KeyId = key.KeyId, TagKeys = null! }, Kms.Ct));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(50)]
    public async Task List_resource_tags_pages_through_every_tag_once_in_key_order(int limit)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [.. TagCases.Numbered(7).Reverse()] }, Kms.Ct);

        var seen = new List<KeyTag>();
        string? marker = null;
        do
        {
            var page = await km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = key.KeyId, Limit = limit, Marker = marker }, Kms.Ct);
            Assert.True(page.Items.Count <= limit);
            if (page.Truncated)
            {
                Assert.Equal(limit, page.Items.Count);
            }

            seen.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);

        Assert.Equal(TagCases.Numbered(7), seen);
    }

    [Fact]
    public async Task List_resource_tags_returns_all_50_tags_in_one_page_by_default()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = TagCases.Numbered(50) }, Kms.Ct);

        var page = await km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(50, page.Items.Count);
        Assert.False(page.Truncated);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(51)]
    public async Task A_list_resource_tags_limit_outside_1_to_50_is_a_validation_error(int limit)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsValidationException>(() => km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = key.KeyId, Limit = limit }, Kms.Ct));
    }

    [Fact]
    public async Task A_list_resource_tags_marker_that_is_not_a_marker_is_an_invalid_marker_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = key.KeyId, Marker = "%%%" }, Kms.Ct));
    }

    [Fact]
    public async Task Tags_of_a_key_pending_deletion_cannot_change_but_can_be_listed()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await TagAsync(km, key.KeyId, new KeyTag("a", "1"));
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);

        await Assert.ThrowsAsync<KmsInvalidStateException>(() => TagAsync(km, key.KeyId, new KeyTag("b", "2")));
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.UntagResourceAsync(new UntagResourceRequest { KeyId = key.KeyId, TagKeys = ["a"] }, Kms.Ct));

        Assert.Equal([new KeyTag("a", "1")], await km.AllTagsAsync(key.KeyId));
    }

    [Fact]
    public async Task Tag_operations_on_a_key_that_does_not_exist_are_not_found()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        const string missing = "11111111-1111-4111-8111-111111111111";

        await Assert.ThrowsAsync<KmsNotFoundException>(() => TagAsync(km, missing, new KeyTag("a", "1")));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.UntagResourceAsync(new UntagResourceRequest { KeyId = missing, TagKeys = ["a"] }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = missing }, Kms.Ct));
    }
}
