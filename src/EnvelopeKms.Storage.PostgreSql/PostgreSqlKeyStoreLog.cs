using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Storage.PostgreSql;

/// <summary>The log messages of the PostgreSQL key store's change watcher (no secrets: ids, SQLSTATEs and timings only).</summary>
internal static partial class PostgreSqlKeyStoreLog
{
    [LoggerMessage(2201, LogLevel.Warning, "The PostgreSQL key store {Store} lost its LISTEN connection; polling the change table every {PollInterval} until it reconnects (next attempt in {Backoff}).", EventName = "PostgreSqlListenFailed")]
    public static partial void ListenFailed(ILogger logger, string store, TimeSpan pollInterval, TimeSpan backoff, Exception exception);

    [LoggerMessage(2202, LogLevel.Warning, "The PostgreSQL key store {Store} could not read its change table; retrying.", EventName = "PostgreSqlReadChangesFailed")]
    public static partial void ReadChangesFailed(ILogger logger, string store, Exception exception);

    [LoggerMessage(2203, LogLevel.Information, "The PostgreSQL key store {Store} is listening for changes on channel {Channel}.", EventName = "PostgreSqlListening")]
    public static partial void Listening(ILogger logger, string store, string channel);

    [LoggerMessage(2204, LogLevel.Warning, "A change handler of the PostgreSQL key store {Store} threw; the exception was ignored.", EventName = "PostgreSqlHandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string store, Exception exception);
}
