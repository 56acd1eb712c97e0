using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Storage.Sqlite;

/// <summary>The log messages of the SQLite key store (event ids 2100–2199; no secrets: store names and timings only).</summary>
internal static partial class SqliteKeyStoreLog
{
    [LoggerMessage(2101, LogLevel.Warning, "Reading the change feed of the SQLite key store '{Store}' failed; retrying in {Delay}.", EventName = "SqliteChangeWatcherFailed")]
    public static partial void ChangeWatcherFailed(ILogger logger, string store, TimeSpan delay, Exception exception);
}
