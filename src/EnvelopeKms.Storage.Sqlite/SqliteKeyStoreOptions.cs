namespace EnvelopeKms.Storage.Sqlite;

/// <summary>Settings of the change feed of a <see cref="SqliteKeyStore"/>.</summary>
public sealed class SqliteKeyStoreOptions
{
    /// <summary>
    /// How often the change watcher reads the change feed (1 second by default; from 1 millisecond to
    /// 1 hour). A change made through another store on the file is reported within about this time,
    /// so cached data keys of a disabled key live at most this much longer in other processes.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many of the latest rows of the change feed are kept (10,000 by default; at least 1). A
    /// watcher that falls further behind than this reports a reset ("anything may have changed").
    /// </summary>
    public int ChangeRetention { get; set; } = 10_000;

    internal void Validate()
    {
        if (PollInterval < TimeSpan.FromMilliseconds(1) || PollInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "The poll interval must be from 1 millisecond to 1 hour.");
        }

        if (ChangeRetention < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChangeRetention), ChangeRetention, "The change retention must be at least 1 row.");
        }
    }
}
