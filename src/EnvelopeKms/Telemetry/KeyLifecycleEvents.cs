using System.Threading.Channels;
using EnvelopeKms.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EnvelopeKms.Telemetry;

/// <summary>
/// The lifecycle events of one key manager's keys (the EventBridge analogue): subscribe an
/// <see cref="IObserver{T}"/>, or take a buffered <see cref="CreateSubscription(int)">subscription</see> and read
/// it as a <see cref="ChannelReader{T}"/> or an async stream.
/// </summary>
/// <remarks>
/// <para>An event is raised only after the change is stored and its audit record written, on the thread
/// that made the change. Events of one key arrive in the order this key manager raised them; changes
/// made by other instances sharing the store are not raised here.</para>
/// <para>Observers are called synchronously and must be quick. An observer that throws is logged
/// (event <c>5001</c>) and ignored: it never fails the operation, and it stays subscribed.
/// <see cref="IObserver{T}.OnError"/> is never called; <see cref="IObserver{T}.OnCompleted"/> is called
/// when the key manager is disposed.</para>
/// <para>Buffered subscriptions never slow an operation down: each has a bounded buffer
/// (<see cref="DefaultCapacity"/> events unless told otherwise). When it is full, the <b>oldest</b>
/// buffered event is dropped to make room and counted in <see cref="KeyLifecycleSubscription.DroppedCount"/>.</para>
/// </remarks>
public sealed class KeyLifecycleEvents : IObservable<KeyLifecycleEvent>
{
    /// <summary>The buffer size of a subscription when none is given.</summary>
    public const int DefaultCapacity = 1024;

    private readonly Lock _gate = new();
    private IObserver<KeyLifecycleEvent>[] _observers = [];
    private ILogger _logger = NullLogger.Instance;
    private bool _completed;

    internal KeyLifecycleEvents()
    {
    }

    /// <summary>Where failures of observers are logged.</summary>
    internal ILogger Logger
    {
        set => _logger = value;
    }

    /// <summary>Calls <paramref name="observer"/> for every event from now on, until the returned handle is disposed.</summary>
    /// <param name="observer">Called synchronously on the thread that made the change.</param>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable Subscribe(IObserver<KeyLifecycleEvent> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_gate)
        {
            if (_completed)
            {
                observer.OnCompleted();
                return new Unsubscriber(this, observer);
            }

            Volatile.Write(ref _observers, [.. _observers, observer]);
        }

        return new Unsubscriber(this, observer);
    }

    /// <summary>A buffered subscription to every event from now on.</summary>
    /// <param name="capacity">How many unread events the buffer holds before the oldest is dropped; at least 1.</param>
    /// <returns>The subscription; dispose it to stop buffering.</returns>
    public KeyLifecycleSubscription CreateSubscription(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscription = new KeyLifecycleSubscription(capacity);
        subscription.Registration = Subscribe((IObserver<KeyLifecycleEvent>)subscription);
        return subscription;
    }

    /// <summary>Reads every event from now on until <paramref name="cancellationToken"/> is cancelled or the key manager is disposed.</summary>
    /// <param name="capacity">The buffer size (see <see cref="CreateSubscription(int)"/>).</param>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    public async IAsyncEnumerable<KeyLifecycleEvent> ReadAllAsync(int capacity = DefaultCapacity, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var subscription = CreateSubscription(capacity);
        await foreach (var item in subscription.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>Raises <paramref name="lifecycleEvent"/> to every observer; never throws.</summary>
    internal void Publish(KeyLifecycleEvent lifecycleEvent)
    {
        foreach (var observer in Volatile.Read(ref _observers))
        {
            try
            {
                observer.OnNext(lifecycleEvent);
            }
#pragma warning disable CA1031 // A subscriber's failure must never fail the operation that raised the event.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.LifecycleSubscriberFailed(_logger, lifecycleEvent.Type, lifecycleEvent.KeyId, lifecycleEvent.RequestId, e);
            }
        }
    }

    /// <summary>Tells every observer that no more events come (the key manager is disposed).</summary>
    internal void Complete()
    {
        IObserver<KeyLifecycleEvent>[] observers;
        lock (_gate)
        {
            _completed = true;
            observers = _observers;
            Volatile.Write(ref _observers, []);
        }

        foreach (var observer in observers)
        {
            try
            {
                observer.OnCompleted();
            }
#pragma warning disable CA1031 // As in Publish.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.LifecycleSubscriberFailed(_logger, null, null, null, e);
            }
        }
    }

    private void Remove(IObserver<KeyLifecycleEvent> observer)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_observers, observer);
            if (index >= 0)
            {
                Volatile.Write(ref _observers, [.. _observers[..index], .. _observers[(index + 1)..]]);
            }
        }
    }

    private sealed class Unsubscriber(KeyLifecycleEvents stream, IObserver<KeyLifecycleEvent> observer) : IDisposable
    {
        public void Dispose() => stream.Remove(observer);
    }
}

/// <summary>
/// A buffered subscription to a <see cref="KeyLifecycleEvents"/>: read <see cref="Reader"/>; when the
/// buffer is full the oldest event is dropped and counted in <see cref="DroppedCount"/>. Disposing it
/// unsubscribes and completes <see cref="Reader"/> once the buffered events are read.
/// </summary>
public sealed class KeyLifecycleSubscription : IObserver<KeyLifecycleEvent>, IDisposable
{
    private readonly Channel<KeyLifecycleEvent> _channel;
    private long _dropped;

    internal KeyLifecycleSubscription(int capacity)
        => _channel = Channel.CreateBounded<KeyLifecycleEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false, SingleWriter = false },
            _ => Interlocked.Increment(ref _dropped));

    internal IDisposable? Registration { get; set; }

    /// <summary>The buffered events.</summary>
    public ChannelReader<KeyLifecycleEvent> Reader => _channel.Reader;

    /// <summary>How many events were dropped because the buffer was full.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Unsubscribes; events already buffered can still be read.</summary>
    public void Dispose()
    {
        Registration?.Dispose();
        _channel.Writer.TryComplete();
    }

    void IObserver<KeyLifecycleEvent>.OnNext(KeyLifecycleEvent value) => _channel.Writer.TryWrite(value);

    void IObserver<KeyLifecycleEvent>.OnCompleted() => _channel.Writer.TryComplete();

    void IObserver<KeyLifecycleEvent>.OnError(Exception error) => _channel.Writer.TryComplete(error);
}
