using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

public sealed class ListKeysTests
{
    private static async Task<List<string>> CreateKeysAsync(IKeyManager km, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await km.NewKeyAsync()).KeyId);
        }

        return ids;
    }

    [Fact]
    public async Task List_keys_on_an_empty_store_returns_an_empty_last_page()
    {
        using var kms = new TestKeyManager();

        var page = await kms.Api().ListKeysAsync(new ListKeysRequest(), Kms.Ct);

        Assert.Empty(page.Items);
        Assert.Null(page.NextMarker);
        Assert.False(page.Truncated);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(25)]
    [InlineData(1000)]
    public async Task Paging_with_markers_returns_every_key_exactly_once_in_ordinal_key_id_order(int limit)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var created = await CreateKeysAsync(km, 25);

        var seen = new List<KeyListEntry>();
        string? marker = null;
        var pages = 0;
        do
        {
            var page = await km.ListKeysAsync(new ListKeysRequest { Limit = limit, Marker = marker }, Kms.Ct);
            pages++;
            Assert.True(page.Items.Count <= limit);
            Assert.Equal(page.NextMarker is not null, page.Truncated);
            if (page.Truncated)
            {
                Assert.Equal(limit, page.Items.Count);
            }

            seen.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);

        Assert.Equal(created.Order(StringComparer.Ordinal), seen.Select(e => e.KeyId));
        Assert.All(seen, e => Assert.Equal(Kms.KeyArn(e.KeyId), e.KeyArn));
        Assert.Equal((25 + limit - 1) / limit, pages);
    }

    [Fact]
    public async Task The_default_page_size_is_100()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var created = await CreateKeysAsync(km, 101);

        var first = await km.ListKeysAsync(new ListKeysRequest(), Kms.Ct);
        var second = await km.ListKeysAsync(new ListKeysRequest { Marker = first.NextMarker }, Kms.Ct);

        Assert.Equal(100, first.Items.Count);
        Assert.True(first.Truncated);
        Assert.Single(second.Items);
        Assert.False(second.Truncated);
        Assert.Equal(created.Order(StringComparer.Ordinal), first.Items.Concat(second.Items).Select(e => e.KeyId));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public async Task A_limit_outside_1_to_1000_is_a_validation_error(int limit)
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().ListKeysAsync(new ListKeysRequest { Limit = limit }, Kms.Ct));

        Assert.Contains("Limit", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64url!")]
    [InlineData("")]
    [InlineData("bm90LWEta2V5")]
    [InlineData("alias/x")]
    public async Task A_marker_not_returned_by_list_keys_is_an_invalid_marker_error(string marker)
    {
        using var kms = new TestKeyManager();
        await CreateKeysAsync(kms.Api(), 3);

        var e = await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => kms.Api().ListKeysAsync(new ListKeysRequest { Marker = marker }, Kms.Ct));

        Assert.Equal("InvalidMarkerException", e.ErrorCode);
    }

    [Fact]
    public async Task A_marker_of_another_list_operation_is_an_invalid_marker_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/a", key.KeyId);
        await km.CreateAliasAsync("alias/b", key.KeyId);
        var aliasPage = await km.ListAliasesAsync(new ListAliasesRequest { Limit = 1 }, Kms.Ct);
        Assert.NotNull(aliasPage.NextMarker);

        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => km.ListKeysAsync(new ListKeysRequest { Marker = aliasPage.NextMarker }, Kms.Ct));
    }

    [Fact]
    public async Task A_marker_stays_valid_when_its_key_is_deleted_meanwhile()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var created = (await CreateKeysAsync(km, 5)).Order(StringComparer.Ordinal).ToList();
        var first = await km.ListKeysAsync(new ListKeysRequest { Limit = 2 }, Kms.Ct);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = created[1], PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(8));

        var rest = await km.ListKeysAsync(new ListKeysRequest { Marker = first.NextMarker }, Kms.Ct);

        Assert.Equal(created[2..], rest.Items.Select(i => i.KeyId));
    }
}
