namespace EnvelopeKms.Auditing;

/// <summary>Keeps every event in memory, in write order; thread-safe. Meant for tests.</summary>
public sealed class InMemoryAuditSink : IKmsAuditSink
{
    private readonly List<KmsAuditEvent> _events = [];
    private readonly Lock _lock = new();

    /// <summary>A snapshot of the events written so far, oldest first.</summary>
    public IReadOnlyList<KmsAuditEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Forgets every event.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _events.Clear();
        }
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            _events.Add(auditEvent);
        }

        return ValueTask.CompletedTask;
    }
}
