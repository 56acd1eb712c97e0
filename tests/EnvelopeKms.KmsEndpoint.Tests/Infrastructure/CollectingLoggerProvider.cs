using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms.KmsEndpoint.Tests.Infrastructure;

/// <summary>Keeps every log entry (message and exception) of a host, so tests can read them.</summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CollectingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => owner.Entries.Enqueue($"{logLevel} {category} [{eventId.Id}] {formatter(state, exception)} {exception}");
    }
}
