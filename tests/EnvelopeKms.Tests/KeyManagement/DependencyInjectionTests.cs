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
}
