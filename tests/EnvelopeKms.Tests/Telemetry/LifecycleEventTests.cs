using System.Threading.Channels;
using EnvelopeKms.Telemetry;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Tests.Telemetry;

/// <summary>The lifecycle event stream: order, request ids, buffering and failing subscribers.</summary>
public sealed class LifecycleEventTests
{
    private static List<KeyLifecycleEvent> Drain(ChannelReader<KeyLifecycleEvent> reader)
    {
        var events = new List<KeyLifecycleEvent>();
        while (reader.TryRead(out var item))
        {
            events.Add(item);
        }

        return events;
    }

    [Fact]
    public async Task Lifecycle_events_arrive_in_order_with_the_request_ids_of_their_audit_records()
    {
        using var h = TelemetryHarness.Create();
        var stream = h.Services.GetRequiredService<KeyLifecycleEvents>();
        Assert.Same(h.Manager.LifecycleEvents, stream);
        using var subscription = stream.CreateSubscription();
        var api = h.Manager.Api();

        var key = await api.NewKeyAsync();
        await api.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await api.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        var rotated = await api.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, Kms.Ct);
        await api.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);
        await api.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = key.KeyId }, Kms.Ct);
        var scheduled = await api.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        h.Clock.Advance(TimeSpan.FromDays(8));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => api.DescribeAsync(key.KeyId)); // Purges the key.

        var events = Drain(subscription.Reader);
        Assert.Equal(
            [
                KeyLifecycleEventType.KeyCreated, KeyLifecycleEventType.KeyDisabled, KeyLifecycleEventType.KeyEnabled,
                KeyLifecycleEventType.KeyRotated, KeyLifecycleEventType.KeyDeletionScheduled, KeyLifecycleEventType.KeyDeletionCanceled,
                KeyLifecycleEventType.KeyDeletionScheduled, KeyLifecycleEventType.KeyDeleted,
            ],
            events.Select(e => e.Type).ToArray());

        var changes = new[]
        {
            KmsOperation.CreateKey, KmsOperation.DisableKey, KmsOperation.EnableKey, KmsOperation.RotateKeyOnDemand,
            KmsOperation.ScheduleKeyDeletion, KmsOperation.CancelKeyDeletion, KmsOperation.DeleteExpiredKey,
        };
        var audited = h.Audit.Events.Where(e => e.Outcome == KmsOutcome.Success && changes.Contains(e.Operation)).ToList();
        Assert.Equal(audited.Select(e => e.RequestId), events.Select(e => e.RequestId));
        Assert.All(events, e =>
        {
            Assert.Equal(key.KeyId, e.KeyId);
            Assert.Equal(Kms.KeyArn(key.KeyId), e.KeyArn);
        });

        Assert.Equal(audited[0].KeyMaterialId, events[0].KeyMaterialId);
        Assert.NotNull(events[0].KeyMaterialId);
        Assert.Equal(rotated.KeyMaterialId, events[3].KeyMaterialId);
        Assert.Equal(KeyRotationType.OnDemand, events[3].RotationType);
        Assert.Equal(KeyRotationTrigger.Request, events[3].RotationTrigger);
        Assert.Equal(scheduled.DeletionDate, events[6].DeletionDate);
        Assert.Equal(scheduled.DeletionDate, events[7].DeletionDate);
        Assert.Null(events[1].KeyMaterialId);
        Assert.Equal(h.Clock.GetUtcNow(), events[7].Time);
        Assert.Equal(0, subscription.DroppedCount);
    }

    [Fact]
    public async Task An_automatic_rotation_raises_a_rotated_event_after_its_audit_record()
    {
        using var h = TelemetryHarness.Create();
        var api = h.Manager.Api();
        var key = await api.NewKeyAsync();
        await api.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = key.KeyId, RotationPeriodInDays = 90 }, Kms.Ct);
        var audited = new List<int>();
        using var observer = h.Manager.LifecycleEvents.Subscribe(new Observer(_ => audited.Add(h.Audit.Events.Count(e => e.Operation == KmsOperation.RotateKey))));
        using var subscription = h.Manager.LifecycleEvents.CreateSubscription();
        h.Clock.Advance(TimeSpan.FromDays(91));

        Assert.Equal(1, await api.RotateDueKeysAsync(Kms.Ct));

        var rotated = Assert.Single(Drain(subscription.Reader));
        Assert.Equal(KeyLifecycleEventType.KeyRotated, rotated.Type);
        Assert.Equal(KeyRotationType.Automatic, rotated.RotationType);
        Assert.Equal(KeyRotationTrigger.Schedule, rotated.RotationTrigger);
        Assert.Equal(h.RequestIdOf(KmsOperation.RotateKey), rotated.RequestId);
        Assert.Equal([1], audited); // The audit record was written when the event was raised.
    }

    [Fact]
    public async Task Failed_and_read_only_operations_raise_no_event()
    {
        using var h = TelemetryHarness.Create();
        var api = h.Manager.Api();
        var key = await api.NewKeyAsync();
        using var subscription = h.Manager.LifecycleEvents.CreateSubscription();

        await api.DescribeAsync(key.KeyId);
        await api.EncryptBlobAsync(key.KeyId, [1]);
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => api.DisableKeyAsync(new DisableKeyRequest { Caller = new CallerIdentity(Kms.RoleArn), KeyId = key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => api.EnableKeyAsync(new EnableKeyRequest { KeyId = "11111111-2222-3333-4444-555555555555" }, Kms.Ct));

        Assert.Empty(Drain(subscription.Reader));
    }

    [Fact]
    public async Task A_throwing_subscriber_does_not_fail_the_operation_nor_starve_the_others()
    {
        using var h = TelemetryHarness.Create();
        var api = h.Manager.Api();
        var key = await api.NewKeyAsync();
        var calls = 0;
        using var thrower = h.Manager.LifecycleEvents.Subscribe(new Observer(_ =>
        {
            calls++;
            throw new InvalidOperationException("subscriber failure");
        }));
        using var subscription = h.Manager.LifecycleEvents.CreateSubscription();

        await api.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        await api.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(2, calls);
        Assert.Equal([KeyLifecycleEventType.KeyDisabled, KeyLifecycleEventType.KeyEnabled], Drain(subscription.Reader).Select(e => e.Type).ToArray());
        Assert.Equal(KeyState.Enabled, (await api.DescribeAsync(key.KeyId)).KeyState);
        var logged = h.Logs.GetSnapshot().Where(r => r.Id.Id == 5001).ToList();
        Assert.Equal(2, logged.Count);
        Assert.All(logged, r =>
        {
            Assert.Equal("LifecycleSubscriberFailed", r.Id.Name);
            Assert.IsType<InvalidOperationException>(r.Exception);
        });
    }

    [Fact]
    public async Task A_full_subscription_drops_its_oldest_events_and_counts_them()
    {
        using var h = TelemetryHarness.Create();
        var api = h.Manager.Api();
        var key = await api.NewKeyAsync();
        using var subscription = h.Manager.LifecycleEvents.CreateSubscription(capacity: 2);

        for (var i = 0; i < 2; i++)
        {
            await api.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
            await api.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        }

        var kept = Drain(subscription.Reader);
        Assert.Equal(2, subscription.DroppedCount);
        Assert.Equal([KeyLifecycleEventType.KeyDisabled, KeyLifecycleEventType.KeyEnabled], kept.Select(e => e.Type).ToArray());
        Assert.Equal(h.Audit.Events[^1].RequestId, kept[^1].RequestId);
    }

    [Fact]
    public async Task A_disposed_subscription_stops_receiving_and_disposing_the_key_manager_completes_the_stream()
    {
        using var kms = new TestKeyManager();
        var api = kms.Manager.Api();
        var key = await api.NewKeyAsync();
        var early = kms.Manager.LifecycleEvents.CreateSubscription();
        using var late = kms.Manager.LifecycleEvents.CreateSubscription();
        var enumerated = new List<KeyLifecycleEventType>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in kms.Manager.LifecycleEvents.ReadAllAsync(cancellationToken: Kms.Ct))
            {
                enumerated.Add(e.Type);
            }
        }, Kms.Ct);

        early.Dispose();
        await api.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId }, Kms.Ct);
        kms.Manager.Dispose();

        Assert.Empty(Drain(early.Reader));
        Assert.True(early.Reader.Completion.IsCompleted);
        Assert.Equal(KeyLifecycleEventType.KeyDisabled, Assert.Single(Drain(late.Reader)).Type);
        Assert.True(late.Reader.Completion.IsCompleted);
        await reading.WaitAsync(TimeSpan.FromSeconds(10), Kms.Ct); // Ends: the stream completed.
    }

    private sealed class Observer(Action<KeyLifecycleEvent> onNext) : IObserver<KeyLifecycleEvent>
    {
        public void OnNext(KeyLifecycleEvent value) => onNext(value);

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
