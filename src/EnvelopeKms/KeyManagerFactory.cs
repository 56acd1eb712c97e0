using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms;

/// <summary>Creates a key manager without a service container, for console applications and scripts.</summary>
public static class KeyManagerFactory
{
    /// <summary>
    /// Creates a key manager configured by <paramref name="configure"/> (the same verbs as
    /// <c>AddEnvelopeKms</c>). The key manager owns the store the verbs created: disposing it disposes
    /// the store (its connections and change watcher).
    /// </summary>
    /// <param name="configure">Chooses the store, the root key and the other parts.</param>
    /// <param name="loggerFactory">Logging for warnings and the default audit sink; none when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public static KeyManager Create(Action<EnvelopeKmsBuilder> configure, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new EnvelopeKmsBuilder(services: null);
        configure(builder);
        var options = new EnvelopeKmsOptions();
        foreach (var action in builder.OptionActions)
        {
            action(options);
        }

        return builder.Build(new MinimalServiceProvider(loggerFactory, timeProvider ?? TimeProvider.System), options, ownsStore: true);
    }

    private sealed class MinimalServiceProvider(ILoggerFactory? loggerFactory, TimeProvider timeProvider) : IServiceProvider
    {
        public object? GetService(Type serviceType)
            => serviceType == typeof(ILoggerFactory) ? loggerFactory
            : serviceType == typeof(TimeProvider) ? timeProvider
            : null;
    }
}
