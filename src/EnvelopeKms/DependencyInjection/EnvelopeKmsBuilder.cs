using EnvelopeKms;
using EnvelopeKms.Auditing;
using EnvelopeKms.Authorization;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Configures a key manager: where keys are stored (<c>PersistKeysTo*</c> / <c>Use*KeyStore</c>),
/// what protects them at rest (<c>ProtectKeysWith*</c>), and the authorizer, audit sink and caller.
/// Returned by <see cref="EnvelopeKmsServiceCollectionExtensions.AddEnvelopeKms"/>, and used by
/// <see cref="KeyManagerFactory"/> for applications without a service container.
/// </summary>
public sealed partial class EnvelopeKmsBuilder
{
    internal EnvelopeKmsBuilder(IServiceCollection? services) => Services = services;

    /// <summary>The service collection, when the builder came from <c>AddEnvelopeKms</c>.</summary>
    public IServiceCollection? Services { get; }

    internal Func<IServiceProvider, IKeyStore>? KeyStoreFactory { get; private set; }

    internal Func<IServiceProvider, IRootKeyProvider>? RootKeyProviderFactory { get; private set; }

    internal Func<IServiceProvider, IKeyAuthorizer>? AuthorizerFactory { get; private set; }

    internal Func<IServiceProvider, IKmsAuditSink>? AuditSinkFactory { get; private set; }

    internal List<Func<IServiceProvider, IKmsAuditSink>> AdditionalAuditSinks { get; } = [];

    internal Func<IServiceProvider, ICallerIdentityProvider>? CallerFactory { get; private set; }

    internal Func<IServiceProvider, IRecipientAttestationVerifier>? RecipientVerifierFactory { get; private set; }

    internal List<Action<EnvelopeKmsOptions>> OptionActions { get; } = [];

    /// <summary>Sets the account, region and partition (validated when the key manager starts).</summary>
    public EnvelopeKmsBuilder Configure(Action<EnvelopeKmsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        OptionActions.Add(configure);
        Services?.Configure(configure);
        return this;
    }

    /// <summary>Whether the configured store is durable (and so needs a root key); true for custom stores.</summary>
    internal bool StoreIsDurable { get; private set; }

    /// <summary>Sets the data-key cache limits and the AES-GCM backend of the registered <see cref="IEnvelopeEncryptor"/>.</summary>
    public EnvelopeKmsBuilder ConfigureEnvelopes(Action<EnvelopeOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services?.Configure(configure);
        return this;
    }

    /// <summary>Uses a custom key store; a durable store needs a root key (<c>ProtectKeysWith*</c>).</summary>
    public EnvelopeKmsBuilder UseKeyStore(Func<IServiceProvider, IKeyStore> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        KeyStoreFactory = factory;
        StoreIsDurable = true;
        return this;
    }

    /// <summary>Keeps keys in process memory only: every key is lost when the process exits (tests and demos).</summary>
    public EnvelopeKmsBuilder UseInMemoryKeyStore()
    {
        KeyStoreFactory = _ => new InMemoryKeyStore();
        StoreIsDurable = false;
        return this;
    }

    /// <summary>Returns the configuration problems of the builder, empty when it can build a key manager.</summary>
    internal IEnumerable<string> Validate()
    {
        if (StoreIsDurable && RootKeyProviderFactory is null)
        {
            yield return MissingRootKeyMessage("configured key store");
        }
    }

    /// <summary>Keeps keys in a directory (see <see cref="FileSystemKeyStore"/>). Needs a root key: call a <c>ProtectKeysWith*</c> method.</summary>
    public EnvelopeKmsBuilder PersistKeysToFileSystem(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return UseKeyStore(_ => new FileSystemKeyStore(directory));
    }

    /// <summary>Uses a custom root-key provider.</summary>
    public EnvelopeKmsBuilder ProtectKeysWith(Func<IServiceProvider, IRootKeyProvider> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        RootKeyProviderFactory = factory;
        return this;
    }

    /// <summary>Protects keys with a base64-encoded 256-bit root key.</summary>
    public EnvelopeKmsBuilder ProtectKeysWithRootKey(string base64RootKey)
    {
        var provider = StaticRootKeyProvider.FromBase64(base64RootKey, "the value passed to ProtectKeysWithRootKey");
        return ProtectKeysWith(_ => provider);
    }

    /// <summary>Protects keys with a base64-encoded 256-bit root key read from an environment variable when the key manager starts.</summary>
    public EnvelopeKmsBuilder ProtectKeysWithRootKeyFromEnvironment(string variable = "ENVELOPEKMS_ROOT_KEY")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(variable);
        return ProtectKeysWith(_ => StaticRootKeyProvider.FromEnvironment(variable));
    }

    /// <summary>Protects keys with a base64-encoded 256-bit root key read from configuration (<c>EnvelopeKms:RootKey</c> by default) when the key manager starts.</summary>
    public EnvelopeKmsBuilder ProtectKeysWithRootKeyFromConfiguration(string configurationKey = "EnvelopeKms:RootKey")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configurationKey);
        return ProtectKeysWith(sp =>
        {
            var configuration = sp.GetService(typeof(IConfiguration)) as IConfiguration
                ?? throw new KmsRootKeyException("ProtectKeysWithRootKeyFromConfiguration needs an IConfiguration in the service container.");
            return StaticRootKeyProvider.FromBase64(configuration[configurationKey], $"the configuration key '{configurationKey}'");
        });
    }

    /// <summary>Protects keys with a root key derived from a passphrase (PBKDF2-HMAC-SHA256, salted, cost recorded in the store).</summary>
    public EnvelopeKmsBuilder ProtectKeysWithPassphrase(string passphrase, int iterations = PassphraseRootKeyProvider.DefaultIterations)
    {
        var provider = new PassphraseRootKeyProvider(passphrase, iterations);
        return ProtectKeysWith(_ => provider);
    }

    /// <summary>
    /// Protects keys with a development root key file, created with owner-only permissions on first
    /// use. For local development and demos only.
    /// </summary>
    public EnvelopeKmsBuilder ProtectKeysWithDevelopmentRootKey(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return ProtectKeysWith(sp => new DevelopmentRootKeyProvider(path, LoggerFactoryOf(sp).CreateLogger("EnvelopeKms.RootKey")));
    }

    /// <summary>
    /// Gives the default authorizer (<see cref="KeyPolicyAuthorizer"/>: key policies and grants) the
    /// identity policies of principals, which it consults where a key policy delegates to the account
    /// and for operations on no key. An <see cref="IIdentityPolicyProvider"/> registered in the
    /// container is used too, when this is not called.
    /// </summary>
    public EnvelopeKmsBuilder UseIdentityPolicies(Func<IServiceProvider, IIdentityPolicyProvider> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        IdentityPoliciesFactory = factory;
        return this;
    }

    internal Func<IServiceProvider, IIdentityPolicyProvider>? IdentityPoliciesFactory { get; private set; }

    /// <summary>Replaces the default authorizer (<see cref="KeyPolicyAuthorizer"/>: key policies, grants and identity policies).</summary>
    public EnvelopeKmsBuilder UseAuthorizer(Func<IServiceProvider, IKeyAuthorizer> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        AuthorizerFactory = factory;
        return this;
    }

    /// <summary>Replaces the default audit sink (an <see cref="ILogger"/>).</summary>
    public EnvelopeKmsBuilder UseAuditSink(Func<IServiceProvider, IKmsAuditSink> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        AuditSinkFactory = factory;
        return this;
    }

    /// <summary>
    /// Adds an audit sink beside the main one (the <see cref="ILogger"/> sink unless
    /// <see cref="UseAuditSink"/> replaced it): every record goes to each sink, in order, and an
    /// operation fails closed when any of them fails (see <see cref="EnvelopeKmsOptions.AuditFailOpen"/>).
    /// A sink the factory creates that is <see cref="IDisposable"/> is disposed with the key manager.
    /// </summary>
    public EnvelopeKmsBuilder AddAuditSink(Func<IServiceProvider, IKmsAuditSink> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        AdditionalAuditSinks.Add(factory);
        return this;
    }

    /// <summary>
    /// Adds a tamper-evident audit trail: a JSON Lines file at <paramref name="path"/> whose records are
    /// linked by a SHA-256 hash chain (see <c>docs/audit.md</c> and <see cref="AuditChainVerifier"/>), beside
    /// the main sink. The file is opened (and locked against a second writer) on the first record and
    /// closed with the key manager.
    /// </summary>
    /// <param name="path">The trail file; rotated files are written beside it.</param>
    /// <param name="configure">Rotation size and the optional HMAC key for encryption-context values.</param>
    public EnvelopeKmsBuilder AddJsonLinesAuditTrail(string path, Action<JsonLinesAuditSinkOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var options = new JsonLinesAuditSinkOptions { Path = path };
        configure?.Invoke(options);
        return AddAuditSink(_ => new JsonLinesAuditSink(options));
    }

    /// <summary>
    /// Sets the verifier of the attestation documents of <c>Recipient</c> parameters (for example a
    /// <see cref="NitroAttestationDocumentVerifier"/>). Without it (and without an
    /// <see cref="IRecipientAttestationVerifier"/> in the container), requests with a recipient fail with
    /// <c>UnsupportedOperationException</c>.
    /// </summary>
    public EnvelopeKmsBuilder UseRecipientAttestationVerifier(Func<IServiceProvider, IRecipientAttestationVerifier> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        RecipientVerifierFactory = factory;
        return this;
    }

    /// <summary>
    /// Replaces the ambient caller (by default the account's root principal). Without this call, an
    /// <see cref="ICallerIdentityProvider"/> registered in the container is used when there is one;
    /// the same holds for <see cref="IKeyAuthorizer"/> and <see cref="IKmsAuditSink"/>.
    /// </summary>
    public EnvelopeKmsBuilder UseCallerIdentityProvider(Func<IServiceProvider, ICallerIdentityProvider> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        CallerFactory = factory;
        return this;
    }

    internal Func<IServiceProvider, EnvelopeKms.Auditing.Usage.KeyUsageMeter>? UsageMeterFactory { get; private set; }

    /// <summary>
    /// Sets the options of the key manager's usage meter (<see cref="KeyManager.UsageMeter"/>: request counts and last usage
    /// per key, for <c>GetKeyLastUsage</c> and <c>GetUsageReport</c>). Without this call the meter has the default options;
    /// it is in memory and knows what happened since the key manager started.
    /// </summary>
    public EnvelopeKmsBuilder TrackUsage(Action<EnvelopeKms.Auditing.Usage.KeyUsageMeterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new EnvelopeKms.Auditing.Usage.KeyUsageMeterOptions();
        configure(options);
        options.Validate();
        return TrackUsage(sp => new EnvelopeKms.Auditing.Usage.KeyUsageMeter(options, sp.GetService(typeof(TimeProvider)) as TimeProvider));
    }

    /// <summary>
    /// Gives the key manager a usage meter of your own, for example one rebuilt from the audit trail so that last usages
    /// survive restarts: <c>var meter = new KeyUsageMeter(); await meter.ReplayAsync(trailPath); builder.TrackUsage(_ =&gt; meter);</c>
    /// (replay before the key manager starts writing to the trail). A <see cref="EnvelopeKms.Auditing.Usage.KeyUsageMeter"/>
    /// registered in the container is used too, when this is not called.
    /// </summary>
    public EnvelopeKmsBuilder TrackUsage(Func<IServiceProvider, EnvelopeKms.Auditing.Usage.KeyUsageMeter> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        UsageMeterFactory = factory;
        return this;
    }

    /// <summary>
    /// Runs key maintenance in the background of a host: every <paramref name="interval"/> (one hour by
    /// default) imported key material past its <c>ValidTo</c> is deleted
    /// (<see cref="IKeyManager.ExpireImportedKeyMaterialAsync"/>), the due automatic rotations are applied
    /// (<see cref="IKeyManager.RotateDueKeysAsync"/>) and keys past their deletion date are purged
    /// (<see cref="IKeyManager.PurgeExpiredKeysAsync"/>). Optional: all three also happen before a key's
    /// next use; this makes them happen on time for keys nobody uses.
    /// </summary>
    public EnvelopeKmsBuilder AddKeyMaintenanceService(TimeSpan? interval = null)
    {
        var every = interval ?? TimeSpan.FromHours(1);
        ArgumentOutOfRangeException.ThrowIfLessThan(every, TimeSpan.FromSeconds(1), nameof(interval));
        Services?.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp => new KeyMaintenanceService(
            sp.GetRequiredService<IKeyManager>(),
            every,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            LoggerFactoryOf(sp).CreateLogger("EnvelopeKms.KeyMaintenance")));
        return this;
    }

    /// <summary>Builds a key manager from the configured parts, taking shared services from <paramref name="services"/>.</summary>
    internal KeyManager Build(IServiceProvider services, EnvelopeKmsOptions options, bool ownsStore = false)
    {
        var validation = new EnvelopeKmsOptionsValidator().Validate(null, options);
        var failures = (validation.Failures ?? []).Concat(Validate()).ToList();
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.Options.DefaultName, typeof(EnvelopeKmsOptions), failures);
        }

        // The root key first: a missing or malformed root key fails before the store is opened (which may create its directory).
        var rootKeyProvider = RootKeyProviderFactory?.Invoke(services);
        var store = (KeyStoreFactory ?? (_ => new InMemoryKeyStore()))(services);
        if (rootKeyProvider is null)
        {
            if (store is not InMemoryKeyStore)
            {
                throw new OptionsValidationException(Options.Options.DefaultName, typeof(EnvelopeKmsOptions), [MissingRootKeyMessage(store.GetType().Name)]);
            }

            // An ephemeral store gets an ephemeral random root key.
            Span<byte> ephemeral = stackalloc byte[32];
            System.Security.Cryptography.RandomNumberGenerator.Fill(ephemeral);
            rootKeyProvider = new StaticRootKeyProvider(ephemeral);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(ephemeral);
        }

        var manager = new KeyManager(
            store,
            rootKeyProvider,
            options,
            services.GetService(typeof(TimeProvider)) as TimeProvider,
            AuthorizerFactory?.Invoke(services) ?? services.GetService(typeof(IKeyAuthorizer)) as IKeyAuthorizer
                ?? new KeyPolicyAuthorizer(options.AccountId, options.Partition, IdentityPoliciesFactory?.Invoke(services) ?? services.GetService(typeof(IIdentityPolicyProvider)) as IIdentityPolicyProvider),
            AuditSinkOf(services, out var ownedSinks),
            CallerFactory?.Invoke(services) ?? services.GetService(typeof(ICallerIdentityProvider)) as ICallerIdentityProvider,
            LoggerFactoryOf(services),
            RecipientVerifierFactory?.Invoke(services) ?? services.GetService(typeof(IRecipientAttestationVerifier)) as IRecipientAttestationVerifier,
            services.GetService(typeof(System.Diagnostics.Metrics.IMeterFactory)) as System.Diagnostics.Metrics.IMeterFactory)
        {
            OwnsStore = ownsStore,
            OwnedResources = ownedSinks,
            UsageMeter = UsageMeterFactory?.Invoke(services) ?? services.GetService(typeof(EnvelopeKms.Auditing.Usage.KeyUsageMeter)) as EnvelopeKms.Auditing.Usage.KeyUsageMeter
                ?? new EnvelopeKms.Auditing.Usage.KeyUsageMeter(timeProvider: services.GetService(typeof(TimeProvider)) as TimeProvider),
        };
        foreach (var register in CustomKeyStoreRegistrations)
        {
            register(services, manager.CustomKeyStoreBackends);
        }

        return JoinConfiguredRegionGroup(manager);
    }

    internal List<Action<IServiceProvider, EnvelopeKms.CustomKeyStores.CustomKeyStoreBackendRegistry>> CustomKeyStoreRegistrations { get; } = [];

    /// <summary>
    /// Registers custom key store backends (HSM clusters, external key store proxies) with the key manager's
    /// <see cref="KeyManager.CustomKeyStoreBackends"/>; see <c>docs/custom-key-stores.md</c>.
    /// </summary>
    public EnvelopeKmsBuilder AddCustomKeyStoreBackends(Action<IServiceProvider, EnvelopeKms.CustomKeyStores.CustomKeyStoreBackendRegistry> register)
    {
        ArgumentNullException.ThrowIfNull(register);
        CustomKeyStoreRegistrations.Add(register);
        return this;
    }

    /// <summary>The main sink (null: the key manager's default), composed with the added ones; the added ones are owned by the key manager.</summary>
    private IKmsAuditSink? AuditSinkOf(IServiceProvider services, out IReadOnlyList<IDisposable> owned)
    {
        var main = AuditSinkFactory?.Invoke(services) ?? services.GetService(typeof(IKmsAuditSink)) as IKmsAuditSink;
        if (AdditionalAuditSinks.Count == 0)
        {
            owned = [];
            return main;
        }

        var added = AdditionalAuditSinks.Select(factory => factory(services)).ToList();
        owned = [.. added.OfType<IDisposable>()];
        return new CompositeAuditSink([main ?? new LoggerAuditSink(LoggerFactoryOf(services)), .. added]);
    }

    internal static string MissingRootKeyMessage(string storeName)
        => $"The {storeName} is durable, so it needs a root key: call ProtectKeysWithRootKeyFromEnvironment, ProtectKeysWithRootKeyFromConfiguration, ProtectKeysWithPassphrase or (for development) ProtectKeysWithDevelopmentRootKey.";

    private static ILoggerFactory LoggerFactoryOf(IServiceProvider services)
        => services.GetService(typeof(ILoggerFactory)) as ILoggerFactory ?? NullLoggerFactory.Instance;
}

/// <summary>Registers EnvelopeKms in a service collection.</summary>
public static class EnvelopeKmsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IKeyManager"/> and <see cref="IEnvelopeEncryptor"/> as singletons. Options are validated at start-up, and
    /// <see cref="TimeProvider"/> and <see cref="ILoggerFactory"/> are taken from the container.
    /// Without further configuration keys are kept in memory only.
    /// </summary>
    public static EnvelopeKmsBuilder AddEnvelopeKms(this IServiceCollection services, Action<EnvelopeKmsBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new EnvelopeKmsBuilder(services);
        services.AddOptions<EnvelopeKmsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EnvelopeKmsOptions>, EnvelopeKmsOptionsValidator>());
        services.AddSingleton<IValidateOptions<EnvelopeKmsOptions>>(new BuilderValidator(builder));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KeyManager>(sp => builder.Build(sp, sp.GetRequiredService<IOptions<EnvelopeKmsOptions>>().Value));
        services.TryAddSingleton<IKeyManager>(sp => sp.GetRequiredService<KeyManager>());
        services.AddOptions<EnvelopeOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EnvelopeOptions>, EnvelopeOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EnvelopeOptions>, EnvelopeOptionsFipsValidator>());
        services.TryAddSingleton<EnvelopeEncryptor>(sp => new EnvelopeEncryptor(
            sp.GetRequiredService<IKeyManager>(),
            sp.GetRequiredService<IOptions<EnvelopeOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<IEnvelopeEncryptor>(sp => sp.GetRequiredService<EnvelopeEncryptor>());
        services.TryAddSingleton(sp => sp.GetRequiredService<KeyManager>().LifecycleEvents);
        configure?.Invoke(builder);
        return builder;
    }
}

/// <summary>Reports builder misconfiguration (a durable store without a root key) at start-up.</summary>
internal sealed class BuilderValidator(EnvelopeKmsBuilder builder) : IValidateOptions<EnvelopeKmsOptions>
{
    public ValidateOptionsResult Validate(string? name, EnvelopeKmsOptions options)
    {
        var failures = builder.Validate().ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
