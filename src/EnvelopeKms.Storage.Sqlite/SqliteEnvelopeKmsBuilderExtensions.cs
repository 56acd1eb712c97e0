using EnvelopeKms.Storage.Sqlite;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Builder verbs of the SQLite key store.</summary>
public static class SqliteEnvelopeKmsBuilderExtensions
{
    /// <summary>
    /// Stores keys in a SQLite database (see <see cref="SqliteKeyStore"/>): a file path, or a
    /// Microsoft.Data.Sqlite connection string (any value containing <c>=</c>). The store is durable,
    /// so a root key (<c>ProtectKeysWith*</c>) is required.
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
        return builder.UseKeyStore(services => new SqliteKeyStore(pathOrConnectionString, options, (ILoggerFactory?)services.GetService(typeof(ILoggerFactory))));
    }
}
