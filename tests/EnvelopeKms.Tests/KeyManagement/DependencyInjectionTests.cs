using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary><c>AddEnvelopeKms</c>, its builder verbs, start-up validation and <see cref="KeyManagerFactory"/>.</summary>
public sealed class DependencyInjectionTests : IDisposable
{
    private static readonly DateTimeOffset FakeNow = new(2030, 6, 15, 8, 30, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("envelopekms-di-");

    public void Dispose() => _directory.Delete(recursive: true);

    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    private static async Task AssertRoundTripAsync(IKeyManager km)
    {
        var key = await km.NewKeyAsync("di");
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("through DI"), new Dictionary<string, string> { ["a"] = "b" });
        Assert.Equal(Kms.Utf8("through DI"), await km.DecryptBlobAsync(blob, new Dictionary<string, string> { ["a"] = "b" }));
    }

    [Fact]
    public async Task Add_envelope_kms_resolves_one_singleton_key_manager_that_works()
    {
        await using var provider = Build(s => s.AddEnvelopeKms(b => b.UseInMemoryKeyStore()));

        var first = provider.GetRequiredService<IKeyManager>();
        var second = provider.GetRequiredService<IKeyManager>();
        IKeyManager scoped;
        using (var scope = provider.CreateScope())
        {
            scoped = scope.ServiceProvider.GetRequiredService<IKeyManager>();
        }

        Assert.Same(first, second);
        Assert.Same(first, scoped);
        Assert.Same(first, provider.GetRequiredService<KeyManager>());
        await AssertRoundTripAsync(first);
    }

    [Fact]
    public async Task Add_envelope_kms_without_configuration_uses_an_in_memory_store()
    {
        await using var provider = Build(s => s.AddEnvelopeKms());

        await AssertRoundTripAsync(provider.GetRequiredService<IKeyManager>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_time_provider_is_taken_from_the_container(bool registerBefore)
    {
        var fake = new FakeTimeProvider(FakeNow);
        await using var provider = Build(s =>
        {
            if (registerBefore)
            {
                s.AddSingleton<TimeProvider>(fake);
            }

            s.AddEnvelopeKms(b => b.UseInMemoryKeyStore());
            if (!registerBefore)
            {
                s.AddSingleton<TimeProvider>(fake);
            }
        });
        var km = provider.GetRequiredService<IKeyManager>();

        var key = await km.NewKeyAsync();
        var scheduled = await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        Assert.Equal(FakeNow, key.CreationDate);
        Assert.Equal(FakeNow.AddDays(7), scheduled.DeletionDate);
        fake.Advance(TimeSpan.FromDays(7));
        Assert.Equal(1, await km.PurgeExpiredKeysAsync(Kms.Ct));
    }

    [Theory]
    [InlineData("AccountId", "12")]
    [InlineData("AccountId", "00000000000a")]
    [InlineData("Region", "EU_WEST")]
    [InlineData("Region", "")]
    [InlineData("Partition", "AWS")]
    public async Task Invalid_options_fail_at_host_start_up(string option, string value)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddEnvelopeKms(b => b.UseInMemoryKeyStore().Configure(o =>
        {
            switch (option)
            {
                case "AccountId": o.AccountId = value; break;
                case "Region": o.Region = value; break;
                default: o.Partition = value; break;
            }
        }));
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Kms.Ct));

        Assert.Contains($"EnvelopeKms:{option}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_with_valid_options_starts_and_its_key_manager_uses_them()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddEnvelopeKms(b => b.UseInMemoryKeyStore().Configure(o =>
        {
            o.AccountId = "111122223333";
            o.Region = "eu-central-1";
        }));
        using var host = builder.Build();

        await host.StartAsync(Kms.Ct);
        try
        {
            var key = await host.Services.GetRequiredService<IKeyManager>().NewKeyAsync();
            Assert.Equal($"arn:aws:kms:eu-central-1:111122223333:key/{key.KeyId}", key.Arn);
        }
        finally
        {
            await host.StopAsync(Kms.Ct);
        }
    }

    [Fact]
    public async Task Persist_keys_to_file_system_without_a_root_key_fails_with_a_message_naming_the_fix()
    {
        await using var provider = Build(s => s.AddEnvelopeKms(b => b.PersistKeysToFileSystem(_directory.FullName)));

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IKeyManager>());
        var direct = Assert.Throws<OptionsValidationException>(() => KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(_directory.FullName)));

        Assert.Contains("root key", e.Message, StringComparison.Ordinal);
        Assert.Contains("ProtectKeysWith", e.Message, StringComparison.Ordinal);
        Assert.Equal(e.Message, direct.Message);
        Assert.Empty(_directory.EnumerateFiles("*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Persist_keys_to_file_system_without_a_root_key_fails_at_host_start_up()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddEnvelopeKms(b => b.PersistKeysToFileSystem(_directory.FullName));
        using var host = builder.Build();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Kms.Ct));

        Assert.Contains("ProtectKeysWith", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_root_key_chosen_after_persist_keys_to_file_system_satisfies_start_up_validation()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var kms = builder.Services.AddEnvelopeKms(b => b.PersistKeysToFileSystem(_directory.FullName));
        kms.ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        using var host = builder.Build();

        await host.StartAsync(Kms.Ct);
        try
        {
            await AssertRoundTripAsync(host.Services.GetRequiredService<IKeyManager>());
        }
        finally
        {
            await host.StopAsync(Kms.Ct);
        }
    }

    [Fact]
    public async Task Persist_keys_to_file_system_with_a_root_key_keeps_keys_across_key_managers()
    {
        var rootKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string keyId;
        byte[] blob;
        await using (var provider = Build(s => s.AddEnvelopeKms(b => b.PersistKeysToFileSystem(_directory.FullName).ProtectKeysWithRootKey(rootKey))))
        {
            var km = provider.GetRequiredService<IKeyManager>();
            keyId = (await km.NewKeyAsync("durable")).KeyId;
            blob = await km.EncryptBlobAsync(keyId, [4, 5, 6]);
        }

        using var reopened = KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(_directory.FullName).ProtectKeysWithRootKey(rootKey));

        Assert.Equal("durable", (await reopened.Api().DescribeAsync(keyId)).Description);
        Assert.Equal([4, 5, 6], await reopened.Api().DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task Key_manager_factory_creates_a_working_key_manager_without_a_container()
    {
        var fake = new FakeTimeProvider(FakeNow);
        using var manager = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.Region = "ap-south-1"), timeProvider: fake);
        var km = manager.Api();

        var key = await km.NewKeyAsync();

        Assert.Equal(FakeNow, key.CreationDate);
        Assert.Equal($"arn:aws:kms:ap-south-1:000000000000:key/{key.KeyId}", key.Arn);
        await AssertRoundTripAsync(km);
    }

    [Fact]
    public void Key_manager_factory_rejects_invalid_options()
    {
        var e = Assert.Throws<OptionsValidationException>(() => KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.AccountId = "12")));

        Assert.Contains("EnvelopeKms:AccountId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_builder_verbs_replace_the_audit_sink_caller_and_authorizer()
    {
        var audit = new RecordingAuditSink();
        var role = new CallerIdentity(Kms.RoleArn);
        await using var provider = Build(s => s.AddEnvelopeKms(b => b
            .UseInMemoryKeyStore()
            .UseAuditSink(_ => audit)
            .UseCallerIdentityProvider(_ => new FixedCaller(role))));
        var km = provider.GetRequiredService<IKeyManager>();

        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.NewKeyAsync());

        var denied = Assert.Single(audit.Events);
        Assert.Equal(Kms.RoleArn, denied.Caller);
        Assert.Equal(KmsOutcome.Denied, denied.Outcome);

        await using var permissive = Build(s => s.AddEnvelopeKms(b => b
            .UseInMemoryKeyStore()
            .UseCallerIdentityProvider(_ => new FixedCaller(role))
            .UseAuthorizer(_ => new AllowAll())));
        await AssertRoundTripAsync(permissive.GetRequiredService<IKeyManager>());
    }

    private sealed class FixedCaller(CallerIdentity caller) : ICallerIdentityProvider
    {
        public CallerIdentity GetCurrentCaller() => caller;
    }

    private sealed class AllowAll : EnvelopeKms.Authorization.IKeyAuthorizer
    {
        public ValueTask<EnvelopeKms.Authorization.AuthorizationDecision> AuthorizeAsync(EnvelopeKms.Authorization.AuthorizationRequest request, CancellationToken cancellationToken)
            => ValueTask.FromResult(new EnvelopeKms.Authorization.AuthorizationDecision(true, "allow all (test)"));
    }
    [Fact]
    public async Task A_key_manager_from_the_factory_disposes_the_store_its_verbs_created_but_not_one_it_was_given()
    {
        var created = new DisposableStore();
        var kms = KeyManagerFactory.Create(b => b.UseKeyStore(_ => created).ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
        await AssertRoundTripAsync(kms);
        kms.Dispose();
        Assert.Equal(1, created.Disposals);

        var given = new DisposableStore();
        using (var direct = new KeyManager(given, new EnvelopeKms.Protection.StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32))))
        {
            await AssertRoundTripAsync(direct);
        }

        Assert.Equal(0, given.Disposals);
    }

    [Fact]
    public async Task With_a_container_the_sqlite_store_is_a_singleton_the_container_disposes()
    {
        var rootKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        EnvelopeKms.Storage.Sqlite.SqliteKeyStore store;
        await using (var provider = Build(s => s.AddEnvelopeKms(b => b.PersistKeysToSqlite(Path.Combine(_directory.FullName, "keys.db")).ProtectKeysWithRootKey(rootKey))))
        {
            await AssertRoundTripAsync(provider.GetRequiredService<IKeyManager>());
            store = provider.GetRequiredService<EnvelopeKms.Storage.Sqlite.SqliteKeyStore>();
            Assert.Same(store, provider.GetRequiredService<EnvelopeKms.Storage.Sqlite.SqliteKeyStore>());
        }

        Assert.True(store.IsDisposed);
    }

    private sealed class DisposableStore : EnvelopeKms.Storage.IKeyStore, IDisposable
    {
        private readonly EnvelopeKms.Storage.InMemoryKeyStore _inner = new();

        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;

        public ValueTask<EnvelopeKms.Storage.KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => _inner.GetMetadataAsync(cancellationToken);

        public ValueTask<EnvelopeKms.Storage.KeyStoreMetadata> InitializeMetadataAsync(EnvelopeKms.Storage.KeyStoreMetadata metadata, CancellationToken cancellationToken) => _inner.InitializeMetadataAsync(metadata, cancellationToken);

        public ValueTask<EnvelopeKms.Storage.KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) => _inner.GetKeyAsync(keyId, cancellationToken);

        public ValueTask<IReadOnlyList<EnvelopeKms.Storage.KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken) => _inner.ListKeysAsync(afterKeyId, limit, cancellationToken);

        public ValueTask<EnvelopeKms.Storage.KeyRecord> InsertKeyAsync(EnvelopeKms.Storage.KeyRecord key, CancellationToken cancellationToken) => _inner.InsertKeyAsync(key, cancellationToken);

        public ValueTask<EnvelopeKms.Storage.KeyRecord> UpdateKeyAsync(EnvelopeKms.Storage.KeyRecord key, CancellationToken cancellationToken) => _inner.UpdateKeyAsync(key, cancellationToken);

        public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken) => _inner.DeleteKeyAsync(keyId, expectedVersion, cancellationToken);

        public ValueTask<EnvelopeKms.Storage.AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken) => _inner.GetAliasAsync(aliasName, cancellationToken);

        public ValueTask<IReadOnlyList<EnvelopeKms.Storage.AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
            => _inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, cancellationToken);

        public ValueTask<EnvelopeKms.Storage.AliasRecord> InsertAliasAsync(EnvelopeKms.Storage.AliasRecord alias, CancellationToken cancellationToken) => _inner.InsertAliasAsync(alias, cancellationToken);

        public ValueTask<EnvelopeKms.Storage.AliasRecord> UpdateAliasAsync(EnvelopeKms.Storage.AliasRecord alias, CancellationToken cancellationToken) => _inner.UpdateAliasAsync(alias, cancellationToken);

        public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken) => _inner.DeleteAliasAsync(aliasName, expectedVersion, cancellationToken);
    }
}
