using System.Security.Cryptography;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Storage;

/// <summary>
/// The <see cref="IKeyStore"/> contract, as an abstract suite that every store's tests subclass (the
/// dotnet/extensions conformance pattern): metadata initialized once, keys and aliases with
/// optimistic-concurrency versions, ordinal listing and paging, and a faithful round trip of every field.
/// A subclass supplies <see cref="CreateStore"/>, which returns a new, empty store for each test.
/// </summary>
public abstract class KeyStoreConformanceTests
{
    /// <summary>An instant with a non-zero offset and sub-second precision (whole microseconds, which every database keeps).</summary>
    protected static readonly DateTimeOffset Instant1 = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(5.5)).AddTicks(1_234_560);

    /// <summary>Another instant, with a negative offset.</summary>
    protected static readonly DateTimeOffset Instant2 = new DateTimeOffset(2027, 11, 30, 23, 59, 58, TimeSpan.FromHours(-7)).AddTicks(9_999_990);

    /// <summary>A third instant, in UTC.</summary>
    protected static readonly DateTimeOffset Instant3 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Returns a new, empty store; called once per test.</summary>
    protected abstract IKeyStore CreateStore();

    /// <summary>
    /// Whether the store keeps the offset of a <see cref="DateTimeOffset"/> (and not only the instant).
    /// Stores on a database type that normalizes to UTC override this with <see langword="false"/>.
    /// </summary>
    protected virtual bool PreservesDateTimeOffsetOffsets => true;

    /// <summary>A key id in the shape the key manager generates.</summary>
    protected virtual string NewKeyId() => Guid.NewGuid().ToString("D");

    // ------------------------------------------------------------------ metadata

    [Fact]
    public async Task A_new_store_has_no_metadata()
    {
        var store = CreateStore();
        Assert.Null(await store.GetMetadataAsync(Ct));
    }

    [Fact]
    public async Task Initialize_metadata_writes_it_once_and_a_second_initialize_returns_the_first()
    {
        var store = CreateStore();
        var first = Metadata("check-1", "params-1", Instant1);
        var second = Metadata("check-2", null, Instant2);

        var written = await store.InitializeMetadataAsync(first, Ct);
        var again = await store.InitializeMetadataAsync(second, Ct);

        AssertSameMetadata(first, written);
        AssertSameMetadata(first, again);
        AssertSameMetadata(first, (await store.GetMetadataAsync(Ct))!);
    }

    [Fact]
    public async Task Metadata_with_null_parameters_round_trips()
    {
        var store = CreateStore();
        var metadata = Metadata("0123456789abcdef0123456789abcdef", null, Instant2);
        await store.InitializeMetadataAsync(metadata, Ct);
        AssertSameMetadata(metadata, (await store.GetMetadataAsync(Ct))!);
    }

    [Fact]
    public async Task Concurrent_initializers_all_get_the_same_metadata()
    {
        var store = CreateStore();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(
            async () => await store.InitializeMetadataAsync(Metadata($"check-{i}", $"params-{i}", Instant1), Ct), Ct)));

        var winner = results[0];
        Assert.All(results, r => AssertSameMetadata(winner, r));
        AssertSameMetadata(winner, (await store.GetMetadataAsync(Ct))!);
    }

    // ------------------------------------------------------------------ keys

    [Fact]
    public async Task Get_of_a_missing_key_returns_null()
    {
        var store = CreateStore();
        Assert.Null(await store.GetKeyAsync(NewKeyId(), Ct));
    }

    [Fact]
    public async Task Insert_assigns_version_1_whatever_version_is_given_and_get_returns_the_record()
    {
        var store = CreateStore();
        var key = MinimalKey(NewKeyId()) with { Version = 42 };

        var inserted = await store.InsertKeyAsync(key, Ct);

        Assert.Equal(1, inserted.Version);
        var read = await store.GetKeyAsync(key.KeyId, Ct);
        Assert.NotNull(read);
        Assert.Equal(1, read.Version);
        AssertSameKey(key, read);
    }

    [Fact]
    public async Task Every_field_of_a_key_round_trips()
    {
        var store = CreateStore();
        var key = FullKey(NewKeyId());

        await store.InsertKeyAsync(key, Ct);

        AssertSameKey(key, (await store.GetKeyAsync(key.KeyId, Ct))!);
    }

    [Fact]
    public async Task A_key_with_every_optional_field_empty_or_null_round_trips()
    {
        var store = CreateStore();
        var key = MinimalKey(NewKeyId());
        Assert.Null(key.DeletionDate);
        Assert.Null(key.PendingDeletionWindowInDays);
        Assert.Null(key.CurrentKeyMaterialId);

        await store.InsertKeyAsync(key, Ct);

        var read = (await store.GetKeyAsync(key.KeyId, Ct))!;
        AssertSameKey(key, read);
        Assert.Empty(read.Tags);
        Assert.Empty(read.KeyMaterials);
        Assert.Equal("", read.Description);
    }

    [Fact]
    public async Task Inserting_a_key_id_that_exists_conflicts_and_keeps_the_stored_record()
    {
        var store = CreateStore();
        var original = FullKey(NewKeyId());
        await store.InsertKeyAsync(original, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.InsertKeyAsync(MinimalKey(original.KeyId), Ct));

        var read = (await store.GetKeyAsync(original.KeyId, Ct))!;
        AssertSameKey(original, read);
        Assert.Equal(1, read.Version);
    }

    [Fact]
    public async Task Update_with_the_stored_version_replaces_the_record_and_increments_the_version()
    {
        var store = CreateStore();
        var inserted = await store.InsertKeyAsync(MinimalKey(NewKeyId()), Ct);
        var changed = FullKey(inserted.KeyId) with { Version = inserted.Version };

        var updated = await store.UpdateKeyAsync(changed, Ct);
        var updatedAgain = await store.UpdateKeyAsync(updated with { Description = "third" }, Ct);

        Assert.Equal(2, updated.Version);
        Assert.Equal(3, updatedAgain.Version);
        var read = (await store.GetKeyAsync(inserted.KeyId, Ct))!;
        Assert.Equal(3, read.Version);
        AssertSameKey(changed with { Description = "third" }, read);
    }

    [Fact]
    public async Task Update_with_a_stale_version_conflicts_and_changes_nothing()
    {
        var store = CreateStore();
        var inserted = await store.InsertKeyAsync(MinimalKey(NewKeyId()), Ct);
        var updated = await store.UpdateKeyAsync(inserted with { Description = "winner" }, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateKeyAsync(inserted with { Description = "loser" }, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateKeyAsync(updated with { Version = updated.Version + 1, Description = "future" }, Ct));

        var read = (await store.GetKeyAsync(inserted.KeyId, Ct))!;
        Assert.Equal("winner", read.Description);
        Assert.Equal(2, read.Version);
    }

    [Fact]
    public async Task Update_of_a_missing_key_conflicts_and_does_not_create_it()
    {
        var store = CreateStore();
        var key = MinimalKey(NewKeyId()) with { Version = 1 };

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateKeyAsync(key, Ct));

        Assert.Null(await store.GetKeyAsync(key.KeyId, Ct));
    }

    [Fact]
    public async Task Delete_with_the_stored_version_removes_the_key()
    {
        var store = CreateStore();
        var inserted = await store.InsertKeyAsync(FullKey(NewKeyId()), Ct);
        var updated = await store.UpdateKeyAsync(inserted, Ct);

        await store.DeleteKeyAsync(updated.KeyId, updated.Version, Ct);

        Assert.Null(await store.GetKeyAsync(updated.KeyId, Ct));
        Assert.Empty(await store.ListKeysAsync(null, 100, Ct));
    }

    [Fact]
    public async Task Delete_with_a_stale_version_conflicts_and_keeps_the_key()
    {
        var store = CreateStore();
        var inserted = await store.InsertKeyAsync(MinimalKey(NewKeyId()), Ct);
        await store.UpdateKeyAsync(inserted, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.DeleteKeyAsync(inserted.KeyId, inserted.Version, Ct));

        Assert.Equal(2, (await store.GetKeyAsync(inserted.KeyId, Ct))!.Version);
    }

    [Fact]
    public async Task Delete_of_a_missing_key_conflicts()
    {
        var store = CreateStore();
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.DeleteKeyAsync(NewKeyId(), 1, Ct));
    }

    [Fact]
    public async Task A_deleted_key_id_can_be_inserted_again_and_starts_at_version_1()
    {
        var store = CreateStore();
        var inserted = await store.InsertKeyAsync(MinimalKey(NewKeyId()), Ct);
        var updated = await store.UpdateKeyAsync(inserted, Ct);
        await store.DeleteKeyAsync(updated.KeyId, updated.Version, Ct);

        var again = await store.InsertKeyAsync(FullKey(inserted.KeyId), Ct);

        Assert.Equal(1, again.Version);
        AssertSameKey(FullKey(inserted.KeyId), (await store.GetKeyAsync(inserted.KeyId, Ct))!);
    }

    [Fact]
    public async Task Concurrent_updates_from_the_same_version_let_exactly_one_win()
    {
        var store = CreateStore();
        var inserted = await store.InsertKeyAsync(MinimalKey(NewKeyId()), Ct);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                await store.UpdateKeyAsync(inserted with { Description = $"writer {i}" }, Ct);
                return $"writer {i}";
            }
            catch (KeyStoreConflictException)
            {
                return null;
            }
        }, Ct)));

        var winner = Assert.Single(outcomes, o => o is not null);
        var read = (await store.GetKeyAsync(inserted.KeyId, Ct))!;
        Assert.Equal(winner, read.Description);
        Assert.Equal(2, read.Version);
    }

    [Fact]
    public async Task List_keys_returns_every_key_in_ordinal_key_id_order()
    {
        var store = CreateStore();
        var ids = await InsertKeysAsync(store, 9);

        var listed = await store.ListKeysAsync(null, 100, Ct);

        Assert.Equal(ids.Order(StringComparer.Ordinal), listed.Select(k => k.KeyId));
        Assert.All(listed, k => Assert.Equal(1, k.Version));
        AssertSameKey(FullKey(listed[0].KeyId), listed[0]);
    }

    [Fact]
    public async Task List_keys_pages_with_limit_and_after_key_id()
    {
        var store = CreateStore();
        var ids = (await InsertKeysAsync(store, 7)).Order(StringComparer.Ordinal).ToList();

        var pages = new List<IReadOnlyList<KeyRecord>>();
        string? after = null;
        while (true)
        {
            var page = await store.ListKeysAsync(after, 3, Ct);
            if (page.Count == 0)
            {
                break;
            }

            pages.Add(page);
            after = page[^1].KeyId;
            Assert.True(pages.Count <= 3, "Paging did not end.");
        }

        Assert.Equal([3, 3, 1], pages.Select(p => p.Count));
        Assert.Equal(ids, pages.SelectMany(p => p).Select(k => k.KeyId));
    }

    [Fact]
    public async Task List_keys_after_an_id_that_is_not_stored_starts_at_the_next_greater_id()
    {
        var store = CreateStore();
        var ids = (await InsertKeysAsync(store, 6)).Order(StringComparer.Ordinal).ToList();
        var removed = ids[2];
        await store.DeleteKeyAsync(removed, 1, Ct);

        var page = await store.ListKeysAsync(removed, 100, Ct);

        Assert.Equal(ids.Skip(3), page.Select(k => k.KeyId));
        Assert.Empty(await store.ListKeysAsync(ids[^1], 100, Ct));
    }

    // ------------------------------------------------------------------ aliases

    [Fact]
    public async Task Get_of_a_missing_alias_returns_null()
    {
        var store = CreateStore();
        Assert.Null(await store.GetAliasAsync("alias/missing", Ct));
    }

    [Fact]
    public async Task Insert_alias_assigns_version_1_and_every_field_round_trips()
    {
        var store = CreateStore();
        var alias = Alias("alias/Payments/Primary_key-1", NewKeyId()) with { Version = 7 };

        var inserted = await store.InsertAliasAsync(alias, Ct);

        Assert.Equal(1, inserted.Version);
        var read = (await store.GetAliasAsync(alias.AliasName, Ct))!;
        Assert.Equal(1, read.Version);
        AssertSameAlias(alias, read);
    }

    [Fact]
    public async Task Alias_names_that_differ_only_in_case_are_different_aliases()
    {
        var store = CreateStore();
        var upper = Alias("alias/Orders", NewKeyId());
        var lower = Alias("alias/orders", NewKeyId());

        await store.InsertAliasAsync(upper, Ct);
        await store.InsertAliasAsync(lower, Ct);

        Assert.Equal(upper.TargetKeyId, (await store.GetAliasAsync("alias/Orders", Ct))!.TargetKeyId);
        Assert.Equal(lower.TargetKeyId, (await store.GetAliasAsync("alias/orders", Ct))!.TargetKeyId);
        Assert.Null(await store.GetAliasAsync("alias/ORDERS", Ct));
    }

    [Fact]
    public async Task Inserting_an_alias_that_exists_conflicts_and_keeps_the_stored_alias()
    {
        var store = CreateStore();
        var original = Alias("alias/orders", NewKeyId());
        await store.InsertAliasAsync(original, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.InsertAliasAsync(Alias("alias/orders", NewKeyId()), Ct));

        AssertSameAlias(original, (await store.GetAliasAsync("alias/orders", Ct))!);
    }

    [Fact]
    public async Task Update_alias_with_the_stored_version_moves_it_and_increments_the_version()
    {
        var store = CreateStore();
        var inserted = await store.InsertAliasAsync(Alias("alias/orders", NewKeyId()), Ct);
        var moved = inserted with { TargetKeyId = NewKeyId(), LastUpdatedDate = Instant2 };

        var updated = await store.UpdateAliasAsync(moved, Ct);

        Assert.Equal(2, updated.Version);
        var read = (await store.GetAliasAsync("alias/orders", Ct))!;
        Assert.Equal(2, read.Version);
        AssertSameAlias(moved, read);
    }

    [Fact]
    public async Task Update_alias_with_a_stale_version_conflicts_and_changes_nothing()
    {
        var store = CreateStore();
        var inserted = await store.InsertAliasAsync(Alias("alias/orders", NewKeyId()), Ct);
        var updated = await store.UpdateAliasAsync(inserted with { TargetKeyId = NewKeyId() }, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateAliasAsync(inserted with { TargetKeyId = NewKeyId() }, Ct));

        var read = (await store.GetAliasAsync("alias/orders", Ct))!;
        Assert.Equal(updated.TargetKeyId, read.TargetKeyId);
        Assert.Equal(2, read.Version);
    }

    [Fact]
    public async Task Update_of_a_missing_alias_conflicts_and_does_not_create_it()
    {
        var store = CreateStore();
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateAliasAsync(Alias("alias/none", NewKeyId()) with { Version = 1 }, Ct));
        Assert.Null(await store.GetAliasAsync("alias/none", Ct));
    }

    [Fact]
    public async Task Delete_alias_with_the_stored_version_removes_it()
    {
        var store = CreateStore();
        var inserted = await store.InsertAliasAsync(Alias("alias/orders", NewKeyId()), Ct);

        await store.DeleteAliasAsync("alias/orders", inserted.Version, Ct);

        Assert.Null(await store.GetAliasAsync("alias/orders", Ct));
        Assert.Empty(await store.ListAliasesAsync(null, null, 100, Ct));
    }

    [Fact]
    public async Task Delete_alias_with_a_stale_version_conflicts_and_keeps_it()
    {
        var store = CreateStore();
        var inserted = await store.InsertAliasAsync(Alias("alias/orders", NewKeyId()), Ct);
        await store.UpdateAliasAsync(inserted, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.DeleteAliasAsync("alias/orders", inserted.Version, Ct));

        Assert.NotNull(await store.GetAliasAsync("alias/orders", Ct));
    }

    [Fact]
    public async Task Delete_of_a_missing_alias_conflicts()
    {
        var store = CreateStore();
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.DeleteAliasAsync("alias/none", 1, Ct));
    }

    [Fact]
    public async Task List_aliases_returns_every_alias_in_ordinal_name_order()
    {
        var store = CreateStore();
        var names = await InsertAliasesAsync(store, NewKeyId(), NewKeyId());

        var listed = await store.ListAliasesAsync(null, null, 100, Ct);

        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(a => a.AliasName));
    }

    [Fact]
    public async Task List_aliases_filters_by_target_key()
    {
        var store = CreateStore();
        var keyA = NewKeyId();
        var keyB = NewKeyId();
        var names = await InsertAliasesAsync(store, keyA, keyB);

        var ofA = await store.ListAliasesAsync(keyA, null, 100, Ct);
        var ofB = await store.ListAliasesAsync(keyB, null, 100, Ct);

        Assert.All(ofA, a => Assert.Equal(keyA, a.TargetKeyId));
        Assert.All(ofB, a => Assert.Equal(keyB, a.TargetKeyId));
        Assert.Equal(names.Where((_, i) => i % 2 == 0).Order(StringComparer.Ordinal), ofA.Select(a => a.AliasName));
        Assert.Equal(names.Where((_, i) => i % 2 == 1).Order(StringComparer.Ordinal), ofB.Select(a => a.AliasName));
        Assert.Empty(await store.ListAliasesAsync(NewKeyId(), null, 100, Ct));
    }

    [Fact]
    public async Task List_aliases_pages_with_limit_and_after_alias_name_with_and_without_a_target()
    {
        var store = CreateStore();
        var keyA = NewKeyId();
        var keyB = NewKeyId();
        var names = await InsertAliasesAsync(store, keyA, keyB);

        Assert.Equal(names.Order(StringComparer.Ordinal), await PageAllAsync(null, 2));
        Assert.Equal(names.Where((_, i) => i % 2 == 0).Order(StringComparer.Ordinal), await PageAllAsync(keyA, 2));
        Assert.Equal(names.Where((_, i) => i % 2 == 1).Order(StringComparer.Ordinal), await PageAllAsync(keyB, 1));

        var ordered = names.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ordered.Skip(3).Take(2), (await store.ListAliasesAsync(null, ordered[2], 2, Ct)).Select(a => a.AliasName));
        Assert.Equal(ordered, (await store.ListAliasesAsync(null, null, int.MaxValue, Ct)).Select(a => a.AliasName));

        async Task<List<string>> PageAllAsync(string? target, int limit)
        {
            var all = new List<string>();
            string? after = null;
            for (var guard = 0; guard < 100; guard++)
            {
                var page = await store.ListAliasesAsync(target, after, limit, Ct);
                Assert.True(page.Count <= limit);
                if (page.Count == 0)
                {
                    return all;
                }

                all.AddRange(page.Select(a => a.AliasName));
                after = page[^1].AliasName;
            }

            throw new InvalidOperationException("Paging did not end.");
        }
    }


    // ------------------------------------------------------------------ key policy

    [Fact]
    public async Task A_key_policy_round_trips_and_a_key_without_one_reads_back_null()
    {
        var store = CreateStore();
        var withPolicy = FullKey(NewKeyId());
        var without = MinimalKey(NewKeyId());
        await store.InsertKeyAsync(withPolicy, Ct);
        await store.InsertKeyAsync(without, Ct);

        Assert.Equal(PolicyDocument, (await store.GetKeyAsync(withPolicy.KeyId, Ct))!.Policy);
        Assert.Null((await store.GetKeyAsync(without.KeyId, Ct))!.Policy);
        var read = (await store.GetKeyAsync(without.KeyId, Ct))!;
        var updated = await store.UpdateKeyAsync(read with { Policy = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }, Ct);
        Assert.Equal(updated.Policy, (await store.GetKeyAsync(without.KeyId, Ct))!.Policy);
    }

    // ------------------------------------------------------------------ grants

    /// <summary>The store as a grant store: every built-in store is one.</summary>
    protected static IGrantStore Grants(IKeyStore store) => Assert.IsAssignableFrom<IGrantStore>(store);

    [Fact]
    public async Task Get_of_a_missing_grant_returns_null()
    {
        var grants = Grants(CreateStore());
        Assert.Null(await grants.GetGrantAsync(NewKeyId(), GrantId(1), Ct));
    }

    [Fact]
    public async Task Insert_grant_assigns_version_1_and_every_field_round_trips()
    {
        var grants = Grants(CreateStore());
        var grant = FullGrant(NewKeyId(), GrantId(1)) with { Version = 9 };

        var inserted = await grants.InsertGrantAsync(grant, Ct);

        Assert.Equal(1, inserted.Version);
        var read = (await grants.GetGrantAsync(grant.KeyId, grant.GrantId, Ct))!;
        Assert.Equal(1, read.Version);
        AssertSameGrant(grant, read);
    }

    [Fact]
    public async Task A_grant_with_every_optional_field_null_round_trips()
    {
        var grants = Grants(CreateStore());
        var grant = MinimalGrant(NewKeyId(), GrantId(2), "arn:aws:iam::111122223333:role/Minimal");

        await grants.InsertGrantAsync(grant, Ct);

        var read = (await grants.GetGrantAsync(grant.KeyId, grant.GrantId, Ct))!;
        AssertSameGrant(grant, read);
        Assert.Null(read.Name);
        Assert.Null(read.RetiringPrincipal);
        Assert.Null(read.EncryptionContextSubset);
        Assert.Null(read.EncryptionContextEquals);
    }

    [Fact]
    public async Task Inserting_a_grant_id_the_key_has_conflicts_and_keeps_the_stored_grant_but_another_key_may_use_the_id()
    {
        var grants = Grants(CreateStore());
        var keyA = NewKeyId();
        var keyB = NewKeyId();
        var original = FullGrant(keyA, GrantId(3));
        await grants.InsertGrantAsync(original, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await grants.InsertGrantAsync(MinimalGrant(keyA, GrantId(3), "arn:aws:iam::999999999999:root"), Ct));

        AssertSameGrant(original, (await grants.GetGrantAsync(keyA, GrantId(3), Ct))!);
        var other = await grants.InsertGrantAsync(MinimalGrant(keyB, GrantId(3), "arn:aws:iam::999999999999:root"), Ct);
        Assert.Equal(1, other.Version);
        Assert.Equal(1, await grants.CountGrantsAsync(keyA, Ct));
        Assert.Equal(1, await grants.CountGrantsAsync(keyB, Ct));
    }

    [Fact]
    public async Task List_grants_returns_the_grants_of_one_key_in_ordinal_grant_id_order_and_pages()
    {
        var grants = Grants(CreateStore());
        var key = NewKeyId();
        var other = NewKeyId();
        var ids = Enumerable.Range(10, 7).Select(GrantId).ToList();
        foreach (var id in ids.OrderByDescending(i => i[^3..], StringComparer.Ordinal))
        {
            await grants.InsertGrantAsync(MinimalGrant(key, id, "arn:aws:iam::111122223333:role/A"), Ct);
        }

        await grants.InsertGrantAsync(MinimalGrant(other, GrantId(99), "arn:aws:iam::111122223333:role/A"), Ct);
        var expected = ids.Order(StringComparer.Ordinal).ToList();

        Assert.Equal(expected, (await grants.ListGrantsAsync(key, null, 100, Ct)).Select(g => g.GrantId));
        Assert.Empty(await grants.ListGrantsAsync(NewKeyId(), null, 100, Ct));

        var paged = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 10; pages++)
        {
            var page = await grants.ListGrantsAsync(key, after, 3, Ct);
            Assert.True(page.Count <= 3);
            Assert.All(page, g => Assert.Equal(key, g.KeyId));
            Assert.All(page, g => Assert.Equal(1, g.Version));
            paged.AddRange(page.Select(g => g.GrantId));
            if (page.Count < 3)
            {
                break;
            }

            after = page[^1].GrantId;
        }

        Assert.Equal(expected, paged);

        // After an id that is not stored: the next greater one.
        var between = expected[2][..^1] + (expected[2][^1] == 'f' ? "0" : "f");
        var next = expected.First(id => string.CompareOrdinal(id, between) > 0);
        Assert.Equal(next, (await grants.ListGrantsAsync(key, between, 1, Ct)).Single().GrantId);
    }

    [Fact]
    public async Task List_grants_for_a_grantee_returns_only_that_grantees_grants_of_that_key_compared_ordinally()
    {
        var grants = Grants(CreateStore());
        var key = NewKeyId();
        var other = NewKeyId();
        const string alice = "arn:aws:iam::111122223333:role/Alice";
        await grants.InsertGrantAsync(MinimalGrant(key, GrantId(21), alice), Ct);
        await grants.InsertGrantAsync(MinimalGrant(key, GrantId(22), "arn:aws:iam::111122223333:role/alice"), Ct);
        await grants.InsertGrantAsync(MinimalGrant(key, GrantId(23), "arn:aws:iam::111122223333:role/Bob"), Ct);
        await grants.InsertGrantAsync(FullGrant(key, GrantId(24)) with { GranteePrincipal = alice }, Ct);
        await grants.InsertGrantAsync(MinimalGrant(other, GrantId(25), alice), Ct);

        var found = await grants.ListGrantsForGranteeAsync(key, alice, Ct);

        Assert.Equal(new[] { GrantId(21), GrantId(24) }.Order(StringComparer.Ordinal), found.Select(g => g.GrantId));
        Assert.All(found, g => Assert.Equal(alice, g.GranteePrincipal));
        AssertSameGrant(FullGrant(key, GrantId(24)) with { GranteePrincipal = alice }, found.Single(g => g.GrantId == GrantId(24)));
        Assert.Empty(await grants.ListGrantsForGranteeAsync(key, "arn:aws:iam::111122223333:role/Nobody", Ct));
        Assert.Empty(await grants.ListGrantsForGranteeAsync(NewKeyId(), alice, Ct));
    }

    [Fact]
    public async Task Retirable_grants_are_listed_across_keys_in_key_then_grant_id_order_and_page()
    {
        var grants = Grants(CreateStore());
        const string retiree = "arn:aws:iam::111122223333:role/Retiree";
        var keys = Enumerable.Range(0, 3).Select(_ => NewKeyId()).Order(StringComparer.Ordinal).ToList();
        var expected = new List<(string KeyId, string GrantId)>();
        for (var k = keys.Count - 1; k >= 0; k--)
        {
            for (var g = 3; g >= 0; g--)
            {
                var id = GrantId(100 + (k * 10) + g);
                var retiring = g == 2 ? "arn:aws:iam::111122223333:role/retiree" : g == 3 ? null : retiree;
                await grants.InsertGrantAsync(MinimalGrant(keys[k], id, "arn:aws:iam::111122223333:role/User") with { RetiringPrincipal = retiring }, Ct);
                if (retiring == retiree)
                {
                    expected.Add((keys[k], id));
                }
            }
        }

        expected = [.. expected.OrderBy(e => e.KeyId, StringComparer.Ordinal).ThenBy(e => e.GrantId, StringComparer.Ordinal)];

        var all = await grants.ListRetirableGrantsAsync(retiree, null, null, 100, Ct);
        Assert.Equal(expected, all.Select(g => (g.KeyId, g.GrantId)));
        Assert.All(all, g => Assert.Equal(retiree, g.RetiringPrincipal));

        foreach (var size in new[] { 1, 2, 4 })
        {
            var paged = new List<(string, string)>();
            string? afterKey = null, afterGrant = null;
            for (var pages = 0; pages < 20; pages++)
            {
                var page = await grants.ListRetirableGrantsAsync(retiree, afterKey, afterGrant, size, Ct);
                Assert.True(page.Count <= size);
                paged.AddRange(page.Select(g => (g.KeyId, g.GrantId)));
                if (page.Count < size)
                {
                    break;
                }

                (afterKey, afterGrant) = (page[^1].KeyId, page[^1].GrantId);
            }

            Assert.Equal(expected, paged);
        }

        Assert.Empty(await grants.ListRetirableGrantsAsync("arn:aws:iam::111122223333:role/Nobody", null, null, 100, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await grants.ListRetirableGrantsAsync(retiree, keys[0], null, 10, Ct));
    }

    [Fact]
    public async Task Count_grants_counts_the_grants_of_one_key()
    {
        var grants = Grants(CreateStore());
        var key = NewKeyId();
        Assert.Equal(0, await grants.CountGrantsAsync(key, Ct));
        for (var i = 0; i < 5; i++)
        {
            await grants.InsertGrantAsync(MinimalGrant(key, GrantId(200 + i), "arn:aws:iam::111122223333:role/A"), Ct);
        }

        await grants.InsertGrantAsync(MinimalGrant(NewKeyId(), GrantId(300), "arn:aws:iam::111122223333:role/A"), Ct);

        Assert.Equal(5, await grants.CountGrantsAsync(key, Ct));
        await grants.DeleteGrantAsync(key, GrantId(202), 1, Ct);
        Assert.Equal(4, await grants.CountGrantsAsync(key, Ct));
    }

    [Fact]
    public async Task Delete_grant_checks_the_version_and_a_missing_grant_conflicts()
    {
        var grants = Grants(CreateStore());
        var key = NewKeyId();
        var grant = await grants.InsertGrantAsync(FullGrant(key, GrantId(400)), Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await grants.DeleteGrantAsync(key, grant.GrantId, 2, Ct));
        Assert.NotNull(await grants.GetGrantAsync(key, grant.GrantId, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await grants.DeleteGrantAsync(NewKeyId(), grant.GrantId, 1, Ct));

        await grants.DeleteGrantAsync(key, grant.GrantId, grant.Version, Ct);

        Assert.Null(await grants.GetGrantAsync(key, grant.GrantId, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await grants.DeleteGrantAsync(key, grant.GrantId, grant.Version, Ct));
        Assert.Equal(1, (await grants.InsertGrantAsync(FullGrant(key, GrantId(400)), Ct)).Version);
    }

    [Fact]
    public async Task Delete_grants_of_a_key_removes_only_that_keys_grants_and_is_idempotent()
    {
        var grants = Grants(CreateStore());
        var key = NewKeyId();
        var other = NewKeyId();
        for (var i = 0; i < 4; i++)
        {
            await grants.InsertGrantAsync(MinimalGrant(key, GrantId(500 + i), "arn:aws:iam::111122223333:role/A") with { RetiringPrincipal = "arn:aws:iam::111122223333:role/R" }, Ct);
        }

        var kept = await grants.InsertGrantAsync(FullGrant(other, GrantId(500)), Ct);

        Assert.Equal(4, await grants.DeleteGrantsOfKeyAsync(key, Ct));

        Assert.Equal(0, await grants.CountGrantsAsync(key, Ct));
        Assert.Empty(await grants.ListGrantsAsync(key, null, 10, Ct));
        Assert.Empty(await grants.ListGrantsForGranteeAsync(key, "arn:aws:iam::111122223333:role/A", Ct));
        Assert.Empty(await grants.ListRetirableGrantsAsync("arn:aws:iam::111122223333:role/R", null, null, 10, Ct));
        AssertSameGrant(kept, (await grants.GetGrantAsync(other, GrantId(500), Ct))!);
        Assert.Equal(0, await grants.DeleteGrantsOfKeyAsync(key, Ct));
        Assert.Equal(0, await grants.DeleteGrantsOfKeyAsync(NewKeyId(), Ct));
    }

    [Fact]
    public async Task Concurrent_inserts_of_the_same_grant_id_let_exactly_one_win()
    {
        var grants = Grants(CreateStore());
        var key = NewKeyId();
        var attempts = Enumerable.Range(0, 8)
            .Select(i => MinimalGrant(key, GrantId(600), $"arn:aws:iam::111122223333:role/Racer{i}"))
            .ToList();

        var results = await Task.WhenAll(attempts.Select(grant => Task.Run(async () =>
        {
            try
            {
                return await grants.InsertGrantAsync(grant, Ct);
            }
            catch (KeyStoreConflictException)
            {
                return null;
            }
        }, Ct)));

        var winner = Assert.Single(results, r => r is not null)!;
        Assert.Equal(1, winner.Version);
        AssertSameGrant(winner, (await grants.GetGrantAsync(key, GrantId(600), Ct))!);
        Assert.Equal(1, await grants.CountGrantsAsync(key, Ct));
    }

    // ------------------------------------------------------------------ custom key stores

    /// <summary>The store as a custom key store record store: every built-in store is one.</summary>
    protected static ICustomKeyStoreRecordStore CustomKeyStores(IKeyStore store) => Assert.IsAssignableFrom<ICustomKeyStoreRecordStore>(store);

    [Fact]
    public async Task A_new_store_has_no_custom_key_stores_and_get_of_a_missing_one_returns_null()
    {
        var records = CustomKeyStores(CreateStore());
        Assert.Empty(await records.ListCustomKeyStoresAsync(Ct));
        Assert.Null(await records.GetCustomKeyStoreAsync(CustomKeyStoreId(1), Ct));
    }

    [Fact]
    public async Task Insert_custom_key_store_assigns_version_1_and_every_field_round_trips()
    {
        var records = CustomKeyStores(CreateStore());
        var hsm = FullHsmKeyStore(CustomKeyStoreId(1)) with { Version = 7 };
        var external = FullExternalKeyStore(CustomKeyStoreId(2));

        var inserted = await records.InsertCustomKeyStoreAsync(hsm, Ct);
        await records.InsertCustomKeyStoreAsync(external, Ct);

        Assert.Equal(1, inserted.Version);
        AssertSameCustomKeyStore(hsm with { Version = 1 }, (await records.GetCustomKeyStoreAsync(hsm.CustomKeyStoreId, Ct))!);
        AssertSameCustomKeyStore(external with { Version = 1 }, (await records.GetCustomKeyStoreAsync(external.CustomKeyStoreId, Ct))!);
    }

    [Fact]
    public async Task Custom_key_stores_list_in_ordinal_order_of_id()
    {
        var records = CustomKeyStores(CreateStore());
        foreach (var n in new[] { 3, 1, 2 })
        {
            await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(n), $"store-{n}"), Ct);
        }

        var listed = await records.ListCustomKeyStoresAsync(Ct);
        Assert.Equal([CustomKeyStoreId(1), CustomKeyStoreId(2), CustomKeyStoreId(3)], listed.Select(r => r.CustomKeyStoreId));
        Assert.All(listed, r => Assert.Equal(1, r.Version));
    }

    [Fact]
    public async Task Insert_of_an_existing_custom_key_store_id_or_name_conflicts_and_writes_nothing()
    {
        var records = CustomKeyStores(CreateStore());
        await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(1), "payments"), Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(1), "other"), Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(2), "payments"), Ct));

        var only = Assert.Single(await records.ListCustomKeyStoresAsync(Ct));
        Assert.Equal("payments", only.CustomKeyStoreName);
    }

    [Fact]
    public async Task Names_of_custom_key_stores_are_compared_ordinally()
    {
        var records = CustomKeyStores(CreateStore());
        await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(1), "Payments"), Ct);
        await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(2), "payments"), Ct);
        Assert.Equal(2, (await records.ListCustomKeyStoresAsync(Ct)).Count);
    }

    [Fact]
    public async Task Update_custom_key_store_checks_the_version_and_increments_it()
    {
        var records = CustomKeyStores(CreateStore());
        var inserted = await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(1), "payments"), Ct);

        var connected = await records.UpdateCustomKeyStoreAsync(inserted with { ConnectionState = CustomKeyStores_Connected, CustomKeyStoreName = "payments-2" }, Ct);

        Assert.Equal(2, connected.Version);
        var read = (await records.GetCustomKeyStoreAsync(inserted.CustomKeyStoreId, Ct))!;
        Assert.Equal(2, read.Version);
        Assert.Equal("payments-2", read.CustomKeyStoreName);
        Assert.Equal(CustomKeyStores_Connected, read.ConnectionState);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.UpdateCustomKeyStoreAsync(inserted with { CustomKeyStoreName = "stale" }, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.UpdateCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(9), "missing") with { Version = 1 }, Ct));
        Assert.Equal("payments-2", (await records.GetCustomKeyStoreAsync(inserted.CustomKeyStoreId, Ct))!.CustomKeyStoreName);
    }

    [Fact]
    public async Task Renaming_a_custom_key_store_to_a_name_in_use_conflicts_and_writes_nothing()
    {
        var records = CustomKeyStores(CreateStore());
        await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(1), "first"), Ct);
        var second = await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(2), "second"), Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.UpdateCustomKeyStoreAsync(second with { CustomKeyStoreName = "first" }, Ct));

        var read = (await records.GetCustomKeyStoreAsync(second.CustomKeyStoreId, Ct))!;
        Assert.Equal("second", read.CustomKeyStoreName);
        Assert.Equal(1, read.Version);

        // Keeping its own name is not a conflict.
        Assert.Equal(2, (await records.UpdateCustomKeyStoreAsync(second with { ConnectionState = CustomKeyStores_Connected }, Ct)).Version);
    }

    [Fact]
    public async Task Delete_custom_key_store_checks_the_version_and_frees_the_name()
    {
        var records = CustomKeyStores(CreateStore());
        var inserted = await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(1), "payments"), Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.DeleteCustomKeyStoreAsync(inserted.CustomKeyStoreId, 2, Ct));
        Assert.NotNull(await records.GetCustomKeyStoreAsync(inserted.CustomKeyStoreId, Ct));

        await records.DeleteCustomKeyStoreAsync(inserted.CustomKeyStoreId, 1, Ct);

        Assert.Null(await records.GetCustomKeyStoreAsync(inserted.CustomKeyStoreId, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await records.DeleteCustomKeyStoreAsync(inserted.CustomKeyStoreId, 1, Ct));
        await records.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(2), "payments"), Ct);
    }

    [Fact]
    public async Task A_key_record_naming_its_custom_key_store_round_trips()
    {
        var store = CreateStore();
        var key = MinimalKey(NewKeyId()) with { Origin = KeyOrigin.AwsCloudHsm, CustomKeyStoreId = CustomKeyStoreId(1), CustomKeyStoreKeyId = "kms-key-0123456789abcdef" };

        await store.InsertKeyAsync(key, Ct);

        var read = (await store.GetKeyAsync(key.KeyId, Ct))!;
        Assert.Equal(key.CustomKeyStoreId, read.CustomKeyStoreId);
        Assert.Equal(key.CustomKeyStoreKeyId, read.CustomKeyStoreKeyId);
        Assert.Equal(KeyOrigin.AwsCloudHsm, read.Origin);
    }

    private const EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState CustomKeyStores_Connected = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Connected;

    /// <summary>A custom key store id in the shape the key manager generates: <c>cks-</c> and 17 hex characters.</summary>
    protected static string CustomKeyStoreId(int n) => "cks-" + n.ToString("x17", System.Globalization.CultureInfo.InvariantCulture);

    protected static CustomKeyStoreRecord MinimalCustomKeyStore(string id, string name) => new()
    {
        CustomKeyStoreId = id,
        CustomKeyStoreName = name,
        CustomKeyStoreType = EnvelopeKms.CustomKeyStores.CustomKeyStoreType.AwsCloudHsm,
        CreationDate = Instant3,
        ConnectionState = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Disconnected,
    };

    protected static CustomKeyStoreRecord FullHsmKeyStore(string id) => new()
    {
        CustomKeyStoreId = id,
        CustomKeyStoreName = "HSM key store — Zahlungen",
        CustomKeyStoreType = EnvelopeKms.CustomKeyStores.CustomKeyStoreType.AwsCloudHsm,
        CreationDate = Instant1,
        CloudHsmClusterId = "cluster-1a23b4cdefg",
        TrustAnchorCertificate = "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n",
        WrappedCredential = [0, 1, 2, 250, 251, 252, 253, 254, 255],
        ConnectionState = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Failed,
        ConnectionErrorCode = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionErrorCode.InvalidCredentials,
        Seal = [9, 8, 7],
    };

    protected static CustomKeyStoreRecord FullExternalKeyStore(string id) => new()
    {
        CustomKeyStoreId = id,
        CustomKeyStoreName = "external",
        CustomKeyStoreType = EnvelopeKms.CustomKeyStores.CustomKeyStoreType.ExternalKeyStore,
        CreationDate = Instant2,
        XksProxyUriEndpoint = "https://xks.example.com:8443",
        XksProxyUriPath = "/example-prefix/kms/xks/v1",
        XksProxyConnectivity = "VPC_ENDPOINT_SERVICE",
        XksProxyVpcEndpointServiceName = "com.amazonaws.vpce.us-east-1.vpce-svc-example",
        XksProxyAccessKeyId = "ABCDE12345670EXAMPLE",
        WrappedCredential = [42],
        ConnectionState = EnvelopeKms.CustomKeyStores.CustomKeyStoreConnectionState.Connected,
    };

    protected void AssertSameCustomKeyStore(CustomKeyStoreRecord expected, CustomKeyStoreRecord actual)
    {
        Assert.Equal(expected.CustomKeyStoreId, actual.CustomKeyStoreId);
        Assert.Equal(expected.CustomKeyStoreName, actual.CustomKeyStoreName);
        Assert.Equal(expected.CustomKeyStoreType, actual.CustomKeyStoreType);
        AssertSameInstant(expected.CreationDate, actual.CreationDate);
        Assert.Equal(expected.CloudHsmClusterId, actual.CloudHsmClusterId);
        Assert.Equal(expected.TrustAnchorCertificate, actual.TrustAnchorCertificate);
        Assert.Equal(expected.XksProxyUriEndpoint, actual.XksProxyUriEndpoint);
        Assert.Equal(expected.XksProxyUriPath, actual.XksProxyUriPath);
        Assert.Equal(expected.XksProxyConnectivity, actual.XksProxyConnectivity);
        Assert.Equal(expected.XksProxyVpcEndpointServiceName, actual.XksProxyVpcEndpointServiceName);
        Assert.Equal(expected.XksProxyAccessKeyId, actual.XksProxyAccessKeyId);
        Assert.Equal(expected.WrappedCredential, actual.WrappedCredential);
        Assert.Equal(expected.ConnectionState, actual.ConnectionState);
        Assert.Equal(expected.ConnectionErrorCode, actual.ConnectionErrorCode);
        Assert.Equal(expected.Seal ?? [], actual.Seal ?? []);
        Assert.Equal(expected.Version, actual.Version);
    }

    // ------------------------------------------------------------------ fixtures and assertions

    protected static KeyStoreMetadata Metadata(string checkValue, string? parameters, DateTimeOffset created) => new()
    {
        FormatVersion = 1,
        RootKeyCheckValue = checkValue,
        RootKeyParameters = parameters,
        CreationDate = created,
    };

    /// <summary>A key with only the required fields set.</summary>
    protected static KeyRecord MinimalKey(string keyId) => StoreRecords.MinimalKey(keyId, Instant3);

    /// <summary>A key with every field set to a non-default value, including awkward text and binary material.</summary>
    protected static KeyRecord FullKey(string keyId)
    {
        var material1 = new KeyMaterialRecord
        {
            KeyMaterialId = new string('a', 64),
            CreationDate = Instant1,
            WrappedMaterial = [0, 1, 2, 0xFF, 0, 0x7F, 0x80, .. Enumerable.Range(0, 54).Select(i => (byte)(i * 37))],
        };
        var material2 = new KeyMaterialRecord
        {
            KeyMaterialId = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(keyId))),
            CreationDate = Instant2,
            WrappedMaterial = SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("material of " + keyId)),
        };
        return new KeyRecord
        {
            KeyId = keyId,
            AccountId = "111122223333",
            CreationDate = Instant1,
            Description = "Ünïcödé ☃ \"quoted\" back\\slash\nnew line\ttab \u0001 𝄞",
            KeyState = KeyState.PendingDeletion,
            KeySpec = KeySpec.SymmetricDefault,
            KeyUsage = KeyUsage.EncryptDecrypt,
            Origin = KeyOrigin.External,
            KeyManager = KeyManagerType.Aws,
            DeletionDate = Instant2,
            PendingDeletionWindowInDays = 9,
            Tags = [new KeyTag("Name", "payments"), new KeyTag("empty", ""), new KeyTag("ünï:cöde", "☃ + = . _ : / @ -")],
            RotationPeriodInDays = 365,
            NextRotationDate = Instant3,
            Policy = PolicyDocument,
            CurrentKeyMaterialId = material2.KeyMaterialId,
            KeyMaterials = [material1, material2 with { RotationType = KeyRotationType.Automatic, EncryptionsReserved = 4096 }],
        };
    }

    /// <summary>A key policy document with awkward text.</summary>
    protected const string PolicyDocument =
        "{\"Version\":\"2012-10-17\",\"Id\":\"key-policy ☃\",\"Statement\":[{\"Sid\":\"Enable IAM \\\"quoted\\\"\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";

    /// <summary>The <paramref name="n"/>-th grant id: 64 lowercase hex characters.</summary>
    protected static string GrantId(int n) => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(n)));

    /// <summary>A grant with only the required fields set.</summary>
    protected static GrantRecord MinimalGrant(string keyId, string grantId, string grantee) => new()
    {
        KeyId = keyId,
        GrantId = grantId,
        GranteePrincipal = grantee,
        IssuingAccount = "arn:aws:iam::111122223333:root",
        Operations = ["Decrypt"],
        CreationDate = Instant3,
    };

    /// <summary>A grant with every field set, including awkward text and both encryption-context constraints.</summary>
    protected static GrantRecord FullGrant(string keyId, string grantId) => new()
    {
        KeyId = keyId,
        GrantId = grantId,
        Name = "payments:worker/grant_1-A",
        GranteePrincipal = "arn:aws:iam::444455556666:role/Payments-Wörker",
        RetiringPrincipal = "arn:aws:iam::111122223333:user/Admin",
        IssuingAccount = "arn:aws:iam::111122223333:root",
        Operations = ["CreateGrant", "Decrypt", "Encrypt", "GenerateDataKey", "RetireGrant"],
        EncryptionContextSubset = new Dictionary<string, string>(StringComparer.Ordinal) { ["tenant"] = "ü☃ \"q\"", ["Tenant"] = "", ["a:b/c"] = "x\ny" },
        EncryptionContextEquals = new Dictionary<string, string>(StringComparer.Ordinal) { ["purpose"] = "test" },
        CreationDate = Instant1,
        Seal = [0, 1, 2, 0xFF, 0x80, 0x7F, .. SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(grantId))],
    };

    /// <summary>Compares every field of two grants except the store-assigned version.</summary>
    protected void AssertSameGrant(GrantRecord expected, GrantRecord actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        Assert.Equal(expected.KeyId, actual.KeyId);
        Assert.Equal(expected.GrantId, actual.GrantId);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.GranteePrincipal, actual.GranteePrincipal);
        Assert.Equal(expected.RetiringPrincipal, actual.RetiringPrincipal);
        Assert.Equal(expected.IssuingAccount, actual.IssuingAccount);
        Assert.Equal(expected.Operations, actual.Operations);
        AssertSamePairs(expected.EncryptionContextSubset, actual.EncryptionContextSubset);
        AssertSamePairs(expected.EncryptionContextEquals, actual.EncryptionContextEquals);
        AssertSameInstant(expected.CreationDate, actual.CreationDate);
        Assert.Equal(expected.Seal ?? [], actual.Seal ?? []);
    }

    private static void AssertSamePairs(IReadOnlyDictionary<string, string>? expected, IReadOnlyDictionary<string, string>? actual)
    {
        Assert.Equal(expected is null, actual is null);
        if (expected is not null && actual is not null)
        {
            Assert.Equal(
                expected.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(),
                actual.OrderBy(p => p.Key, StringComparer.Ordinal).ToList());
        }
    }

    protected static AliasRecord Alias(string name, string target) => new()
    {
        AliasName = name,
        TargetKeyId = target,
        CreationDate = Instant1,
        LastUpdatedDate = Instant2,
    };

    /// <summary>Inserts <paramref name="count"/> full keys in a scrambled order and returns their ids.</summary>
    protected async Task<List<string>> InsertKeysAsync(IKeyStore store, int count)
    {
        ArgumentNullException.ThrowIfNull(store);
        var ids = Enumerable.Range(0, count).Select(_ => NewKeyId()).ToList();
        foreach (var id in ids.OrderByDescending(i => i[^4..], StringComparer.Ordinal))
        {
            await store.InsertKeyAsync(FullKey(id), Ct);
        }

        return ids;
    }

    /// <summary>
    /// Inserts aliases whose ordinal order differs from a culture-aware order (upper case before lower
    /// case, punctuation before letters) and returns their names; even indexes target
    /// <paramref name="keyA"/>, odd ones <paramref name="keyB"/>.
    /// </summary>
    protected static async Task<List<string>> InsertAliasesAsync(IKeyStore store, string keyA, string keyB)
    {
        ArgumentNullException.ThrowIfNull(store);
        List<string> names = ["alias/zeta", "alias/Zeta", "alias/alpha", "alias/Beta", "alias/a-b", "alias/a_b", "alias/a/b", "alias/ab", "alias/A1", "alias/a"];
        for (var i = names.Count - 1; i >= 0; i--)
        {
            await store.InsertAliasAsync(Alias(names[i], i % 2 == 0 ? keyA : keyB), Ct);
        }

        return names;
    }

    protected void AssertSameInstant(DateTimeOffset expected, DateTimeOffset actual)
    {
        Assert.Equal(expected.UtcTicks, actual.UtcTicks);
        if (PreservesDateTimeOffsetOffsets)
        {
            Assert.Equal(expected.Offset, actual.Offset);
        }
    }

    protected void AssertSameInstant(DateTimeOffset? expected, DateTimeOffset? actual)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is { } e && actual is { } a)
        {
            AssertSameInstant(e, a);
        }
    }

    protected void AssertSameMetadata(KeyStoreMetadata expected, KeyStoreMetadata actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        Assert.Equal(expected.FormatVersion, actual.FormatVersion);
        Assert.Equal(expected.RootKeyCheckValue, actual.RootKeyCheckValue);
        Assert.Equal(expected.RootKeyParameters, actual.RootKeyParameters);
        AssertSameInstant(expected.CreationDate, actual.CreationDate);
    }

    /// <summary>Compares every field of two keys except the store-assigned version.</summary>
    protected void AssertSameKey(KeyRecord expected, KeyRecord actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        Assert.Equal(expected.KeyId, actual.KeyId);
        Assert.Equal(expected.AccountId, actual.AccountId);
        AssertSameInstant(expected.CreationDate, actual.CreationDate);
        Assert.Equal(expected.Description, actual.Description);
        Assert.Equal(expected.KeyState, actual.KeyState);
        Assert.Equal(expected.KeySpec, actual.KeySpec);
        Assert.Equal(expected.KeyUsage, actual.KeyUsage);
        Assert.Equal(expected.Origin, actual.Origin);
        Assert.Equal(expected.KeyManager, actual.KeyManager);
        AssertSameInstant(expected.DeletionDate, actual.DeletionDate);
        Assert.Equal(expected.PendingDeletionWindowInDays, actual.PendingDeletionWindowInDays);
        Assert.Equal(expected.Tags, actual.Tags);
        Assert.Equal(expected.RotationPeriodInDays, actual.RotationPeriodInDays);
        AssertSameInstant(expected.NextRotationDate, actual.NextRotationDate);
        Assert.Equal(expected.Policy, actual.Policy);
        // A store may read an absent seal back as an empty one (the JSON contract writes a null byte array as "").
        Assert.Equal(expected.Seal ?? [], actual.Seal ?? []);
        Assert.Equal(expected.CurrentKeyMaterialId, actual.CurrentKeyMaterialId);
        Assert.Equal(expected.KeyMaterials.Count, actual.KeyMaterials.Count);
        foreach (var (e, a) in expected.KeyMaterials.Zip(actual.KeyMaterials))
        {
            Assert.Equal(e.KeyMaterialId, a.KeyMaterialId);
            AssertSameInstant(e.CreationDate, a.CreationDate);
            Assert.Equal(e.WrappedMaterial, a.WrappedMaterial);
            Assert.Equal(e.RotationType, a.RotationType);
            Assert.Equal(e.EncryptionsReserved, a.EncryptionsReserved);
        }
    }

    /// <summary>Compares every field of two aliases except the store-assigned version.</summary>
    protected void AssertSameAlias(AliasRecord expected, AliasRecord actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        Assert.Equal(expected.AliasName, actual.AliasName);
        Assert.Equal(expected.TargetKeyId, actual.TargetKeyId);
        AssertSameInstant(expected.CreationDate, actual.CreationDate);
        AssertSameInstant(expected.LastUpdatedDate, actual.LastUpdatedDate);
    }
}

/// <summary>
/// The <see cref="IKeyStore"/> contract for durable stores: everything of
/// <see cref="KeyStoreConformanceTests"/>, plus every write survives reopening the store.
/// </summary>
public abstract class DurableKeyStoreConformanceTests : KeyStoreConformanceTests
{
    /// <summary>Opens a second instance over the storage of the store <see cref="KeyStoreConformanceTests.CreateStore"/> returned last.</summary>
    protected abstract IKeyStore ReopenStore();

    [Fact]
    public async Task Metadata_survives_reopening()
    {
        var metadata = Metadata("check", "pbkdf2-sha256;i=1;s=AAAA", Instant1);
        await CreateStore().InitializeMetadataAsync(metadata, Ct);

        var reopened = ReopenStore();

        AssertSameMetadata(metadata, (await reopened.GetMetadataAsync(Ct))!);
        AssertSameMetadata(metadata, await reopened.InitializeMetadataAsync(Metadata("other", null, Instant2), Ct));
    }

    [Fact]
    public async Task Keys_aliases_and_versions_survive_reopening()
    {
        var store = CreateStore();
        var full = FullKey(NewKeyId());
        var minimal = MinimalKey(NewKeyId());
        var deleted = MinimalKey(NewKeyId());
        await store.InsertKeyAsync(full, Ct);
        var updated = await store.UpdateKeyAsync((await store.InsertKeyAsync(minimal, Ct)) with { Description = "updated" }, Ct);
        await store.DeleteKeyAsync(deleted.KeyId, (await store.InsertKeyAsync(deleted, Ct)).Version, Ct);
        var alias = await store.InsertAliasAsync(Alias("alias/Kept", full.KeyId), Ct);
        var moved = await store.UpdateAliasAsync(alias with { TargetKeyId = minimal.KeyId }, Ct);
        await store.DeleteAliasAsync("alias/gone", (await store.InsertAliasAsync(Alias("alias/gone", full.KeyId), Ct)).Version, Ct);

        var reopened = ReopenStore();

        AssertSameKey(full, (await reopened.GetKeyAsync(full.KeyId, Ct))!);
        var readUpdated = (await reopened.GetKeyAsync(minimal.KeyId, Ct))!;
        AssertSameKey(updated, readUpdated);
        Assert.Equal(2, readUpdated.Version);
        Assert.Null(await reopened.GetKeyAsync(deleted.KeyId, Ct));
        Assert.Equal(new[] { full.KeyId, minimal.KeyId }.Order(StringComparer.Ordinal), (await reopened.ListKeysAsync(null, 10, Ct)).Select(k => k.KeyId));
        var readAlias = (await reopened.GetAliasAsync("alias/Kept", Ct))!;
        AssertSameAlias(moved, readAlias);
        Assert.Equal(2, readAlias.Version);
        Assert.Null(await reopened.GetAliasAsync("alias/gone", Ct));

        // Versions carry over: the reopened store accepts the current version and rejects the old one.
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await reopened.UpdateKeyAsync(updated with { Version = 1 }, Ct));
        Assert.Equal(3, (await reopened.UpdateKeyAsync(readUpdated, Ct)).Version);
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await reopened.InsertKeyAsync(full, Ct));
    }

    [Fact]
    public async Task Grants_and_their_versions_survive_reopening_and_a_second_instance_sees_them()
    {
        var store = Grants(CreateStore());
        var key = NewKeyId();
        var full = FullGrant(key, GrantId(700));
        await store.InsertGrantAsync(full, Ct);
        await store.InsertGrantAsync(MinimalGrant(key, GrantId(701), "arn:aws:iam::111122223333:role/A"), Ct);
        await store.DeleteGrantAsync(key, GrantId(701), 1, Ct);

        var reopened = Grants(ReopenStore());

        AssertSameGrant(full, (await reopened.GetGrantAsync(key, full.GrantId, Ct))!);
        Assert.Null(await reopened.GetGrantAsync(key, GrantId(701), Ct));
        Assert.Equal(1, await reopened.CountGrantsAsync(key, Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await reopened.InsertGrantAsync(full, Ct));
        await reopened.DeleteGrantAsync(key, full.GrantId, 1, Ct);
        Assert.Null(await store.GetGrantAsync(key, full.GrantId, Ct));
    }

    [Fact]
    public async Task Custom_key_stores_and_their_versions_survive_reopening_and_a_second_instance_sees_them()
    {
        var store = CustomKeyStores(CreateStore());
        var full = FullHsmKeyStore(CustomKeyStoreId(40));
        var inserted = await store.InsertCustomKeyStoreAsync(full, Ct);
        await store.UpdateCustomKeyStoreAsync(inserted with { CustomKeyStoreName = "renamed" }, Ct);
        await store.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(41), "gone"), Ct);
        await store.DeleteCustomKeyStoreAsync(CustomKeyStoreId(41), 1, Ct);

        var reopened = CustomKeyStores(ReopenStore());

        AssertSameCustomKeyStore(full with { CustomKeyStoreName = "renamed", Version = 2 }, (await reopened.GetCustomKeyStoreAsync(full.CustomKeyStoreId, Ct))!);
        Assert.Single(await reopened.ListCustomKeyStoresAsync(Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await reopened.InsertCustomKeyStoreAsync(MinimalCustomKeyStore(CustomKeyStoreId(42), "renamed"), Ct));
        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await store.UpdateCustomKeyStoreAsync(inserted, Ct));
    }

    [Fact]
    public async Task Two_instances_over_the_same_storage_see_each_others_writes_and_conflicts()
    {
        var first = CreateStore();
        var second = ReopenStore();
        var inserted = await first.InsertKeyAsync(MinimalKey(NewKeyId()), Ct);

        var seen = (await second.GetKeyAsync(inserted.KeyId, Ct))!;
        await second.UpdateKeyAsync(seen with { Description = "by second" }, Ct);

        await Assert.ThrowsAsync<KeyStoreConflictException>(async () => await first.UpdateKeyAsync(inserted with { Description = "by first" }, Ct));
        Assert.Equal("by second", (await first.GetKeyAsync(inserted.KeyId, Ct))!.Description);
    }
}
