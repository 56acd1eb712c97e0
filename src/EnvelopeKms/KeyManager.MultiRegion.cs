using System.Security.Cryptography;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.MultiRegion;
using EnvelopeKms.Storage;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms;

// Multi-Region keys: mrk- key ids, ReplicateKey, UpdatePrimaryRegion, rotation that reaches the replicas,
// and the deletion of a primary key that waits for its replicas. A Region is another key manager of the
// same KmsRegionGroup; see docs/multi-region.md for how replication travels and what happens on failures.
public sealed partial class KeyManager
{
    /// <summary>The group of Regions this key manager belongs to, or <see langword="null"/>.</summary>
    internal KmsRegionGroup? RegionGroup { get; set; }

    /// <summary>The partition, Region and account this key manager serves.</summary>
    internal Identifiers Ids => _ids;

    /// <inheritdoc />
    public Task<ReplicateKeyResponse> ReplicateKeyAsync(ReplicateKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ReplicateKey, request, async ctx =>
        {
            var description = InputValidation.ValidateDescription(request.Description);
            var tags = InputValidation.ValidateTags(request.Tags, "Tags");
            var region = ValidateRegion(request.ReplicaRegion, nameof(request.ReplicaRegion));
            var policy = request.Policy is null ? null : ParseKeyPolicy(request.Policy, nameof(request.Policy));
            for (var attempt = 0; ; attempt++)
            {
                var key = await UseKeyAsync(ctx, KmsOperation.ReplicateKey, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
                var config = RequireMultiRegionPrimary(key, "replicated");
                if (region == _ids.Region)
                {
                    throw new KmsValidationException($"ReplicaRegion must be another Region than the primary key's ({region}).");
                }

                // The replica Region authorizes the caller as AWS KMS does: kms:CreateKey there (and the lockout check of the replica's own policy).
                var receiver = await ReachAsync(region, nameof(request.ReplicaRegion), cancellationToken).ConfigureAwait(false);
                var receiverCtx = new OperationContext(KmsOperation.CreateKey, ctx.Caller, ctx.RequestId) { Request = request, RequestTags = request.Tags };
                await receiver.AuthorizeAsync(receiverCtx, KmsOperation.CreateKey, key: null, cancellationToken).ConfigureAwait(false);
                if (policy is not null)
                {
                    await receiver.RequireNoLockoutAsync(receiverCtx, policy, key.KeyId, request.BypassPolicyLockoutSafetyCheck, cancellationToken).ConfigureAwait(false);
                    ctx.LockoutCheckBypassed |= receiverCtx.LockoutCheckBypassed;
                }

                // A replica the primary does not list, naming this Region as its primary, is what an interrupted
                // replication whose clean-up failed leaves behind: it is replaced (see docs/multi-region.md).
                var existing = await receiver._store.GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false);
                var leftover = existing?.MultiRegion is { KeyType: MultiRegionKeyType.Replica } found
                    && found.PrimaryRegion == _ids.Region && !config.ReplicaRegions.Contains(region);
                if (existing is not null && !leftover)
                {
                    throw new KmsAlreadyExistsException($"Region {region} already has a key {receiver._ids.KeyArn(key.KeyId)}.");
                }

                var replicas = config.ReplicaRegions.Append(region).Distinct().Order(StringComparer.Ordinal).ToList();
                var materials = await PackageMaterialsAsync(receiver, key, key.KeyMaterials, cancellationToken).ConfigureAwait(false);
                var replica = new KeyRecord
                {
                    KeyId = key.KeyId,
                    AccountId = key.AccountId,
                    CreationDate = _time.GetUtcNow(),
                    Description = description,
                    KeyState = key.Origin == KeyOrigin.External ? KeyState.PendingImport : KeyState.Enabled,
                    KeySpec = key.KeySpec,
                    KeyUsage = key.KeyUsage,
                    Origin = key.Origin,
                    Tags = [.. tags.OrderBy(t => t.TagKey, StringComparer.Ordinal)],
                    RotationPeriodInDays = key.RotationPeriodInDays,
                    NextRotationDate = key.NextRotationDate,
                    Policy = policy?.Text,
                    CurrentKeyMaterialId = key.CurrentKeyMaterialId,
                    KeyMaterials = materials,
                    MultiRegion = new MultiRegionKeyRecord { KeyType = MultiRegionKeyType.Replica, PrimaryRegion = _ids.Region, ReplicaRegions = replicas },
                    Version = existing?.Version ?? 0,
                };

                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                KeyRecord stored;
                try
                {
                    stored = existing is null
                        ? await receiver._store.InsertKeyAsync(replica, CancellationToken.None).ConfigureAwait(false)
                        : await receiver._store.UpdateKeyAsync(replica, CancellationToken.None).ConfigureAwait(false);
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e; // Made or changed meanwhile: look again (a replica made by another call is AlreadyExists).
                    continue;
                }

                KeyRecord primary;
                try
                {
                    primary = await UpdateMultiRegionConfigAsync(key, current => current with { ReplicaRegions = [.. current.ReplicaRegions.Append(region).Distinct().Order(StringComparer.Ordinal)] }).ConfigureAwait(false);
                }
                catch
                {
                    // The primary does not list the replica: take the replica away again, so that no half replica stays.
                    await receiver.DeleteReplicaQuietlyAsync(stored).ConfigureAwait(false);
                    throw;
                }

                await PushReplicaListAsync(primary, except: region).ConfigureAwait(false);
                return new ReplicateKeyResponse
                {
                    ReplicaKeyMetadata = receiver.ToMetadata(stored),
                    ReplicaPolicy = stored.Policy ?? DefaultKeyPolicy(stored.AccountId, receiver._ids.Partition),
                    ReplicaTags = stored.Tags,
                };
            }
        });
    }

    /// <inheritdoc />
    public Task UpdatePrimaryRegionAsync(UpdatePrimaryRegionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.UpdatePrimaryRegion, request, async ctx =>
        {
            var region = ValidateRegion(request.PrimaryRegion, nameof(request.PrimaryRegion));
            for (var attempt = 0; ; attempt++)
            {
                var key = await UseKeyAsync(ctx, KmsOperation.UpdatePrimaryRegion, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
                var config = RequireMultiRegionPrimary(key, "given a new primary Region");
                if (region == _ids.Region)
                {
                    throw new KmsValidationException($"PrimaryRegion {region} is already the primary Region of {_ids.KeyArn(key.KeyId)}.");
                }

                if (!config.ReplicaRegions.Contains(region))
                {
                    throw new KmsNotFoundException($"{_ids.KeyArn(key.KeyId)} has no replica in Region {region}.");
                }

                // The replica that becomes primary is authorized and state-checked in its own Region, as AWS KMS does.
                var receiver = await ReachAsync(region, nameof(request.PrimaryRegion), cancellationToken).ConfigureAwait(false);
                var replica = await receiver._store.GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false);
                if (replica?.MultiRegion is not { KeyType: MultiRegionKeyType.Replica } replicaConfig || replicaConfig.PrimaryRegion != _ids.Region)
                {
                    throw new KmsNotFoundException($"{_ids.KeyArn(key.KeyId)} has no replica in Region {region}.");
                }

                var receiverCtx = new OperationContext(KmsOperation.UpdatePrimaryRegion, ctx.Caller, ctx.RequestId) { Request = request, KeyId = replica.KeyId };
                await receiver.AuthorizeAsync(receiverCtx, KmsOperation.UpdatePrimaryRegion, replica, cancellationToken).ConfigureAwait(false);
                KeyStateRules.Enforce(KmsOperation.UpdatePrimaryRegion, replica.KeyState, receiver._ids.KeyArn(replica.KeyId));

                var replicas = config.ReplicaRegions.Where(r => r != region).Append(_ids.Region).Order(StringComparer.Ordinal).ToList();
                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);

                // The old primary steps down first: if the promotion then fails, no Region is primary (nothing
                // rotates) rather than two, and the step down is undone.
                KeyRecord demoted;
                try
                {
                    demoted = await _store.UpdateKeyAsync(key with { MultiRegion = new MultiRegionKeyRecord { KeyType = MultiRegionKeyType.Replica, PrimaryRegion = region, ReplicaRegions = replicas } }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e;
                    continue;
                }

                KeyRecord promoted;
                try
                {
                    promoted = await receiver._store.UpdateKeyAsync(replica with
                    {
                        MultiRegion = new MultiRegionKeyRecord { KeyType = MultiRegionKeyType.Primary, PrimaryRegion = region, ReplicaRegions = replicas },
                        RotationPeriodInDays = key.RotationPeriodInDays,
                        NextRotationDate = key.NextRotationDate,
                    }, CancellationToken.None).ConfigureAwait(false);
                }
                catch
                {
                    try
                    {
                        await _store.UpdateKeyAsync(demoted with { MultiRegion = config }, CancellationToken.None).ConfigureAwait(false);
                    }
#pragma warning disable CA1031 // Reported below; the failure of the promotion is what the caller gets.
                    catch (Exception undo)
#pragma warning restore CA1031
                    {
                        MultiRegionLog.ReplicaSyncFailed(_logger, key.KeyId, _ids.Region, undo.GetType().Name);
                    }

                    throw;
                }

                await receiver.PushReplicaListAsync(promoted, except: _ids.Region).ConfigureAwait(false);
                return true;
            }
        });
    }

    /// <summary>
    /// Brings the replicas of this Region's primary keys up to date (<see cref="KmsRegionGroup.SynchronizeAsync"/>),
    /// and drops from them the replicas whose Region is reachable but no longer has them.
    /// </summary>
    internal async Task<int> SynchronizeReplicasAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var changed = 0;
        string? after = null;
        while (true)
        {
            var batch = await _store.ListKeysAsync(after, 100, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return changed;
            }

            after = batch[^1].KeyId;
            foreach (var listed in batch.Where(k => k.MultiRegion?.KeyType == MultiRegionKeyType.Primary))
            {
                // Listings are not verified; act on the verified record only.
                if (await _store.GetKeyAsync(listed.KeyId, cancellationToken).ConfigureAwait(false) is not { MultiRegion.KeyType: MultiRegionKeyType.Primary } key)
                {
                    continue;
                }

                foreach (var region in key.MultiRegion!.ReplicaRegions)
                {
                    if (RegionGroup?.Find(region) is { } receiver && !receiver._disposed)
                    {
                        await receiver.GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
                        if (await receiver._store.GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false) is null)
                        {
                            key = await ReplicaGoneAsync(key.KeyId, region).ConfigureAwait(false) ?? key;
                            changed++;
                        }
                    }
                }

                foreach (var region in key.MultiRegion!.ReplicaRegions)
                {
                    if (await SyncReplicaAsync(key, region, cancellationToken).ConfigureAwait(false))
                    {
                        changed++;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- hooks of the other operations

    /// <summary>The <c>CreateKey</c> rule for <c>MultiRegion</c>: keys with origin <c>AWS_KMS</c> or <c>EXTERNAL</c>, not in a custom key store.</summary>
    private static void RequireMultiRegionAllowed(CreateKeyRequest request)
    {
        if (request.Origin is not (KeyOrigin.AwsKms or KeyOrigin.External) || request.CustomKeyStoreId is not null)
        {
            throw new KmsUnsupportedOperationException($"Multi-Region keys cannot have origin {request.Origin.ToKmsName()}{(request.CustomKeyStoreId is null ? "" : " or a CustomKeyStoreId")}: keys in a custom key store are single-Region keys.");
        }
    }

    /// <summary>A new multi-Region key id: <c>mrk-</c> and 32 random lowercase hex characters, as AWS KMS makes them.</summary>
    private static string NewMultiRegionKeyId() => "mrk-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The configuration of a new multi-Region primary key in this Region.</summary>
    private MultiRegionKeyRecord NewPrimaryConfiguration() => new() { KeyType = MultiRegionKeyType.Primary, PrimaryRegion = _ids.Region };

    /// <summary>What <c>DescribeKey</c> shows of a key's multi-Region configuration.</summary>
    private MultiRegionConfiguration? MultiRegionConfigurationOf(KeyRecord key) => key.MultiRegion is not { } config ? null : new()
    {
        MultiRegionKeyType = config.KeyType,
        PrimaryKey = new MultiRegionKey(ArnIn(config.PrimaryRegion, key.KeyId), config.PrimaryRegion),
        ReplicaKeys = [.. config.ReplicaRegions.Select(r => new MultiRegionKey(ArnIn(r, key.KeyId), r))],
    };

    /// <summary>
    /// <c>ScheduleKeyDeletion</c> of a primary key that has replicas: <c>PendingReplicaDeletion</c>, with no deletion
    /// date yet — its waiting period starts when its last replica is deleted.
    /// </summary>
    private static KeyRecord WaitForReplicas(KeyRecord scheduled)
        => scheduled is { KeyState: KeyState.PendingDeletion, MultiRegion: { KeyType: MultiRegionKeyType.Primary, ReplicaRegions.Count: > 0 } }
            ? scheduled with { KeyState = KeyState.PendingReplicaDeletion, DeletionDate = null }
            : scheduled;

    /// <summary>Rotation settings and rotations belong to the primary key; a replica refuses them, as in AWS KMS.</summary>
    private void RequireNotReplica(KeyRecord key)
    {
        if (key.MultiRegion is { KeyType: MultiRegionKeyType.Replica } config)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is a multi-Region replica key: rotation is managed on its primary key in Region {config.PrimaryRegion}, and reaches the replicas from there.");
        }
    }

    /// <summary>A replica does not rotate on its own schedule: the primary's rotation reaches it.</summary>
    private static bool IsReplica(KeyRecord key) => key.MultiRegion?.KeyType == MultiRegionKeyType.Replica;

    /// <summary>
    /// After a primary key changed what replicas share (a rotation, the rotation settings): bring every reachable
    /// replica up to date. Never throws: the change is committed; a replica it does not reach is caught up later.
    /// </summary>
    private async Task ReachReplicasAsync(KeyRecord primary)
    {
        if (primary.MultiRegion is not { KeyType: MultiRegionKeyType.Primary } config)
        {
            return;
        }

        foreach (var region in config.ReplicaRegions)
        {
            await SyncReplicaAsync(primary, region, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>After a replica was purged: its primary's Region forgets it (and a primary waiting for its replicas may start its waiting period).</summary>
    private async Task OnMultiRegionKeyPurgedAsync(KeyRecord purged)
    {
        if (purged.MultiRegion is not { KeyType: MultiRegionKeyType.Replica } config
            || RegionGroup?.Find(config.PrimaryRegion) is not { } primaryRegion)
        {
            return;
        }

        try
        {
            await primaryRegion.GetRootKeyAsync(CancellationToken.None).ConfigureAwait(false);
            if (await primaryRegion.ReplicaGoneAsync(purged.KeyId, _ids.Region).ConfigureAwait(false) is { } primary)
            {
                await primaryRegion.PushReplicaListAsync(primary, except: null).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // The purge is committed; the primary's list is corrected by KmsRegionGroup.SynchronizeAsync.
        catch (Exception e)
#pragma warning restore CA1031
        {
            MultiRegionLog.ReplicaSyncFailed(_logger, purged.KeyId, config.PrimaryRegion, e.GetType().Name);
        }
    }

    /// <summary>
    /// A replica that reached the encryption cap of its material cannot rotate itself (its material would
    /// differ from the other Regions'): the primary's Region rotates, and the new material reaches it.
    /// </summary>
    private async Task<KeyRecord> RotateReplicaForUsageAsync(OperationContext requestContext, KeyRecord replica, long reserved, CancellationToken cancellationToken)
    {
        var primaryRegion = replica.MultiRegion!.PrimaryRegion;
        if (RegionGroup?.Find(primaryRegion) is { } owner && !owner._disposed)
        {
            await owner.GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            if (await owner._store.GetKeyAsync(replica.KeyId, cancellationToken).ConfigureAwait(false) is { MultiRegion.KeyType: MultiRegionKeyType.Primary } primary)
            {
                if (primary.CurrentKeyMaterialId == replica.CurrentKeyMaterialId)
                {
                    await owner.RotateForUsageAsync(requestContext, primary, reserved, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await owner.SyncReplicaAsync(primary, _ids.Region, cancellationToken).ConfigureAwait(false);
                }

                var fresh = await _store.GetKeyAsync(replica.KeyId, cancellationToken).ConfigureAwait(false);
                if (fresh is not null && fresh.CurrentKeyMaterialId != replica.CurrentKeyMaterialId)
                {
                    return fresh;
                }
            }
        }

        throw new KmsKeyUnavailableException($"The current key material of {_ids.KeyArn(replica.KeyId)} reached its encryption cap, and its primary key's Region {primaryRegion}, which rotates it, is not reachable; retry later or decrypt only.");
    }

    // ---------------------------------------------------------------- replication

    /// <summary>
    /// The replication package for <paramref name="receiver"/>: the materials, each unwrapped here and wrapped
    /// again by the receiver's root key (bound to the same key id, material id, spec and usage). Plaintext
    /// material exists only in memory during the call. Imported material does not travel (as in AWS KMS,
    /// the same material is imported into the replica): its records go without material.
    /// </summary>
    private async Task<IReadOnlyList<KeyMaterialRecord>> PackageMaterialsAsync(KeyManager receiver, KeyRecord key, IEnumerable<KeyMaterialRecord> materials, CancellationToken cancellationToken)
    {
        var receiverRoot = await receiver.GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var package = new List<KeyMaterialRecord>();
        foreach (var material in materials)
        {
            if (key.Origin != KeyOrigin.AwsKms || material.WrappedMaterial.Length == 0)
            {
                package.Add(material with { WrappedMaterial = [], EncryptionsReserved = 0, ValidTo = null });
                continue;
            }

            // The cached plaintext belongs to this instance's cache: it is read, not zeroed.
            var plaintext = await GetMaterialAsync(key, material.KeyMaterialId, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsStorageIntegrityException($"The key material {material.KeyMaterialId} of {_ids.KeyArn(key.KeyId)} could not be read.");
            package.Add(material with
            {
                WrappedMaterial = receiverRoot.Wrap(plaintext, WrapAssociatedData(key, material.KeyMaterialId)),
                EncryptionsReserved = 0,
            });
        }

        return package;
    }

    /// <summary>Brings one replica up to date with <paramref name="primary"/>; returns whether it changed. Never throws.</summary>
    private async Task<bool> SyncReplicaAsync(KeyRecord primary, string region, CancellationToken cancellationToken)
    {
        try
        {
            if (RegionGroup?.Find(region) is not { } receiver || receiver._disposed)
            {
                return false;
            }

            await receiver.GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            for (var attempt = 0; ; attempt++)
            {
                // A replica follows this primary, or the Region that was primary before UpdatePrimaryRegion made this one primary.
                var replica = await receiver._store.GetKeyAsync(primary.KeyId, cancellationToken).ConfigureAwait(false);
                var replicas = primary.MultiRegion!.ReplicaRegions;
                if (replica?.MultiRegion is not { KeyType: MultiRegionKeyType.Replica } config
                    || (config.PrimaryRegion != _ids.Region && !replicas.Contains(config.PrimaryRegion)))
                {
                    return false;
                }

                var missing = primary.KeyMaterials.Where(m => !replica.KeyMaterials.Any(r => r.KeyMaterialId == m.KeyMaterialId)).ToList();
                if (missing.Count == 0
                    && config.PrimaryRegion == _ids.Region
                    && replica.CurrentKeyMaterialId == primary.CurrentKeyMaterialId
                    && replica.RotationPeriodInDays == primary.RotationPeriodInDays
                    && replica.NextRotationDate == primary.NextRotationDate
                    && config.ReplicaRegions.SequenceEqual(replicas, StringComparer.Ordinal))
                {
                    return false;
                }

                var added = await PackageMaterialsAsync(receiver, primary, missing, cancellationToken).ConfigureAwait(false);
                var updated = replica with
                {
                    KeyMaterials = [.. replica.KeyMaterials, .. added],
                    CurrentKeyMaterialId = primary.CurrentKeyMaterialId ?? replica.CurrentKeyMaterialId,
                    RotationPeriodInDays = primary.RotationPeriodInDays,
                    NextRotationDate = primary.NextRotationDate,
                    MultiRegion = config with { PrimaryRegion = _ids.Region, ReplicaRegions = replicas },
                };
                try
                {
                    await receiver._store.UpdateKeyAsync(updated, CancellationToken.None).ConfigureAwait(false);
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e;
                    continue;
                }

                if (missing.Count > 0)
                {
                    receiver.OnKeyChanged(primary.KeyId, aliasName: null, KmsOperation.RotateKey);
                }

                return true;
            }
        }
#pragma warning disable CA1031 // A replica not reached is caught up later (KmsRegionGroup.SynchronizeAsync); the primary's change stands.
        catch (Exception e)
#pragma warning restore CA1031
        {
            MultiRegionLog.ReplicaSyncFailed(_logger, primary.KeyId, region, e.GetType().Name);
            return false;
        }
    }

    /// <summary>Sends the primary's list of replicas to every replica but <paramref name="except"/>.</summary>
    private async Task PushReplicaListAsync(KeyRecord primary, string? except)
    {
        foreach (var region in primary.MultiRegion?.ReplicaRegions ?? [])
        {
            if (region != except)
            {
                await SyncReplicaAsync(primary, region, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Removes <paramref name="region"/> from this Region's primary key; a primary waiting for its replicas
    /// (<c>PendingReplicaDeletion</c>) whose last replica went becomes <c>PendingDeletion</c>, its waiting period
    /// starting now. Returns the updated primary, or <see langword="null"/> when there was nothing to change.
    /// </summary>
    private async Task<KeyRecord?> ReplicaGoneAsync(string keyId, string region)
    {
        for (var attempt = 0; ; attempt++)
        {
            var key = await _store.GetKeyAsync(keyId, CancellationToken.None).ConfigureAwait(false);
            if (key?.MultiRegion is not { KeyType: MultiRegionKeyType.Primary } config || !config.ReplicaRegions.Contains(region))
            {
                return null;
            }

            var replicas = config.ReplicaRegions.Where(r => r != region).ToList();
            var updated = key with { MultiRegion = config with { ReplicaRegions = replicas } };
            if (replicas.Count == 0 && key.KeyState == KeyState.PendingReplicaDeletion)
            {
                updated = updated with
                {
                    KeyState = KeyState.PendingDeletion,
                    DeletionDate = _time.GetUtcNow().AddDays(key.PendingDeletionWindowInDays ?? InputValidation.DefaultPendingWindowInDays),
                };
            }

            try
            {
                var stored = await _store.UpdateKeyAsync(updated, CancellationToken.None).ConfigureAwait(false);
                if (stored.KeyState != key.KeyState)
                {
                    OnKeyChanged(keyId, aliasName: null, KmsOperation.ScheduleKeyDeletion);
                }

                return stored;
            }
            catch (KeyStoreConflictException e) when (attempt < _maxRetries)
            {
                _ = e;
            }
        }
    }

    /// <summary>Changes the multi-Region configuration of this Region's copy of a key, re-reading on conflicts.</summary>
    private async Task<KeyRecord> UpdateMultiRegionConfigAsync(KeyRecord key, Func<MultiRegionKeyRecord, MultiRegionKeyRecord> change)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await _store.UpdateKeyAsync(key with { MultiRegion = change(key.MultiRegion!) }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (KeyStoreConflictException e) when (attempt < _maxRetries)
            {
                _ = e;
                key = await _store.GetKeyAsync(key.KeyId, CancellationToken.None).ConfigureAwait(false) is { MultiRegion.KeyType: MultiRegionKeyType.Primary } fresh
                    ? fresh
                    : throw new KmsInvalidStateException($"{_ids.KeyArn(key.KeyId)} stopped being a multi-Region primary key during the request.");
            }
        }
    }

    /// <summary>Deletes a replica this Region received in an interrupted replication; a failure is logged (the next <c>ReplicateKey</c> replaces it).</summary>
    private async Task DeleteReplicaQuietlyAsync(KeyRecord replica)
    {
        try
        {
            await _store.DeleteKeyAsync(replica.KeyId, replica.Version, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The original failure is what the caller gets; a left-over replica is recoverable (docs/multi-region.md).
        catch (Exception e)
#pragma warning restore CA1031
        {
            MultiRegionLog.ReplicaSyncFailed(_logger, replica.KeyId, _ids.Region, e.GetType().Name);
        }
    }

    private MultiRegionKeyRecord RequireMultiRegionPrimary(KeyRecord key, string what)
    {
        if (key.MultiRegion is not { } config)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is not a multi-Region key; only multi-Region primary keys can be {what}.");
        }

        if (config.KeyType != MultiRegionKeyType.Primary)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is a multi-Region replica key; only its primary key, in Region {config.PrimaryRegion}, can be {what}.");
        }

        return config;
    }

    private async Task<KeyManager> ReachAsync(string region, string parameterName, CancellationToken cancellationToken)
    {
        if (RegionGroup?.Find(region) is not { } receiver || receiver._disposed)
        {
            throw new KmsNotFoundException($"{parameterName} {region} is not a Region this key manager can reach: no key manager of its region group serves it.");
        }

        await receiver.GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        return receiver;
    }

    private static string ValidateRegion(string? region, string parameterName)
    {
        if (string.IsNullOrEmpty(region) || region.Length > 32 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new KmsValidationException($"{parameterName} must be a Region name: 1–32 characters of a-z, 0-9 and '-'.");
        }

        return region;
    }

    private string ArnIn(string region, string keyId) => $"arn:{_ids.Partition}:kms:{region}:{_ids.AccountId}:key/{keyId}";
}

/// <summary>Log messages of multi-Region replication (the rotation, purge and maintenance area, 3200s).</summary>
internal static partial class MultiRegionLog
{
    [LoggerMessage(3201, LogLevel.Warning, "The multi-Region key {KeyId} in Region {Region} was not brought up to date ({Reason}); KmsRegionGroup.SynchronizeAsync catches it up.", EventName = "ReplicaSyncFailed")]
    public static partial void ReplicaSyncFailed(ILogger logger, string keyId, string region, string reason);
}
