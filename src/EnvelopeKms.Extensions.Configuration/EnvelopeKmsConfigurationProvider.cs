using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace EnvelopeKms.Extensions.Configuration;

/// <summary>A configuration value that could not be decrypted. Names the configuration key and the KMS error, never the value.</summary>
public sealed class EnvelopeKmsConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="configurationKey">The configuration key whose value failed.</param>
    /// <param name="errorCode">The KMS error code, such as <c>InvalidCiphertextException</c>.</param>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The KMS exception, if any.</param>
    public EnvelopeKmsConfigurationException(string configurationKey, string errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ConfigurationKey = configurationKey;
        ErrorCode = errorCode;
    }

    /// <summary>The configuration key whose value failed.</summary>
    public string ConfigurationKey { get; }

    /// <summary>The KMS error code.</summary>
    public string ErrorCode { get; }
}

/// <summary>Options of <see cref="EnvelopeKmsConfigurationExtensions.AddEnvelopeKmsDecryption(IConfigurationBuilder, Func{IConfiguration, IKeyManager}, Action{EnvelopeKmsConfigurationOptions}?)"/>.</summary>
public sealed class EnvelopeKmsConfigurationOptions
{
    /// <summary>
    /// When set, encrypted values must be under this key (key id, key ARN, alias name or alias ARN): a value
    /// under any other key fails with <c>IncorrectKeyException</c>. Recommended.
    /// </summary>
    public string? KeyId { get; set; }

    /// <summary>When <see langword="true"/>, the key manager is disposed with the configuration (when the factory made it for the provider).</summary>
    public bool DisposeKeyManager { get; set; }
}

/// <summary>
/// Exposes the configuration of the sources added before it with every encrypted value
/// (<see cref="EnvelopeKmsConfigurationValues"/>) decrypted, under the same key. Added last, it overrides
/// the ciphertext; values that are not encrypted pass through unchanged. Reloads when those sources do.
/// </summary>
internal sealed class EnvelopeKmsConfigurationProvider : ConfigurationProvider, IDisposable
{
    private readonly IConfigurationRoot _inner;
    private readonly Func<IConfiguration, IKeyManager> _keyManagerFactory;
    private readonly EnvelopeKmsConfigurationOptions _options;
    private readonly IDisposable _reloadRegistration;
    private readonly Lock _gate = new();
    private IKeyManager? _keyManager;
    private bool _loaded;
    private volatile bool _reloadingInner;

    public EnvelopeKmsConfigurationProvider(IConfigurationRoot inner, Func<IConfiguration, IKeyManager> keyManagerFactory, EnvelopeKmsConfigurationOptions options)
    {
        _inner = inner;
        _keyManagerFactory = keyManagerFactory;
        _options = options;
        _reloadRegistration = ChangeToken.OnChange(inner.GetReloadToken, () =>
        {
            // A source of its own reloaded (a file changed): decrypt again and tell the outer configuration.
            if (!_reloadingInner)
            {
                Decrypt();
                OnReload();
            }
        });
    }

    /// <summary>Loads when the outer configuration is built or reloaded: reloads the earlier sources, then decrypts.</summary>
    public override void Load()
    {
        if (_loaded)
        {
            _reloadingInner = true;
            try
            {
                _inner.Reload();
            }
            finally
            {
                _reloadingInner = false;
            }
        }

        _loaded = true;
        Decrypt();
    }

    private void Decrypt()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in _inner.AsEnumerable())
        {
            if (value is not null && value.StartsWith(EnvelopeKmsConfigurationValues.Prefix, StringComparison.Ordinal))
            {
                data[key] = Decrypt(key, value);
            }
        }

        Data = data;
    }

    private string Decrypt(string key, string value)
    {
        var ciphertext = EnvelopeKmsConfigurationValues.IsEncrypted(value) ? EnvelopeKmsConfigurationValues.CiphertextOf(value) : null;
        if (ciphertext is null)
        {
            throw new EnvelopeKmsConfigurationException(key, "InvalidCiphertextException",
                $"The configuration value of '{key}' starts like an EnvelopeKms encrypted value but is not one: expected {EnvelopeKmsConfigurationValues.Prefix}<base64>{EnvelopeKmsConfigurationValues.Suffix}.");
        }

        var keyManager = KeyManager();
        try
        {
            using var response = Task.Run(async () => await keyManager.DecryptAsync(new DecryptRequest
            {
                CiphertextBlob = ciphertext,
                EncryptionContext = EnvelopeKmsConfigurationValues.EncryptionContextFor(key),
                KeyId = _options.KeyId,
            }).ConfigureAwait(false)).GetAwaiter().GetResult();
            return System.Text.Encoding.UTF8.GetString(response.Plaintext);
        }
        catch (KmsException e)
        {
            throw new EnvelopeKmsConfigurationException(key, e.ErrorCode,
                $"The encrypted configuration value of '{key}' could not be decrypted: {e.ErrorCode}. {Hint(e)}", e);
        }
    }

    private static string Hint(KmsException e) => e switch
    {
        KmsInvalidCiphertextException => "It was encrypted for another configuration key, with another encryption context, or it was altered.",
        KmsIncorrectKeyException => "It was encrypted under a key other than the one the provider requires (EnvelopeKmsConfigurationOptions.KeyId).",
        _ => e.Message,
    };

    private IKeyManager KeyManager()
    {
        lock (_gate)
        {
            return _keyManager ??= _keyManagerFactory(_inner)
                ?? throw new InvalidOperationException("The key manager factory of AddEnvelopeKmsDecryption returned null.");
        }
    }

    public void Dispose()
    {
        _reloadRegistration.Dispose();
        if (_options.DisposeKeyManager && _keyManager is IDisposable disposable)
        {
            disposable.Dispose();
        }

        (_inner as IDisposable)?.Dispose();
    }
}

/// <summary>The configuration source behind <see cref="EnvelopeKmsConfigurationExtensions"/>.</summary>
internal sealed class EnvelopeKmsConfigurationSource(IReadOnlyList<IConfigurationSource> previous, Func<IConfiguration, IKeyManager> keyManagerFactory, EnvelopeKmsConfigurationOptions options) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        var inner = new ConfigurationBuilder();
        foreach (var (key, value) in builder.Properties)
        {
            inner.Properties[key] = value;
        }

        foreach (var source in previous)
        {
            inner.Add(source);
        }

        return new EnvelopeKmsConfigurationProvider(inner.Build(), keyManagerFactory, options);
    }
}

/// <summary>Adds decryption of EnvelopeKms-encrypted values to a configuration.</summary>
#pragma warning disable RS0026 // Two overloads with an optional configure, as Microsoft.Extensions.Configuration's own Add* methods have.
public static class EnvelopeKmsConfigurationExtensions
{
    /// <summary>
    /// Decrypts every encrypted value (<c>ENC[EnvelopeKms,v1,...]</c>) of the sources added before this
    /// call, at load and at every reload; add it after them. The key manager is made by
    /// <paramref name="keyManagerFactory"/> from those sources, on the first encrypted value, so its root
    /// key or store path can come from the same configuration (an environment variable, for example).
    /// </summary>
    /// <param name="builder">The configuration builder.</param>
    /// <param name="keyManagerFactory">Makes the key manager from the configuration of the earlier sources.</param>
    /// <param name="configure">Options: the key values must be under, disposal.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="EnvelopeKmsConfigurationException">At build or reload: a value could not be decrypted (it names the configuration key and the KMS error code, never the value).</exception>
    public static IConfigurationBuilder AddEnvelopeKmsDecryption(this IConfigurationBuilder builder, Func<IConfiguration, IKeyManager> keyManagerFactory, Action<EnvelopeKmsConfigurationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(keyManagerFactory);
        var options = new EnvelopeKmsConfigurationOptions();
        configure?.Invoke(options);
        builder.Add(new EnvelopeKmsConfigurationSource([.. builder.Sources], keyManagerFactory, options));
        return builder;
    }

    /// <summary>Decrypts every encrypted value of the sources added before this call with <paramref name="keyManager"/> (see the other overload).</summary>
    /// <param name="builder">The configuration builder.</param>
    /// <param name="keyManager">The key manager; the caller keeps ownership.</param>
    /// <param name="configure">Options.</param>
    /// <returns>The builder.</returns>
    public static IConfigurationBuilder AddEnvelopeKmsDecryption(this IConfigurationBuilder builder, IKeyManager keyManager, Action<EnvelopeKmsConfigurationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        return builder.AddEnvelopeKmsDecryption(_ => keyManager, options =>
        {
            configure?.Invoke(options);
            options.DisposeKeyManager = false;
        });
    }
}
#pragma warning restore RS0026
