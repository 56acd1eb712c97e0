using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Auditing;
using EnvelopeKms.Authorization;
using EnvelopeKms.Authorization.Policies;
using EnvelopeKms.Cryptography;
using EnvelopeKms.Internal;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EnvelopeKms;

/// <summary>
/// The key manager: AWS KMS operations for symmetric keys over a pluggable <see cref="IKeyStore"/>.
/// Every operation runs one pipeline — validate the input, resolve the key, authorize the caller,
/// check the key state, execute, audit — and writes exactly one audit event whatever the outcome.
/// </summary>
/// <remarks>
/// The caller is authorized before the key state is checked, so that a caller without access learns
/// nothing about a key's state. Safe for concurrent use.
/// </remarks>
public sealed partial class KeyManager : IKeyManager, IDisposable
{
    private readonly SealingKeyStore _store;
    private readonly IRootKeyProvider _rootKeyProvider;
    private readonly TimeProvider _time;
    private readonly IKeyAuthorizer _authorizer;
    private readonly IKmsAuditSink _auditSink;
    private readonly ICallerIdentityProvider _callerProvider;
    private readonly IRecipientAttestationVerifier? _recipientVerifier;
    private readonly ILogger _logger;
    private readonly Identifiers _ids;
    private readonly int _maxRetries;
    private readonly long _maxEncryptionsPerKeyMaterial;
    private readonly TimeSpan _auditWriteTimeout;
    private readonly bool _auditFailOpen;

    /// <summary>Records the sink did not accept while failing open, not yet reported on the trail.</summary>
    private long _auditRecordsLost;

    /// <summary>Per key, the fingerprint this instance first read or last relayed as a store change (see <see cref="RelayKeyChangeAsync"/>).</summary>
    private readonly ConcurrentDictionary<string, KeyFingerprint> _relayedFingerprints = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _rootKeyGate = new(1, 1);
    private readonly ConcurrentDictionary<(string KeyId, string MaterialId), byte[]> _materials = new();

    /// <summary>Public keys (SPKI) derived from the private keys of signing keys; not secret, so never zeroed.</summary>
    private readonly ConcurrentDictionary<(string KeyId, string MaterialId), byte[]> _publicKeys = new();

    /// <summary>Imported platform key objects (RSA, ECDSA, ECDH) per key material; evicted with the key.</summary>
    private readonly PlatformKeyCache _platformKeys = new();

    /// <summary>The plaintext key materials this instance has unwrapped, for tests that scan outputs for them.</summary>
    internal IReadOnlyList<byte[]> UnwrappedMaterialsForTests => [.. _materials.Values];

    /// <summary>The imported platform key objects, for tests.</summary>
    internal PlatformKeyCache PlatformKeys => _platformKeys;
    private readonly bool _fipsOnly;
    private RootKey? _rootKey;
    private readonly IKeyStoreChangeNotifier? _notifier;
    private readonly IKeyStore _innerStore;
    private bool _disposed;

    /// <summary>
    /// Raised after an operation changed a key in a way that caches of its data keys must honour:
    /// <c>DisableKey</c>, <c>ScheduleKeyDeletion</c>, the purge, <c>UpdateAlias</c>, <c>DeleteAlias</c>
    /// (and, for completeness, <c>EnableKey</c> and <c>CancelKeyDeletion</c>). Raised synchronously
    /// on the calling thread after the change is stored; handlers must be quick and must not throw
    /// (exceptions are swallowed). When the store implements <see cref="IKeyStoreChangeNotifier"/> (the
    /// SQLite and PostgreSQL stores do), changes made by other instances sharing the store are raised
    /// too, on a background thread, with a <see langword="null"/> <see cref="KeyChangedEventArgs.Operation"/>.
    /// </summary>
    public event EventHandler<KeyChangedEventArgs>? KeyChanged;

    /// <summary>Creates a key manager.</summary>
    /// <param name="keyStore">Where keys are kept.</param>
    /// <param name="rootKeyProvider">The root key that wraps key material in the store.</param>
    /// <param name="options">Account, region and partition; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="authorizer">The authorizer; the default key policy when <see langword="null"/>.</param>
    /// <param name="auditSink">Where audit events go; an <see cref="ILogger"/> sink when <see langword="null"/>.</param>
    /// <param name="callerIdentityProvider">The ambient caller; the account's root principal when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Logging; none when <see langword="null"/>.</param>
    /// <param name="recipientAttestationVerifier">Verifies the attestation documents of <c>Recipient</c> parameters; without one, requests with a recipient fail.</param>
    /// <param name="meterFactory">Creates the <c>EnvelopeKms</c> meter; without one no metrics are recorded (spans still are, while an <see cref="System.Diagnostics.ActivityListener"/> listens).</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public KeyManager(
        IKeyStore keyStore,
        IRootKeyProvider rootKeyProvider,
        EnvelopeKmsOptions? options = null,
        TimeProvider? timeProvider = null,
        IKeyAuthorizer? authorizer = null,
        IKmsAuditSink? auditSink = null,
        ICallerIdentityProvider? callerIdentityProvider = null,
        ILoggerFactory? loggerFactory = null,
        IRecipientAttestationVerifier? recipientAttestationVerifier = null,
        System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(keyStore);
        ArgumentNullException.ThrowIfNull(rootKeyProvider);
        options ??= new EnvelopeKmsOptions();
        var validation = new EnvelopeKmsOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EnvelopeKmsOptions), validation.Failures);
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        _store = new SealingKeyStore(keyStore);
        _innerStore = keyStore;
        _rootKeyProvider = rootKeyProvider;
        _time = timeProvider ?? TimeProvider.System;
        _ids = new Identifiers(options.Partition, options.Region, options.AccountId);
        _authorizer = authorizer ?? new KeyPolicyAuthorizer(options.AccountId, options.Partition);
        _auditSink = auditSink ?? new LoggerAuditSink(loggerFactory);
        _callerProvider = callerIdentityProvider ?? new FixedCallerIdentityProvider(CallerIdentity.AccountRoot(options.AccountId, options.Partition));
        _logger = loggerFactory.CreateLogger("EnvelopeKms.KeyManager");
        _recipientVerifier = recipientAttestationVerifier;
        _maxRetries = options.MaxConflictRetries;
        _maxEncryptionsPerKeyMaterial = options.MaxEncryptionsPerKeyMaterial;
        _fipsOnly = options.FipsApprovedAlgorithmsOnly;
        _auditWriteTimeout = options.AuditWriteTimeout;
        _auditFailOpen = options.AuditFailOpen;
        if (_auditFailOpen)
        {
            Log.AuditFailOpenConfigured(_logger);
        }

        _usageMeter = new Auditing.Usage.KeyUsageMeter(timeProvider: _time);

        _instruments = new Telemetry.KeyManagerInstruments(meterFactory);
        _lifecycleEvents.Logger = _logger;

        if (keyStore is InMemoryKeyStore)
        {
            Log.InMemoryStore(_logger);
        }

        if (keyStore is IKeyStoreChangeNotifier notifier)
        {
            _notifier = notifier;
            notifier.Changed += OnStoreChanged;
        }
    }

    // ---------------------------------------------------------------- control plane: keys

    /// <inheritdoc />
    public Task<KeyMetadataResponse> CreateKeyAsync(CreateKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.CreateKey, request, async ctx =>
        {
            var description = InputValidation.ValidateDescription(request.Description);
            var tags = InputValidation.ValidateTags(request.Tags, "Tags");
            if (!Enum.IsDefined(request.KeySpec))
            {
                throw new KmsValidationException("KeySpec is not a known key spec.");
            }

            if (!Enum.IsDefined(request.KeyUsage))
            {
                throw new KmsValidationException("KeyUsage is not a known key usage.");
            }

            if (!KeySpecs.AllowsUsage(request.KeySpec, request.KeyUsage))
            {
                throw new KmsValidationException($"KeyUsage {request.KeyUsage.ToKmsName()} is not valid for {request.KeySpec.ToKmsName()} keys; use {KeySpecs.UsagesOf(request.KeySpec)}.");
            }

            if (_fipsOnly)
            {
                CryptoProvenance.RequireAllowedForNewKey(request.KeySpec);
            }

            if (!Enum.IsDefined(request.Origin))
            {
                throw new KmsValidationException("Origin is not a known origin.");
            }

            // Multi-Region first: KMS refuses a multi-Region key in a custom key store as unsupported,
            // whatever else the request lacks.
            if (request.MultiRegion)
            {
                RequireMultiRegionAllowed(request);
            }

            if (request.Origin is KeyOrigin.AwsCloudHsm or KeyOrigin.ExternalKeyStore || request.CustomKeyStoreId is not null || request.XksKeyId is not null)
            {
                ValidateCustomKeyStoreKeyRequest(request); // KeyManager.CustomKeyStores.cs
            }

            var policy = request.Policy is null ? null : ParseKeyPolicy(request.Policy, "Policy");
            await AuthorizeAsync(ctx, KmsOperation.CreateKey, key: null, cancellationToken).ConfigureAwait(false);
            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);

            var keyId = request.MultiRegion ? NewMultiRegionKeyId() : Identifiers.NewKeyId();
            ctx.KeyId = keyId;
            if (policy is not null)
            {
                await RequireNoLockoutAsync(ctx, policy, keyId, request.BypassPolicyLockoutSafetyCheck, cancellationToken).ConfigureAwait(false);
            }

            var now = _time.GetUtcNow();
            var record = new KeyRecord
            {
                KeyId = keyId,
                AccountId = _ids.AccountId,
                CreationDate = now,
                Description = description,
                KeyState = request.Origin == KeyOrigin.External ? KeyState.PendingImport : KeyState.Enabled,
                KeySpec = request.KeySpec,
                KeyUsage = request.KeyUsage,
                Origin = request.Origin,
                Tags = [.. tags.OrderBy(t => t.TagKey, StringComparer.Ordinal)],
                Policy = policy?.Text,
                MultiRegion = request.MultiRegion ? NewPrimaryConfiguration() : null,
            };

            if (request.Origin == KeyOrigin.AwsKms)
            {
                var material = NewKeyMaterial(rootKey, record, now, type: null);
                var materialId = material.KeyMaterialId;
                record = record with { CurrentKeyMaterialId = materialId, KeyMaterials = [material] };
                ctx.KeyMaterialId = materialId;
            }

            if (request.CustomKeyStoreId is not null)
            {
                record = await PrepareCustomKeyStoreKeyAsync(ctx, request, record, rootKey, now, cancellationToken).ConfigureAwait(false);
            }

            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            record = await CreateBackendKeyAsync(ctx, record).ConfigureAwait(false);
            var stored = await _store.InsertKeyAsync(record, CancellationToken.None).ConfigureAwait(false);
            return new KeyMetadataResponse(ToMetadata(stored));
        });
    }

    /// <inheritdoc />
    public Task<KeyMetadataResponse> DescribeKeyAsync(DescribeKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DescribeKey, request, async ctx =>
        {
            var key = await UseKeyAsync(ctx, KmsOperation.DescribeKey, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            return new KeyMetadataResponse(ToMetadata(key));
        });
    }

    /// <inheritdoc />
    public Task<ListKeysResponse> ListKeysAsync(ListKeysRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListKeys, request, async ctx =>
        {
            var limit = InputValidation.ValidateLimit(request.Limit, 1000, 100);
            var after = DecodeMarker(request.Marker, static m => Identifiers.IsKeyIdShape(m));
            await AuthorizeAsync(ctx, KmsOperation.ListKeys, key: null, cancellationToken).ConfigureAwait(false);

            var page = new List<KeyRecord>(limit + 1);
            while (page.Count <= limit)
            {
                var batch = await _store.ListKeysAsync(after, limit + 1 - page.Count, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    break;
                }

                after = batch[^1].KeyId;
                foreach (var key in batch)
                {
                    if (key.KeyManager != KeyManagerType.Owned && !await PurgeIfExpiredAsync(ctx, key, cancellationToken).ConfigureAwait(false))
                    {
                        page.Add(key);
                    }
                }
            }

            var truncated = page.Count > limit;
            var items = page.Take(limit).Select(k => new KeyListEntry(k.KeyId, _ids.KeyArn(k.KeyId))).ToList();
            return new ListKeysResponse { Items = items, NextMarker = truncated ? EncodeMarker(items[^1].KeyId) : null };
        });
    }

    /// <inheritdoc />
    public Task UpdateKeyDescriptionAsync(UpdateKeyDescriptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.UpdateKeyDescription, request, ctx =>
        {
            var description = InputValidation.ValidateDescription(request.Description ?? throw new KmsValidationException("Description is required."));
            return MutateKeyAsync(ctx, KmsOperation.UpdateKeyDescription, request.KeyId, key => key with { Description = description }, cancellationToken);
        });
    }

    /// <inheritdoc />
    public Task EnableKeyAsync(EnableKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.EnableKey, request, ctx =>
            MutateKeyAsync(ctx, KmsOperation.EnableKey, request.KeyId, key => key with { KeyState = KeyState.Enabled }, cancellationToken));
    }

    /// <inheritdoc />
    public Task DisableKeyAsync(DisableKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DisableKey, request, ctx =>
            MutateKeyAsync(ctx, KmsOperation.DisableKey, request.KeyId, key => key with { KeyState = KeyState.Disabled }, cancellationToken));
    }

    /// <inheritdoc />
    public Task<ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(ScheduleKeyDeletionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ScheduleKeyDeletion, request, async ctx =>
        {
            var days = request.PendingWindowInDays ?? InputValidation.DefaultPendingWindowInDays;
            if (days is < InputValidation.MinPendingWindowInDays or > InputValidation.MaxPendingWindowInDays)
            {
                throw new KmsValidationException($"PendingWindowInDays must be between {InputValidation.MinPendingWindowInDays} and {InputValidation.MaxPendingWindowInDays}; it was {days}.");
            }

            var key = await MutateKeyAsync(ctx, KmsOperation.ScheduleKeyDeletion, request.KeyId, key => WaitForReplicas(key with
            {
                KeyState = KeyState.PendingDeletion,
                DeletionDate = _time.GetUtcNow().AddDays(days),
                PendingDeletionWindowInDays = days,
            }), cancellationToken).ConfigureAwait(false);
            return new ScheduleKeyDeletionResponse
            {
                KeyId = _ids.KeyArn(key.KeyId),
                // A primary key waiting for its replicas has no deletion date yet: the earliest one is given (docs/multi-region.md).
                DeletionDate = key.DeletionDate ?? _time.GetUtcNow().AddDays(days),
                KeyState = key.KeyState,
                PendingWindowInDays = days,
            };
        });
    }

    /// <inheritdoc />
    public Task<CancelKeyDeletionResponse> CancelKeyDeletionAsync(CancelKeyDeletionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.CancelKeyDeletion, request, async ctx =>
        {
            var key = await MutateKeyAsync(ctx, KmsOperation.CancelKeyDeletion, request.KeyId, key => key with
            {
                KeyState = KeyState.Disabled,
                DeletionDate = null,
                PendingDeletionWindowInDays = null,
            }, cancellationToken).ConfigureAwait(false);
            return new CancelKeyDeletionResponse(_ids.KeyArn(key.KeyId));
        });
    }

    /// <inheritdoc />
    public async Task<int> PurgeExpiredKeysAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var purged = 0;
        string? after = null;
        while (true)
        {
            var batch = await _store.ListKeysAsync(after, 100, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return purged;
            }

            after = batch[^1].KeyId;
            foreach (var key in batch)
            {
                var ctx = new OperationContext(KmsOperation.DeleteExpiredKey, _callerProvider.GetCurrentCaller(), NewRequestId());
                if (await PurgeIfExpiredAsync(ctx, key, cancellationToken).ConfigureAwait(false))
                {
                    purged++;
                }
            }
        }
    }

    // ---------------------------------------------------------------- control plane: aliases and tags

    /// <inheritdoc />
    public Task CreateAliasAsync(CreateAliasRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.CreateAlias, request, async ctx =>
        {
            InputValidation.ValidateAliasName(request.AliasName, forCreate: true);
            ctx.AliasName = request.AliasName;
            var key = await UseKeyAsync(ctx, KmsOperation.CreateAlias, request.TargetKeyId, nameof(request.TargetKeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            await EnsureAliasCapacityAsync(key, cancellationToken).ConfigureAwait(false);
            if (await GetLiveAliasAsync(ctx, request.AliasName, cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new KmsAlreadyExistsException($"An alias with the name {_ids.AliasArn(request.AliasName)} already exists.");
            }

            var now = _time.GetUtcNow();
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            try
            {
                await _store.InsertAliasAsync(new AliasRecord { AliasName = request.AliasName, TargetKeyId = key.KeyId, CreationDate = now, LastUpdatedDate = now }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (KeyStoreConflictException e)
            {
                throw new KmsAlreadyExistsException($"An alias with the name {_ids.AliasArn(request.AliasName)} already exists.", e);
            }

            return true;
        });
    }

    /// <inheritdoc />
    public Task UpdateAliasAsync(UpdateAliasRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.UpdateAlias, request, async ctx =>
        {
            InputValidation.ValidateAliasName(request.AliasName, forCreate: true);
            ctx.AliasName = request.AliasName;
            var newTarget = await UseKeyAsync(ctx, KmsOperation.UpdateAlias, request.TargetKeyId, nameof(request.TargetKeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            for (var attempt = 0; ; attempt++)
            {
                var alias = await GetLiveAliasAsync(ctx, request.AliasName, cancellationToken).ConfigureAwait(false)
                    ?? throw new KmsNotFoundException($"Alias {_ids.AliasArn(request.AliasName)} is not found.");
                if (alias.TargetKeyId == newTarget.KeyId)
                {
                    return true;
                }

                if (await _store.GetKeyAsync(alias.TargetKeyId, cancellationToken).ConfigureAwait(false) is { } oldTarget)
                {
                    await AuthorizeAsync(ctx, KmsOperation.UpdateAlias, oldTarget, cancellationToken).ConfigureAwait(false);
                    if (oldTarget.KeySpec != newTarget.KeySpec || oldTarget.KeyUsage != newTarget.KeyUsage)
                    {
                        throw new KmsValidationException($"Alias {request.AliasName} points to a {oldTarget.KeySpec.ToKmsName()}/{oldTarget.KeyUsage.ToKmsName()} key; it can only be moved to a key of the same spec and usage.");
                    }
                }

                await EnsureAliasCapacityAsync(newTarget, cancellationToken).ConfigureAwait(false);
                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                try
                {
                    await _store.UpdateAliasAsync(alias with { TargetKeyId = newTarget.KeyId, LastUpdatedDate = _time.GetUtcNow() }, CancellationToken.None).ConfigureAwait(false);
                    return true;
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e;
                }
                catch (KeyStoreConflictException e)
                {
                    throw Conflict(e);
                }
            }
        });
    }

    /// <inheritdoc />
    public Task DeleteAliasAsync(DeleteAliasRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DeleteAlias, request, async ctx =>
        {
            InputValidation.ValidateAliasName(request.AliasName, forCreate: true);
            ctx.AliasName = request.AliasName;
            for (var attempt = 0; ; attempt++)
            {
                var alias = await GetLiveAliasAsync(ctx, request.AliasName, cancellationToken).ConfigureAwait(false)
                    ?? throw new KmsNotFoundException($"Alias {_ids.AliasArn(request.AliasName)} is not found.");
                ctx.KeyId = alias.TargetKeyId;
                var key = await _store.GetKeyAsync(alias.TargetKeyId, cancellationToken).ConfigureAwait(false);
                if (key is not null)
                {
                    await AuthorizeAsync(ctx, KmsOperation.DeleteAlias, key, cancellationToken).ConfigureAwait(false);
                    KeyStateRules.Enforce(KmsOperation.DeleteAlias, key.KeyState, _ids.KeyArn(key.KeyId));
                }
                else
                {
                    await AuthorizeAsync(ctx, KmsOperation.DeleteAlias, key: null, cancellationToken).ConfigureAwait(false);
                }

                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                try
                {
                    await _store.DeleteAliasAsync(alias.AliasName, alias.Version, CancellationToken.None).ConfigureAwait(false);
                    return true;
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e;
                }
                catch (KeyStoreConflictException e)
                {
                    throw Conflict(e);
                }
            }
        });
    }

    /// <inheritdoc />
    public Task<ListAliasesResponse> ListAliasesAsync(ListAliasesRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListAliases, request, async ctx =>
        {
            var limit = InputValidation.ValidateLimit(request.Limit, 100, 50);
            var after = DecodeMarker(request.Marker, static m => m.StartsWith("alias/", StringComparison.Ordinal));
            string? keyId = null;
            if (request.KeyId is not null)
            {
                var key = await UseKeyAsync(ctx, KmsOperation.ListAliases, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
                keyId = key.KeyId;
            }
            else
            {
                await AuthorizeAsync(ctx, KmsOperation.ListAliases, key: null, cancellationToken).ConfigureAwait(false);
            }

            // Like ListKeys, skip (and purge) what belongs to keys whose deletion date has passed; a key named
            // in KeyId was resolved above, so it is not one of them.
            var page = new List<AliasRecord>(limit + 1);
            var gone = new Dictionary<string, bool>(StringComparer.Ordinal);
            while (page.Count <= limit)
            {
                var batch = await _store.ListAliasesAsync(keyId, after, limit + 1 - page.Count, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    break;
                }

                after = batch[^1].AliasName;
                foreach (var alias in batch)
                {
                    if (keyId is null && !gone.TryGetValue(alias.TargetKeyId, out var purged))
                    {
                        var target = await _store.GetKeyAsync(alias.TargetKeyId, cancellationToken).ConfigureAwait(false);
                        purged = target is not null && await PurgeIfExpiredAsync(ctx, target, cancellationToken).ConfigureAwait(false);
                        gone[alias.TargetKeyId] = purged;
                    }

                    if (!gone.GetValueOrDefault(alias.TargetKeyId))
                    {
                        page.Add(alias);
                    }
                }
            }

            var items = page.Take(limit).Select(a => new AliasListEntry
            {
                AliasName = a.AliasName,
                AliasArn = _ids.AliasArn(a.AliasName),
                TargetKeyId = a.TargetKeyId,
                CreationDate = a.CreationDate,
                LastUpdatedDate = a.LastUpdatedDate,
            }).ToList();
            return new ListAliasesResponse { Items = items, NextMarker = page.Count > limit ? EncodeMarker(items[^1].AliasName) : null };
        });
    }

    /// <inheritdoc />
    public Task TagResourceAsync(TagResourceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.TagResource, request, ctx =>
        {
            var tags = InputValidation.ValidateTags(request.Tags ?? throw new KmsValidationException("Tags is required."), "Tags");
            return MutateKeyAsync(ctx, KmsOperation.TagResource, request.KeyId, key =>
            {
                var merged = key.Tags.ToDictionary(t => t.TagKey, t => t.TagValue, StringComparer.Ordinal);
                foreach (var tag in tags)
                {
                    merged[tag.TagKey] = tag.TagValue;
                }

                if (merged.Count > InputValidation.MaxTagsPerKey)
                {
                    throw new KmsLimitExceededException($"The key would have {merged.Count} tags; a key can have at most {InputValidation.MaxTagsPerKey}.");
                }

                return key with { Tags = [.. merged.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new KeyTag(p.Key, p.Value))] };
            }, cancellationToken);
        });
    }

    /// <inheritdoc />
    public Task UntagResourceAsync(UntagResourceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.UntagResource, request, ctx =>
        {
            var tagKeys = request.TagKeys ?? throw new KmsValidationException("TagKeys is required.");
            foreach (var tagKey in tagKeys)
            {
                InputValidation.ValidateTagKey(tagKey);
            }

            var remove = tagKeys.ToHashSet(StringComparer.Ordinal);
            return MutateKeyAsync(ctx, KmsOperation.UntagResource, request.KeyId, key => key with { Tags = [.. key.Tags.Where(t => !remove.Contains(t.TagKey))] }, cancellationToken);
        });
    }

    /// <inheritdoc />
    public Task<ListResourceTagsResponse> ListResourceTagsAsync(ListResourceTagsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ListResourceTags, request, async ctx =>
        {
            var limit = InputValidation.ValidateLimit(request.Limit, 50, 50);
            var after = DecodeMarker(request.Marker, static m => m.Length > 0);
            var key = await UseKeyAsync(ctx, KmsOperation.ListResourceTags, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            var remaining = key.Tags.Where(t => after is null || string.CompareOrdinal(t.TagKey, after) > 0).ToList();
            var items = remaining.Take(limit).ToList();
            return new ListResourceTagsResponse { Items = items, NextMarker = remaining.Count > limit ? EncodeMarker(items[^1].TagKey) : null };
        });
    }

    // ---------------------------------------------------------------- data plane

    /// <inheritdoc />
    public Task<EncryptResponse> EncryptAsync(EncryptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.Encrypt, request, async ctx =>
        {
            ctx.EncryptionContext = request.EncryptionContext;
            if (request.Plaintext.Length is 0 or > InputValidation.MaxPlaintextLength)
            {
                throw new KmsValidationException($"Plaintext must be 1–{InputValidation.MaxPlaintextLength} bytes; it has {request.Plaintext.Length}. Encrypt larger data locally with a data key (GenerateDataKey).");
            }

            if (!Enum.IsDefined(request.EncryptionAlgorithm))
            {
                throw new KmsValidationException($"{nameof(request.EncryptionAlgorithm)} is not a known encryption algorithm.");
            }

            var context = EncryptionContextEncoding.Encode(request.EncryptionContext);
            var key = await UseKeyAsync(ctx, KmsOperation.Encrypt, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            if (KeySpecs.IsRsaEncryption(key.KeySpec, key.KeyUsage))
            {
                var ciphertext = await RsaEncryptAsync(ctx, key, request.EncryptionAlgorithm, request.EncryptionContext, request.Plaintext, cancellationToken).ConfigureAwait(false);
                return new EncryptResponse { CiphertextBlob = ciphertext, KeyId = _ids.KeyArn(key.KeyId), KeyMaterialId = ctx.KeyMaterialId!, EncryptionAlgorithm = request.EncryptionAlgorithm };
            }

            InputValidation.ValidateAlgorithm(request.EncryptionAlgorithm, nameof(request.EncryptionAlgorithm));
            var (blob, materialId) = await EncryptCoreAsync(ctx, key, request.Plaintext, context, cancellationToken).ConfigureAwait(false);
            return new EncryptResponse { CiphertextBlob = blob, KeyId = _ids.KeyArn(key.KeyId), KeyMaterialId = materialId, EncryptionAlgorithm = EncryptionAlgorithm.SymmetricDefault };
        });
    }

    /// <inheritdoc />
    public Task<DecryptResponse> DecryptAsync(DecryptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.Decrypt, request, async ctx =>
        {
            ctx.EncryptionContext = request.EncryptionContext;
            await VerifyRecipientAsync(ctx, request.Recipient, cancellationToken).ConfigureAwait(false);
            if (request.EncryptionAlgorithm is EncryptionAlgorithm.RsaesOaepSha1 or EncryptionAlgorithm.RsaesOaepSha256)
            {
                return await RsaDecryptAsync(ctx, request, cancellationToken).ConfigureAwait(false);
            }

            var (key, plaintext) = await DecryptCoreAsync(ctx, KmsOperation.Decrypt, request.CiphertextBlob, request.EncryptionContext, request.KeyId, nameof(request.KeyId), request.EncryptionAlgorithm, cancellationToken).ConfigureAwait(false);
            var forRecipient = SealForRecipient(ctx, ref plaintext);
            return new DecryptResponse { Plaintext = plaintext, CiphertextForRecipient = forRecipient, KeyId = _ids.KeyArn(key.KeyId), KeyMaterialId = ctx.KeyMaterialId!, EncryptionAlgorithm = EncryptionAlgorithm.SymmetricDefault };
        });
    }

    /// <inheritdoc />
    public Task<ReEncryptResponse> ReEncryptAsync(ReEncryptRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ReEncryptFrom, request, async ctx =>
        {
            ctx.EncryptionContext = request.SourceEncryptionContext;
            if (!Enum.IsDefined(request.DestinationEncryptionAlgorithm))
            {
                throw new KmsValidationException($"{nameof(request.DestinationEncryptionAlgorithm)} is not a known encryption algorithm.");
            }

            var destinationContext = EncryptionContextEncoding.Encode(request.DestinationEncryptionContext, nameof(request.DestinationEncryptionContext));
            var destinationId = _ids.Parse(request.DestinationKeyId, nameof(request.DestinationKeyId));
            var (source, plaintext) = request.SourceEncryptionAlgorithm is EncryptionAlgorithm.RsaesOaepSha1 or EncryptionAlgorithm.RsaesOaepSha256
                ? await RsaDecryptCoreAsync(ctx, KmsOperation.ReEncryptFrom, request.CiphertextBlob, request.SourceEncryptionContext, nameof(request.SourceEncryptionContext), request.SourceKeyId, nameof(request.SourceKeyId), request.SourceEncryptionAlgorithm, cancellationToken).ConfigureAwait(false)
                : await DecryptCoreAsync(ctx, KmsOperation.ReEncryptFrom, request.CiphertextBlob, request.SourceEncryptionContext, request.SourceKeyId, nameof(request.SourceKeyId), request.SourceEncryptionAlgorithm, cancellationToken).ConfigureAwait(false);
            try
            {
                var sourceMaterialId = ctx.KeyMaterialId!;
                var destination = await ResolveAsync(ctx, destinationId, cancellationToken).ConfigureAwait(false);
                ctx.DestinationKeyId = destination.KeyId;

                // The destination is authorized with the destination's encryption context.
                ctx.EncryptionContext = request.DestinationEncryptionContext;
                ctx.SetCondition(ConditionKeyKind.KmsReEncryptOnSameKey, ConditionValues.Of(destination.KeyId == source.KeyId));
                await AuthorizeAsync(ctx, KmsOperation.ReEncryptTo, destination, cancellationToken).ConfigureAwait(false);
                ctx.EncryptionContext = request.SourceEncryptionContext;
                KeyStateRules.Enforce(KmsOperation.ReEncryptTo, await EffectiveKeyStateAsync(destination, cancellationToken).ConfigureAwait(false), _ids.KeyArn(destination.KeyId));
                ThrowIfDryRun(ctx, KmsOperation.ReEncryptTo);
                byte[] blob;
                string destinationMaterialId;
                if (KeySpecs.IsRsaEncryption(destination.KeySpec, destination.KeyUsage))
                {
                    // The same rules as Encrypt with an RSA key: an RSA algorithm, no encryption context, the OAEP plaintext limit.
                    blob = await RsaEncryptAsync(ctx, destination, request.DestinationEncryptionAlgorithm, request.DestinationEncryptionContext, plaintext, cancellationToken).ConfigureAwait(false);
                    destinationMaterialId = ctx.KeyMaterialId!;
                }
                else
                {
                    InputValidation.ValidateAlgorithm(request.DestinationEncryptionAlgorithm, nameof(request.DestinationEncryptionAlgorithm));
                    (blob, destinationMaterialId) = await EncryptCoreAsync(ctx, destination, plaintext, destinationContext, cancellationToken).ConfigureAwait(false);
                }

                ctx.KeyId = source.KeyId;
                ctx.KeyMaterialId = sourceMaterialId;
                return new ReEncryptResponse
                {
                    CiphertextBlob = blob,
                    SourceKeyId = _ids.KeyArn(source.KeyId),
                    KeyId = _ids.KeyArn(destination.KeyId),
                    SourceKeyMaterialId = sourceMaterialId,
                    DestinationKeyMaterialId = destinationMaterialId,
                    SourceEncryptionAlgorithm = request.SourceEncryptionAlgorithm,
                    DestinationEncryptionAlgorithm = request.DestinationEncryptionAlgorithm,
                };
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        });
    }

    /// <inheritdoc />
    public Task<GenerateDataKeyResponse> GenerateDataKeyAsync(GenerateDataKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GenerateDataKey, request, async ctx =>
        {
            await VerifyRecipientAsync(ctx, request.Recipient, cancellationToken).ConfigureAwait(false);
            var (plaintext, blob, key, materialId) = await GenerateDataKeyCoreAsync(ctx, KmsOperation.GenerateDataKey, request, cancellationToken).ConfigureAwait(false);
            var forRecipient = SealForRecipient(ctx, ref plaintext);
            return new GenerateDataKeyResponse { Plaintext = plaintext, CiphertextForRecipient = forRecipient, CiphertextBlob = blob, KeyId = _ids.KeyArn(key.KeyId), KeyMaterialId = materialId };
        });
    }

    /// <inheritdoc />
    public Task<GenerateDataKeyWithoutPlaintextResponse> GenerateDataKeyWithoutPlaintextAsync(GenerateDataKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GenerateDataKeyWithoutPlaintext, request, async ctx =>
        {
            if (request.Recipient is not null)
            {
                throw new KmsValidationException("GenerateDataKeyWithoutPlaintext does not take a Recipient; use GenerateDataKey.");
            }

            var (plaintext, blob, key, materialId) = await GenerateDataKeyCoreAsync(ctx, KmsOperation.GenerateDataKeyWithoutPlaintext, request, cancellationToken).ConfigureAwait(false);
            CryptographicOperations.ZeroMemory(plaintext);
            return new GenerateDataKeyWithoutPlaintextResponse { CiphertextBlob = blob, KeyId = _ids.KeyArn(key.KeyId), KeyMaterialId = materialId };
        });
    }

    /// <inheritdoc />
    public Task<GenerateRandomResponse> GenerateRandomAsync(GenerateRandomRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GenerateRandom, request, async ctx =>
        {
            if (request.NumberOfBytes is < 1 or > InputValidation.MaxRandomBytes)
            {
                throw new KmsValidationException($"NumberOfBytes must be between 1 and {InputValidation.MaxRandomBytes}; it was {request.NumberOfBytes}.");
            }

            await VerifyRecipientAsync(ctx, request.Recipient, cancellationToken).ConfigureAwait(false);
            await AuthorizeAsync(ctx, KmsOperation.GenerateRandom, key: null, cancellationToken).ConfigureAwait(false);
            var random = RandomNumberGenerator.GetBytes(request.NumberOfBytes);
            var forRecipient = SealForRecipient(ctx, ref random);
            return new GenerateRandomResponse { Plaintext = random, CiphertextForRecipient = forRecipient };
        });
    }

    /// <summary>
    /// Whether this key manager is restricted to FIPS-approved algorithms run by the platform's
    /// cryptographic module (<see cref="EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly"/>).
    /// </summary>
    public bool FipsApprovedAlgorithmsOnly => _fipsOnly;

    /// <summary>Whether <see cref="Dispose"/> disposes the store too (a key manager from <see cref="KeyManagerFactory"/> owns its store).</summary>
    internal bool OwnsStore { get; init; }

    /// <summary>Resources the builder created for this key manager (audit sinks), disposed with it.</summary>
    internal IReadOnlyList<IDisposable> OwnedResources { get; init; } = [];

    /// <inheritdoc />
    public Task<GenerateMacResponse> GenerateMacAsync(GenerateMacRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GenerateMac, request, async ctx =>
        {
            ValidateMessage(request.Message);
            ValidateMacAlgorithm(request.MacAlgorithm);
            var key = await UseKeyAsync(ctx, KmsOperation.GenerateMac, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            var material = await MacMaterialAsync(ctx, key, request.MacAlgorithm, cancellationToken).ConfigureAwait(false);
            var mac = Hmac.Compute(KeySpecs.ToPrimitive(request.MacAlgorithm), material, request.Message.Span);
            return new GenerateMacResponse { Mac = mac, MacAlgorithm = request.MacAlgorithm, KeyId = _ids.KeyArn(key.KeyId) };
        });
    }

    /// <inheritdoc />
    public Task<VerifyMacResponse> VerifyMacAsync(VerifyMacRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.VerifyMac, request, async ctx =>
        {
            ValidateMessage(request.Message);
            if (request.Mac.Length is 0 or > InputValidation.MaxCiphertextLength)
            {
                throw new KmsValidationException($"Mac must be 1–{InputValidation.MaxCiphertextLength} bytes; it has {request.Mac.Length}.");
            }

            ValidateMacAlgorithm(request.MacAlgorithm);
            var key = await UseKeyAsync(ctx, KmsOperation.VerifyMac, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            var material = await MacMaterialAsync(ctx, key, request.MacAlgorithm, cancellationToken).ConfigureAwait(false);
            var valid = Hmac.Verify(KeySpecs.ToPrimitive(request.MacAlgorithm), material, request.Message.Span, request.Mac.Span);
            return new VerifyMacResponse { MacValid = valid, MacAlgorithm = request.MacAlgorithm, KeyId = _ids.KeyArn(key.KeyId) };
        });
    }

    private static void ValidateMessage(ReadOnlyMemory<byte> message)
    {
        if (message.Length is 0 or > InputValidation.MaxPlaintextLength)
        {
            throw new KmsValidationException($"Message must be 1–{InputValidation.MaxPlaintextLength} bytes; it has {message.Length}.");
        }
    }

    private static void ValidateMacAlgorithm(MacAlgorithm algorithm)
    {
        if (!Enum.IsDefined(algorithm))
        {
            throw new KmsValidationException("MacAlgorithm is not a known MAC algorithm.");
        }
    }

    /// <summary>The current material of an HMAC key, after checking that the key makes MACs with this algorithm.</summary>
    private async Task<byte[]> MacMaterialAsync(OperationContext ctx, KeyRecord key, MacAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (key.KeyUsage != KeyUsage.GenerateVerifyMac || !KeySpecs.IsHmac(key.KeySpec))
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} has usage {key.KeyUsage.ToKmsName()}; MACs need an HMAC key (GENERATE_VERIFY_MAC).");
        }

        if (KeySpecs.MacAlgorithmOf(key.KeySpec) != algorithm)
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} key; it supports {KeySpecs.MacAlgorithmOf(key.KeySpec).ToKmsName()}, not {algorithm.ToKmsName()}.");
        }

        var materialId = key.CurrentKeyMaterialId
            ?? throw new KmsKeyUnavailableException($"{_ids.KeyArn(key.KeyId)} has no key material.");
        ctx.KeyMaterialId = materialId;
        return await GetMaterialAsync(key, materialId, cancellationToken).ConfigureAwait(false)
            ?? throw new KmsStorageIntegrityException($"The current key material of {_ids.KeyArn(key.KeyId)} is missing from its record.");
    }

    /// <inheritdoc />
    public Task<SignResponse> SignAsync(SignRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.Sign, request, async ctx =>
        {
            ValidateMessage(request.Message);
            ValidateSigning(request.SigningAlgorithm, request.MessageType);
            var key = await UseKeyAsync(ctx, KmsOperation.Sign, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            var privateKey = await SigningMaterialAsync(ctx, key, request.SigningAlgorithm, cancellationToken).ConfigureAwait(false);
            var signature = _platformKeys.Sign(key.KeyId, ctx.KeyMaterialId!, key.KeySpec, privateKey, request.SigningAlgorithm, request.Message.Span, request.MessageType);
            return new SignResponse { Signature = signature, SigningAlgorithm = request.SigningAlgorithm, KeyId = _ids.KeyArn(key.KeyId) };
        });
    }

    /// <inheritdoc />
    public Task<VerifyResponse> VerifyAsync(VerifyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.Verify, request, async ctx =>
        {
            ValidateMessage(request.Message);
            if (request.Signature.Length is 0 or > InputValidation.MaxCiphertextLength)
            {
                throw new KmsValidationException($"Signature must be 1–{InputValidation.MaxCiphertextLength} bytes; it has {request.Signature.Length}.");
            }

            ValidateSigning(request.SigningAlgorithm, request.MessageType);
            var key = await UseKeyAsync(ctx, KmsOperation.Verify, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            var privateKey = await SigningMaterialAsync(ctx, key, request.SigningAlgorithm, cancellationToken).ConfigureAwait(false);
            var publicKey = PublicKeyOf(key, ctx.KeyMaterialId!, privateKey);
            var valid = _platformKeys.Verify(key.KeyId, ctx.KeyMaterialId!, key.KeySpec, publicKey, request.SigningAlgorithm, request.Message.Span, request.MessageType, request.Signature.Span);
            return new VerifyResponse { SignatureValid = valid, SigningAlgorithm = request.SigningAlgorithm, KeyId = _ids.KeyArn(key.KeyId) };
        });
    }

    /// <inheritdoc />
    public Task<GetPublicKeyResponse> GetPublicKeyAsync(GetPublicKeyRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GetPublicKey, request, async ctx =>
        {
            var key = await UseKeyAsync(ctx, KmsOperation.GetPublicKey, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            if (!KeySpecs.IsAsymmetric(key.KeySpec))
            {
                throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} key; only asymmetric keys have a public key.");
            }

            var privateKey = await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
            return new GetPublicKeyResponse
            {
                KeyId = _ids.KeyArn(key.KeyId),
                PublicKey = PublicKeyOf(key, ctx.KeyMaterialId!, privateKey).ToArray(),
                KeySpec = key.KeySpec,
                KeyUsage = key.KeyUsage,
                SigningAlgorithms = key.KeyUsage == KeyUsage.SignVerify ? KeySpecs.SigningAlgorithmsOf(key.KeySpec) : [],
                EncryptionAlgorithms = KeySpecs.IsRsaEncryption(key.KeySpec, key.KeyUsage) ? KeySpecs.EncryptionAlgorithmsOf(key.KeySpec, key.KeyUsage) : [],
                KeyAgreementAlgorithms = KeySpecs.KeyAgreementAlgorithmsOf(key.KeySpec, key.KeyUsage),
            };
        });
    }

    /// <inheritdoc />
    public Task<DeriveSharedSecretResponse> DeriveSharedSecretAsync(DeriveSharedSecretRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DeriveSharedSecret, request, async ctx =>
        {
            if (!Enum.IsDefined(request.KeyAgreementAlgorithm))
            {
                throw new KmsValidationException("KeyAgreementAlgorithm is not a known key agreement algorithm.");
            }

            if (request.PublicKey.Length is 0 or > InputValidation.MaxCiphertextLength)
            {
                throw new KmsValidationException($"PublicKey must be 1–{InputValidation.MaxCiphertextLength} bytes; it has {request.PublicKey.Length}.");
            }

            await VerifyRecipientAsync(ctx, request.Recipient, cancellationToken).ConfigureAwait(false);
            var key = await UseKeyAsync(ctx, KmsOperation.DeriveSharedSecret, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            if (key.KeyUsage != KeyUsage.KeyAgreement || !KeySpecs.IsEcc(key.KeySpec))
            {
                throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} has usage {key.KeyUsage.ToKmsName()}; DeriveSharedSecret needs an ECC KEY_AGREEMENT key.");
            }

            var privateKey = await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
            var secret = _platformKeys.DeriveSharedSecret(key.KeyId, ctx.KeyMaterialId!, KeySpecs.EcdhCurveOf(key.KeySpec), privateKey, request.PublicKey.Span);
            var forRecipient = SealForRecipient(ctx, ref secret);
            return new DeriveSharedSecretResponse { SharedSecret = secret, CiphertextForRecipient = forRecipient, KeyId = _ids.KeyArn(key.KeyId), KeyAgreementAlgorithm = request.KeyAgreementAlgorithm, KeyOrigin = key.Origin };
        });
    }

    /// <inheritdoc />
    public Task<DecapsulateResponse> DecapsulateAsync(DecapsulateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.Decapsulate, request, async ctx =>
        {
            if (request.Ciphertext.Length is 0 or > InputValidation.MaxCiphertextLength)
            {
                throw new KmsValidationException($"Ciphertext must be 1–{InputValidation.MaxCiphertextLength} bytes; it has {request.Ciphertext.Length}.");
            }

            var key = await UseKeyAsync(ctx, KmsOperation.Decapsulate, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            RequireMlKem(key);
            var privateKey = await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
            byte[] secret;
            try
            {
                secret = MlKem.Decapsulate(KeySpecs.MlKemSetOf(key.KeySpec), privateKey, request.Ciphertext.Span);
            }
            catch (KmsInvalidCiphertextException)
            {
                throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
            }

            return new DecapsulateResponse { SharedSecret = secret, KeyId = _ids.KeyArn(key.KeyId) };
        });
    }

    /// <inheritdoc />
    public Task<EncapsulateResponse> EncapsulateAsync(EncapsulateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.Encapsulate, request, async ctx =>
        {
            var key = await UseKeyAsync(ctx, KmsOperation.Encapsulate, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
            RequireMlKem(key);
            var privateKey = await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
            var publicKey = PublicKeyOf(key, ctx.KeyMaterialId!, privateKey);
            var (secret, ciphertext) = MlKem.Encapsulate(KeySpecs.MlKemSetOf(key.KeySpec), publicKey);
            return new EncapsulateResponse { SharedSecret = secret, Ciphertext = ciphertext, KeyId = _ids.KeyArn(key.KeyId) };
        });
    }

    private void RequireMlKem(KeyRecord key)
    {
        if (key.KeyUsage != KeyUsage.EncapsulateDecapsulate || !KeySpecs.IsMlKem(key.KeySpec))
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} has usage {key.KeyUsage.ToKmsName()}; this operation needs an ML-KEM ENCAPSULATE_DECAPSULATE key.");
        }
    }

    /// <summary>RSAES-OAEP <c>Encrypt</c> with an RSA <c>ENCRYPT_DECRYPT</c> key: no encryption context; the ciphertext is the raw OAEP output.</summary>
    private async Task<byte[]> RsaEncryptAsync(OperationContext ctx, KeyRecord key, EncryptionAlgorithm algorithm, IReadOnlyDictionary<string, string>? encryptionContext, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
    {
        if (algorithm is not (EncryptionAlgorithm.RsaesOaepSha1 or EncryptionAlgorithm.RsaesOaepSha256))
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} key; it supports RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256, not {algorithm.ToKmsName()}.");
        }

        if (encryptionContext is { Count: > 0 })
        {
            throw new KmsValidationException("EncryptionContext is not supported with asymmetric keys.");
        }

        var privateKey = await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
        var publicKey = PublicKeyOf(key, ctx.KeyMaterialId!, privateKey);
        var limit = RsaOaep.MaxPlaintextLength(KeySizeOf(key.KeySpec), KeySpecs.ToPrimitive(algorithm));
        if (plaintext.Length > limit)
        {
            throw new KmsValidationException($"Plaintext must be at most {limit} bytes for {key.KeySpec.ToKmsName()} with {algorithm.ToKmsName()}; it has {plaintext.Length}.");
        }

        return _platformKeys.RsaEncrypt(key.KeyId, ctx.KeyMaterialId!, publicKey, plaintext.Span, KeySpecs.ToPrimitive(algorithm));
    }

    /// <summary>RSAES-OAEP <c>Decrypt</c>: the key must be named, as AWS KMS requires for asymmetric ciphertexts.</summary>
    private async Task<DecryptResponse> RsaDecryptAsync(OperationContext ctx, DecryptRequest request, CancellationToken cancellationToken)
    {
        var (key, plaintext) = await RsaDecryptCoreAsync(ctx, KmsOperation.Decrypt, request.CiphertextBlob, request.EncryptionContext, nameof(request.EncryptionContext), request.KeyId, nameof(request.KeyId), request.EncryptionAlgorithm, cancellationToken).ConfigureAwait(false);
        var forRecipient = SealForRecipient(ctx, ref plaintext);
        return new DecryptResponse { Plaintext = plaintext, CiphertextForRecipient = forRecipient, KeyId = _ids.KeyArn(key.KeyId), KeyMaterialId = ctx.KeyMaterialId!, EncryptionAlgorithm = request.EncryptionAlgorithm };
    }

    /// <summary>RSAES-OAEP decryption for <c>Decrypt</c> and <c>ReEncrypt</c>: the key must be named (the ciphertext does not name it); no encryption context.</summary>
    private async Task<(KeyRecord Key, byte[] Plaintext)> RsaDecryptCoreAsync(OperationContext ctx, KmsOperation operation, ReadOnlyMemory<byte> blob, IReadOnlyDictionary<string, string>? encryptionContext, string contextParameterName, string? keyId, string keyParameterName, EncryptionAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (blob.Length is 0 or > InputValidation.MaxCiphertextLength)
        {
            throw new KmsValidationException($"CiphertextBlob must be 1–{InputValidation.MaxCiphertextLength} bytes; it has {blob.Length}.");
        }

        if (keyId is null)
        {
            throw new KmsValidationException($"{keyParameterName} is required with {algorithm.ToKmsName()}: asymmetric ciphertexts do not name their key.");
        }

        if (encryptionContext is { Count: > 0 })
        {
            throw new KmsValidationException($"{contextParameterName} is not supported with asymmetric keys.");
        }

        var key = await UseKeyAsync(ctx, operation, keyId, keyParameterName, allowAlias: true, cancellationToken).ConfigureAwait(false);
        if (!KeySpecs.IsRsaEncryption(key.KeySpec, key.KeyUsage))
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} {key.KeyUsage.ToKmsName()} key; {algorithm.ToKmsName()} needs an RSA ENCRYPT_DECRYPT key.");
        }

        var privateKey = await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
        return (key, _platformKeys.RsaDecrypt(key.KeyId, ctx.KeyMaterialId!, privateKey, blob.Span, KeySpecs.ToPrimitive(algorithm)));
    }

    private static int KeySizeOf(KeySpec spec) => spec switch
    {
        KeySpec.Rsa2048 => 2048,
        KeySpec.Rsa3072 => 3072,
        _ => 4096,
    };

    private static void ValidateSigning(SigningAlgorithm algorithm, MessageType messageType)
    {
        if (!Enum.IsDefined(algorithm))
        {
            throw new KmsValidationException("SigningAlgorithm is not a known signing algorithm.");
        }

        if (!Enum.IsDefined(messageType))
        {
            throw new KmsValidationException("MessageType is not a known message type.");
        }
    }

    /// <summary>The private key (PKCS#8) of a signing key, after checking that the key signs with this algorithm.</summary>
    private async Task<byte[]> SigningMaterialAsync(OperationContext ctx, KeyRecord key, SigningAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (key.KeyUsage != KeyUsage.SignVerify || !KeySpecs.IsAsymmetric(key.KeySpec))
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} has usage {key.KeyUsage.ToKmsName()}; signing needs an asymmetric SIGN_VERIFY key.");
        }

        var supported = KeySpecs.SigningAlgorithmsOf(key.KeySpec);
        if (!supported.Contains(algorithm))
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} key; it supports {string.Join(", ", supported.Select(a => a.ToKmsName()))}, not {algorithm.ToKmsName()}.");
        }

        return await CurrentMaterialAsync(ctx, key, cancellationToken).ConfigureAwait(false);
    }

    private byte[] PublicKeyOf(KeyRecord key, string materialId, byte[] privateKey)
        => _publicKeys.GetOrAdd((key.KeyId, materialId), static (_, arg) => KeySpecs.PublicKeyOf(arg.Spec, arg.PrivateKey), (Spec: key.KeySpec, PrivateKey: privateKey));

    private async Task<byte[]> CurrentMaterialAsync(OperationContext ctx, KeyRecord key, CancellationToken cancellationToken)
    {
        var materialId = key.CurrentKeyMaterialId
            ?? throw new KmsKeyUnavailableException($"{_ids.KeyArn(key.KeyId)} has no key material.");
        ctx.KeyMaterialId = materialId;
        return await GetMaterialAsync(key, materialId, cancellationToken).ConfigureAwait(false)
            ?? throw new KmsStorageIntegrityException($"The current key material of {_ids.KeyArn(key.KeyId)} is missing from its record.");
    }

    /// <summary>Zeroes every cached key material and releases the root key (and the store, when it owns it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        RegionGroup?.Leave(this);
        if (_notifier is not null)
        {
            _notifier.Changed -= OnStoreChanged;
        }

        foreach (var material in _materials.Values)
        {
            CryptographicOperations.ZeroMemory(material);
        }

        _materials.Clear();
        _lifecycleEvents.Complete();
        _platformKeys.Dispose();
        DisposeCustomKeyStoreBackends(); // KeyManager.CustomKeyStores.cs
        _rootKey?.Dispose();
        _rootKeyGate.Dispose();
        foreach (var resource in OwnedResources)
        {
            resource.Dispose();
        }

        if (OwnsStore && _innerStore is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    // ---------------------------------------------------------------- pipeline

    private async Task<T> RunAsync<T>(KmsOperation operation, KmsRequest request, Func<OperationContext, Task<T>> body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var ctx = new OperationContext(operation, ViaServiceScope.Apply(request.Caller ?? _callerProvider.GetCurrentCaller()), NewRequestId())
        {
            DryRun = request is IDryRunRequest { DryRun: true },
            Request = request,
            RequestTags = request switch { CreateKeyRequest create => create.Tags, TagResourceRequest tag => tag.Tags, _ => null },
        };
        using var telemetry = StartTelemetry(ctx);
        T result;
        try
        {
            // A key manager whose root key is missing or is not the store's refuses every operation
            // before it reads or changes anything else (a no-op once the root key is open).
            var rootKey = await GetRootKeyAsync(CancellationToken.None).ConfigureAwait(false);
            if (request is IGrantTokenRequest { GrantTokens: { } grantTokens })
            {
                GrantTokens.Validate(rootKey, grantTokens);
            }

            result = await body(ctx).ConfigureAwait(false);
        }
        catch (Exception e) when (telemetry.Observe(e))
        {
            throw; // Never entered: Observe records the outcome and returns false.
        }
        catch (KmsAuditUnavailableException)
        {
            // The sink refused the record written before the change: nothing was committed, and
            // there is no point in offering it a second record.
            throw;
        }
        catch (KmsException e)
        {
            await AuditAsync(ctx, e is KmsAccessDeniedException ? KmsOutcome.Denied : KmsOutcome.Failure, e.ErrorCode).ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException)
        {
            await AuditAsync(ctx, KmsOutcome.Failure, "OperationCanceled").ConfigureAwait(false);
            throw;
        }
        catch (KeyStoreConflictException e)
        {
            await AuditAsync(ctx, KmsOutcome.Failure, KmsErrorCodes.Conflict).ConfigureAwait(false);
            throw Conflict(e);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            await AuditAsync(ctx, KmsOutcome.Failure, KmsErrorCodes.Internal).ConfigureAwait(false);
            throw new KmsInternalException($"{operation} failed with an internal error ({e.GetType().Name}); no state was changed by the failed step.", e);
        }

        try
        {
            if (!ctx.AuditWritten)
            {
                // Operations that change nothing are recorded here, after they ran and before their
                // result (which may be a secret) reaches the caller.
                await AuditAsync(ctx, KmsOutcome.Success, errorCode: null).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (telemetry.Observe(e))
        {
            throw; // Never entered.
        }
        catch
        {
            (result as IDisposable)?.Dispose();
            throw;
        }

        if (operation is KmsOperation.DisableKey or KmsOperation.EnableKey or KmsOperation.ScheduleKeyDeletion
            or KmsOperation.CancelKeyDeletion or KmsOperation.UpdateAlias or KmsOperation.DeleteAlias)
        {
            OnKeyChanged(ctx.KeyId, ctx.AliasName, operation);
        }

        telemetry.Succeeded(result);
        return result;
    }

    /// <summary>
    /// The commit point of an operation that changes stored state: its audit record is written (and
    /// must be accepted) before the change, so that a failing sink leaves the change uncommitted. Called
    /// right before the first durable write; later writes of the same operation pass through, and the
    /// writes after it are not cancellable. When a write after it fails, the pipeline records the
    /// failure under the same request id (see <c>docs/audit.md</c>).
    /// </summary>
    private async ValueTask CommitPointAsync(OperationContext ctx, CancellationToken cancellationToken)
    {
        // A caller that gave up before this point gets nothing done; after it the change is carried
        // through (the writes that follow take no cancellation), so that the record does not lie.
        cancellationToken.ThrowIfCancellationRequested();
        if (!ctx.AuditWritten)
        {
            await AuditAsync(ctx, KmsOutcome.Success, errorCode: null).ConfigureAwait(false);
        }
    }

    private async Task AuditAsync(OperationContext ctx, KmsOutcome outcome, string? errorCode)
    {
        var recordsLost = _auditFailOpen ? Interlocked.Exchange(ref _auditRecordsLost, 0) : 0;
        var auditEvent = new KmsAuditEvent
        {
            RequestId = ctx.RequestId,
            EventTime = _time.GetUtcNow(),
            Operation = ctx.Operation,
            Caller = ctx.Caller.PrincipalArn,
            Outcome = outcome,
            KeyId = ctx.KeyId,
            KeyMaterialId = ctx.KeyMaterialId,
            DestinationKeyId = ctx.DestinationKeyId,
            AliasName = ctx.AliasName,
            ErrorCode = errorCode,
            EncryptionContext = ctx.EncryptionContext,
            AuthorizationSummary = ctx.LockoutCheckBypassed
                ? ctx.AuthorizationSummary + " BypassPolicyLockoutSafetyCheck was set: the policy lockout safety check was skipped."
                : ctx.AuthorizationSummary,
            RecipientModuleId = ctx.RecipientAttestation?.ModuleId,
            RecipientImageSha384 = ctx.RecipientAttestation?.ImageSha384,
            SourceRequest = ctx.Request,
            GrantId = ctx.GrantId,
            AuditFailOpen = _auditFailOpen,
            RecordsLost = recordsLost,
        };
        Exception? failure;
        using (var timeout = new CancellationTokenSource(_auditWriteTimeout, _time))
        {
            try
            {
                await _auditSink.WriteAsync(auditEvent, timeout.Token).AsTask().WaitAsync(_auditWriteTimeout, _time, timeout.Token).ConfigureAwait(false);
                ctx.AuditWritten = true;
                _usageMeter.Record(auditEvent);
                return;
            }
            catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
            {
                failure = new TimeoutException($"The audit sink did not accept the record within {_auditWriteTimeout.TotalMilliseconds:0} ms.", e);
            }
            catch (TimeoutException e)
            {
                failure = e;
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        if (_auditFailOpen)
        {
            Interlocked.Add(ref _auditRecordsLost, recordsLost + 1);
            _usageMeter.Record(auditEvent);
            Log.AuditRecordLost(_logger, auditEvent.EventName, auditEvent.RequestId, auditEvent.KeyId, failure.GetType().Name, failure);
            ctx.AuditWritten = true;
            return;
        }

        var reason = failure is TimeoutException ? $"did not accept it within {_auditWriteTimeout.TotalMilliseconds:0} ms" : $"failed with {failure.GetType().Name}";
        throw new KmsAuditUnavailableException(
            ctx.AuditWritten || outcome != KmsOutcome.Success
                ? $"The audit sink {reason} for the record of {auditEvent.EventName}; the result was withheld."
                : $"The audit sink {reason} for the record of {auditEvent.EventName}; the operation was not completed and nothing was changed.",
            failure);
    }

    /// <summary>Resolves, authorizes and state-checks a key named in a request.</summary>
    private async Task<KeyRecord> UseKeyAsync(OperationContext ctx, KmsOperation operation, string? keyReference, string parameterName, bool allowAlias, CancellationToken cancellationToken)
    {
        var identifier = _ids.Parse(keyReference, parameterName);
        if (identifier.IsAlias && !allowAlias)
        {
            throw new KmsNotFoundException($"Invalid {parameterName} '{keyReference}': {ctx.Operation} takes a key id or key ARN, not an alias.");
        }

        var key = await ResolveAsync(ctx, identifier, cancellationToken).ConfigureAwait(false);
        await AuthorizeAsync(ctx, operation, key, cancellationToken).ConfigureAwait(false);
        RequireOwnerAllows(key, operation);
        if (operation != KmsOperation.ListAliases)
        {
            KeyStateRules.Enforce(operation, await EffectiveKeyStateAsync(key, cancellationToken).ConfigureAwait(false), _ids.KeyArn(key.KeyId));
        }

        if (!ctx.DeferDryRun)
        {
            ThrowIfDryRun(ctx, operation);
        }

        return key;
    }

    private async Task<KeyRecord> ResolveAsync(OperationContext ctx, KeyIdentifier identifier, CancellationToken cancellationToken)
    {
        var keyId = identifier.Value;
        if (identifier.IsAlias)
        {
            ctx.AliasName ??= identifier.Value;
            var alias = await _store.GetAliasAsync(identifier.Value, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsNotFoundException($"Alias {_ids.AliasArn(identifier.Value)} is not found.");
            keyId = alias.TargetKeyId;
        }

        ctx.KeyId ??= keyId;
        var key = await _store.GetKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
        if (key is null || (key.KeyManager == KeyManagerType.Owned && !ctx.IsInternal) || await PurgeIfExpiredAsync(ctx, key, cancellationToken).ConfigureAwait(false))
        {
            throw new KmsNotFoundException($"Key '{_ids.KeyArn(keyId)}' does not exist.");
        }

        _relayedFingerprints.TryAdd(key.KeyId, KeyFingerprint.Of(key));

        // Imported material past its ValidTo is deleted before the key is used (KeyManager.Import.cs).
        key = await ExpireImportedMaterialIfDueAsync(ctx, key, cancellationToken).ConfigureAwait(false);

        return await ApplyDueRotationAsync(ctx, key, cancellationToken).ConfigureAwait(false);
    }

    private async Task AuthorizeAsync(OperationContext ctx, KmsOperation operation, KeyRecord? key, CancellationToken cancellationToken)
    {
        if (ctx.IsInternal && key?.KeyManager == KeyManagerType.Owned)
        {
            ctx.AuthorizationSummary = "EnvelopeKms used its own owned key.";
            return;
        }

        var keyArn = key is null ? null : _ids.KeyArn(key.KeyId);
        var decision = await _authorizer.AuthorizeAsync(
            await AuthorizationRequestOfAsync(ctx, operation, key, cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        ctx.AuthorizationSummary = decision.Summary;
        ctx.GrantId = decision.GrantId;
        if (!decision.IsAllowed)
        {
            var resource = keyArn ?? $"arn:{_ids.Partition}:kms:{_ids.Region}:{_ids.AccountId}:*";
            throw new KmsAccessDeniedException($"User: {ctx.Caller.PrincipalArn} is not authorized to perform: {KmsPolicyRequest.ActionOf(operation)} on resource: {resource}. {decision.Summary}");
        }
    }

    /// <summary>Read-modify-write of one key with optimistic concurrency, re-checking state on every attempt.</summary>
    private async Task<KeyRecord> MutateKeyAsync(OperationContext ctx, KmsOperation operation, string? keyReference, Func<KeyRecord, KeyRecord> change, CancellationToken cancellationToken, Func<KeyRecord, Task>? check = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var key = await UseKeyAsync(ctx, operation, keyReference, "KeyId", allowAlias: false, cancellationToken).ConfigureAwait(false);
            if (check is not null)
            {
                await check(key).ConfigureAwait(false);
            }

            var changed = change(key);
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            try
            {
                return await _store.UpdateKeyAsync(changed, CancellationToken.None).ConfigureAwait(false);
            }
            catch (KeyStoreConflictException e) when (attempt < _maxRetries)
            {
                _ = e;
            }
        }
    }

    /// <summary>Purges a key whose deletion date has passed; returns whether it is gone.</summary>
    private async Task<bool> PurgeIfExpiredAsync(OperationContext requestContext, KeyRecord key, CancellationToken cancellationToken)
    {
        if (key.KeyState != KeyState.PendingDeletion || key.DeletionDate is not { } deletionDate || deletionDate > _time.GetUtcNow())
        {
            return false;
        }

        if (!_store.IsAuthentic(key))
        {
            // A record listed without verification whose deletion date may be forged: never delete on its word.
            Log.UnauthenticRecordNotPurged(_logger, key.KeyId);
            return false;
        }

        var ctx = new OperationContext(KmsOperation.DeleteExpiredKey, requestContext.Caller, NewRequestId()) { KeyId = key.KeyId, AuthorizationSummary = "Purge of a key whose deletion waiting period ended." };
        using var telemetry = StartTelemetry(ctx);
        try
        {
            // Aliases go first: a crash in between leaves the key pending deletion and the next access finishes the purge.
            var aliases = await _store.ListAliasesAsync(key.KeyId, null, int.MaxValue, cancellationToken).ConfigureAwait(false);
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            foreach (var alias in aliases)
            {
                try
                {
                    await _store.DeleteAliasAsync(alias.AliasName, alias.Version, CancellationToken.None).ConfigureAwait(false);
                }
                catch (KeyStoreConflictException e)
                {
                    _ = e; // Deleted or moved by someone else meanwhile.
                }
            }

            // Grants go with the aliases, before the key, for the same reason.
            if (GrantStore is { } grants)
            {
                await grants.DeleteGrantsOfKeyAsync(key.KeyId, CancellationToken.None).ConfigureAwait(false);
            }

            try
            {
                await _store.DeleteKeyAsync(key.KeyId, key.Version, CancellationToken.None).ConfigureAwait(false);
                await DeleteBackendKeyAsync(key).ConfigureAwait(false); // KeyManager.CustomKeyStores.cs
            }
            catch (KeyStoreConflictException e)
            {
                _ = e; // Purged by another instance, or changed (for example the deletion was cancelled).
                var current = await _store.GetKeyAsync(key.KeyId, CancellationToken.None).ConfigureAwait(false);
                if (current is null)
                {
                    return true;
                }

                // This purge did not happen (its record said it would): say so under its request id, then look again.
                await AuditAsync(ctx, KmsOutcome.Failure, KmsErrorCodes.Conflict).ConfigureAwait(false);
                return await PurgeIfExpiredAsync(requestContext, current, CancellationToken.None).ConfigureAwait(false);
            }

            foreach (var material in key.KeyMaterials)
            {
                if (_materials.TryRemove((key.KeyId, material.KeyMaterialId), out var cached))
                {
                    CryptographicOperations.ZeroMemory(cached);
                }

                _publicKeys.TryRemove((key.KeyId, material.KeyMaterialId), out _);
                _budgets.TryRemove((key.KeyId, material.KeyMaterialId), out _);
            }

            _relayedFingerprints.TryRemove(key.KeyId, out _);
            _keyPolicies.TryRemove(key.KeyId, out _);

            _platformKeys.Evict(key.KeyId);

            Log.PurgedKey(_logger, key.KeyId, deletionDate);
            await OnMultiRegionKeyPurgedAsync(key).ConfigureAwait(false);
            OnKeyChanged(key.KeyId, aliasName: null, KmsOperation.DeleteExpiredKey);
            CompleteInternalStep(telemetry, ctx, key, Telemetry.KeyLifecycleEventType.KeyDeleted, deletionDate: deletionDate);
            return true;
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

    /// <summary>Reads an alias; one whose key is past its deletion date is purged with the key and reads as absent.</summary>
    private async Task<AliasRecord?> GetLiveAliasAsync(OperationContext ctx, string aliasName, CancellationToken cancellationToken)
    {
        var alias = await _store.GetAliasAsync(aliasName, cancellationToken).ConfigureAwait(false);
        if (alias is not null
            && await _store.GetKeyAsync(alias.TargetKeyId, cancellationToken).ConfigureAwait(false) is { } target
            && await PurgeIfExpiredAsync(ctx, target, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return alias;
    }

    private async Task EnsureAliasCapacityAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        var aliases = await _store.ListAliasesAsync(key.KeyId, null, InputValidation.MaxAliasesPerKey, cancellationToken).ConfigureAwait(false);
        if (aliases.Count >= InputValidation.MaxAliasesPerKey)
        {
            throw new KmsLimitExceededException($"Key {_ids.KeyArn(key.KeyId)} already has {InputValidation.MaxAliasesPerKey} aliases, the most a key can have.");
        }
    }

    private async Task<(byte[] Blob, string MaterialId)> EncryptCoreAsync(OperationContext ctx, KeyRecord key, ReadOnlyMemory<byte> plaintext, byte[] encodedContext, CancellationToken cancellationToken)
    {
        RequireSymmetricEncryptionKey(key);
        if (key.CustomKeyStoreId is not null)
        {
            return await EncryptInCustomKeyStoreAsync(ctx, key, plaintext, encodedContext, cancellationToken).ConfigureAwait(false);
        }

        var materialId = key.CurrentKeyMaterialId
            ?? throw new KmsKeyUnavailableException($"{_ids.KeyArn(key.KeyId)} has no key material.");
        if (key.Origin == KeyOrigin.AwsKms)
        {
            // Counted against the material's cap of encryptions (random 96-bit nonces); may rotate the key.
            (key, materialId) = await TakeEncryptionAsync(ctx, key, cancellationToken).ConfigureAwait(false);
        }

        var material = await GetMaterialAsync(key, materialId, cancellationToken).ConfigureAwait(false)
            ?? throw new KmsStorageIntegrityException($"The current key material of {_ids.KeyArn(key.KeyId)} is missing from its record.");
        ctx.KeyMaterialId = materialId;
        return (SymmetricCiphertext.Encrypt(material, key.KeyId, materialId, plaintext.Span, encodedContext), materialId);
    }

    /// <summary>Symmetric encryption (and GenerateDataKey, GenerateDataKeyPair) needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key, as in AWS KMS.</summary>
    private void RequireSymmetricEncryptionKey(KeyRecord key)
    {
        if (key.KeyUsage != KeyUsage.EncryptDecrypt)
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} has usage {key.KeyUsage.ToKmsName()}; encryption needs ENCRYPT_DECRYPT.");
        }

        if (key.KeySpec != KeySpec.SymmetricDefault)
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} is a {key.KeySpec.ToKmsName()} key; this operation needs a SYMMETRIC_DEFAULT key.");
        }
    }

    private async Task<(KeyRecord Key, byte[] Plaintext)> DecryptCoreAsync(OperationContext ctx, KmsOperation operation, ReadOnlyMemory<byte> blob, IReadOnlyDictionary<string, string>? encryptionContext, string? expectedKeyId, string keyParameterName, EncryptionAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (blob.Length is 0 or > InputValidation.MaxCiphertextLength)
        {
            throw new KmsValidationException($"CiphertextBlob must be 1–{InputValidation.MaxCiphertextLength} bytes; it has {blob.Length}.");
        }

        if (!Enum.IsDefined(algorithm))
        {
            throw new KmsValidationException("EncryptionAlgorithm is not a known encryption algorithm.");
        }

        var context = EncryptionContextEncoding.Encode(encryptionContext);
        KeyIdentifier? expected = expectedKeyId is null ? null : _ids.Parse(expectedKeyId, keyParameterName);

        var customFormat = CustomKeyStores.CustomKeyStoreCiphertextFormat.TryReadHeader(blob.Span, out var header, out var customAlgorithm);
        if (!(customFormat || SymmetricCiphertext.TryReadHeader(blob.Span, out header)) || algorithm != EncryptionAlgorithm.SymmetricDefault)
        {
            throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
        }

        KeyRecord key;
        if (expected is { } named)
        {
            key = await ResolveAsync(ctx, named, cancellationToken).ConfigureAwait(false);
            if (key.KeyId != header.KeyId)
            {
                throw new KmsIncorrectKeyException($"The key {_ids.KeyArn(key.KeyId)} named in {keyParameterName} is not the key that encrypted the ciphertext.");
            }
        }
        else
        {
            ctx.KeyId = header.KeyId;
            var found = await _store.GetKeyAsync(header.KeyId, cancellationToken).ConfigureAwait(false);
            if (found is null || found.KeyManager == KeyManagerType.Owned || await PurgeIfExpiredAsync(ctx, found, cancellationToken).ConfigureAwait(false))
            {
                throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
            }

            _relayedFingerprints.TryAdd(found.KeyId, KeyFingerprint.Of(found));
            key = await ApplyDueRotationAsync(ctx, found, cancellationToken).ConfigureAwait(false);
        }

        await AuthorizeAsync(ctx, operation, key, cancellationToken).ConfigureAwait(false);
        KeyStateRules.Enforce(operation, await EffectiveKeyStateAsync(key, cancellationToken).ConfigureAwait(false), _ids.KeyArn(key.KeyId));
        ThrowIfDryRun(ctx, operation);
        if (key.KeyUsage != KeyUsage.EncryptDecrypt)
        {
            throw new KmsInvalidKeyUsageException($"{_ids.KeyArn(key.KeyId)} has usage {key.KeyUsage.ToKmsName()}; decryption needs ENCRYPT_DECRYPT.");
        }

        if (customFormat || key.CustomKeyStoreId is not null)
        {
            return (key, await DecryptInCustomKeyStoreAsync(ctx, key, blob, customFormat, customAlgorithm, header, context, cancellationToken).ConfigureAwait(false));
        }

        var material = await GetMaterialAsync(key, header.KeyMaterialId, cancellationToken).ConfigureAwait(false)
            ?? throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
        var plaintext = new byte[header.PlaintextLength];
        if (!SymmetricCiphertext.TryDecrypt(material, blob.Span, header, context, plaintext))
        {
            throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
        }

        ctx.KeyMaterialId = header.KeyMaterialId;
        return (key, plaintext);
    }

    private async Task<(byte[] Plaintext, byte[] Blob, KeyRecord Key, string MaterialId)> GenerateDataKeyCoreAsync(OperationContext ctx, KmsOperation operation, GenerateDataKeyRequest request, CancellationToken cancellationToken)
    {
        ctx.EncryptionContext = request.EncryptionContext;
        var length = (request.KeySpec, request.NumberOfBytes) switch
        {
            (null, null) => throw new KmsValidationException("Give either KeySpec (AES_256 or AES_128) or NumberOfBytes."),
            ({ }, { }) => throw new KmsValidationException("Give KeySpec or NumberOfBytes, not both."),
            ({ } spec, null) => spec switch
            {
                DataKeySpec.Aes256 => 32,
                DataKeySpec.Aes128 => 16,
                _ => throw new KmsValidationException("KeySpec must be AES_256 or AES_128."),
            },
            (null, { } n) when n is >= 1 and <= InputValidation.MaxDataKeyBytes => n,
            (null, { } n) => throw new KmsValidationException($"NumberOfBytes must be between 1 and {InputValidation.MaxDataKeyBytes}; it was {n}."),
        };
        var context = EncryptionContextEncoding.Encode(request.EncryptionContext);
        var key = await UseKeyAsync(ctx, operation, request.KeyId, nameof(request.KeyId), allowAlias: true, cancellationToken).ConfigureAwait(false);
        var plaintext = RandomNumberGenerator.GetBytes(length);
        try
        {
            var (blob, materialId) = await EncryptCoreAsync(ctx, key, plaintext, context, cancellationToken).ConfigureAwait(false);
            return (plaintext, blob, key, materialId);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw;
        }
    }

    // ---------------------------------------------------------------- key material

    private async Task<byte[]?> GetMaterialAsync(KeyRecord key, string materialId, CancellationToken cancellationToken)
    {
        // Every use of a key's material comes here first, so the FIPS option refuses it before any of its cryptography.
        if (_fipsOnly)
        {
            CryptoProvenance.RequireAllowedForUse(key.KeySpec, _ids.KeyArn(key.KeyId));
        }

        if (_materials.TryGetValue((key.KeyId, materialId), out var cached))
        {
            return cached;
        }

        var record = key.KeyMaterials.FirstOrDefault(m => m.KeyMaterialId == materialId);
        if (record is null)
        {
            return null;
        }

        if (record.Imported && record.WrappedMaterial.Length == 0)
        {
            throw new KmsInvalidStateException($"Key material {materialId} of {_ids.KeyArn(key.KeyId)} expired or was deleted (PENDING_IMPORT); re-import it to use it again.");
        }

        var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var (min, max) = KeySpecs.MaterialLengthRange(key.KeySpec);
        var length = rootKey.GetUnwrappedLength(record.WrappedMaterial);
        if (length < min || length > max)
        {
            throw new KmsStorageIntegrityException($"The stored key material {materialId} of {_ids.KeyArn(key.KeyId)} is malformed; it was left in place.");
        }

        var material = GC.AllocateArray<byte>(length, pinned: true);
        rootKey.Unwrap(record.WrappedMaterial, WrapAssociatedData(key, materialId), material);
        if (!_materials.TryAdd((key.KeyId, materialId), material))
        {
            CryptographicOperations.ZeroMemory(material);
            return _materials[(key.KeyId, materialId)];
        }

        return material;
    }

    /// <summary>The associated data of a key-material wrap: binds key id, material id, spec and usage.</summary>
    internal static byte[] WrapAssociatedData(KeyRecord key, string materialId)
    {
        var text = $"EnvelopeKms key material v1\n{key.KeyId}\n{materialId}\n{key.KeySpec.ToKmsName()}\n{key.KeyUsage.ToKmsName()}";
        return Encoding.UTF8.GetBytes(text);
    }

    private async Task<RootKey> GetRootKeyAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _rootKey) is { } ready)
        {
            return ready;
        }

        await _rootKeyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_rootKey is { } raced)
            {
                return raced;
            }

            var metadata = await _store.GetMetadataAsync(cancellationToken).ConfigureAwait(false);
            // An existing store that recorded no parameters passes "", so a provider can tell it from a new store (null).
            var rootKey = await _rootKeyProvider.GetRootKeyAsync(metadata is null ? null : metadata.RootKeyParameters ?? "", cancellationToken).ConfigureAwait(false);
            try
            {
                if (metadata is null)
                {
                    metadata = await _store.InitializeMetadataAsync(new KeyStoreMetadata
                    {
                        FormatVersion = RecordSeal.SealedFormatVersion,
                        RootKeyCheckValue = rootKey.KeyCheckValue,
                        RootKeyParameters = rootKey.Parameters,
                        CreationDate = _time.GetUtcNow(),
                    }, cancellationToken).ConfigureAwait(false);
                    if (metadata.RootKeyParameters != rootKey.Parameters)
                    {
                        // Another instance initialized the store first with other parameters (a passphrase salt): open with theirs.
                        rootKey.Dispose();
                        rootKey = await _rootKeyProvider.GetRootKeyAsync(metadata.RootKeyParameters ?? "", cancellationToken).ConfigureAwait(false);
                    }
                }

                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(metadata.RootKeyCheckValue), Encoding.ASCII.GetBytes(rootKey.KeyCheckValue)))
                {
                    throw new KmsRootKeyException("The configured root key is not the one this key store was created with (its key check value differs). Nothing was read or changed; configure the original root key.");
                }

                if (metadata.FormatVersion is < 1 or > RecordSeal.SealedFormatVersion)
                {
                    throw new KmsStorageIntegrityException(
                        $"UnsupportedSchema: the key store has format version {metadata.FormatVersion}; this release reads versions 1 to {RecordSeal.SealedFormatVersion}. Use a newer release.");
                }

                _store.Open(rootKey, metadata.FormatVersion);
            }
            catch
            {
                rootKey.Dispose();
                throw;
            }

            Volatile.Write(ref _rootKey, rootKey);
            return rootKey;
        }
        finally
        {
            _rootKeyGate.Release();
        }
    }

    // ---------------------------------------------------------------- helpers

    private void OnStoreChanged(object? sender, KeyStoreChangedEventArgs e)
    {
        if (_disposed)
        {
            return;
        }

        if (e is { KeyId: { } keyId, AliasName: null })
        {
            // A change of one key record: relay it unless only counters changed (see RelayKeyChangeAsync).
            _ = RelayKeyChangeAsync(keyId);
            return;
        }

        EvictPlatformKeys(e.KeyId);
        RaiseKeyChanged(e.KeyId, e.AliasName, operation: null);
    }

    /// <summary>
    /// Relays a store change of a key record as <see cref="KeyChanged"/>, except when what a cache of the
    /// key's data keys depends on — state, deletion date, materials — is what this instance relayed or
    /// first read last time: an encryption-count reservation (any instance's) rewrites the record
    /// without changing any of it, and must not empty every instance's envelope caches.
    /// </summary>
    private async Task RelayKeyChangeAsync(string keyId)
    {
        try
        {
            var record = await _store.GetKeyAsync(keyId, CancellationToken.None).ConfigureAwait(false);
            if (record is not null)
            {
                var fingerprint = KeyFingerprint.Of(record);
                if (_relayedFingerprints.TryGetValue(keyId, out var last) && last == fingerprint)
                {
                    return;
                }

                _relayedFingerprints[keyId] = fingerprint;
            }
            else
            {
                _relayedFingerprints.TryRemove(keyId, out _);
            }
        }
#pragma warning disable CA1031 // Unreadable now (store down, damaged record): relay, which is the safe side.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        if (!_disposed)
        {
            EvictPlatformKeys(keyId);
            RaiseKeyChanged(keyId, aliasName: null, operation: null);
        }
    }

    /// <summary>What cached data keys of a key depend on: not its counters.</summary>
    private readonly record struct KeyFingerprint(KeyState State, DateTimeOffset? DeletionDate, string? CurrentKeyMaterialId, int Materials)
    {
        public static KeyFingerprint Of(KeyRecord key) => new(key.KeyState, key.DeletionDate, key.CurrentKeyMaterialId, key.KeyMaterials.Count);
    }

    private void OnKeyChanged(string? keyId, string? aliasName, KmsOperation operation)
    {
        if (keyId is null && aliasName is null)
        {
            return;
        }

        EvictPlatformKeys(keyId);
        RaiseKeyChanged(keyId, aliasName, operation);
    }

    /// <summary>Drops the imported key objects of a changed key (disabled, scheduled for deletion, re-imported…); the next call imports again.</summary>
    private void EvictPlatformKeys(string? keyId)
    {
        if (keyId is not null)
        {
            _platformKeys.Evict(keyId);
        }
    }

    private void RaiseKeyChanged(string? keyId, string? aliasName, KmsOperation? operation)
    {
        if (KeyChanged is not { } handlers)
        {
            return;
        }

        var args = new KeyChangedEventArgs(keyId, aliasName, operation);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<KeyChangedEventArgs>>())
        {
            try
            {
                handler(this, args);
            }
#pragma warning disable CA1031 // A subscriber's failure must not fail an operation that already committed.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private KeyMetadata ToMetadata(KeyRecord key) => new()
    {
        KeyId = key.KeyId,
        Arn = _ids.KeyArn(key.KeyId),
        AwsAccountId = key.AccountId,
        CreationDate = key.CreationDate,
        Description = key.Description,
        KeyState = EffectiveKeyState(key),
        KeyUsage = key.KeyUsage,
        KeySpec = key.KeySpec,
        Origin = key.Origin,
        KeyManager = key.KeyManager,
        EncryptionAlgorithms = KeySpecs.EncryptionAlgorithmsOf(key.KeySpec, key.KeyUsage),
        MacAlgorithms = KeySpecs.IsHmac(key.KeySpec) ? [KeySpecs.MacAlgorithmOf(key.KeySpec)] : [],
        SigningAlgorithms = key.KeyUsage == KeyUsage.SignVerify ? KeySpecs.SigningAlgorithmsOf(key.KeySpec) : [],
        KeyAgreementAlgorithms = KeySpecs.KeyAgreementAlgorithmsOf(key.KeySpec, key.KeyUsage),
        DeletionDate = key.DeletionDate,
        PendingDeletionWindowInDays = key.PendingDeletionWindowInDays,
        CurrentKeyMaterialId = key.CurrentKeyMaterialId,
        ExpirationModel = key.Origin == KeyOrigin.External && key.KeyMaterials.FirstOrDefault(m => m.KeyMaterialId == key.CurrentKeyMaterialId) is { } current ? ExpirationModelOf(current) : null,
        ValidTo = key.Origin == KeyOrigin.External ? key.KeyMaterials.FirstOrDefault(m => m.KeyMaterialId == key.CurrentKeyMaterialId)?.ValidTo : null,
        MultiRegion = key.MultiRegion is not null,
        MultiRegionConfiguration = MultiRegionConfigurationOf(key),
        CustomKeyStoreId = key.CustomKeyStoreId,
        CloudHsmClusterId = CloudHsmClusterIdOf(key),
        XksKeyConfiguration = key.Origin == KeyOrigin.ExternalKeyStore && key.CustomKeyStoreKeyId is { } xksKeyId ? new XksKeyConfiguration(xksKeyId) : null,
    };

    private static string NewRequestId() => Identifiers.NewKeyId();

    private static KmsConflictException Conflict(KeyStoreConflictException e)
        => new("The resource kept changing while the request was applied; retry the request.", e);

    private static string EncodeMarker(string value) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(value));

    private static string? DecodeMarker(string? marker, Func<string, bool> isValid)
    {
        if (marker is null)
        {
            return null;
        }

        try
        {
            var value = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(marker));
            if (isValid(value))
            {
                return value;
            }
        }
        catch (FormatException)
        {
            // Reported below.
        }

        throw new KmsInvalidMarkerException("Marker is not a marker returned by a previous call of this operation.");
    }

    /// <summary>Per-request state the pipeline fills in as it goes, for the audit event.</summary>
    private sealed class OperationContext(KmsOperation operation, CallerIdentity caller, string requestId)
    {
        public KmsOperation Operation { get; } = operation;
        public CallerIdentity Caller { get; } = caller;
        public string RequestId { get; } = requestId;
        public string? KeyId { get; set; }
        public string? KeyMaterialId { get; set; }
        public string? DestinationKeyId { get; set; }
        public string? AliasName { get; set; }
        public IReadOnlyDictionary<string, string>? EncryptionContext { get; set; }
        public string? AuthorizationSummary { get; set; }
        public RecipientAttestation? RecipientAttestation { get; set; }
        /// <summary>EnvelopeKms acting for itself on an owned key: owned keys are visible, the customer's authorizer is not asked.</summary>
        public bool IsInternal { get; set; }
        /// <summary>The request asked for a dry run: validate and authorize, then stop with <c>DryRunOperationException</c>.</summary>
        public bool DryRun { get; init; }
        /// <summary>The request as given, whose parameters are condition keys for policies.</summary>
        public KmsRequest? Request { get; init; }
        /// <summary>Condition keys the operation adds beyond its request's parameters (<c>kms:ReEncryptOnSameKey</c>), and those of a simulated request.</summary>
        public Dictionary<ConditionKeyKind, ConditionValues>? Conditions { get; set; }
        /// <summary>The tags of the request, for <c>aws:RequestTag</c> and <c>aws:TagKeys</c>.</summary>
        public IReadOnlyList<KeyTag>? RequestTags { get; init; }
        /// <summary>The grant that allowed the operation, when a grant did.</summary>
        public string? GrantId { get; set; }
        /// <summary>The operation stops a dry run itself, after checks of its own that follow the key's.</summary>
        public bool DeferDryRun { get; set; }
        /// <summary>The policy lockout safety check was bypassed (audited).</summary>
        public bool LockoutCheckBypassed { get; set; }
        /// <summary>The operation's record was accepted by the sink (at its commit point, or at the end).</summary>
        public bool AuditWritten { get; set; }

        public void SetCondition(ConditionKeyKind kind, ConditionValues value) => (Conditions ??= [])[kind] = value;
    }

    private sealed class FixedCallerIdentityProvider(CallerIdentity caller) : ICallerIdentityProvider
    {
        public CallerIdentity GetCurrentCaller() => caller;
    }
}
