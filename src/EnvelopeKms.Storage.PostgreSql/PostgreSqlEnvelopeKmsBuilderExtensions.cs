using EnvelopeKms.Storage.PostgreSql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Builder verbs of the PostgreSQL key store.</summary>
public static class PostgreSqlEnvelopeKmsBuilderExtensions
{
    /// <summary>
    /// Stores keys in a PostgreSQL database (see <see cref="PostgreSqlKeyStore"/>) described by an
    /// Npgsql connection string. The store is durable, so a root key (<c>ProtectKeysWith*</c>) is
    /// required. With a service collection (<c>AddEnvelopeKms</c>) the store is registered as a
    /// singleton, and the container disposes it (and its change watcher) on shutdown.
    /// </summary>
    public static EnvelopeKmsBuilder PersistKeysToPostgreSql(this EnvelopeKmsBuilder builder, string connectionString, Action<PostgreSqlKeyStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new PostgreSqlKeyStoreOptions();
        configure?.Invoke(options);
        _ = options.Validate();

        PostgreSqlKeyStore Create(IServiceProvider services)
            => new(connectionString, options, services.GetService(typeof(ILoggerFactory)) as ILoggerFactory);

        if (builder.Services is { } services)
        {
            services.TryAddSingleton(Create);
            return builder.UseKeyStore(sp => sp.GetRequiredService<PostgreSqlKeyStore>());
        }

        return builder.UseKeyStore(Create);
    }
}
