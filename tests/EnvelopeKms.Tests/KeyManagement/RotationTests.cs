using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>Automatic, on-demand and usage-based rotation, key-material versions, and rotation across instances.</summary>
public sealed class RotationTests
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["purpose"] = "rotation" };

    private static async Task<KeyMetadata> RotatingKeyAsync(TestKeyManager kms, int? period = null)
    {
        var key = await kms.Api().NewKeyAsync("rotating");
        await kms.Api().EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = period }, Kms.Ct);
        return key;
    }

    private static async Task<List<RotationsListEntry>> AllMaterialsAsync(IKeyManager km, string keyId)
    {
        var all = new List<RotationsListEntry>();
        string? marker = null;
        do
        {
            var page = await km.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = keyId, IncludeKeyMaterial = IncludeKeyMaterial.AllKeyMaterial, Limit = 2, Marker = marker }, Kms.Ct);
            all.AddRange(page.Items);
            marker = page.NextMarker;
        }
        while (marker is not null);
        return all;
    }

    // ---------------------------------------------------------------- automatic rotation

    [Fact]
    public async Task A_new_key_does_not_rotate_until_rotation_is_enabled()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("plain");

        var status = await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(5000));
        await kms.Api().EncryptBlobAsync(key.KeyId, [1]);

        Assert.False(status.KeyRotationEnabled);
        Assert.Null(status.RotationPeriodInDays);
        Assert.Null(status.NextRotationDate);
        Assert.Null(status.OnDemandRotationStartDate);
        Assert.Equal(Kms.KeyArn(key.KeyId), status.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, (await kms.Api().DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
    }

    [Fact]
    public async Task Enabling_rotation_without_a_period_schedules_it_365_days_out()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms);

        var status = await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.True(status.KeyRotationEnabled);
        Assert.Equal(365, status.RotationPeriodInDays);
        Assert.Equal(kms.Clock.GetUtcNow().AddDays(365), status.NextRotationDate);
    }

    [Fact]
    public async Task A_due_rotation_happens_exactly_at_the_boundary_and_not_a_tick_before()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        var due = kms.Clock.GetUtcNow().AddDays(90);

        kms.Clock.SetUtcNow(due.AddTicks(-1));
        var before = await kms.Api().EncryptBlobAsync(key.KeyId, [1], Context);
        Assert.Equal(key.CurrentKeyMaterialId, (await kms.Api().DescribeAsync(key.KeyId)).CurrentKeyMaterialId);

        kms.Clock.SetUtcNow(due);
        var after = await kms.Api().EncryptBlobAsync(key.KeyId, [2], Context);
        var rotated = await kms.Api().DescribeAsync(key.KeyId);

        Assert.NotEqual(key.CurrentKeyMaterialId, rotated.CurrentKeyMaterialId);
        var materials = await AllMaterialsAsync(kms.Api(), key.KeyId);
        Assert.Equal(2, materials.Count);
        Assert.Equal(KeyRotationType.Automatic, materials[1].RotationType);
        Assert.Equal(due, materials[1].RotationDate);
        Assert.Equal(KeyMaterialState.NonCurrent, materials[0].KeyMaterialState);
        Assert.Equal(KeyMaterialState.Current, materials[1].KeyMaterialState);
        Assert.Equal(due.AddDays(90), (await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct)).NextRotationDate);
        Assert.Equal([1], await kms.Api().DecryptBlobAsync(before, Context));
        Assert.Equal([2], await kms.Api().DecryptBlobAsync(after, Context));
        var audit = Assert.Single(kms.Audit.Events, e => e.Operation == KmsOperation.RotateKey);
        Assert.Equal(rotated.CurrentKeyMaterialId, audit.KeyMaterialId);
        Assert.Equal(KmsOutcome.Success, audit.Outcome);
    }

    [Fact]
    public async Task A_key_unused_for_several_periods_rotates_once_and_keeps_its_schedule_anchor()
    {
        using var kms = new TestKeyManager();
        var start = kms.Clock.GetUtcNow();
        var key = await RotatingKeyAsync(kms, period: 100);

        kms.Clock.SetUtcNow(start.AddDays(350));
        await kms.Api().EncryptBlobAsync(key.KeyId, [1]);

        Assert.Equal(2, (await AllMaterialsAsync(kms.Api(), key.KeyId)).Count);
        Assert.Equal(start.AddDays(400), (await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct)).NextRotationDate);
    }

    [Fact]
    public async Task RotateDueKeys_rotates_every_due_key_and_only_those()
    {
        using var kms = new TestKeyManager();
        var due1 = await RotatingKeyAsync(kms, period: 90);
        var due2 = await RotatingKeyAsync(kms, period: 90);
        var later = await RotatingKeyAsync(kms, period: 200);
        var plain = await kms.Api().NewKeyAsync("plain");
        kms.Clock.Advance(TimeSpan.FromDays(90));

        Assert.Equal(2, await kms.Api().RotateDueKeysAsync(Kms.Ct));
        Assert.Equal(0, await kms.Api().RotateDueKeysAsync(Kms.Ct));

        foreach (var (key, rotations) in new[] { (due1, 1), (due2, 1), (later, 0), (plain, 0) })
        {
            var listed = await kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct);
            Assert.Equal(rotations, listed.Items.Count);
        }
    }

    [Fact]
    public async Task Disabling_rotation_stops_it()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        await kms.Api().DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = key.KeyId }, Kms.Ct);

        kms.Clock.Advance(TimeSpan.FromDays(1000));
        await kms.Api().EncryptBlobAsync(key.KeyId, [1]);
        var status = await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(0, await kms.Api().RotateDueKeysAsync(Kms.Ct));
        Assert.False(status.KeyRotationEnabled);
        Assert.Null(status.NextRotationDate);
        Assert.Empty((await kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct)).Items);
    }

    [Fact]
    public async Task A_disabled_key_does_not_rotate_and_rotates_at_its_first_use_after_it_is_enabled_again()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        await kms.Api().DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(120));

        Assert.Equal(0, await kms.Api().RotateDueKeysAsync(Kms.Ct));
        Assert.Equal(key.CurrentKeyMaterialId, (await kms.Api().DescribeAsync(key.KeyId)).CurrentKeyMaterialId);

        await kms.Api().EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await kms.Api().EncryptBlobAsync(key.KeyId, [1]);

        Assert.NotEqual(key.CurrentKeyMaterialId, (await kms.Api().DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
    }

    [Theory]
    [InlineData(89)]
    [InlineData(2561)]
    [InlineData(0)]
    [InlineData(-365)]
    public async Task Rotation_periods_outside_90_to_2560_days_are_rejected_and_change_nothing(int days)
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("k");
        var before = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = days }, Kms.Ct));

        Assert.Contains("RotationPeriodInDays", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
    }

    [Theory]
    [InlineData(90)]
    [InlineData(2560)]
    public async Task The_bounds_of_the_rotation_period_are_accepted(int days)
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, days);

        Assert.Equal(days, (await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct)).RotationPeriodInDays);
    }

    [Fact]
    public async Task Changing_the_period_of_a_rotating_key_keeps_the_anchor_of_its_schedule()
    {
        using var kms = new TestKeyManager();
        var start = kms.Clock.GetUtcNow();
        var key = await RotatingKeyAsync(kms, period: 365);
        kms.Clock.Advance(TimeSpan.FromDays(30));

        await kms.Api().EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 180 }, Kms.Ct);

        Assert.Equal(start.AddDays(180), (await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct)).NextRotationDate);
    }

    // ---------------------------------------------------------------- on demand

    [Fact]
    public async Task On_demand_rotation_makes_new_material_current_and_old_ciphertexts_stay_readable()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("k");
        var old = await kms.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("old"), Context);

        var response = await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        var fresh = await kms.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("new"), Context);

        Assert.Equal(key.KeyId, response.KeyId);
        Assert.Matches("^[0-9a-f]{64}$", response.KeyMaterialId);
        Assert.Equal(response.KeyMaterialId, (await kms.Api().DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
        Assert.Equal(Kms.Utf8("old"), await kms.Api().DecryptBlobAsync(old, Context));
        Assert.Equal(Kms.Utf8("new"), await kms.Api().DecryptBlobAsync(fresh, Context));
        var listed = Assert.Single((await kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct)).Items);
        Assert.Equal(KeyRotationType.OnDemand, listed.RotationType);
        Assert.Equal(KeyMaterialState.Current, listed.KeyMaterialState);
    }

    [Fact]
    public async Task On_demand_rotation_does_not_move_the_automatic_schedule()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        var scheduled = (await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct)).NextRotationDate;
        kms.Clock.Advance(TimeSpan.FromDays(10));

        await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(scheduled, (await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct)).NextRotationDate);
    }

    [Fact]
    public async Task A_key_rotates_on_demand_at_most_25_times()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("k");
        for (var i = 0; i < 25; i++)
        {
            await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        }

        var before = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        var e = await Assert.ThrowsAsync<KmsLimitExceededException>(() => kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct));

        Assert.Equal("LimitExceededException", e.ErrorCode);
        Assert.Equal(before, await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
        Assert.Equal(25, (await AllMaterialsAsync(kms.Api(), key.KeyId)).Count(m => m.RotationType == KeyRotationType.OnDemand));
    }

    [Fact]
    public async Task Automatic_rotations_do_not_count_against_the_on_demand_limit()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        for (var i = 0; i < 25; i++)
        {
            await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        }

        kms.Clock.Advance(TimeSpan.FromDays(90));
        Assert.Equal(1, await kms.Api().RotateDueKeysAsync(Kms.Ct));
        Assert.Equal(27, (await AllMaterialsAsync(kms.Api(), key.KeyId)).Count);
    }

    [Fact]
    public async Task ReEncrypt_moves_an_old_ciphertext_to_the_current_material()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("k");
        var old = await kms.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("payload"), Context);
        var rotated = await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);

        var moved = await kms.Api().ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = old, SourceEncryptionContext = Context, DestinationKeyId = key.KeyId, DestinationEncryptionContext = Context }, Kms.Ct);
        using var decrypted = await kms.Api().DecryptAsync(new DecryptRequest { CiphertextBlob = moved.CiphertextBlob, EncryptionContext = Context }, Kms.Ct);

        Assert.Equal(Kms.Utf8("payload"), decrypted.Plaintext.ToArray());
        Assert.Equal(key.CurrentKeyMaterialId, MaterialIdOf(old));
        Assert.Equal(rotated.KeyMaterialId, MaterialIdOf(moved.CiphertextBlob));
    }

    // ---------------------------------------------------------------- what does not rotate

    [Theory]
    [InlineData("HMAC_256")]
    [InlineData("ECC_NIST_P256")]
    [InlineData("RSA_2048")]
    public async Task Asymmetric_and_hmac_keys_do_not_rotate(string spec)
    {
        using var kms = new TestKeyManager();
        var keySpec = Enum.GetValues<KeySpec>().Single(s => s.ToKmsName() == spec);
        var key = (await kms.Api().CreateKeyAsync(new CreateKeyRequest { KeySpec = keySpec, KeyUsage = KeySpecsUsage(keySpec) }, Kms.Ct)).KeyMetadata;

        Func<Task>[] calls =
        [
            () => kms.Api().EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId }, Kms.Ct),
            () => kms.Api().DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = key.KeyId }, Kms.Ct),
            () => kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct),
            () => kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct),
            () => kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct),
        ];
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(call);
            Assert.Contains(spec, e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The key-material id in a ciphertext's header (docs/ciphertext-format.md).</summary>
    private static string MaterialIdOf(byte[] blob) => Convert.ToHexStringLower(blob.AsSpan(3 + 36, 32));

    private static KeyUsage KeySpecsUsage(KeySpec spec) => spec.ToKmsName().StartsWith("HMAC", StringComparison.Ordinal) ? KeyUsage.GenerateVerifyMac : KeyUsage.SignVerify;

    [Fact]
    public async Task A_key_with_imported_material_reports_no_rotation_and_refuses_to_rotate()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("imported", KeyOrigin.External);

        var status = await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.False(status.KeyRotationEnabled);
        Assert.Empty((await kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct)).Items);
    }

    // ---------------------------------------------------------------- listing

    [Fact]
    public async Task ListKeyRotations_pages_oldest_first_and_lists_the_first_material_only_when_asked()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Api().NewKeyAsync("k");
        var ids = new List<string> { key.CurrentKeyMaterialId! };
        for (var i = 0; i < 4; i++)
        {
            kms.Clock.Advance(TimeSpan.FromDays(1));
            ids.Add((await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct)).KeyMaterialId);
        }

        var all = await AllMaterialsAsync(kms.Api(), key.KeyId);
        var rotationsOnly = await kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(ids, all.Select(m => m.KeyMaterialId));
        Assert.Null(all[0].RotationType);
        Assert.Equal(ids.Skip(1), rotationsOnly.Items.Select(m => m.KeyMaterialId));
        Assert.Equal([KeyMaterialState.NonCurrent, KeyMaterialState.NonCurrent, KeyMaterialState.NonCurrent, KeyMaterialState.NonCurrent, KeyMaterialState.Current], all.Select(m => m.KeyMaterialState));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.RotationDate < p.Second.RotationDate));
        await Assert.ThrowsAsync<KmsInvalidMarkerException>(() => kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId, Marker = "bm90IGEgbWFya2Vy" }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId, Limit = 0 }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId, IncludeKeyMaterial = (IncludeKeyMaterial)9 }, Kms.Ct));
    }

    // ---------------------------------------------------------------- usage-based rotation

    [Fact]
    public async Task A_key_rotates_automatically_before_its_material_passes_the_encryption_cap()
    {
        using var kms = new TestKeyManager(options: new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = 5 });
        var key = await kms.Api().NewKeyAsync("hot");
        var blobs = new List<byte[]>();

        for (var i = 0; i < 12; i++)
        {
            blobs.Add(await kms.Api().EncryptBlobAsync(key.KeyId, [(byte)i], Context));
        }

        var materials = await AllMaterialsAsync(kms.Api(), key.KeyId);
        Assert.Equal(3, materials.Count); // 5 + 5 + 2
        Assert.All(materials.Skip(1), m => Assert.Equal(KeyRotationType.Automatic, m.RotationType));
        var perMaterial = blobs.GroupBy(MaterialIdOf).Select(g => g.Count()).Order().ToList();
        Assert.Equal([2, 5, 5], perMaterial);
        for (var i = 0; i < blobs.Count; i++)
        {
            Assert.Equal([(byte)i], await kms.Api().DecryptBlobAsync(blobs[i], Context));
        }

        var stored = (await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!;
        Assert.All(stored.KeyMaterials.SkipLast(1), m => Assert.Equal(5, m.EncryptionsReserved));
        Assert.Equal(2, stored.KeyMaterials[^1].EncryptionsReserved);
        Assert.Equal(2, kms.Audit.Events.Count(e => e.Operation == KmsOperation.RotateKey));
    }

    [Fact]
    public async Task Encryption_counts_survive_a_restart_as_an_upper_bound()
    {
        using var directory = new TemporaryStoreDirectory("usage");
        var path = Path.Combine(directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(new byte[32]);
        var options = new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = 4096 }; // A block of 4 per reservation.
        string keyId;
        using (var first = new TestKeyManager(new SqliteKeyStore(path), root, options))
        {
            keyId = (await first.Api().NewKeyAsync("k")).KeyId;
            for (var i = 0; i < 5; i++)
            {
                await first.Api().EncryptBlobAsync(keyId, [1]);
            }

            // 5 encryptions took two blocks of 4.
            Assert.Equal(8, (await first.Store.GetKeyAsync(keyId, Kms.Ct))!.KeyMaterials[0].EncryptionsReserved);
        }

        using var second = new TestKeyManager(new SqliteKeyStore(path), root, options);
        await second.Api().EncryptBlobAsync(keyId, [1]);

        // The restart gave up the 3 unused encryptions of the first instance's block: counted, never lost.
        Assert.Equal(4, KeyManager.EncryptionBlock(4096));
        Assert.Equal(12, (await second.Store.GetKeyAsync(keyId, Kms.Ct))!.KeyMaterials[0].EncryptionsReserved);
    }

    [Fact]
    public async Task Encryption_cap_option_is_validated()
    {
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new TestKeyManager(options: new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = 0 }));
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new TestKeyManager(options: new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = (1L << 32) + 1 }));
        Assert.Equal(1L << 28, new EnvelopeKmsOptions().MaxEncryptionsPerKeyMaterial);
        await Task.CompletedTask;
    }

    // ---------------------------------------------------------------- notifications, integrity

    [Fact]
    public async Task A_rotation_raises_KeyChanged_so_that_cached_data_keys_are_dropped()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        var changes = new List<KeyChangedEventArgs>();
        kms.Manager.KeyChanged += (_, e) => changes.Add(e);

        await kms.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(90));
        await kms.Api().RotateDueKeysAsync(Kms.Ct);

        Assert.Equal([KmsOperation.RotateKeyOnDemand, KmsOperation.RotateKey], changes.Select(c => c.Operation));
        Assert.All(changes, c => Assert.Equal(key.KeyId, c.KeyId));
    }

    [Fact]
    public async Task A_forged_rotation_schedule_is_an_integrity_error()
    {
        using var kms = new TestKeyManager();
        var key = await RotatingKeyAsync(kms, period: 90);
        var record = (await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!;
        await kms.Store.UpdateKeyAsync(record with { NextRotationDate = record.NextRotationDate!.Value.AddYears(10) }, Kms.Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task A_forged_lower_encryption_count_is_an_integrity_error()
    {
        using var kms = new TestKeyManager(options: new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = 3 });
        var key = await kms.Api().NewKeyAsync("k");
        await kms.Api().EncryptBlobAsync(key.KeyId, [1]);
        var record = (await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!;
        await kms.Store.UpdateKeyAsync(record with { KeyMaterials = [record.KeyMaterials[0] with { EncryptionsReserved = 0 }] }, Kms.Ct);

        await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => kms.Api().DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, Kms.Ct));
    }

    // ---------------------------------------------------------------- many instances on one store

    [Fact]
    public async Task A_rotation_by_one_instance_is_used_at_once_by_another_sharing_the_store()
    {
        using var directory = new TemporaryStoreDirectory("two");
        var path = Path.Combine(directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(new byte[32]);
        using var a = new TestKeyManager(new SqliteKeyStore(path), root);
        using var b = new TestKeyManager(new SqliteKeyStore(path), root);
        var key = await a.Api().NewKeyAsync("shared");
        var oldFromB = await b.Api().EncryptBlobAsync(key.KeyId, [1], Context);

        var rotated = await a.Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        var newFromA = await a.Api().EncryptBlobAsync(key.KeyId, [2], Context);
        var newFromB = await b.Api().EncryptBlobAsync(key.KeyId, [3], Context);

        Assert.Equal([2], await b.Api().DecryptBlobAsync(newFromA, Context));
        Assert.Equal([1], await a.Api().DecryptBlobAsync(oldFromB, Context));
        Assert.Equal(rotated.KeyMaterialId, b.Audit.Events[^2].KeyMaterialId); // b's encryption after the rotation used the new material.
        Assert.Equal([3], await a.Api().DecryptBlobAsync(newFromB, Context));
    }

    [Fact]
    public async Task Concurrent_rotations_from_two_instances_never_lose_one_or_duplicate_a_version()
    {
        using var directory = new TemporaryStoreDirectory("race");
        var path = Path.Combine(directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(new byte[32]);
        var options = new EnvelopeKmsOptions { MaxConflictRetries = 100 };
        using var a = new TestKeyManager(new SqliteKeyStore(path), root, options);
        using var b = new TestKeyManager(new SqliteKeyStore(path), root, options);
        var key = await a.Api().NewKeyAsync("raced");

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() =>
            (i % 2 == 0 ? a : b).Api().RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct))));

        var materials = await AllMaterialsAsync(a.Api(), key.KeyId);
        Assert.Equal(11, materials.Count);
        Assert.Equal(11, materials.Select(m => m.KeyMaterialId).Distinct().Count());
        Assert.Equal(results.Select(r => r.KeyMaterialId).Order(), materials.Skip(1).Select(m => m.KeyMaterialId).Order());
        Assert.Single(materials, m => m.KeyMaterialState == KeyMaterialState.Current);
    }

    [Fact]
    public async Task Two_instances_applying_the_same_due_rotation_at_once_make_one_new_material()
    {
        using var directory = new TemporaryStoreDirectory("due-race");
        var path = Path.Combine(directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(new byte[32]);
        using var a = new TestKeyManager(new SqliteKeyStore(path), root);
        using var b = new TestKeyManager(new SqliteKeyStore(path), root);
        var key = await a.Api().NewKeyAsync("due");
        await a.Api().EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 }, Kms.Ct);
        a.Clock.Advance(TimeSpan.FromDays(90));
        b.Clock.Advance(TimeSpan.FromDays(90));

        await Task.WhenAll(
            Task.Run(() => a.Api().EncryptBlobAsync(key.KeyId, [1])),
            Task.Run(() => b.Api().EncryptBlobAsync(key.KeyId, [2])),
            Task.Run(() => a.Api().RotateDueKeysAsync(Kms.Ct)),
            Task.Run(() => b.Api().RotateDueKeysAsync(Kms.Ct)));

        Assert.Equal(2, (await AllMaterialsAsync(a.Api(), key.KeyId)).Count);
    }
}
