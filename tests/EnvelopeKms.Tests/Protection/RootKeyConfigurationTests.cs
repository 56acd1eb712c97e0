using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Tests.Protection;

/// <summary>
/// A root key supplied through DI and configuration, and what a missing or wrong root key does: a
/// clear <see cref="KmsRootKeyException"/> and not one byte changed on disk.
/// </summary>
public sealed class RootKeyConfigurationTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("rootkey-config");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_root_key_from_configuration_protects_a_file_store_across_containers()
    {
        var rootKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        byte[] blob;
        using (var services = Container(new() { ["EnvelopeKms:RootKey"] = rootKey }, b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromConfiguration()))
        {
            var kms = services.GetRequiredService<IKeyManager>();
            var key = await kms.CreateKeyAsync("configured", Ct);
            blob = await kms.EncryptAsync(key.KeyId, "configured secret"u8.ToArray(), cancellationToken: Ct);
        }

        using (var services = Container(new() { ["EnvelopeKms:RootKey"] = rootKey }, b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromConfiguration()))
        {
            Assert.Equal("configured secret"u8.ToArray(), await services.GetRequiredService<IKeyManager>().DecryptAsync(blob, cancellationToken: Ct));
        }
    }

    [Fact]
    public async Task A_root_key_under_a_custom_configuration_key_is_read_from_there()
    {
        var rootKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var services = Container(
            new() { ["Secrets:Kms:Root"] = rootKey, ["EnvelopeKms:RootKey"] = "not this one" },
            b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromConfiguration("Secrets:Kms:Root"));

        var kms = services.GetRequiredService<IKeyManager>();
        var key = await kms.CreateKeyAsync("custom", Ct);

        Assert.Equal("x"u8.ToArray(), await kms.DecryptAsync(await kms.EncryptAsync(key.KeyId, "x"u8.ToArray(), cancellationToken: Ct), cancellationToken: Ct));
        using var check = await StaticRootKeyProvider.FromBase64(rootKey).GetRootKeyAsync(null, Ct);
        Assert.Equal(check.KeyCheckValue, (await new FileSystemKeyStore(_directory.Path).GetMetadataAsync(Ct))!.RootKeyCheckValue);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("too short")]
    public void A_missing_or_malformed_configured_root_key_is_a_clear_error_and_nothing_is_written(string? value)
    {
        var settings = new Dictionary<string, string?>();
        if (value is not null)
        {
            settings["EnvelopeKms:RootKey"] = value;
        }

        using var services = Container(settings, b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromConfiguration());

        var error = Assert.Throws<KmsRootKeyException>(() => services.GetRequiredService<IKeyManager>());

        Assert.Contains("the configuration key 'EnvelopeKms:RootKey'", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory.Path), "The store directory was created although the root key is missing.");
    }

    [Fact]
    public void An_unset_root_key_environment_variable_is_a_clear_error_and_nothing_is_written()
    {
        using var variable = new EnvironmentVariable(null);
        using var services = Container([], b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromEnvironment(variable.Name));

        var error = Assert.Throws<KmsRootKeyException>(() => services.GetRequiredService<IKeyManager>());
        var factoryError = Assert.Throws<KmsRootKeyException>(() => KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromEnvironment(variable.Name)));

        Assert.Contains($"the environment variable '{variable.Name}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the environment variable '{variable.Name}'", factoryError.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_directory.Path), "The store directory was created although the root key is missing.");
    }

    [Fact]
    public async Task An_unset_root_key_environment_variable_leaves_an_existing_store_unchanged()
    {
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32))))
        {
            await kms.Manager.CreateKeyAsync("existing", Ct);
        }

        var before = StoreFiles.Snapshot(_directory.Path);
        using var variable = new EnvironmentVariable(null);

        Assert.Throws<KmsRootKeyException>(() => KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(_directory.Path).ProtectKeysWithRootKeyFromEnvironment(variable.Name)));

        Assert.Equal(before, StoreFiles.Snapshot(_directory.Path));
    }

    [Fact]
    public async Task A_wrong_root_key_is_refused_by_every_operation_and_the_store_is_byte_for_byte_unchanged()
    {
        var rightKey = RandomNumberGenerator.GetBytes(32);
        string enabled;
        string disabled;
        string pending;
        byte[] blob;
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(rightKey)))
        {
            var m = kms.Manager;
            enabled = (await m.CreateKeyAsync("enabled", Ct)).KeyId;
            disabled = (await m.CreateKeyAsync("disabled", Ct)).KeyId;
            pending = (await m.CreateKeyAsync("pending", Ct)).KeyId;
            await m.DisableKeyAsync(new DisableKeyRequest { KeyId = disabled }, Ct);
            await m.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = pending, PendingWindowInDays = 7 }, Ct);
            await m.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/enabled", TargetKeyId = enabled }, Ct);
            await m.TagResourceAsync(new TagResourceRequest { KeyId = enabled, Tags = [new KeyTag("team", "payments")] }, Ct);
            blob = await m.EncryptAsync(enabled, "data"u8.ToArray(), cancellationToken: Ct);
        }

        var before = StoreFiles.Snapshot(_directory.Path);
        var operations = new (string Name, Func<KeyManager, Task> Run)[]
        {
            ("CreateKey", m => m.CreateKeyAsync("new", Ct)),
            ("DescribeKey", m => m.DescribeKeyAsync(enabled, Ct)),
            ("ListKeys", m => m.ListKeysAsync(new ListKeysRequest(), Ct)),
            ("UpdateKeyDescription", m => m.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = enabled, Description = "changed" }, Ct)),
            ("EnableKey", m => m.EnableKeyAsync(new EnableKeyRequest { KeyId = disabled }, Ct)),
            ("DisableKey", m => m.DisableKeyAsync(new DisableKeyRequest { KeyId = enabled }, Ct)),
            ("ScheduleKeyDeletion", m => m.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = enabled }, Ct)),
            ("CancelKeyDeletion", m => m.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = pending }, Ct)),
            ("CreateAlias", m => m.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/new", TargetKeyId = enabled }, Ct)),
            ("UpdateAlias", m => m.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/enabled", TargetKeyId = disabled }, Ct)),
            ("DeleteAlias", m => m.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/enabled" }, Ct)),
            ("ListAliases", m => m.ListAliasesAsync(new ListAliasesRequest(), Ct)),
            ("TagResource", m => m.TagResourceAsync(new TagResourceRequest { KeyId = enabled, Tags = [new KeyTag("new", "tag")] }, Ct)),
            ("UntagResource", m => m.UntagResourceAsync(new UntagResourceRequest { KeyId = enabled, TagKeys = ["team"] }, Ct)),
            ("ListResourceTags", m => m.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = enabled }, Ct)),
            ("Encrypt", m => m.EncryptAsync(enabled, "x"u8.ToArray(), cancellationToken: Ct)),
            ("Decrypt", m => m.DecryptAsync(blob, cancellationToken: Ct)),
            ("ReEncrypt", m => m.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = enabled }, Ct)),
            ("GenerateDataKey", m => m.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = enabled, KeySpec = DataKeySpec.Aes256 }, Ct)),
            ("GenerateDataKeyWithoutPlaintext", m => m.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = enabled, NumberOfBytes = 16 }, Ct)),
            ("GenerateRandom", m => m.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 16 }, Ct)),
            ("PurgeExpiredKeys", m => m.PurgeExpiredKeysAsync(Ct)),
        };

        foreach (var (name, run) in operations)
        {
            using var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32)));
            // Past the deletion date, so that anything that purges would write.
            kms.Clock.Advance(TimeSpan.FromDays(8));

            var error = await Assert.ThrowsAsync<KmsRootKeyException>(() => run(kms.Manager));

            Assert.Equal(KmsErrorCodes.RootKey, error.ErrorCode);
            Assert.Contains("not the one this key store was created with", error.Message, StringComparison.Ordinal);
            Assert.True(before.SequenceEqual(StoreFiles.Snapshot(_directory.Path)), $"{name} with a wrong root key changed the store.");
        }

        // And the right key still opens everything.
        using (var kms = new TestKeyManager(new FileSystemKeyStore(_directory.Path), new StaticRootKeyProvider(rightKey)))
        {
            Assert.Equal("data"u8.ToArray(), await kms.Manager.DecryptAsync(blob, cancellationToken: Ct));
            Assert.Equal(KeyState.PendingDeletion, (await kms.Manager.DescribeKeyAsync(pending, Ct)).KeyState);
        }
    }

    private static ServiceProvider Container(Dictionary<string, string?> settings, Action<EnvelopeKmsBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddEnvelopeKms(configure);
        return services.BuildServiceProvider();
    }
}
