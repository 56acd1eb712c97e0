using System.Text.RegularExpressions;

namespace EnvelopeKms.Storage.PostgreSql;

/// <summary>Settings of a <see cref="PostgreSqlKeyStore"/>.</summary>
public sealed partial class PostgreSqlKeyStoreOptions
{
    /// <summary>
    /// The schema that holds the store's tables; created on first use. Lowercase letters, digits and
    /// underscores, starting with a letter or an underscore, at most 63 characters. Default <c>envelopekms</c>.
    /// </summary>
    public string SchemaName { get; set; } = "envelopekms";

    /// <summary>
    /// The LISTEN/NOTIFY channel that announces changes, with the same rules as <see cref="SchemaName"/>;
    /// <see langword="null"/> (the default) means <c>&lt;schema&gt;_changes</c>. Every instance sharing a
    /// schema must use the same channel.
    /// </summary>
    public string? NotificationChannel { get; set; }

    /// <summary>
    /// Whether the change watcher listens for notifications (default <see langword="true"/>). Turn it
    /// off for servers without LISTEN/NOTIFY (CockroachDB, YugabyteDB) or behind a pooler in transaction
    /// mode (PgBouncer): the watcher then polls the change table every <see cref="PollInterval"/>, and
    /// writes no longer call <c>pg_notify</c>.
    /// </summary>
    public bool UseListenNotify { get; set; } = true;

    /// <summary>
    /// How often the change watcher reads the change table while it cannot listen (LISTEN disabled or
    /// its connection down). Default 1 second.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many times a write transaction is re-run after a serialization failure (SQLSTATE 40001) or a
    /// deadlock (40P01) before the store reports <see cref="KmsStorageUnavailableException"/>. Default 5.
    /// </summary>
    public int MaxSerializationRetries { get; set; } = 5;

    /// <summary>
    /// How many rows of the change table are kept (older ones are pruned now and then). A watcher that
    /// falls further behind reports a reset. Default 10000.
    /// </summary>
    public int ChangeRetention { get; set; } = 10_000;

    /// <summary>Checks the settings and returns the notification channel in force.</summary>
    internal string Validate()
    {
        if (SchemaName is null || !Identifier().IsMatch(SchemaName))
        {
            throw new ArgumentException($"The schema name '{SchemaName}' is not valid: use lowercase letters, digits and underscores, starting with a letter or an underscore, at most 63 characters.", nameof(SchemaName));
        }

        var channel = NotificationChannel ?? $"{SchemaName}_changes";
        if (!Identifier().IsMatch(channel))
        {
            throw new ArgumentException($"The notification channel '{channel}' is not valid: use lowercase letters, digits and underscores, starting with a letter or an underscore, at most 63 characters.", nameof(NotificationChannel));
        }

        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "The poll interval must be positive and at most an hour.");
        }

        if (MaxSerializationRetries is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSerializationRetries), MaxSerializationRetries, "The retry count must be between 0 and 100.");
        }

        if (ChangeRetention < 100)
        {
            throw new ArgumentOutOfRangeException(nameof(ChangeRetention), ChangeRetention, "Keep at least 100 changes.");
        }

        return channel;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
