using EnvelopeKms.Protection;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>The three kinds of key owner: customer managed, managed (by an integration) and owned (by EnvelopeKms).</summary>
public sealed class KeyOwnerTests
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["owner"] = "test" };

    // ---------------------------------------------------------------- managed keys

    [Fact]
    public async Task A_managed_key_is_created_on_first_use_under_its_alias_and_found_again_afterwards()
    {
        using var kms = new TestKeyManager();

        var first = await kms.Manager.GetOrCreateManagedKeyAsync("datastore", Kms.Ct);
        var second = await kms.Manager.GetOrCreateManagedKeyAsync("datastore", Kms.Ct);
        var described = await kms.Api().DescribeAsync("alias/managed/datastore");
        var status = await kms.Api().GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = first.KeyId }, Kms.Ct);

        Assert.Equal(first.KeyId, second.KeyId);
        Assert.Equal(first.KeyId, described.KeyId);
        Assert.Equal(KeyManagerType.Aws, described.KeyManager);
        Assert.Equal("AWS", described.KeyManager.ToKmsName());
        Assert.Contains(first.KeyId, await kms.Api().AllKeyIdsAsync());
        Assert.True(status.KeyRotationEnabled);
        Assert.Equal(365, status.RotationPeriodInDays);
        var blob = await kms.Api().EncryptBlobAsync("alias/managed/datastore", [7], Context);
        Assert.Equal([7], await kms.Api().DecryptBlobAsync(blob, Context));
        Assert.Single(await kms.Api().AllAliasesAsync(first.KeyId));
    }

    [Fact]
    public async Task Every_instance_sharing_a_store_gets_the_same_managed_key_even_when_they_race()
    {
        using var directory = new TemporaryStoreDirectory("managed");
        var path = Path.Combine(directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(new byte[32]);
        using var a = new TestKeyManager(new SqliteKeyStore(path), root);
        using var b = new TestKeyManager(new SqliteKeyStore(path), root);

        var keys = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).Manager.GetOrCreateManagedKeyAsync("orders", Kms.Ct))));

        Assert.Single(keys.Select(k => k.KeyId).Distinct());
        Assert.Single(await a.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task A_managed_key_rotates_every_year()
    {
        using var kms = new TestKeyManager();
        var key = await kms.Manager.GetOrCreateManagedKeyAsync("datastore", Kms.Ct);

        kms.Clock.Advance(TimeSpan.FromDays(365));
        await kms.Api().EncryptBlobAsync(key.KeyId, [1]);

        var rotation = Assert.Single((await kms.Api().ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct)).Items);
        Assert.Equal(KeyRotationType.Automatic, rotation.RotationType);
    }

    public static TheoryData<string> ForbiddenOnManagedKeys =>
    [
        "DisableKey", "EnableKey", "ScheduleKeyDeletion", "CancelKeyDeletion", "UpdateKeyDescription", "TagResource",
        "UntagResource", "CreateAlias", "UpdateAlias", "EnableKeyRotation", "DisableKeyRotation", "RotateKeyOnDemand",
    ];

    [Theory]
    [MemberData(nameof(ForbiddenOnManagedKeys))]
    public async Task What_a_managed_keys_owner_forbids_fails_clearly_and_changes_nothing(string operation)
    {
        using var kms = new TestKeyManager();
        var key = await kms.Manager.GetOrCreateManagedKeyAsync("datastore", Kms.Ct);
        var other = await kms.Api().NewKeyAsync("other");
        await kms.Api().CreateAliasAsync("alias/other", other.KeyId);
        var before = await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct);
        var id = key.KeyId;
        var km = kms.Api();
        Func<Task> call = operation switch
        {
            "DisableKey" => () => km.DisableKeyAsync(new DisableKeyRequest { KeyId = id }, Kms.Ct),
            "EnableKey" => () => km.EnableKeyAsync(new EnableKeyRequest { KeyId = id }, Kms.Ct),
            "ScheduleKeyDeletion" => () => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = id }, Kms.Ct),
            "CancelKeyDeletion" => () => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = id }, Kms.Ct),
            "UpdateKeyDescription" => () => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = id, Description = "mine now" }, Kms.Ct),
            "TagResource" => () => km.TagResourceAsync(new TagResourceRequest { KeyId = id, Tags = [new KeyTag("a", "b")] }, Kms.Ct),
            "UntagResource" => () => km.UntagResourceAsync(new UntagResourceRequest { KeyId = id, TagKeys = ["a"] }, Kms.Ct),
            "CreateAlias" => () => km.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/mine", TargetKeyId = id }, Kms.Ct),
            "UpdateAlias" => () => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/other", TargetKeyId = id }, Kms.Ct),
            "EnableKeyRotation" => () => km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = id, RotationPeriodInDays = 90 }, Kms.Ct),
            "DisableKeyRotation" => () => km.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = id }, Kms.Ct),
            "RotateKeyOnDemand" => () => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = id }, Kms.Ct),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };

        var e = await Assert.ThrowsAsync<KmsUnsupportedOperationException>(call);

        Assert.Contains("managed key", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct));
        Assert.Equal(other.KeyId, (await km.DescribeAsync("alias/other")).KeyId);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("update")]
    [InlineData("delete")]
    public async Task Aliases_under_the_managed_prefix_belong_to_managed_keys(string action)
    {
        using var kms = new TestKeyManager();
        var managed = await kms.Manager.GetOrCreateManagedKeyAsync("datastore", Kms.Ct);
        var mine = await kms.Api().NewKeyAsync("mine");

        await Assert.ThrowsAsync<KmsInvalidAliasNameException>(() => action switch
        {
            "create" => kms.Api().CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/managed/other", TargetKeyId = mine.KeyId }, Kms.Ct),
            "update" => kms.Api().UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/managed/datastore", TargetKeyId = mine.KeyId }, Kms.Ct),
            _ => kms.Api().DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/managed/datastore" }, Kms.Ct),
        });

        Assert.Equal(managed.KeyId, (await kms.Api().DescribeAsync("alias/managed/datastore")).KeyId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("ünicode")]
    public async Task A_managed_key_needs_a_valid_service_name(string service)
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GetOrCreateManagedKeyAsync(service, Kms.Ct));
        Assert.Empty(await kms.Api().AllKeyIdsAsync());
    }

    [Fact]
    public async Task Creating_a_managed_key_is_authorized_like_CreateKey()
    {
        using var kms = new KeyManager(new EnvelopeKms.Storage.InMemoryKeyStore(), new StaticRootKeyProvider(new byte[32]), callerIdentityProvider: new FixedCaller(new CallerIdentity(Kms.RoleArn)));

        var e = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => kms.GetOrCreateManagedKeyAsync("datastore", Kms.Ct));

        Assert.Contains("kms:CreateKey", e.Message, StringComparison.Ordinal);
    }

    private sealed class FixedCaller(CallerIdentity caller) : ICallerIdentityProvider
    {
        public CallerIdentity GetCurrentCaller() => caller;
    }

    // ---------------------------------------------------------------- owned keys

    [Fact]
    public async Task An_owned_key_works_for_EnvelopeKms_and_is_invisible_to_everyone_else()
    {
        using var kms = new TestKeyManager();
        var customer = await kms.Api().NewKeyAsync("customer");

        var ownedId = await kms.Manager.GetOrCreateOwnedKeyAsync("store-index", Kms.Ct);
        var blob = await kms.Manager.EncryptWithOwnedKeyAsync("store-index", "internal"u8.ToArray(), Context, Kms.Ct);

        Assert.Equal(ownedId, await kms.Manager.GetOrCreateOwnedKeyAsync("store-index", Kms.Ct));
        Assert.Equal("internal"u8.ToArray(), await kms.Manager.DecryptWithOwnedKeyAsync("store-index", blob, Context, Kms.Ct));
        Assert.Equal([customer.KeyId], await kms.Api().AllKeyIdsAsync());
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DescribeKeyAsync(new DescribeKeyRequest { KeyId = ownedId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().DisableKeyAsync(new DisableKeyRequest { KeyId = ownedId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = ownedId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().EncryptAsync(new EncryptRequest { KeyId = ownedId, Plaintext = new byte[] { 1 } }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => kms.Api().CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/steal", TargetKeyId = ownedId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Api().DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = Context }, Kms.Ct));
        var stored = await kms.Store.GetKeyAsync(ownedId, Kms.Ct);
        Assert.Equal(KeyManagerType.Owned, stored!.KeyManager);
        Assert.Equal(365, stored.RotationPeriodInDays);
    }

    [Fact]
    public async Task Owned_keys_of_different_purposes_are_different_keys()
    {
        using var kms = new TestKeyManager();
        var a = await kms.Manager.GetOrCreateOwnedKeyAsync("a", Kms.Ct);
        var b = await kms.Manager.GetOrCreateOwnedKeyAsync("b", Kms.Ct);
        var blob = await kms.Manager.EncryptWithOwnedKeyAsync("a", new byte[] { 1 }, null, Kms.Ct);

        Assert.NotEqual(a, b);
        await Assert.ThrowsAsync<KmsIncorrectKeyException>(() => kms.Manager.DecryptWithOwnedKeyAsync("b", blob, null, Kms.Ct));
    }

    // ---------------------------------------------------------------- the maintenance service

    [Fact]
    public async Task The_key_maintenance_service_rotates_due_keys_on_its_interval()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddEnvelopeKms().AddKeyMaintenanceService(TimeSpan.FromHours(1));
        await using var provider = services.BuildServiceProvider();
        var km = provider.GetRequiredService<IKeyManager>();
        var key = await km.NewKeyAsync("scheduled");
        await km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 }, Kms.Ct);
        var service = Assert.Single(provider.GetServices<IHostedService>());
        await service.StartAsync(Kms.Ct);
        try
        {
            clock.Advance(TimeSpan.FromDays(90));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            var rotations = 0;
            while (rotations == 0 && DateTime.UtcNow < deadline)
            {
                clock.Advance(TimeSpan.FromHours(1));
                await Task.Delay(20, Kms.Ct);
                rotations = (await km.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = key.KeyId }, Kms.Ct)).Items.Count;
            }

            Assert.Equal(1, rotations);
        }
        finally
        {
            await service.StopAsync(Kms.Ct);
        }
    }
}
