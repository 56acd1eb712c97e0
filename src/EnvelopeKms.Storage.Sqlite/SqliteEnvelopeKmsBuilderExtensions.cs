using EnvelopeKms.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Builder verbs of the SQLite key store.</summary>
public static class SqliteEnvelopeKmsBuilderExtensions
{
    /// <summary>
    /// Stores keys in a SQLite database (see <see cref="SqliteKeyStore"/>): a file path, or a
    /// Microsoft.Data.Sqlite connection string (any value containing <c>=</c>). The store is durable,
    /// so a root key (<c>ProtectKeysWith*</c>) is required. With a service collection
    /// (<c>AddEnvelopeKms</c>) the store is registered as a singleton and the container disposes it (and
    /// its change watcher) on shutdown; a key manager from <c>KeyManagerFactory</c> disposes it itself.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="pathOrConnectionString">A file path, or a connection string.</param>
    /// <param name="configure">Sets the change-feed options (poll interval, retention); defaults when <see langword="null"/>.</param>
    public static EnvelopeKmsBuilder PersistKeysToSqlite(this EnvelopeKmsBuilder builder, string pathOrConnectionString, Action<SqliteKeyStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrConnectionString);
        var options = new SqliteKeyStoreOptions();
        configure?.Invoke(options);
        options.Validate();
        SqliteKeyStore Create(IServiceProvider services)
            => new(pathOrConnectionString, options, services.GetService(typeof(ILoggerFactory)) as ILoggerFactory);

        if (builder.Services is { } services)
        {
            services.TryAddSingleton(Create);
            return builder.UseKeyStore(sp => sp.GetRequiredService<SqliteKeyStore>());
        }

        return builder.UseKeyStore(Create);
    }
}
