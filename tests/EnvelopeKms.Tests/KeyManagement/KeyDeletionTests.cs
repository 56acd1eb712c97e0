using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>The purge of keys whose deletion waiting period has ended (RELIABILITY rows 20 and 49).</summary>
public sealed class KeyDeletionTests
{
    [Fact]
    public async Task After_the_deletion_date_the_key_its_aliases_and_its_ciphertexts_are_gone()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/doomed", key.KeyId);
        await km.CreateAliasAsync("alias/doomed-too", key.KeyId);
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("secret"), new Dictionary<string, string> { ["k"] = "v" });
        var scheduled = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        kms.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        Assert.True(kms.Clock.GetUtcNow() > scheduled.DeletionDate);
        var purged = await km.PurgeExpiredKeysAsync(Kms.Ct);

        Assert.Equal(1, purged);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DescribeAsync(key.KeyId));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DescribeAsync("alias/doomed"));
        Assert.DoesNotContain(key.KeyId, await km.AllKeyIdsAsync());
        Assert.Empty(await km.AllAliasesAsync());
        var e = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(blob, new Dictionary<string, string> { ["k"] = "v" }));
        Assert.Equal("InvalidCiphertextException", e.ErrorCode);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DecryptBlobAsync(blob, new Dictionary<string, string> { ["k"] = "v" }, keyId: key.KeyId));
        Assert.Null(await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
        Assert.Empty(await kms.Store.ListAliasesAsync(key.KeyId, null, 100, Kms.Ct));
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
    }

    [Fact]
    public async Task The_purge_writes_one_delete_expired_key_audit_event()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(8));
        var before = kms.Audit.Events.Count;

        await km.PurgeExpiredKeysAsync(Kms.Ct);

        var purge = Assert.Single(kms.Audit.Events.Skip(before));
        Assert.Equal(KmsOperation.DeleteExpiredKey, purge.Operation);
        Assert.Equal(KmsOutcome.Success, purge.Outcome);
        Assert.Equal(key.KeyId, purge.KeyId);
        Assert.Equal(Kms.RootArn, purge.Caller);
        Assert.Null(purge.ErrorCode);
        Assert.Equal(kms.Clock.GetUtcNow(), purge.EventTime);
    }

    [Fact]
    public async Task One_day_before_the_deletion_date_the_key_still_exists()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/waiting", key.KeyId);
        var scheduled = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        kms.Clock.Advance(TimeSpan.FromDays(6));
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
        var described = await km.DescribeAsync("alias/waiting");
        Assert.Equal(KeyState.PendingDeletion, described.KeyState);

        kms.Clock.Advance(scheduled.DeletionDate - kms.Clock.GetUtcNow() - TimeSpan.FromTicks(1));
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Equal(key.KeyId, (await km.DescribeAsync(key.KeyId)).KeyId);

        kms.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, await km.PurgeExpiredKeysAsync(Kms.Ct));
    }

    [Fact]
    public async Task A_key_past_its_deletion_date_is_purged_lazily_when_an_operation_touches_it()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/lazy", key.KeyId);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(7));

        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DescribeAsync(key.KeyId));

        Assert.Null(await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
        Assert.Null(await kms.Store.GetAliasAsync("alias/lazy", Kms.Ct));
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Single(kms.Audit.Events, e => e.Operation == KmsOperation.DeleteExpiredKey && e.KeyId == key.KeyId);
    }

    [Fact]
    public async Task The_purge_counts_only_expired_keys_and_leaves_every_other_key_usable()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var expired = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var doomed = await km.NewKeyAsync();
            await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
            expired.Add(doomed.KeyId);
        }

        var later = await km.NewKeyAsync();
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = later.KeyId, PendingWindowInDays = 30 }, Kms.Ct);
        var cancelled = await km.NewKeyAsync();
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = cancelled.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        await km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = cancelled.KeyId }, Kms.Ct);
        var survivor = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/survivor", survivor.KeyId);
        var blob = await km.EncryptBlobAsync(survivor.KeyId, [1, 2]);
        kms.Clock.Advance(TimeSpan.FromDays(10));

        Assert.Equal(3, await km.PurgeExpiredKeysAsync(Kms.Ct));

        Assert.Equal(new[] { later.KeyId, cancelled.KeyId, survivor.KeyId }.Order(StringComparer.Ordinal), await km.AllKeyIdsAsync());
        Assert.Equal(KeyState.PendingDeletion, (await km.DescribeAsync(later.KeyId)).KeyState);
        Assert.Equal(KeyState.Disabled, (await km.DescribeAsync(cancelled.KeyId)).KeyState);
        Assert.Equal([1, 2], await km.DecryptBlobAsync(blob));
        Assert.Equal(survivor.KeyId, (await km.DescribeAsync("alias/survivor")).KeyId);
        Assert.Equal(3, kms.Audit.Events.Count(e => e.Operation == KmsOperation.DeleteExpiredKey));
    }

    [Fact]
    public async Task List_aliases_does_not_list_the_aliases_of_a_key_past_its_deletion_date()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var doomed = await km.NewKeyAsync();
        var kept = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/a-doomed", doomed.KeyId);
        await km.CreateAliasAsync("alias/b-kept", kept.KeyId);
        await km.CreateAliasAsync("alias/c-doomed", doomed.KeyId);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(7));

        var page = await km.ListAliasesAsync(new ListAliasesRequest { Limit = 1 }, Kms.Ct);

        Assert.Equal("alias/b-kept", Assert.Single(page.Items).AliasName);
        Assert.Null(page.NextMarker);
        Assert.Null(await kms.Store.GetKeyAsync(doomed.KeyId, Kms.Ct));
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
    }

    [Fact]
    public async Task An_alias_of_a_key_past_its_deletion_date_is_gone_for_every_alias_operation()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var doomed = await km.NewKeyAsync();
        var next = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/reused", doomed.KeyId);
        await km.CreateAliasAsync("alias/moved", doomed.KeyId);
        await km.CreateAliasAsync("alias/deleted", doomed.KeyId);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(8));

        await km.CreateAliasAsync("alias/reused", next.KeyId);
        Assert.Equal(next.KeyId, (await km.DescribeAsync("alias/reused")).KeyId);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/moved", TargetKeyId = next.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/deleted" }, Kms.Ct));
        Assert.Equal(["alias/reused"], (await km.AllAliasesAsync()).Select(a => a.AliasName));
    }

    [Fact]
    public async Task List_keys_does_not_list_a_key_past_its_deletion_date()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var doomed = await km.NewKeyAsync();
        var kept = await km.NewKeyAsync();
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(7));

        var page = await km.ListKeysAsync(new ListKeysRequest { Limit = 1 }, Kms.Ct);

        Assert.Equal(kept.KeyId, Assert.Single(page.Items).KeyId);
        Assert.Null(page.NextMarker);
    }

    /// <summary>RELIABILITY row 49: the deletion date is an absolute instant, whatever the clock does meanwhile.</summary>
    [Fact]
    public async Task The_deletion_date_is_an_absolute_instant_that_a_clock_jumping_back_does_not_move()
    {
        var start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var clock = new SettableTimeProvider(start);
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), timeProvider: clock);
        var km = manager.Api();
        var key = await km.NewKeyAsync();
        var scheduled = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        var deletionDate = start.AddDays(7);
        Assert.Equal(deletionDate, scheduled.DeletionDate);

        clock.Now = start.AddDays(-3);
        Assert.Equal(deletionDate, (await km.DescribeAsync(key.KeyId)).DeletionDate);
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));

        clock.Now = deletionDate.AddTicks(-1);
        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Equal(deletionDate, (await km.DescribeAsync(key.KeyId)).DeletionDate);

        clock.Now = deletionDate;
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DescribeAsync(key.KeyId));
    }

    [Fact]
    public async Task The_deletion_date_is_an_absolute_instant_that_a_clock_jumping_forward_and_back_does_not_shorten()
    {
        var start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var clock = new SettableTimeProvider(start);
        using var manager = new KeyManager(new InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), timeProvider: clock);
        var km = manager.Api();
        var key = await km.NewKeyAsync();
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        clock.Now = start.AddDays(6);
        Assert.Equal(KeyState.PendingDeletion, (await km.DescribeAsync(key.KeyId)).KeyState);
        clock.Now = start.AddDays(1);
        Assert.Equal(KeyState.PendingDeletion, (await km.DescribeAsync(key.KeyId)).KeyState);
        clock.Now = start.AddDays(7).AddSeconds(-1);

        Assert.Equal(0, await km.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Equal(start.AddDays(7), (await km.DescribeAsync(key.KeyId)).DeletionDate);
    }

    /// <summary>A clock that can be set to any instant, backwards included (a FakeTimeProvider only moves forward).</summary>
    private sealed class SettableTimeProvider(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
