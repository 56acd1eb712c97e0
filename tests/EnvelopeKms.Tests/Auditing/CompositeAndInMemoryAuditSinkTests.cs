using EnvelopeKms.Auditing;
using static EnvelopeKms.Tests.Auditing.AuditTestSupport;

namespace EnvelopeKms.Tests.Auditing;

public sealed class CompositeAndInMemoryAuditSinkTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class RecordingSink(string name, List<string> log, Exception? failure = null) : IKmsAuditSink
    {
        public ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
        {
            lock (log)
            {
                log.Add($"{name}:{auditEvent.RequestId}");
            }

            return failure is null ? ValueTask.CompletedTask : ValueTask.FromException(failure);
        }
    }

    [Fact]
    public async Task The_in_memory_sink_keeps_events_in_write_order()
    {
        var sink = new InMemoryAuditSink();
        await sink.WriteAsync(Event(0), Ct);
        await sink.WriteAsync(Event(1), Ct);
        Assert.Equal(["req-000000", "req-000001"], sink.Events.Select(e => e.RequestId));
        sink.Clear();
        Assert.Empty(sink.Events);
    }

    [Fact]
    public async Task The_in_memory_sink_keeps_every_event_under_parallel_writes()
    {
        var sink = new InMemoryAuditSink();
        await Parallel.ForAsync(0, 1000, Ct, async (i, ct) => await sink.WriteAsync(Event(i), ct));
        Assert.Equal(1000, sink.Events.Select(e => e.RequestId).Distinct().Count());
    }

    [Fact]
    public async Task The_composite_writes_to_every_sink_in_order()
    {
        var log = new List<string>();
        var memory = new InMemoryAuditSink();
        var composite = new CompositeAuditSink(new RecordingSink("a", log), memory, new RecordingSink("b", log));
        await composite.WriteAsync(Event(0), Ct);
        await composite.WriteAsync(Event(1), Ct);

        Assert.Equal(["a:req-000000", "b:req-000000", "a:req-000001", "b:req-000001"], log);
        Assert.Equal(2, memory.Events.Count);
        Assert.Equal(3, composite.Sinks.Count);
    }

    [Fact]
    public async Task A_failing_sink_does_not_stop_the_others_and_its_exception_propagates()
    {
        var log = new List<string>();
        var failure = new IOException("disk full");
        var composite = new CompositeAuditSink(new RecordingSink("a", log), new RecordingSink("bad", log, failure), new RecordingSink("c", log));

        var thrown = await Assert.ThrowsAsync<IOException>(() => composite.WriteAsync(Event(0), Ct).AsTask());

        Assert.Same(failure, thrown);
        Assert.Equal(["a:req-000000", "bad:req-000000", "c:req-000000"], log);
    }

    [Fact]
    public async Task Several_failing_sinks_are_reported_together()
    {
        var log = new List<string>();
        var first = new IOException("one");
        var second = new TimeoutException("two");
        var composite = new CompositeAuditSink(new RecordingSink("a", log, first), new RecordingSink("b", log, second), new RecordingSink("c", log));

        var thrown = await Assert.ThrowsAsync<AggregateException>(() => composite.WriteAsync(Event(0), Ct).AsTask());

        Assert.Equal([first, second], thrown.InnerExceptions);
        Assert.Equal(3, log.Count);
    }

    [Fact]
    public void A_composite_rejects_a_null_sink()
    {
        Assert.Throws<ArgumentNullException>(() => new CompositeAuditSink(new InMemoryAuditSink(), null!));
    }
}
