using System.Diagnostics;
using EnvelopeKms.Storage;
using EnvelopeKms.Telemetry;

namespace EnvelopeKms;

/// <summary>Telemetry of the key manager: one span and one measurement per operation, and the lifecycle event stream.</summary>
public sealed partial class KeyManager
{
    private readonly KeyLifecycleEvents _lifecycleEvents = new();
    private readonly KeyManagerInstruments _instruments;

    /// <summary>
    /// The lifecycle events of this key manager's keys (created, rotated, disabled, enabled, deletion
    /// scheduled or cancelled, deleted), each raised after the change is stored and audited. Also
    /// resolvable from the container as <see cref="KeyLifecycleEvents"/>. See <c>docs/telemetry.md</c>.
    /// </summary>
    public KeyLifecycleEvents LifecycleEvents => _lifecycleEvents;

    /// <summary>Starts the span of an operation and the clock of its duration; record its outcome with the returned scope.</summary>
    private OperationTelemetry StartTelemetry(OperationContext ctx)
    {
        var activity = EnvelopeKmsTelemetry.ActivitySource.StartActivity(KeyManagerInstruments.SpanNameOf(ctx.Operation), ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(EnvelopeKmsTelemetry.OperationTag, KeyManagerInstruments.NameOf(ctx.Operation));
            activity.SetTag(EnvelopeKmsTelemetry.RequestIdTag, ctx.RequestId);
        }

        return new OperationTelemetry(this, ctx, activity, _time.GetTimestamp());
    }

    /// <summary>Raises the lifecycle event of a successful, audited operation of <see cref="RunAsync"/>, if it has one.</summary>
    private void PublishLifecycleOf(OperationContext ctx, object? result)
    {
        if (ctx.KeyId is not { } keyId)
        {
            return;
        }

        switch (ctx.Operation)
        {
            case KmsOperation.CreateKey when result is KeyMetadataResponse:
                PublishLifecycle(KeyLifecycleEventType.KeyCreated, ctx, keyId);
                break;
            case KmsOperation.DisableKey:
                PublishLifecycle(KeyLifecycleEventType.KeyDisabled, ctx, keyId);
                break;
            case KmsOperation.EnableKey:
                PublishLifecycle(KeyLifecycleEventType.KeyEnabled, ctx, keyId);
                break;
            case KmsOperation.ScheduleKeyDeletion when result is ScheduleKeyDeletionResponse scheduled:
                PublishLifecycle(KeyLifecycleEventType.KeyDeletionScheduled, ctx, keyId, deletionDate: scheduled.DeletionDate);
                break;
            case KmsOperation.CancelKeyDeletion:
                PublishLifecycle(KeyLifecycleEventType.KeyDeletionCanceled, ctx, keyId);
                break;
            case KmsOperation.RotateKeyOnDemand:
                PublishRotation(ctx, KeyRotationType.OnDemand, KeyRotationTrigger.Request);
                break;
        }
    }

    /// <summary>Records the success of an internal step (purge, automatic rotation) after its audit record, and raises its lifecycle event.</summary>
    private void CompleteInternalStep(OperationTelemetry telemetry, OperationContext ctx, KeyRecord key, KeyLifecycleEventType type, KeyRotationTrigger trigger = default, DateTimeOffset? deletionDate = null)
    {
        telemetry.Succeeded();
        if (type == KeyLifecycleEventType.KeyRotated)
        {
            _instruments.RecordRotation(KeyRotationType.Automatic, trigger);
        }

        // EnvelopeKms's own (owned) keys are invisible to every public surface: counted, never raised.
        if (key.KeyManager != KeyManagerType.Owned && ctx.KeyId is { } keyId)
        {
            PublishLifecycle(
                type,
                ctx,
                keyId,
                type == KeyLifecycleEventType.KeyRotated ? KeyRotationType.Automatic : null,
                type == KeyLifecycleEventType.KeyRotated ? trigger : null,
                deletionDate);
        }
    }

    /// <summary>Counts a rotation and raises its lifecycle event; call after its audit record is written.</summary>
    private void PublishRotation(OperationContext ctx, KeyRotationType type, KeyRotationTrigger trigger)
    {
        _instruments.RecordRotation(type, trigger);
        if (ctx.KeyId is { } keyId)
        {
            PublishLifecycle(KeyLifecycleEventType.KeyRotated, ctx, keyId, type, trigger);
        }
    }

    private void PublishLifecycle(KeyLifecycleEventType type, OperationContext ctx, string keyId, KeyRotationType? rotationType = null, KeyRotationTrigger? trigger = null, DateTimeOffset? deletionDate = null)
    {
        if (ctx.IsInternal)
        {
            return;
        }

        _lifecycleEvents.Publish(new KeyLifecycleEvent
        {
            Type = type,
            KeyId = keyId,
            KeyArn = _ids.KeyArn(keyId),
            Time = _time.GetUtcNow(),
            RequestId = ctx.RequestId,
            KeyMaterialId = type is KeyLifecycleEventType.KeyCreated or KeyLifecycleEventType.KeyRotated ? ctx.KeyMaterialId : null,
            RotationType = rotationType,
            RotationTrigger = trigger,
            DeletionDate = deletionDate,
        });
    }

    /// <summary>
    /// The telemetry of one operation: its span and, once its outcome is known, one count and one
    /// duration. Call exactly one of <see cref="Observe"/> (as an exception filter: it returns
    /// <see langword="false"/>, so it sees a failure without catching it) and <see cref="Succeeded"/>.
    /// A scope disposed with neither (an internal step that found its work done by another instance)
    /// ends its span and records no measurement. A struct, so that an operation allocates no more for it.
    /// </summary>
    private readonly struct OperationTelemetry(KeyManager owner, OperationContext ctx, Activity? activity, long started) : IDisposable
    {

        /// <summary>Records the outcome of <paramref name="exception"/> as the operation's; always <see langword="false"/>.</summary>
        public bool Observe(Exception exception)
        {
            var (outcome, code) = exception switch
            {
                KmsAccessDeniedException denied => (KmsOutcome.Denied, denied.ErrorCode),
                KmsException kms => (KmsOutcome.Failure, kms.ErrorCode),
                OperationCanceledException => (KmsOutcome.Failure, "OperationCanceled"),
                KeyStoreConflictException => (KmsOutcome.Failure, KmsErrorCodes.Conflict),
                ArgumentException => (KmsOutcome.Failure, exception.GetType().FullName ?? nameof(ArgumentException)),
                _ => (KmsOutcome.Failure, KmsErrorCodes.Internal),
            };
            Record(outcome, code);
            return false;
        }

        /// <summary>Records success; then raises the operation's lifecycle event, if any.</summary>
        public void Succeeded(object? result = null)
        {
            Record(KmsOutcome.Success, errorCode: null);
            if (ctx.Operation != KmsOperation.RotateKey && ctx.Operation != KmsOperation.DeleteExpiredKey)
            {
                owner.PublishLifecycleOf(ctx, result);
            }
        }

        public void Dispose() => activity?.Dispose();

        private void Record(KmsOutcome outcome, string? errorCode)
        {
            owner._instruments.RecordOperation(ctx.Operation, outcome, errorCode, owner._time.GetElapsedTime(started));
            if (activity is null)
            {
                return;
            }

            if (activity.IsAllDataRequested)
            {
                activity.SetTag(EnvelopeKmsTelemetry.KeyIdTag, ctx.KeyId);
                activity.SetTag(EnvelopeKmsTelemetry.KeyMaterialIdTag, ctx.KeyMaterialId);
                activity.SetTag(EnvelopeKmsTelemetry.OutcomeTag, KeyManagerInstruments.OutcomeName(outcome));
                if (errorCode is not null)
                {
                    activity.SetTag(EnvelopeKmsTelemetry.ErrorCodeTag, errorCode);
                    activity.SetTag(EnvelopeKmsTelemetry.ErrorTypeTag, errorCode);
                }
            }

            if (outcome != KmsOutcome.Success)
            {
                activity.SetStatus(ActivityStatusCode.Error, errorCode);
            }
        }
    }
}
