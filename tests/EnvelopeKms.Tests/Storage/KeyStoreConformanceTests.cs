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
            CurrentKeyMaterialId = material2.KeyMaterialId,
            KeyMaterials = [material1, material2],
        };
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
        Assert.Equal(expected.CurrentKeyMaterialId, actual.CurrentKeyMaterialId);
        Assert.Equal(expected.KeyMaterials.Count, actual.KeyMaterials.Count);
        foreach (var (e, a) in expected.KeyMaterials.Zip(actual.KeyMaterials))
        {
            Assert.Equal(e.KeyMaterialId, a.KeyMaterialId);
            AssertSameInstant(e.CreationDate, a.CreationDate);
            Assert.Equal(e.WrappedMaterial, a.WrappedMaterial);
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
