using EnvelopeKms.Storage.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Builder verbs of the SQLite key store.</summary>
public static class SqliteEnvelopeKmsBuilderExtensions
{
    /// <summary>
    /// Stores keys in a SQLite database (see <see cref="SqliteKeyStore"/>): a file path, or a
    /// Microsoft.Data.Sqlite connection string (any value containing <c>=</c>). The store is durable,
    /// so a root key (<c>ProtectKeysWith*</c>) is required.
    /// </summary>
    public static EnvelopeKmsBuilder PersistKeysToSqlite(this EnvelopeKmsBuilder builder, string pathOrConnectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrConnectionString);
        return builder.UseKeyStore(_ => new SqliteKeyStore(pathOrConnectionString));
    }
}
