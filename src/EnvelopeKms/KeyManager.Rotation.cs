using System.Collections.Concurrent;
using System.Security.Cryptography;
using EnvelopeKms.Internal;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

// Key rotation: automatic (by schedule, applied before the first use after it is due, or by
// RotateDueKeysAsync), on demand, and by the encryption-count cap of a key material. See
// docs/rotation.md.
public sealed partial class KeyManager
{
    internal const int DefaultRotationPeriodInDays = 365;
    internal const int MinRotationPeriodInDays = 90;
    internal const int MaxRotationPeriodInDays = 2560;
    internal const int MaxOnDemandRotations = 25;

    /// <summary>Encryptions this instance may still do with a key material before it reserves more in the store.</summary>
    private readonly ConcurrentDictionary<(string KeyId, string MaterialId), EncryptionBudget> _budgets = new();

    /// <inheritdoc />
    public Task EnableKeyRotationAsync(EnableKeyRotationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.EnableKeyRotation, request, async ctx =>
        {
            var period = request.RotationPeriodInDays ?? DefaultRotationPeriodInDays;
            if (period is < MinRotationPeriodInDays or > MaxRotationPeriodInDays)
            {
                throw new KmsValidationException($"RotationPeriodInDays must be between {MinRotationPeriodInDays} and {MaxRotationPeriodInDays}; it was {period}.");
            }

            var changed = await MutateKeyAsync(ctx, KmsOperation.EnableKeyRotation, request.KeyId, key =>
            {
                RequireAutomaticRotation(key);
                // Changing the period of a key that already rotates keeps its schedule's anchor (the last
                // rotation, or when rotation was turned on); a first enable starts the period now.
                var next = key is { RotationPeriodInDays: { } old, NextRotationDate: { } due }
                    ? due.AddDays(period - old)
                    : _time.GetUtcNow().AddDays(period);
                return key with { RotationPeriodInDays = period, NextRotationDate = next };
            }, cancellationToken).ConfigureAwait(false);
            await ReachReplicasAsync(changed).ConfigureAwait(false);
            return changed;
        });
    }

    /// <inheritdoc />
    public Task DisableKeyRotationAsync(DisableKeyRotationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DisableKeyRotation, request, async ctx =>
        {
            var changed = await MutateKeyAsync(ctx, KmsOperation.DisableKeyRotation, request.KeyId, key =>
            {
                RequireAutomaticRotation(key);
                return key with { RotationPeriodInDays = null, NextRotationDate = null };
            }, cancellationToken).ConfigureAwait(false);
            await ReachReplicasAsync(changed).ConfigureAwait(false);
            return changed;
        });
    }

    /// <inheritdoc />
    public Task<GetKeyRotationStatusResponse> GetKeyRotationStatusAsync(GetKeyRotationStatusRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GetKeyRotationStatus, request, async ctx =>
        {
            var key = await UseKeyAsync(ctx, KmsOperation.GetKeyRotationStatus, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            RequireSymmetric(key);
            return new GetKeyRotationStatusResponse
            {
                KeyId = _ids.KeyArn(key.KeyId),
                KeyRotationEnabled = key.RotationPeriodInDays is not null,
                RotationPeriodInDays = key.RotationPeriodInDays,
                NextRotationDate = key.NextRotationDate,
            };
        });
    }

    /// <inheritdoc />
    public Task<RotateKeyOnDemandResponse> RotateKeyOnDemandAsync(RotateKeyOnDemandRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.RotateKeyOnDemand, request, async ctx =>
        {
            for (var attempt = 0; ; attempt++)
            {
                var key = await UseKeyAsync(ctx, KmsOperation.RotateKeyOnDemand, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
                if (key.Origin == KeyOrigin.External)
                {
                    // Imported material: the material pending rotation becomes current (KeyManager.Import.cs).
                    RequireSymmetric(key);
                    try
                    {
                        var imported = await RotateImportedMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
                        OnKeyChanged(key.KeyId, aliasName: null, KmsOperation.RotateKeyOnDemand);
                        return new RotateKeyOnDemandResponse { KeyId = key.KeyId, KeyMaterialId = imported.CurrentKeyMaterialId! };
                    }
                    catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                    {
                        _ = e;
                        continue;
                    }
                }

                RequireRotatableSpec(key);
                var onDemand = key.KeyMaterials.Count(m => m.RotationType == KeyRotationType.OnDemand);
                if (onDemand >= MaxOnDemandRotations)
                {
                    throw new KmsLimitExceededException($"{_ids.KeyArn(key.KeyId)} has been rotated on demand {onDemand} times, the most a key allows.");
                }

                try
                {
                    var rotated = await WriteRotationAsync(ctx, key, KeyRotationType.OnDemand, advanceSchedule: false, cancellationToken).ConfigureAwait(false);
                    ctx.KeyMaterialId = rotated.CurrentKeyMaterialId;
                    OnKeyChanged(key.KeyId, aliasName: null, KmsOperation.RotateKeyOnDemand);
                    return new RotateKeyOnDemandResponse { KeyId = key.KeyId, KeyMaterialId = rotated.CurrentKeyMaterialId! };
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e; // Re-read: the key changed (perhaps rotated by another instance); the limit is checked again.
                }
            }
        });
    }

    /// <inheritdoc />
    public Task<ListKeyRotationsResponse> ListKeyRotationsAsync(ListKeyRotationsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListKeyRotations, request, async ctx =>
        {
            var limit = InputValidation.ValidateLimit(request.Limit, 1000, 100);
            var include = request.IncludeKeyMaterial ?? IncludeKeyMaterial.RotationsOnly;
            if (!Enum.IsDefined(include))
            {
                throw new KmsValidationException("IncludeKeyMaterial must be ALL_KEY_MATERIAL or ROTATIONS_ONLY.");
            }

            var after = DecodeMarker(request.Marker, Identifiers.IsKeyMaterialId);
            var key = await UseKeyAsync(ctx, KmsOperation.ListKeyRotations, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            RequireSymmetric(key);

            IEnumerable<KeyMaterialRecord> materials = key.KeyMaterials;
            if (after is not null)
            {
                var position = key.KeyMaterials.ToList().FindIndex(m => m.KeyMaterialId == after);
                if (position < 0)
                {
                    throw new KmsInvalidMarkerException("Marker is not a marker returned by a previous call of this operation for this key.");
                }

                materials = materials.Skip(position + 1);
            }

            var page = materials
                .Where(m => include == IncludeKeyMaterial.AllKeyMaterial || m.RotationType is not null)
                .Take(limit + 1)
                .Select(m => new RotationsListEntry
                {
                    KeyId = key.KeyId,
                    KeyMaterialId = m.KeyMaterialId,
                    RotationDate = m.CreationDate,
                    RotationType = m.RotationType,
                    KeyMaterialState = m.KeyMaterialId == key.CurrentKeyMaterialId ? KeyMaterialState.Current
                        : IsPendingRotation(key, m) ? KeyMaterialState.PendingRotation : KeyMaterialState.NonCurrent,
                    ImportState = key.Origin == KeyOrigin.External ? ImportStateOf(m) : null,
                    ExpirationModel = key.Origin == KeyOrigin.External ? ExpirationModelOf(m) : null,
                    ValidTo = key.Origin == KeyOrigin.External ? m.ValidTo : null,
                    KeyMaterialDescription = key.Origin == KeyOrigin.External ? m.Description : null,
                })
                .ToList();
            var items = page.Take(limit).ToList();
            return new ListKeyRotationsResponse { Items = items, NextMarker = page.Count > limit ? EncodeMarker(items[^1].KeyMaterialId) : null };
        });
    }

    /// <inheritdoc />
    public async Task<int> RotateDueKeysAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var caller = _callerProvider.GetCurrentCaller();
        var rotated = 0;
        string? after = null;
        while (true)
        {
            var batch = await _store.ListKeysAsync(after, 1000, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return rotated;
            }

            after = batch[^1].KeyId;
            foreach (var listed in batch)
            {
                if (!IsDue(listed))
                {
                    continue;
                }

                // Listings are not verified; act on the verified record only.
                if (await _store.GetKeyAsync(listed.KeyId, cancellationToken).ConfigureAwait(false) is { } key)
                {
                    var ctx = new OperationContext(KmsOperation.RotateKey, caller, NewRequestId()) { KeyId = key.KeyId };
                    if (!ReferenceEquals(await ApplyDueRotationAsync(ctx, key, cancellationToken).ConfigureAwait(false), key))
                    {
                        rotated++;
                    }
                }
            }
        }
    }

    /// <summary>Whether the key's scheduled rotation is due (only enabled keys rotate; a disabled key rotates when it is enabled and used again).</summary>
    private bool IsDue(KeyRecord key)
        => key.KeyState == KeyState.Enabled && key.NextRotationDate is { } due && due <= _time.GetUtcNow() && !IsReplica(key);

    /// <summary>
    /// Applies a due scheduled rotation before the key is used, and returns the record to use: the
    /// rotated one, one another instance rotated meanwhile, or <paramref name="key"/> when nothing was due.
    /// </summary>
    private async Task<KeyRecord> ApplyDueRotationAsync(OperationContext requestContext, KeyRecord key, CancellationToken cancellationToken)
    {
        if (!IsDue(key))
        {
            return key;
        }

        var ctx = new OperationContext(KmsOperation.RotateKey, requestContext.Caller, NewRequestId())
        {
            KeyId = key.KeyId,
            AuthorizationSummary = "Automatic rotation: the key's rotation period ended.",
        };
        using var telemetry = StartTelemetry(ctx);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var rotated = await WriteRotationAsync(ctx, key, KeyRotationType.Automatic, advanceSchedule: true, cancellationToken).ConfigureAwait(false);
                    OnKeyChanged(key.KeyId, aliasName: null, KmsOperation.RotateKey);
                    CompleteInternalStep(telemetry, ctx, key, Telemetry.KeyLifecycleEventType.KeyRotated, Telemetry.KeyRotationTrigger.Schedule);
                    return rotated;
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e;
                    // Another instance changed the key; most likely it applied this very rotation.
                    var current = await _store.GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false)
                        ?? throw new KmsNotFoundException($"Key '{_ids.KeyArn(key.KeyId)}' does not exist.");
                    if (!IsDue(current))
                    {
                        return current;
                    }

                    key = current;
                }
            }
        }
        catch (Exception e) when (telemetry.Observe(e))
        {
            throw; // Never entered.
        }
        catch (KmsException e) when (e is not KmsAuditUnavailableException)
        {
            await AuditAsync(ctx, KmsOutcome.Failure, e.ErrorCode).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Writes a new current material for <paramref name="key"/> (read at version <c>key.Version</c>).
    /// The store's optimistic concurrency makes concurrent rotations of one key serial: exactly one of
    /// two writers based on the same version succeeds.
    /// </summary>
    /// <exception cref="KeyStoreConflictException">The key changed since it was read.</exception>
    private async Task<KeyRecord> WriteRotationAsync(OperationContext ctx, KeyRecord key, KeyRotationType type, bool advanceSchedule, CancellationToken cancellationToken)
    {
        var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var next = key.NextRotationDate;
        if (advanceSchedule && key.RotationPeriodInDays is { } period && next is { } due)
        {
            // One rotation however many periods passed unused; the schedule keeps its anchor.
            while (due <= now)
            {
                due = due.AddDays(period);
            }

            next = due;
        }

        var material = NewKeyMaterial(rootKey, key, now, type);
        var rotated = key with
        {
            CurrentKeyMaterialId = material.KeyMaterialId,
            NextRotationDate = next,
            KeyMaterials = [.. key.KeyMaterials, material],
        };
        ctx.KeyMaterialId = material.KeyMaterialId;
        await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
        KeyRecord result;
        try
        {
            result = await _store.UpdateKeyAsync(rotated, CancellationToken.None).ConfigureAwait(false);
        }
        catch (KeyStoreConflictException)
        {
            // This material was not stored: a retry writes a new record (same request id) naming the material it stores.
            ctx.AuditWritten = false;
            throw;
        }

        Log.RotatedKey(_logger, key.KeyId, material.KeyMaterialId, type.ToKmsName());
        await ReachReplicasAsync(result).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// New key material for <paramref name="key"/>, wrapped by the root key, the plaintext zeroed: random
    /// bytes for symmetric and HMAC keys, the private key as PKCS#8 for asymmetric keys (the public key
    /// is derived from it).
    /// </summary>
    private static KeyMaterialRecord NewKeyMaterial(RootKey rootKey, KeyRecord key, DateTimeOffset now, KeyRotationType? type)
    {
        var materialId = Identifiers.NewKeyMaterialId();
        byte[] material;
        if (KeySpecs.IsAsymmetric(key.KeySpec))
        {
            material = KeySpecs.GenerateAsymmetricKey(key.KeySpec);
        }
        else
        {
            material = GC.AllocateArray<byte>(KeySpecs.MaterialLength(key.KeySpec), pinned: true);
            RandomNumberGenerator.Fill(material);
        }

        try
        {
            return new KeyMaterialRecord { KeyMaterialId = materialId, CreationDate = now, WrappedMaterial = rootKey.Wrap(material, WrapAssociatedData(key, materialId)), RotationType = type };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>Only symmetric encryption keys rotate, as in AWS KMS.</summary>
    private void RequireSymmetric(KeyRecord key)
    {
        if (key.KeySpec != KeySpec.SymmetricDefault)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} key; only symmetric encryption keys (SYMMETRIC_DEFAULT) rotate. Asymmetric and HMAC keys keep their material for life; create a new key and move callers to it instead.");
        }
    }

    /// <summary>Symmetric keys whose material EnvelopeKms generated rotate automatically; imported material (origin EXTERNAL) rotates only on demand (RotateKeyOnDemand, KeyManager.Import.cs).</summary>
    private void RequireRotatableSpec(KeyRecord key)
    {
        RequireNotReplica(key);
        RequireSymmetric(key);

        if (key.Origin != KeyOrigin.AwsKms)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} has origin {key.Origin.ToKmsName()}; only keys whose material EnvelopeKms generated (AWS_KMS) rotate in this version.");
        }
    }

    private void RequireAutomaticRotation(KeyRecord key)
    {
        RequireRotatableSpec(key);
        if (key.KeyManager != KeyManagerType.Customer)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is a managed key: it rotates every year, and that cannot be changed.");
        }
    }

    // ---------------------------------------------------------------- usage-based rotation

    /// <summary>
    /// Takes one encryption from the current material's budget before it encrypts. A budget is a block
    /// of encryptions reserved in the store (the material's <see cref="KeyMaterialRecord.EncryptionsReserved"/>),
    /// so counts survive restarts as an upper bound; once the cap would be passed the key rotates
    /// automatically and the encryption uses the new material. Returns the record and material to use.
    /// </summary>
    private async Task<(KeyRecord Key, string MaterialId)> TakeEncryptionAsync(OperationContext requestContext, KeyRecord key, CancellationToken cancellationToken)
    {
        var cap = _maxEncryptionsPerKeyMaterial;
        for (var attempt = 0; ; attempt++)
        {
            var materialId = key.CurrentKeyMaterialId
                ?? throw new KmsKeyUnavailableException($"{_ids.KeyArn(key.KeyId)} has no key material.");
            var budget = _budgets.GetOrAdd((key.KeyId, materialId), static _ => new EncryptionBudget());
            if (budget.TryTake())
            {
                return (key, materialId);
            }

            await budget.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (budget.TryTake())
                {
                    return (key, materialId);
                }

                var fresh = await _store.GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false)
                    ?? throw new KmsNotFoundException($"Key '{_ids.KeyArn(key.KeyId)}' does not exist.");
                if (fresh.CurrentKeyMaterialId != materialId)
                {
                    key = fresh; // Rotated meanwhile (here or by another instance): count against the new material.
                    continue;
                }

                var index = fresh.KeyMaterials.ToList().FindIndex(m => m.KeyMaterialId == materialId);
                var reserved = fresh.KeyMaterials[index].EncryptionsReserved;
                try
                {
                    if (reserved >= cap)
                    {
                        key = await RotateForUsageAsync(requestContext, fresh, reserved, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    var block = Math.Min(EncryptionBlock(cap), cap - reserved);
                    var materials = fresh.KeyMaterials.ToArray();
                    materials[index] = materials[index] with { EncryptionsReserved = reserved + block };
                    key = await _store.UpdateKeyAsync(fresh with { KeyMaterials = materials }, cancellationToken).ConfigureAwait(false);
                    budget.Grant(block);
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e; // Another instance reserved or rotated at the same time; read again.
                }
            }
            finally
            {
                budget.Gate.Release();
            }
        }
    }

    private async Task<KeyRecord> RotateForUsageAsync(OperationContext requestContext, KeyRecord key, long reserved, CancellationToken cancellationToken)
    {
        if (IsReplica(key))
        {
            return await RotateReplicaForUsageAsync(requestContext, key, reserved, cancellationToken).ConfigureAwait(false);
        }

        var ctx = new OperationContext(KmsOperation.RotateKey, requestContext.Caller, NewRequestId())
        {
            KeyId = key.KeyId,
            AuthorizationSummary = $"Automatic rotation: {reserved} encryptions reached the cap of {_maxEncryptionsPerKeyMaterial} per key material.",
        };
        using var telemetry = StartTelemetry(ctx);
        try
        {
            var rotated = await WriteRotationAsync(ctx, key, KeyRotationType.Automatic, advanceSchedule: false, cancellationToken).ConfigureAwait(false);
            OnKeyChanged(key.KeyId, aliasName: null, KmsOperation.RotateKey);
            CompleteInternalStep(telemetry, ctx, key, Telemetry.KeyLifecycleEventType.KeyRotated, Telemetry.KeyRotationTrigger.Usage);
            return rotated;
        }
        catch (Exception e) when (telemetry.Observe(e))
        {
            throw; // Never entered.
        }
        catch (KmsException e) when (e is not KmsAuditUnavailableException)
        {
            await AuditAsync(ctx, KmsOutcome.Failure, e.ErrorCode).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// How many encryptions one reservation covers: a 1/1024 share of the cap, at most 65,536. It is
    /// also the most a restart can over-count per instance (never under-count).
    /// </summary>
    internal static long EncryptionBlock(long cap) => Math.Clamp(cap / 1024, 1, 65_536);

    /// <summary>The encryptions an instance has reserved and not used yet, for one key material.</summary>
    private sealed class EncryptionBudget
    {
        private readonly Lock _lock = new();
        private long _remaining;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool TryTake()
        {
            lock (_lock)
            {
                if (_remaining == 0)
                {
                    return false;
                }

                _remaining--;
                return true;
            }
        }

        public void Grant(long count)
        {
            lock (_lock)
            {
                _remaining += count;
            }
        }
    }
}
