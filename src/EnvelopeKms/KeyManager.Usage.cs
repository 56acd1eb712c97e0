using EnvelopeKms.Auditing.Usage;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

/// <summary>Key usage: <c>GetKeyLastUsage</c>, <c>GetUsageReport</c> and the meter the audit pipeline feeds.</summary>
public sealed partial class KeyManager
{
    /// <summary>The longest period a usage report covers.</summary>
    private static readonly TimeSpan MaxReportPeriod = TimeSpan.FromDays(400);

    private readonly KeyUsageMeter _usageMeter;

    /// <summary>
    /// The meter that counts this key manager's requests and keeps each key's last usage; fed with every audit event after
    /// the audit sink accepted it. By default a new meter on the key manager's clock (with the default
    /// <see cref="KeyUsageMeterOptions"/>), which knows what happened since the key manager was created; to carry usage across
    /// restarts, replay the audit trail into a meter (<see cref="KeyUsageMeter.ReplayAsync"/>) and set it here, or with
    /// <c>EnvelopeKmsBuilder.TrackUsage</c>.
    /// </summary>
    public KeyUsageMeter UsageMeter
    {
        get => _usageMeter;
        init => _usageMeter = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <inheritdoc />
    public Task<GetKeyLastUsageResponse> GetKeyLastUsageAsync(GetKeyLastUsageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GetKeyLastUsage, request, async ctx =>
        {
            var key = await UseKeyAsync(ctx, KmsOperation.GetKeyLastUsage, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            var usage = _usageMeter.GetLastUsage(key.KeyId);
            return new GetKeyLastUsageResponse
            {
                KeyId = key.KeyId,
                Arn = _ids.KeyArn(key.KeyId),
                LastUsedOperation = usage.LastUsedOperation,
                LastUsedDate = usage.LastUsedDate,
                LastCryptographicOperation = usage.LastCryptographicOperation,
                LastCryptographicDate = usage.LastCryptographicDate,
                TrackingStartDate = _usageMeter.TrackingStartDate,
            };
        });
    }

    /// <inheritdoc />
    public Task<KeyUsageReport> GetUsageReportAsync(GetUsageReportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GetUsageReport, request, async ctx =>
        {
            if (request.To <= request.From)
            {
                throw new KmsValidationException("To must be after From.");
            }

            if (request.To - request.From > MaxReportPeriod)
            {
                throw new KmsValidationException($"The report period must be at most {MaxReportPeriod.TotalDays:0} days.");
            }

            request.PriceModel?.Validate();
            await AuthorizeAsync(ctx, KmsOperation.GetUsageReport, key: null, cancellationToken).ConfigureAwait(false);

            var inventory = new List<KeyInventoryItem>();
            var known = new HashSet<string>(StringComparer.Ordinal);
            string? after = null;
            while (true)
            {
                var batch = await _store.ListKeysAsync(after, 100, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    break;
                }

                after = batch[^1].KeyId;
                foreach (var key in batch)
                {
                    known.Add(key.KeyId);
                    inventory.Add(InventoryItemOf(key));
                }
            }

            // Keys purged since the meter started are no longer in the store; the meter saw their life.
            foreach (var (keyId, firstSeen, created, deletionScheduled, purged) in _usageMeter.Lifecycles())
            {
                if (purged is not null && !known.Contains(keyId))
                {
                    inventory.Add(new KeyInventoryItem
                    {
                        KeyId = keyId,
                        Arn = _ids.KeyArn(keyId),
                        KeyManager = KeyManagerType.Customer,
                        CreationDate = created ?? firstSeen,
                        BilledUntil = deletionScheduled ?? purged,
                    });
                }
            }

            return KeyUsageReport.Create(request.From, request.To, inventory, _usageMeter, request.PriceModel);
        });
    }

    private KeyInventoryItem InventoryItemOf(KeyRecord key) => new()
    {
        KeyId = key.KeyId,
        Arn = _ids.KeyArn(key.KeyId),
        KeyManager = key.KeyManager,
        CreationDate = key.CreationDate,
        // AWS does not charge for a key pending deletion: it stopped being billable when its deletion was scheduled.
        BilledUntil = key.KeyState == KeyState.PendingDeletion && key.DeletionDate is { } deletionDate
            ? deletionDate.AddDays(-(key.PendingDeletionWindowInDays ?? InputValidation.DefaultPendingWindowInDays))
            : null,
        ReplicaCount = 0, // Multi-Region replicas arrive with issue 9.
    };
}
