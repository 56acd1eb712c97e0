using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EnvelopeKms.MultiRegion;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Import;
using EnvelopeKms.Tests.KeyManagement;
using static EnvelopeKms.Tests.MultiRegion.Regions;

namespace EnvelopeKms.Tests.MultiRegion;

/// <summary>Multi-Region keys across key managers of one <see cref="KmsRegionGroup"/>: replication, cross-Region use, rotation, failover, deletion.</summary>
public sealed partial class MultiRegionKeyTests
{
    private static CancellationToken Ct => Kms.Ct;

    private static async Task<KeyMetadata> NewMultiRegionKeyAsync(IKeyManager km, KeySpec spec = KeySpec.SymmetricDefault, KeyUsage usage = KeyUsage.EncryptDecrypt, KeyOrigin origin = KeyOrigin.AwsKms)
        => (await km.CreateKeyAsync(new CreateKeyRequest { Description = "mrk", KeySpec = spec, KeyUsage = usage, Origin = origin, MultiRegion = true }, Ct)).KeyMetadata;

    private static Task<ReplicateKeyResponse> ReplicateAsync(IKeyManager km, string keyId, string region, string? policy = null, IReadOnlyList<KeyTag>? tags = null, string? description = null)
        => km.ReplicateKeyAsync(new ReplicateKeyRequest { KeyId = keyId, ReplicaRegion = region, Policy = policy, Tags = tags, Description = description }, Ct);

    [GeneratedRegex("^mrk-[0-9a-f]{32}$")]
    private static partial Regex MultiRegionKeyId();

    [Fact]
    public async Task CreateKey_with_MultiRegion_makes_an_mrk_key_that_is_its_own_primary()
    {
        using var regions = new Regions(East, West);
        var key = await NewMultiRegionKeyAsync(regions.Api(East));

        Assert.Matches(MultiRegionKeyId(), key.KeyId);
        Assert.True(key.MultiRegion);
        var config = Assert.IsType<MultiRegionConfiguration>(key.MultiRegionConfiguration);
        Assert.Equal(MultiRegionKeyType.Primary, config.MultiRegionKeyType);
        Assert.Equal(new MultiRegionKey(ArnIn(East, key.KeyId), East), config.PrimaryKey);
        Assert.Empty(config.ReplicaKeys);

        var single = await regions.Api(East).NewKeyAsync("single");
        Assert.False(single.MultiRegion);
        Assert.Null(single.MultiRegionConfiguration);
    }

    [Fact]
    public async Task A_replica_shares_id_material_spec_and_usage_and_ciphertext_decrypts_in_either_Region()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var west = regions.Api(West);
        var key = await NewMultiRegionKeyAsync(east);
        var context = new Dictionary<string, string> { ["purpose"] = "test" };
        var fromEast = await east.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = Kms.Utf8("made in the east"), EncryptionContext = context }, Ct);

        var response = await ReplicateAsync(east, key.KeyId, West, description: "west copy", tags: [new KeyTag("region", "west")]);

        var replica = response.ReplicaKeyMetadata;
        Assert.Equal(key.KeyId, replica.KeyId);
        Assert.Equal(ArnIn(West, key.KeyId), replica.Arn);
        Assert.Equal((key.KeySpec, key.KeyUsage, key.Origin, key.CurrentKeyMaterialId), (replica.KeySpec, replica.KeyUsage, replica.Origin, replica.CurrentKeyMaterialId));
        Assert.Equal(KeyState.Enabled, replica.KeyState);
        Assert.Equal("west copy", replica.Description);
        Assert.Equal([new KeyTag("region", "west")], response.ReplicaTags);
        Assert.Contains("kms:*", response.ReplicaPolicy, StringComparison.Ordinal);
        Assert.Equal(MultiRegionKeyType.Replica, replica.MultiRegionConfiguration!.MultiRegionKeyType);
        Assert.Equal(new MultiRegionKey(ArnIn(East, key.KeyId), East), replica.MultiRegionConfiguration.PrimaryKey);
        Assert.Equal([new MultiRegionKey(ArnIn(West, key.KeyId), West)], replica.MultiRegionConfiguration.ReplicaKeys);

        var primary = (await east.DescribeAsync(key.KeyId)).MultiRegionConfiguration!;
        Assert.Equal(MultiRegionKeyType.Primary, primary.MultiRegionKeyType);
        Assert.Equal([new MultiRegionKey(ArnIn(West, key.KeyId), West)], primary.ReplicaKeys);

        using var decrypted = await west.DecryptAsync(new DecryptRequest { CiphertextBlob = fromEast.CiphertextBlob, EncryptionContext = context }, Ct);
        Assert.Equal("made in the east", Encoding.UTF8.GetString(decrypted.Plaintext));
        Assert.Equal(ArnIn(West, key.KeyId), decrypted.KeyId);
        Assert.Equal(fromEast.KeyMaterialId, decrypted.KeyMaterialId);

        var fromWest = await west.EncryptBlobAsync(key.KeyId, Kms.Utf8("made in the west"));
        Assert.Equal(Kms.Utf8("made in the west"), await east.DecryptBlobAsync(fromWest));
    }

    [Fact]
    public async Task An_HMAC_replica_verifies_the_MACs_of_its_primary()
    {
        using var regions = new Regions(East, West);
        var key = await NewMultiRegionKeyAsync(regions.Api(East), KeySpec.Hmac256, KeyUsage.GenerateVerifyMac);
        await ReplicateAsync(regions.Api(East), key.KeyId, West);
        var message = Kms.Utf8("message");

        var mac = await regions.Api(East).GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = message, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct);
        var verified = await regions.Api(West).VerifyMacAsync(new VerifyMacRequest { KeyId = key.KeyId, Message = message, Mac = mac.Mac, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct);

        Assert.True(verified.MacValid);
    }

    [Fact]
    public async Task An_asymmetric_replica_has_the_same_public_key_and_verifies_the_primarys_signatures()
    {
        using var regions = new Regions(East, West);
        var key = await NewMultiRegionKeyAsync(regions.Api(East), KeySpec.EccNistP256, KeyUsage.SignVerify);
        await ReplicateAsync(regions.Api(East), key.KeyId, West);
        var message = Kms.Utf8("signed in the east");

        var signature = await regions.Api(East).SignAsync(new SignRequest { KeyId = key.KeyId, Message = message, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct);
        var verified = await regions.Api(West).VerifyAsync(new VerifyRequest { KeyId = key.KeyId, Message = message, Signature = signature.Signature, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct);

        Assert.True(verified.SignatureValid);
        var eastPublic = await regions.Api(East).GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct);
        var westPublic = await regions.Api(West).GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(eastPublic.PublicKey, westPublic.PublicKey);
    }

    [Fact]
    public async Task Rotation_of_the_primary_on_demand_and_automatic_and_its_settings_reach_every_replica()
    {
        using var regions = new Regions(East, West, Europe);
        var east = regions.Api(East);
        var key = await NewMultiRegionKeyAsync(east);
        await ReplicateAsync(east, key.KeyId, West);
        await ReplicateAsync(east, key.KeyId, Europe);

        await east.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 }, Ct);
        foreach (var region in new[] { West, Europe })
        {
            var status = await regions.Api(region).GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Ct);
            Assert.True(status.KeyRotationEnabled);
            Assert.Equal(90, status.RotationPeriodInDays);
        }

        var onDemand = await east.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Ct);
        var blob = await east.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = Kms.Utf8("after rotation") }, Ct);
        Assert.Equal(onDemand.KeyMaterialId, blob.KeyMaterialId);
        foreach (var region in new[] { West, Europe })
        {
            Assert.Equal(onDemand.KeyMaterialId, (await regions.Api(region).DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
            Assert.Equal(Kms.Utf8("after rotation"), await regions.Api(region).DecryptBlobAsync(blob.CiphertextBlob));
        }

        // Automatic: the primary's schedule comes due; the replicas do not rotate on their own, the primary's rotation reaches them.
        regions[East].Clock.Advance(TimeSpan.FromDays(91));
        regions[West].Clock.Advance(TimeSpan.FromDays(91));
        Assert.Equal(0, await regions[West].Manager.RotateDueKeysAsync(Ct));
        Assert.Equal(1, await regions[East].Manager.RotateDueKeysAsync(Ct));
        var automatic = (await east.DescribeAsync(key.KeyId)).CurrentKeyMaterialId;
        Assert.NotEqual(onDemand.KeyMaterialId, automatic);
        foreach (var region in new[] { West, Europe })
        {
            var rotations = await regions.Api(region).ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Ct);
            Assert.Equal([onDemand.KeyMaterialId, automatic], rotations.Items.Select(r => r.KeyMaterialId));
            Assert.Equal([KeyRotationType.OnDemand, KeyRotationType.Automatic], rotations.Items.Select(r => r.RotationType!.Value));
        }

        await east.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = key.KeyId }, Ct);
        Assert.False((await regions.Api(West).GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Ct)).KeyRotationEnabled);
    }

    [Fact]
    public async Task A_replica_refuses_rotation_and_its_settings_with_UnsupportedOperationException()
    {
        using var regions = new Regions(East, West);
        var key = await NewMultiRegionKeyAsync(regions.Api(East));
        await ReplicateAsync(regions.Api(East), key.KeyId, West);
        var west = regions.Api(West);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => west.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => west.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => west.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = key.KeyId }, Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => ReplicateAsync(west, key.KeyId, East));
    }

    [Fact]
    public async Task UpdatePrimaryRegion_swaps_the_roles_and_the_new_primary_rotates_for_both()
    {
        using var regions = new Regions(East, West, Europe);
        var east = regions.Api(East);
        var west = regions.Api(West);
        var key = await NewMultiRegionKeyAsync(east);
        await east.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 180 }, Ct);
        await ReplicateAsync(east, key.KeyId, West);
        await ReplicateAsync(east, key.KeyId, Europe);

        await east.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = West }, Ct);

        var expectedReplicas = new[] { new MultiRegionKey(ArnIn(Europe, key.KeyId), Europe), new MultiRegionKey(ArnIn(East, key.KeyId), East) };
        foreach (var (region, type) in new[] { (East, MultiRegionKeyType.Replica), (West, MultiRegionKeyType.Primary), (Europe, MultiRegionKeyType.Replica) })
        {
            var config = (await regions.Api(region).DescribeAsync(key.KeyId)).MultiRegionConfiguration!;
            Assert.Equal(type, config.MultiRegionKeyType);
            Assert.Equal(new MultiRegionKey(ArnIn(West, key.KeyId), West), config.PrimaryKey);
            Assert.Equal(expectedReplicas, config.ReplicaKeys);
        }

        Assert.Equal(180, (await west.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = key.KeyId }, Ct)).RotationPeriodInDays);
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => east.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Ct));
        var rotated = await west.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(rotated.KeyMaterialId, (await east.DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
        Assert.Equal(rotated.KeyMaterialId, (await regions.Api(Europe).DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
        var blob = await west.EncryptBlobAsync(key.KeyId, Kms.Utf8("from the new primary"));
        Assert.Equal(Kms.Utf8("from the new primary"), await east.DecryptBlobAsync(blob));

        // And back again, from the new primary's Region.
        await west.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = East }, Ct);
        Assert.Equal(MultiRegionKeyType.Primary, (await east.DescribeAsync(key.KeyId)).MultiRegionConfiguration!.MultiRegionKeyType);
    }

    [Fact]
    public async Task After_a_failover_the_replica_decrypts_what_the_lost_primary_encrypted()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var key = await NewMultiRegionKeyAsync(east);
        await ReplicateAsync(east, key.KeyId, West);
        await east.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Ct);
        var blob = await east.EncryptBlobAsync(key.KeyId, Kms.Utf8("before the outage"));

        regions[East].Manager.Dispose();

        Assert.Equal([West], regions.Group.Regions);
        var west = regions.Api(West);
        Assert.Equal(Kms.Utf8("before the outage"), await west.DecryptBlobAsync(blob));
        var during = await west.EncryptBlobAsync(key.KeyId, Kms.Utf8("during the outage"));
        Assert.Equal(Kms.Utf8("during the outage"), await west.DecryptBlobAsync(during));
        Assert.Equal(MultiRegionKeyType.Replica, (await west.DescribeAsync(key.KeyId)).MultiRegionConfiguration!.MultiRegionKeyType);
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => west.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = West }, Ct));
    }

    [Fact]
    public async Task Policy_aliases_tags_description_and_state_are_each_Regions_own()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var west = regions.Api(West);
        var key = await NewMultiRegionKeyAsync(east);
        await east.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [new KeyTag("team", "east")] }, Ct);
        var policy = KeyManager.DefaultKeyPolicy("000000000000").Replace("Enable IAM User Permissions", "West administrators", StringComparison.Ordinal);
        await ReplicateAsync(east, key.KeyId, West, policy: policy, tags: [new KeyTag("team", "west")], description: "west");
        await west.CreateAliasAsync("alias/west-only", key.KeyId);

        Assert.Equal(policy, (await west.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId }, Ct)).Policy);
        Assert.NotEqual(policy, (await east.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = key.KeyId }, Ct)).Policy);
        Assert.Equal([new KeyTag("team", "east")], await east.AllTagsAsync(key.KeyId));
        Assert.Equal([new KeyTag("team", "west")], await west.AllTagsAsync(key.KeyId));
        Assert.Equal("mrk", (await east.DescribeAsync(key.KeyId)).Description);
        Assert.Empty(await east.AllAliasesAsync(key.KeyId));
        Assert.Single(await west.AllAliasesAsync(key.KeyId));

        await west.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(KeyState.Disabled, (await west.DescribeAsync(key.KeyId)).KeyState);
        Assert.Equal(KeyState.Enabled, (await east.DescribeAsync(key.KeyId)).KeyState);
        await Assert.ThrowsAsync<KmsDisabledException>(() => west.EncryptBlobAsync("alias/west-only", Kms.Utf8("x")));
        await east.EncryptBlobAsync(key.KeyId, Kms.Utf8("x"));
    }

    [Fact]
    public async Task Policies_can_condition_on_the_replica_Region_and_the_multi_Region_key_type()
    {
        using var regions = new Regions(East, West, Europe);
        var east = regions.Api(East);
        const string NoEurope = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"NoEurope","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:ReplicateKey","Resource":"*","Condition":{"StringEquals":{"kms:ReplicaRegion":"eu-west-1"}}}]}
            """;
        const string DecryptOnlyOnReplicas = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"DecryptOnly","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:MultiRegionKeyType":"REPLICA"},"Bool":{"kms:MultiRegion":"true"}}}]}
            """;
        var key = (await east.CreateKeyAsync(new CreateKeyRequest { MultiRegion = true, Policy = NoEurope }, Ct)).KeyMetadata;

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => ReplicateAsync(east, key.KeyId, Europe));
        await ReplicateAsync(east, key.KeyId, West, policy: DecryptOnlyOnReplicas);

        var blob = await east.EncryptBlobAsync(key.KeyId, Kms.Utf8("east"));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => regions.Api(West).EncryptBlobAsync(key.KeyId, Kms.Utf8("west")));
        Assert.Equal(Kms.Utf8("east"), await regions.Api(West).DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task ReplicateKey_and_UpdatePrimaryRegion_fail_as_AWS_KMS_does()
    {
        using var regions = new Regions(East, West, Europe);
        var east = regions.Api(East);
        var single = await east.NewKeyAsync("single");
        var key = await NewMultiRegionKeyAsync(east);

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => ReplicateAsync(east, single.KeyId, West));
        await Assert.ThrowsAsync<KmsValidationException>(() => ReplicateAsync(east, key.KeyId, East));
        await Assert.ThrowsAsync<KmsValidationException>(() => ReplicateAsync(east, key.KeyId, "Not A Region"));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => ReplicateAsync(east, key.KeyId, "ap-south-1"));
        await ReplicateAsync(east, key.KeyId, West);
        await Assert.ThrowsAsync<KmsAlreadyExistsException>(() => ReplicateAsync(east, key.KeyId, West));

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => east.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = single.KeyId, PrimaryRegion = West }, Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => east.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = Europe }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => east.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = East }, Ct));
        await regions.Api(West).DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Ct);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => east.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = West }, Ct));
        await east.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Ct);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => east.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = key.KeyId, PrimaryRegion = West }, Ct));

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => east.CreateKeyAsync(new CreateKeyRequest { Origin = KeyOrigin.AwsCloudHsm, MultiRegion = true }, Ct));
        Assert.Equal(KeyState.Enabled, (await east.DescribeAsync(single.KeyId)).KeyState);
    }

    [Fact]
    public async Task A_primary_with_replicas_waits_in_PendingReplicaDeletion_until_its_last_replica_is_purged()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var west = regions.Api(West);
        var key = await NewMultiRegionKeyAsync(east);
        await ReplicateAsync(east, key.KeyId, West);

        var scheduled = await east.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Ct);
        Assert.Equal(KeyState.PendingReplicaDeletion, scheduled.KeyState);
        var waiting = await east.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.PendingReplicaDeletion, waiting.KeyState);
        Assert.Null(waiting.DeletionDate);
        Assert.Equal(7, waiting.PendingDeletionWindowInDays);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => east.EncryptBlobAsync(key.KeyId, Kms.Utf8("x")));

        // Cancelling works in PendingReplicaDeletion too; schedule again.
        await east.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key.KeyId }, Ct);
        Assert.Equal(KeyState.Disabled, (await east.DescribeAsync(key.KeyId)).KeyState);
        await east.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Ct);

        // Many days later the primary still waits: its replica exists.
        regions[East].Clock.Advance(TimeSpan.FromDays(40));
        Assert.Equal(0, await regions[East].Manager.PurgeExpiredKeysAsync(Ct));

        await west.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Ct);
        Assert.Equal(KeyState.PendingDeletion, (await west.DescribeAsync(key.KeyId)).KeyState);
        regions[West].Clock.Advance(TimeSpan.FromDays(8));
        Assert.Equal(1, await regions[West].Manager.PurgeExpiredKeysAsync(Ct));

        var pending = await east.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.PendingDeletion, pending.KeyState);
        Assert.Equal(regions[East].Clock.GetUtcNow().AddDays(7), pending.DeletionDate);
        Assert.Empty(pending.MultiRegionConfiguration!.ReplicaKeys);
        regions[East].Clock.Advance(TimeSpan.FromDays(8));
        Assert.Equal(1, await regions[East].Manager.PurgeExpiredKeysAsync(Ct));
    }

    [Fact]
    public async Task A_Region_unreachable_during_a_rotation_catches_up_with_SynchronizeAsync()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var key = await NewMultiRegionKeyAsync(east);
        await ReplicateAsync(east, key.KeyId, West);

        Assert.True(regions.Group.Leave(regions[West].Manager));
        var rotated = await east.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Ct);
        Assert.NotEqual(rotated.KeyMaterialId, (await regions.Api(West).DescribeAsync(key.KeyId)).CurrentKeyMaterialId);

        regions.Group.Join(regions[West].Manager);
        Assert.Equal(1, await regions.Group.SynchronizeAsync(Ct));
        Assert.Equal(rotated.KeyMaterialId, (await regions.Api(West).DescribeAsync(key.KeyId)).CurrentKeyMaterialId);
        Assert.Equal(0, await regions.Group.SynchronizeAsync(Ct));
    }

    [Fact]
    public async Task An_imported_multi_Region_key_replicates_without_its_material_and_takes_the_same_material_again()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var west = regions.Api(West);
        var key = await NewMultiRegionKeyAsync(east, origin: KeyOrigin.External);
        var material = Enumerable.Range(40, 32).Select(i => (byte)i).ToArray();
        await east.ImportAsync(key.KeyId, material);
        var blob = await east.EncryptBlobAsync(key.KeyId, Kms.Utf8("imported"));

        var replica = (await ReplicateAsync(east, key.KeyId, West)).ReplicaKeyMetadata;
        Assert.Equal(KeyState.PendingImport, replica.KeyState);
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => west.ImportAsync(key.KeyId, new byte[32]));

        await west.ImportAsync(key.KeyId, material);
        Assert.Equal(Kms.Utf8("imported"), await west.DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task Records_in_every_Region_never_hold_plaintext_key_material()
    {
        using var regions = new Regions(East, West);
        var east = regions.Api(East);
        var symmetric = await NewMultiRegionKeyAsync(east);
        var signing = await NewMultiRegionKeyAsync(east, KeySpec.EccNistP256, KeyUsage.SignVerify);
        await ReplicateAsync(east, symmetric.KeyId, West);
        await ReplicateAsync(east, signing.KeyId, West);
        await east.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = symmetric.KeyId }, Ct);
        await regions.Api(West).EncryptBlobAsync(symmetric.KeyId, Kms.Utf8("x"));
        await regions.Api(West).SignAsync(new SignRequest { KeyId = signing.KeyId, Message = Kms.Utf8("m"), SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Ct);

        var secrets = regions[East].Manager.UnwrappedMaterialsForTests.Concat(regions[West].Manager.UnwrappedMaterialsForTests).Select(m => m.ToArray()).ToList();
        Assert.True(secrets.Count >= 5);
        foreach (var region in new[] { East, West })
        {
            var records = await regions[region].Store.ListKeysAsync(null, int.MaxValue, Ct);
            Assert.All(records, r => Assert.True(r.MultiRegion is not null));
            var text = string.Join('\n', records.Select(r => JsonSerializer.Serialize(r, KeyStoreJson.KeyRecord)));
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(Convert.ToBase64String(secret)[..24], text, StringComparison.Ordinal);
                Assert.DoesNotContain(Convert.ToHexStringLower(secret)[..24], text, StringComparison.Ordinal);
            }
        }

        // Each Region's copy is wrapped by its own root key: the two stores hold different bytes for the same material.
        var eastRecord = await regions[East].Store.GetKeyAsync(symmetric.KeyId, Ct);
        var westRecord = await regions[West].Store.GetKeyAsync(symmetric.KeyId, Ct);
        Assert.NotEqual(eastRecord!.KeyMaterials[0].WrappedMaterial, westRecord!.KeyMaterials[0].WrappedMaterial);
    }

    [Fact]
    public async Task A_store_write_failing_in_the_replica_Region_leaves_no_replica_and_the_primary_unchanged()
    {
        var westStore = new FaultyKeyStore();
        using var regions = new Regions(new Dictionary<string, IKeyStore> { [West] = westStore }, East, West);
        var east = regions.Api(East);
        var key = await NewMultiRegionKeyAsync(east);
        westStore.FailInsert = _ => true;

        await Assert.ThrowsAsync<KmsStorageUnavailableException>(() => ReplicateAsync(east, key.KeyId, West));

        Assert.Null(await westStore.GetKeyAsync(key.KeyId, Ct));
        Assert.Empty((await east.DescribeAsync(key.KeyId)).MultiRegionConfiguration!.ReplicaKeys);
        westStore.FailInsert = null;
        await ReplicateAsync(east, key.KeyId, West);
        Assert.Single((await east.DescribeAsync(key.KeyId)).MultiRegionConfiguration!.ReplicaKeys);
    }

    [Fact]
    public async Task A_store_write_failing_in_the_primary_Region_takes_the_new_replica_away_again()
    {
        var eastStore = new FaultyKeyStore();
        using var regions = new Regions(new Dictionary<string, IKeyStore> { [East] = eastStore }, East, West);
        var east = regions.Api(East);
        var key = await NewMultiRegionKeyAsync(east);
        eastStore.FailUpdate = r => r.MultiRegion?.ReplicaRegions.Count > 0;

        await Assert.ThrowsAsync<KmsStorageUnavailableException>(() => ReplicateAsync(east, key.KeyId, West));

        Assert.Null(await regions[West].Store.GetKeyAsync(key.KeyId, Ct));
        Assert.Empty((await east.DescribeAsync(key.KeyId)).MultiRegionConfiguration!.ReplicaKeys);
        eastStore.FailUpdate = null;
        await ReplicateAsync(east, key.KeyId, West);
        Assert.Equal(Kms.Utf8("y"), await regions.Api(West).DecryptBlobAsync(await east.EncryptBlobAsync(key.KeyId, Kms.Utf8("y"))));
    }

    [Fact]
    public async Task A_replica_left_over_by_an_interrupted_replication_is_replaced_by_the_next_ReplicateKey()
    {
        var eastStore = new FaultyKeyStore();
        var westStore = new FaultyKeyStore();
        using var regions = new Regions(new Dictionary<string, IKeyStore> { [East] = eastStore, [West] = westStore }, East, West);
        var east = regions.Api(East);
        var key = await NewMultiRegionKeyAsync(east);
        eastStore.FailUpdate = r => r.MultiRegion?.ReplicaRegions.Count > 0;
        westStore.FailDelete = true;

        await Assert.ThrowsAsync<KmsStorageUnavailableException>(() => ReplicateAsync(east, key.KeyId, West));
        Assert.NotNull(await westStore.GetKeyAsync(key.KeyId, Ct));

        eastStore.FailUpdate = null;
        var replica = await ReplicateAsync(east, key.KeyId, West, description: "second try");
        Assert.Equal("second try", replica.ReplicaKeyMetadata.Description);
        Assert.Single((await east.DescribeAsync(key.KeyId)).MultiRegionConfiguration!.ReplicaKeys);
    }

    [Fact]
    public async Task The_builder_verb_joins_the_key_manager_to_its_group_and_disposal_leaves_it()
    {
        var group = new KmsRegionGroup();
        using (var east = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.Region = East).JoinRegionGroup(group)))
        using (var west = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.Region = West).JoinRegionGroup(group)))
        {
            Assert.Equal([East, West], group.Regions);
            Assert.Throws<ArgumentException>(() => KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.Region = West).JoinRegionGroup(group)));
            var key = await NewMultiRegionKeyAsync(east);
            await ReplicateAsync(east, key.KeyId, West);
            Assert.Equal(Kms.Utf8("z"), await west.Api().DecryptBlobAsync(await east.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("z"))));
        }

        Assert.Empty(group.Regions);
    }
}
