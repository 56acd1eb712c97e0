using System.Runtime.ExceptionServices;

namespace EnvelopeKms.Auditing;

/// <summary>
/// Writes every event to several sinks, in the order given. Every sink is attempted even when an earlier one throws, so
/// that one failing trail does not leave the others incomplete; then the failure is reported: the exception itself when
/// one sink failed, an <see cref="AggregateException"/> of all of them when several did. With the key manager's
/// fail-closed default the operation then fails, although the sinks that succeeded hold its record: a trail may
/// over-report an operation that was then refused for want of audit, but never under-reports one that went ahead.
/// </summary>
public sealed class CompositeAuditSink : IKmsAuditSink
{
    private readonly IKmsAuditSink[] _sinks;

    /// <summary>Creates the composite.</summary>
    /// <param name="sinks">The sinks, written in this order.</param>
    public CompositeAuditSink(params IKmsAuditSink[] sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        foreach (var sink in sinks)
        {
            ArgumentNullException.ThrowIfNull(sink, nameof(sinks));
        }

        _sinks = [.. sinks];
    }

    /// <summary>The sinks, in write order.</summary>
    public IReadOnlyList<IKmsAuditSink> Sinks => _sinks;

    /// <inheritdoc />
    public async ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        List<Exception>? failures = null;
        foreach (var sink in _sinks)
        {
            try
            {
                await sink.WriteAsync(auditEvent, cancellationToken).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Every sink is attempted; the failures are rethrown below.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                (failures ??= []).Add(exception);
            }
        }

        if (failures is null)
        {
            return;
        }

        if (failures.Count == 1)
        {
            ExceptionDispatchInfo.Throw(failures[0]);
        }

        throw new AggregateException("Several audit sinks failed.", failures);
    }
}
