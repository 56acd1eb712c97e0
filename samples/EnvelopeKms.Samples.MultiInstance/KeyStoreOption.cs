using EnvelopeKms.Storage;
using EnvelopeKms.Storage.PostgreSql;
using EnvelopeKms.Storage.Sqlite;
using Npgsql;

/// <summary>
/// The shared key store named on the command line: <c>--store sqlite:&lt;path&gt;</c> or
/// <c>--store postgres:&lt;Npgsql connection string&gt;</c>. The one place that knows the store kinds.
/// </summary>
internal sealed record KeyStoreOption(string Kind, string Target)
{
    /// <summary>
    /// How often a SQLite store reads its change feed. Short here so that the demo shows the eviction at
    /// once; the store's default is 1 second, and every poll is one small query on the database file.
    /// </summary>
    public static readonly TimeSpan SqlitePollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Parses <c>kind:target</c>; null when the kind is unknown or the target is empty or malformed.</summary>
    public static KeyStoreOption? Parse(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            return null;
        }

        var kind = value[..colon];
        var target = value[(colon + 1)..];
        return kind switch
        {
            "sqlite" => new KeyStoreOption(kind, Path.GetFullPath(target)),
            "postgres" when IsConnectionString(target) => new KeyStoreOption(kind, target),
            _ => null,
        };
    }

    /// <summary>The command-line form, passed on to the second instance.</summary>
    public string Argument => $"{Kind}:{Target}";

    /// <summary>What the narrative shows (never a connection string's password).</summary>
    public string Description => Kind switch
    {
        "sqlite" => $"SQLite database {Target}",
        "postgres" => DescribePostgreSql(Target),
        _ => Kind,
    };

    /// <summary>How other instances' changes reach this one.</summary>
    public string ChangeFeed => Kind switch
    {
        "sqlite" => $"change feed polled every {SqlitePollInterval.TotalMilliseconds:0} ms",
        "postgres" => "change feed announced by LISTEN/NOTIFY",
        _ => "no change feed",
    };

    /// <summary>Opens a new store instance: each key-manager instance gets its own.</summary>
    public IKeyStore Open() => Kind switch
    {
        "sqlite" => new SqliteKeyStore(Target, new SqliteKeyStoreOptions { PollInterval = SqlitePollInterval }),
        "postgres" => new PostgreSqlKeyStore(Target),
        _ => throw new InvalidOperationException($"Unknown store kind '{Kind}'."),
    };

    private static bool IsConnectionString(string value)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(value) is { Host.Length: > 0 };
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string DescribePostgreSql(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL database {builder.Database ?? builder.Username ?? "(default)"} on {builder.Host}:{builder.Port}";
    }
}
