using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

/// <summary>Custom key stores: the six operations, the connection runtime, and keys whose material lives in a backend.</summary>
public sealed partial class KeyManager
{
    /// <summary>AWS KMS's quota of custom key stores per account and region.</summary>
    internal const int MaxCustomKeyStores = 10;

    private const string XksUriPathSuffix = "/kms/xks/v1";

    private readonly ConcurrentDictionary<string, CustomKeyStoreRuntime> _customKeyStoreRuntimes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _customKeyStoreGate = new(1, 1);

    /// <summary>
    /// The backends custom key stores can use: register HSM clusters and external key store proxies here (or with the
    /// builder verbs) before creating or connecting stores over them. See <c>docs/custom-key-stores.md</c>.
    /// </summary>
    public CustomKeyStoreBackendRegistry CustomKeyStoreBackends { get; } = new();

    /// <inheritdoc />
    public Task<CreateCustomKeyStoreResponse> CreateCustomKeyStoreAsync(CreateCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.CreateCustomKeyStore, request, async ctx =>
        {
            var name = ValidateCustomKeyStoreName(request.CustomKeyStoreName, nameof(request.CustomKeyStoreName));
            if (!Enum.IsDefined(request.CustomKeyStoreType))
            {
                throw new KmsValidationException("CustomKeyStoreType must be AWS_CLOUDHSM or EXTERNAL_KEY_STORE.");
            }

            string credential;
            if (request.CustomKeyStoreType == CustomKeyStoreType.AwsCloudHsm)
            {
                RequireAbsent(request.XksProxyUriEndpoint, request.XksProxyUriPath, request.XksProxyConnectivity, request.XksProxyVpcEndpointServiceName, request.XksProxyAuthenticationCredential, "an AWS_CLOUDHSM key store");
                RequireText(request.CloudHsmClusterId, nameof(request.CloudHsmClusterId));
                credential = ValidatePassword(request.KeyStorePassword ?? throw new KmsValidationException("KeyStorePassword is required for an AWS_CLOUDHSM key store."));
            }
            else
            {
                if (request.CloudHsmClusterId is not null || request.TrustAnchorCertificate is not null || request.KeyStorePassword is not null)
                {
                    throw new KmsValidationException("CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are for AWS_CLOUDHSM key stores; an EXTERNAL_KEY_STORE takes the XksProxy* parameters.");
                }

                ValidateXksProxy(request.XksProxyUriEndpoint, request.XksProxyUriPath, request.XksProxyConnectivity ?? throw new KmsValidationException("XksProxyConnectivity is required for an EXTERNAL_KEY_STORE."), request.XksProxyVpcEndpointServiceName);
                credential = ValidateXksCredential(request.XksProxyAuthenticationCredential ?? throw new KmsValidationException("XksProxyAuthenticationCredential is required for an EXTERNAL_KEY_STORE."));
            }

            await AuthorizeAsync(ctx, KmsOperation.CreateCustomKeyStore, key: null, cancellationToken).ConfigureAwait(false);
            var records = RequireCustomKeyStoreRecords();
            var existing = await records.ListCustomKeyStoresAsync(cancellationToken).ConfigureAwait(false);
            if (existing.Any(r => string.Equals(r.CustomKeyStoreName, name, StringComparison.Ordinal)))
            {
                throw new KmsCustomKeyStoreNameInUseException($"A custom key store named '{name}' exists.");
            }

            if (existing.Count >= MaxCustomKeyStores)
            {
                throw new KmsLimitExceededException($"The store already has {MaxCustomKeyStores} custom key stores, the most it can have.");
            }

            var id = "cks-" + RandomNumberGenerator.GetHexString(17, lowercase: true);
            var record = new CustomKeyStoreRecord
            {
                CustomKeyStoreId = id,
                CustomKeyStoreName = name,
                CustomKeyStoreType = request.CustomKeyStoreType,
                CreationDate = _time.GetUtcNow(),
                CloudHsmClusterId = request.CloudHsmClusterId,
                TrustAnchorCertificate = request.TrustAnchorCertificate,
                XksProxyUriEndpoint = request.XksProxyUriEndpoint?.TrimEnd('/'),
                XksProxyUriPath = request.XksProxyUriPath,
                XksProxyConnectivity = request.XksProxyConnectivity?.ToKmsName(),
                XksProxyVpcEndpointServiceName = request.XksProxyVpcEndpointServiceName,
                XksProxyAccessKeyId = request.XksProxyAuthenticationCredential?.AccessKeyId,
                ConnectionState = CustomKeyStoreConnectionState.Disconnected,
            };
            await RequireBackendAvailableAsync(record, existing, credential, cancellationToken).ConfigureAwait(false);
            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            record = record with { WrappedCredential = WrapCredential(rootKey, id, credential) };
            ThrowIfDryRun(ctx, KmsOperation.CreateCustomKeyStore);

            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            try
            {
                await records.InsertCustomKeyStoreAsync(record, CancellationToken.None).ConfigureAwait(false);
            }
            catch (KeyStoreConflictException e)
            {
                throw new KmsCustomKeyStoreNameInUseException($"A custom key store named '{name}' was created meanwhile.", e);
            }

            return new CreateCustomKeyStoreResponse(id);
        });
    }

    /// <inheritdoc />
    public Task<ConnectCustomKeyStoreResponse> ConnectCustomKeyStoreAsync(ConnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ConnectCustomKeyStore, request, async ctx =>
        {
            var record = await GetCustomKeyStoreAsync(request.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
            await AuthorizeAsync(ctx, KmsOperation.ConnectCustomKeyStore, key: null, cancellationToken).ConfigureAwait(false);
            await _customKeyStoreGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var runtime = await LoadRuntimeLockedAsync(record, cancellationToken).ConfigureAwait(false);
                switch (runtime.State)
                {
                    case CustomKeyStoreConnectionState.Connected:
                        return new ConnectCustomKeyStoreResponse { ConnectionState = CustomKeyStoreConnectionState.Connected };
                    case CustomKeyStoreConnectionState.Failed or CustomKeyStoreConnectionState.Disconnecting:
                        throw new KmsCustomKeyStoreInvalidStateException(
                            $"Custom key store {record.CustomKeyStoreId} is {runtime.State.ToKmsName()}{ErrorSuffix(runtime.ErrorCode)}; disconnect it, then connect it again.",
                            runtime.State, runtime.ErrorCode);
                }

                ThrowIfDryRun(ctx, KmsOperation.ConnectCustomKeyStore);
                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                var rootKey = await GetRootKeyAsync(CancellationToken.None).ConfigureAwait(false);
                await ConnectRuntimeLockedAsync(rootKey, record, runtime, ctx).ConfigureAwait(false);
                await WriteConnectionStateAsync(record, runtime.State, runtime.ErrorCode).ConfigureAwait(false);
                return new ConnectCustomKeyStoreResponse { ConnectionState = runtime.State, ConnectionErrorCode = runtime.ErrorCode };
            }
            finally
            {
                _customKeyStoreGate.Release();
            }
        });
    }

    /// <inheritdoc />
    public Task DisconnectCustomKeyStoreAsync(DisconnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DisconnectCustomKeyStore, request, async ctx =>
        {
            var record = await GetCustomKeyStoreAsync(request.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
            await AuthorizeAsync(ctx, KmsOperation.DisconnectCustomKeyStore, key: null, cancellationToken).ConfigureAwait(false);
            await _customKeyStoreGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var runtime = await LoadRuntimeLockedAsync(record, cancellationToken).ConfigureAwait(false);
                if (runtime.State is CustomKeyStoreConnectionState.Disconnected or CustomKeyStoreConnectionState.Disconnecting)
                {
                    throw new KmsCustomKeyStoreInvalidStateException(
                        $"Custom key store {record.CustomKeyStoreId} is {runtime.State.ToKmsName()}; only a store in another state can be disconnected.", runtime.State, null);
                }

                ThrowIfDryRun(ctx, KmsOperation.DisconnectCustomKeyStore);
                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                await DisconnectRuntimeLockedAsync(runtime).ConfigureAwait(false);
                await WriteConnectionStateAsync(record, CustomKeyStoreConnectionState.Disconnected, null).ConfigureAwait(false);
                return true;
            }
            finally
            {
                _customKeyStoreGate.Release();
            }
        });
    }

    /// <inheritdoc />
    public Task<DescribeCustomKeyStoresResponse> DescribeCustomKeyStoresAsync(DescribeCustomKeyStoresRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DescribeCustomKeyStores, request, async ctx =>
        {
            if (request.CustomKeyStoreId is not null && request.CustomKeyStoreName is not null)
            {
                throw new KmsValidationException("Give CustomKeyStoreId or CustomKeyStoreName, not both.");
            }

            var limit = InputValidation.ValidateLimit(request.Limit, 1000, 1000);
            var after = DecodeMarker(request.Marker, static m => IsCustomKeyStoreIdShape(m));
            IReadOnlyList<CustomKeyStoreRecord> selected;
            if (request.CustomKeyStoreId is not null)
            {
                selected = [await GetCustomKeyStoreAsync(request.CustomKeyStoreId, cancellationToken).ConfigureAwait(false)];
            }
            else
            {
                var all = await RequireCustomKeyStoreRecords().ListCustomKeyStoresAsync(cancellationToken).ConfigureAwait(false);
                selected = request.CustomKeyStoreName is { } name
                    ? [all.FirstOrDefault(r => string.Equals(r.CustomKeyStoreName, name, StringComparison.Ordinal))
                        ?? throw new KmsCustomKeyStoreNotFoundException($"No custom key store is named '{name}'.")]
                    : [.. all.Where(r => after is null || string.CompareOrdinal(r.CustomKeyStoreId, after) > 0).OrderBy(r => r.CustomKeyStoreId, StringComparer.Ordinal)];
            }

            await AuthorizeAsync(ctx, KmsOperation.DescribeCustomKeyStores, key: null, cancellationToken).ConfigureAwait(false);
            var page = selected.Take(limit).ToList();
            var entries = new List<CustomKeyStoreEntry>(page.Count);
            foreach (var record in page)
            {
                var runtime = await EnsureRuntimeAsync(record, cancellationToken).ConfigureAwait(false);
                entries.Add(ToEntry(record, runtime));
            }

            return new DescribeCustomKeyStoresResponse
            {
                Items = entries,
                NextMarker = selected.Count > limit ? EncodeMarker(page[^1].CustomKeyStoreId) : null,
            };
        });
    }

    /// <inheritdoc />
    public Task UpdateCustomKeyStoreAsync(UpdateCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.UpdateCustomKeyStore, request, async ctx =>
        {
            var record = await GetCustomKeyStoreAsync(request.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
            var newName = request.NewCustomKeyStoreName is null ? null : ValidateCustomKeyStoreName(request.NewCustomKeyStoreName, nameof(request.NewCustomKeyStoreName));
            var hsm = record.CustomKeyStoreType == CustomKeyStoreType.AwsCloudHsm;
            var xksChange = request.XksProxyUriEndpoint is not null || request.XksProxyUriPath is not null || request.XksProxyConnectivity is not null
                || request.XksProxyVpcEndpointServiceName is not null || request.XksProxyAuthenticationCredential is not null;
            var hsmChange = request.KeyStorePassword is not null || request.CloudHsmClusterId is not null;
            if (hsm ? xksChange : hsmChange)
            {
                throw new KmsValidationException(hsm
                    ? "The XksProxy* parameters are for EXTERNAL_KEY_STORE key stores; this one is AWS_CLOUDHSM."
                    : "KeyStorePassword and CloudHsmClusterId are for AWS_CLOUDHSM key stores; this one is an EXTERNAL_KEY_STORE.");
            }

            if (newName is null && !xksChange && !hsmChange)
            {
                throw new KmsValidationException("Give at least one property to update.");
            }

            string? credential = null;
            var updated = record with { CustomKeyStoreName = newName ?? record.CustomKeyStoreName };
            if (hsm)
            {
                credential = request.KeyStorePassword is null ? null : ValidatePassword(request.KeyStorePassword);
                if (request.CloudHsmClusterId is not null)
                {
                    RequireText(request.CloudHsmClusterId, nameof(request.CloudHsmClusterId));
                    updated = updated with { CloudHsmClusterId = request.CloudHsmClusterId };
                }
            }
            else if (xksChange)
            {
                var connectivity = request.XksProxyConnectivity ?? (XksProxyConnectivityNames.TryParse(record.XksProxyConnectivity, out var c) ? c : XksProxyConnectivityType.PublicEndpoint);
                updated = updated with
                {
                    XksProxyUriEndpoint = request.XksProxyUriEndpoint?.TrimEnd('/') ?? record.XksProxyUriEndpoint,
                    XksProxyUriPath = request.XksProxyUriPath ?? record.XksProxyUriPath,
                    XksProxyConnectivity = connectivity.ToKmsName(),
                    XksProxyVpcEndpointServiceName = connectivity == XksProxyConnectivityType.PublicEndpoint ? null : request.XksProxyVpcEndpointServiceName ?? record.XksProxyVpcEndpointServiceName,
                    XksProxyAccessKeyId = request.XksProxyAuthenticationCredential?.AccessKeyId ?? record.XksProxyAccessKeyId,
                };
                ValidateXksProxy(updated.XksProxyUriEndpoint, updated.XksProxyUriPath, connectivity, updated.XksProxyVpcEndpointServiceName);
                credential = request.XksProxyAuthenticationCredential is null ? null : ValidateXksCredential(request.XksProxyAuthenticationCredential);
            }

            await AuthorizeAsync(ctx, KmsOperation.UpdateCustomKeyStore, key: null, cancellationToken).ConfigureAwait(false);
            var runtime = await EnsureRuntimeAsync(record, cancellationToken).ConfigureAwait(false);
            if ((xksChange || hsmChange) && runtime.State != CustomKeyStoreConnectionState.Disconnected)
            {
                throw new KmsCustomKeyStoreInvalidStateException(
                    $"Custom key store {record.CustomKeyStoreId} is {runtime.State.ToKmsName()}; only its name can change unless it is DISCONNECTED.", runtime.State, runtime.ErrorCode);
            }

            var records = RequireCustomKeyStoreRecords();
            var others = (await records.ListCustomKeyStoresAsync(cancellationToken).ConfigureAwait(false)).Where(r => r.CustomKeyStoreId != record.CustomKeyStoreId).ToList();
            if (newName is not null && others.Any(r => string.Equals(r.CustomKeyStoreName, newName, StringComparison.Ordinal)))
            {
                throw new KmsCustomKeyStoreNameInUseException($"A custom key store named '{newName}' exists.");
            }

            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            if (xksChange || request.CloudHsmClusterId is not null)
            {
                await RequireBackendAvailableAsync(updated, others, credential ?? UnwrapCredential(rootKey, record), cancellationToken).ConfigureAwait(false);
            }

            if (credential is not null)
            {
                updated = updated with { WrappedCredential = WrapCredential(rootKey, record.CustomKeyStoreId, credential) };
            }

            ThrowIfDryRun(ctx, KmsOperation.UpdateCustomKeyStore);
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            try
            {
                var stored = await records.UpdateCustomKeyStoreAsync(updated, CancellationToken.None).ConfigureAwait(false);
                runtime.Record = stored;
            }
            catch (KeyStoreConflictException e) when (newName is not null)
            {
                throw new KmsCustomKeyStoreNameInUseException($"Custom key store {record.CustomKeyStoreId} changed, or a store named '{newName}' was created, meanwhile; retry.", e);
            }

            return true;
        });
    }

    /// <inheritdoc />
    public Task DeleteCustomKeyStoreAsync(DeleteCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DeleteCustomKeyStore, request, async ctx =>
        {
            var record = await GetCustomKeyStoreAsync(request.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
            await AuthorizeAsync(ctx, KmsOperation.DeleteCustomKeyStore, key: null, cancellationToken).ConfigureAwait(false);
            var runtime = await EnsureRuntimeAsync(record, cancellationToken).ConfigureAwait(false);
            if (runtime.State != CustomKeyStoreConnectionState.Disconnected)
            {
                throw new KmsCustomKeyStoreInvalidStateException(
                    $"Custom key store {record.CustomKeyStoreId} is {runtime.State.ToKmsName()}; disconnect it before deleting it.", runtime.State, runtime.ErrorCode);
            }

            var keys = await KeysInCustomKeyStoreAsync(ctx, record.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
            if (keys.Count > 0)
            {
                throw new KmsCustomKeyStoreHasKeysException(
                    $"Custom key store {record.CustomKeyStoreId} still holds {keys.Count} KMS key(s) (including keys pending deletion); delete them and wait for their deletion before deleting the store.");
            }

            ThrowIfDryRun(ctx, KmsOperation.DeleteCustomKeyStore);
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            await RequireCustomKeyStoreRecords().DeleteCustomKeyStoreAsync(record.CustomKeyStoreId, record.Version, CancellationToken.None).ConfigureAwait(false);
            if (_customKeyStoreRuntimes.TryRemove(record.CustomKeyStoreId, out var removed) && removed.Backend is { } backend)
            {
                await backend.DisposeAsync().ConfigureAwait(false);
            }

            return true;
        });
    }

    // ---------------------------------------------------------------- keys in custom key stores

    /// <summary>The state a key reports: <see cref="KeyState.Unavailable"/> while its custom key store is not connected (unless it is pending deletion).</summary>
    private KeyState EffectiveKeyState(KeyRecord key)
    {
        if (key.CustomKeyStoreId is not { } storeId || key.KeyState is not (KeyState.Enabled or KeyState.Disabled))
        {
            return key.KeyState;
        }

        return _customKeyStoreRuntimes.TryGetValue(storeId, out var runtime) && runtime.State == CustomKeyStoreConnectionState.Connected
            ? key.KeyState
            : KeyState.Unavailable;
    }

    /// <summary><see cref="EffectiveKeyState"/>, after connecting the key's store if its record says it is connected (after a restart).</summary>
    private async ValueTask<KeyState> EffectiveKeyStateAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        if (key.CustomKeyStoreId is { } storeId && !_customKeyStoreRuntimes.ContainsKey(storeId)
            && RequireCustomKeyStoreRecords() is var records
            && await records.GetCustomKeyStoreAsync(storeId, cancellationToken).ConfigureAwait(false) is { } record)
        {
            await EnsureRuntimeAsync(record, cancellationToken).ConfigureAwait(false);
        }

        return EffectiveKeyState(key);
    }

    private string? CloudHsmClusterIdOf(KeyRecord key)
        => key.Origin == KeyOrigin.AwsCloudHsm && key.CustomKeyStoreId is { } storeId && _customKeyStoreRuntimes.TryGetValue(storeId, out var runtime)
            ? runtime.Record.CloudHsmClusterId
            : null;

    /// <summary>The checks of <c>CreateKey</c> in a custom key store that need nothing but the request (KMS's rules).</summary>
    private static void ValidateCustomKeyStoreKeyRequest(CreateKeyRequest request)
    {
        if (request.Origin is not (KeyOrigin.AwsCloudHsm or KeyOrigin.ExternalKeyStore))
        {
            throw new KmsValidationException($"A key in a custom key store has origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE; the request says {(Enum.IsDefined(request.Origin) ? request.Origin.ToKmsName() : "an unknown origin")}.");
        }

        if (request.CustomKeyStoreId is null)
        {
            throw new KmsValidationException($"Origin {request.Origin.ToKmsName()} needs CustomKeyStoreId.");
        }

        if (request.KeySpec != KeySpec.SymmetricDefault || request.KeyUsage != KeyUsage.EncryptDecrypt)
        {
            throw new KmsUnsupportedOperationException("Keys in custom key stores are SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys.");
        }

        if (request.MultiRegion)
        {
            throw new KmsUnsupportedOperationException("Keys in custom key stores cannot be multi-region keys.");
        }

        if (request.Origin == KeyOrigin.ExternalKeyStore ? string.IsNullOrEmpty(request.XksKeyId) || request.XksKeyId.Length > 128 : request.XksKeyId is not null)
        {
            throw new KmsValidationException(request.Origin == KeyOrigin.ExternalKeyStore
                ? "XksKeyId (1–128 characters) is required with origin EXTERNAL_KEY_STORE."
                : "XksKeyId is only for origin EXTERNAL_KEY_STORE.");
        }
    }

    /// <summary>
    /// <c>CreateKey</c> in a custom key store, before the commit point: the store must exist, match the origin and be
    /// connected; an external key is checked (<c>GetKeyMetadata</c>) and must not back another KMS key of the store; a key
    /// in an external key store gets the key manager's own material for the inner layer of its double encryption.
    /// </summary>
    private async Task<KeyRecord> PrepareCustomKeyStoreKeyAsync(OperationContext ctx, CreateKeyRequest request, KeyRecord record, RootKey rootKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var store = await GetCustomKeyStoreAsync(request.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
        var expected = store.CustomKeyStoreType == CustomKeyStoreType.AwsCloudHsm ? KeyOrigin.AwsCloudHsm : KeyOrigin.ExternalKeyStore;
        if (request.Origin != expected)
        {
            throw new KmsValidationException($"Custom key store {store.CustomKeyStoreId} is {store.CustomKeyStoreType.ToKmsName()}; its keys have origin {expected.ToKmsName()}.");
        }

        var backend = await ConnectedBackendAsync(store, cancellationToken).ConfigureAwait(false);
        record = record with { CustomKeyStoreId = store.CustomKeyStoreId };
        if (expected == KeyOrigin.AwsCloudHsm)
        {
            return record;
        }

        SetCallContext(ctx, record.KeyId);
        await backend.DescribeKeyAsync(request.XksKeyId!, cancellationToken).ConfigureAwait(false);
        var others = await KeysInCustomKeyStoreAsync(ctx, store.CustomKeyStoreId, cancellationToken).ConfigureAwait(false);
        if (others.Any(k => string.Equals(k.CustomKeyStoreKeyId, request.XksKeyId, StringComparison.Ordinal)))
        {
            throw new KmsXksKeyAlreadyInUseException($"The external key '{request.XksKeyId}' already backs another KMS key in custom key store {store.CustomKeyStoreId}.");
        }

        var material = NewKeyMaterial(rootKey, record, now, type: null);
        ctx.KeyMaterialId = material.KeyMaterialId;
        return record with { CustomKeyStoreKeyId = request.XksKeyId, CurrentKeyMaterialId = material.KeyMaterialId, KeyMaterials = [material] };
    }

    /// <summary>
    /// <c>CreateKey</c> in an HSM key store, after the commit point: the key is generated inside the HSM (non-extractable)
    /// and the record names it. A key of an external key store passes through.
    /// </summary>
    private async Task<KeyRecord> CreateBackendKeyAsync(OperationContext ctx, KeyRecord record)
    {
        if (record.CustomKeyStoreId is not { } storeId || record.Origin != KeyOrigin.AwsCloudHsm)
        {
            return record;
        }

        var store = await GetCustomKeyStoreAsync(storeId, CancellationToken.None).ConfigureAwait(false);
        var backend = await ConnectedBackendAsync(store, CancellationToken.None).ConfigureAwait(false);
        SetCallContext(ctx, record.KeyId);
        var created = await backend.CreateKeyAsync(record.KeyId, CancellationToken.None).ConfigureAwait(false);
        if (created.MaterialExportable)
        {
            await backend.DeleteKeyAsync(created.BackendKeyId, CancellationToken.None).ConfigureAwait(false);
            throw new KmsCloudHsmClusterInvalidConfigurationException("The HSM created an extractable key; it was destroyed. Check the token's policy.");
        }

        var materialId = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"EnvelopeKms custom key store key v1\n{storeId}\n{created.BackendKeyId}")));
        ctx.KeyMaterialId = materialId;
        return record with { CustomKeyStoreKeyId = created.BackendKeyId, CurrentKeyMaterialId = materialId };
    }

    /// <summary>Encrypt (and GenerateDataKey, ReEncrypt) with a key in a custom key store: in its backend, in ciphertext format version 2.</summary>
    private async Task<(byte[] Blob, string MaterialId)> EncryptInCustomKeyStoreAsync(OperationContext ctx, KeyRecord key, ReadOnlyMemory<byte> plaintext, byte[] encodedContext, CancellationToken cancellationToken)
    {
        var (backend, backendKeyId, materialId) = await BackendOfKeyAsync(key, cancellationToken).ConfigureAwait(false);
        var external = key.Origin == KeyOrigin.ExternalKeyStore;
        var header = CustomKeyStoreCiphertextFormat.Header(external ? CustomKeyStoreCiphertextFormat.AlgorithmExternalDouble : CustomKeyStoreCiphertextFormat.AlgorithmHsm, key.KeyId, materialId);
        var aad = CustomKeyStoreCiphertextFormat.AssociatedData(header, encodedContext);
        SetCallContext(ctx, key.KeyId);
        ctx.KeyMaterialId = materialId;
        if (!external)
        {
            var body = await backend.EncryptAsync(backendKeyId, plaintext, aad, cancellationToken).ConfigureAwait(false);
            return (CustomKeyStoreCiphertextFormat.Compose(header, body), materialId);
        }

        // Double encryption: the key manager's own material first, then the external key.
        var material = await GetMaterialAsync(key, materialId, cancellationToken).ConfigureAwait(false)
            ?? throw new KmsStorageIntegrityException($"The key material of {_ids.KeyArn(key.KeyId)} is missing from its record.");
        var inner = new byte[SymmetricCiphertext.NonceSize + plaintext.Length + SymmetricCiphertext.TagSize];
        RandomNumberGenerator.Fill(inner.AsSpan(0, SymmetricCiphertext.NonceSize));
        SymmetricCiphertext.Seal(material, inner.AsSpan(0, SymmetricCiphertext.NonceSize), plaintext.Span, aad,
            inner.AsSpan(SymmetricCiphertext.NonceSize, plaintext.Length), inner.AsSpan(SymmetricCiphertext.NonceSize + plaintext.Length));
        var outer = await backend.EncryptAsync(backendKeyId, inner, aad, cancellationToken).ConfigureAwait(false);
        return (CustomKeyStoreCiphertextFormat.Compose(header, outer), materialId);
    }

    /// <summary>Decrypt with a key in a custom key store (the key was resolved, authorized and state-checked).</summary>
    private async Task<byte[]> DecryptInCustomKeyStoreAsync(OperationContext ctx, KeyRecord key, ReadOnlyMemory<byte> blob, bool customFormat, byte algorithm, SymmetricCiphertext.Header header, byte[] encodedContext, CancellationToken cancellationToken)
    {
        var external = key.Origin == KeyOrigin.ExternalKeyStore;
        if (!customFormat || key.CustomKeyStoreId is null
            || algorithm != (external ? CustomKeyStoreCiphertextFormat.AlgorithmExternalDouble : CustomKeyStoreCiphertextFormat.AlgorithmHsm)
            || (!external && header.KeyMaterialId != key.CurrentKeyMaterialId)
            || (external && header.PlaintextLength < SymmetricCiphertext.NonceSize + SymmetricCiphertext.TagSize))
        {
            throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
        }

        var (backend, backendKeyId, _) = await BackendOfKeyAsync(key, cancellationToken).ConfigureAwait(false);
        var aad = CustomKeyStoreCiphertextFormat.AssociatedData(blob.Span[..header.HeaderLength], encodedContext);
        SetCallContext(ctx, key.KeyId);
        var decrypted = await backend.DecryptAsync(backendKeyId, CustomKeyStoreCiphertextFormat.Body(blob, header), aad, cancellationToken).ConfigureAwait(false);
        ctx.KeyMaterialId = header.KeyMaterialId;
        if (!external)
        {
            return decrypted;
        }

        try
        {
            var material = await GetMaterialAsync(key, header.KeyMaterialId, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
            var length = decrypted.Length - SymmetricCiphertext.NonceSize - SymmetricCiphertext.TagSize;
            if (length < 0)
            {
                throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
            }

            var plaintext = new byte[length];
            if (!SymmetricCiphertext.TryOpen(material, decrypted.AsSpan(0, SymmetricCiphertext.NonceSize), decrypted.AsSpan(SymmetricCiphertext.NonceSize, length), decrypted.AsSpan(^SymmetricCiphertext.TagSize), aad, plaintext))
            {
                // The proxy answered with bytes that are not what this key's material sealed: the wrong key, or a faulty proxy.
                throw new KmsInvalidCiphertextException(SymmetricCiphertext.InvalidMessage);
            }

            return plaintext;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(decrypted);
        }
    }

    /// <summary>At the end of a deletion waiting period: destroys the key's HSM key (an external key is left to its owner). Best effort: a disconnected store keeps the orphaned HSM key.</summary>
    private async Task DeleteBackendKeyAsync(KeyRecord key)
    {
        if (key.CustomKeyStoreId is not { } storeId || key.CustomKeyStoreKeyId is not { } backendKeyId
            || !_customKeyStoreRuntimes.TryGetValue(storeId, out var runtime) || runtime.State != CustomKeyStoreConnectionState.Connected || runtime.Backend is not { } backend)
        {
            return;
        }

        try
        {
            await backend.DeleteKeyAsync(backendKeyId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (KmsException e)
        {
            _ = e; // The KMS key is gone; the backend key is orphaned (see docs/custom-key-stores.md).
        }
    }

    // ---------------------------------------------------------------- runtime

    /// <summary>Disconnects every backend this key manager connected (for an HSM: logs out); the stored states are kept, so a new key manager reconnects.</summary>
    private void DisposeCustomKeyStoreBackends()
    {
        foreach (var runtime in _customKeyStoreRuntimes.Values)
        {
            if (runtime.Backend is { } backend)
            {
                runtime.Backend = null;
                runtime.State = CustomKeyStoreConnectionState.Disconnected;
                backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }

        _customKeyStoreRuntimes.Clear();
        _customKeyStoreGate.Dispose();
    }

    /// <summary>What this key manager knows of a custom key store's connection: its backend, state and last record.</summary>
    private sealed class CustomKeyStoreRuntime(CustomKeyStoreRecord record)
    {
        public CustomKeyStoreRecord Record { get; set; } = record;

        public ICustomKeyStoreBackend? Backend { get; set; }

        public CustomKeyStoreConnectionState State { get; set; } = CustomKeyStoreConnectionState.Disconnected;

        public CustomKeyStoreConnectionErrorCode? ErrorCode { get; set; }
    }

    private async Task<CustomKeyStoreRuntime> EnsureRuntimeAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        if (_customKeyStoreRuntimes.TryGetValue(record.CustomKeyStoreId, out var ready))
        {
            ready.Record = record;
            return ready;
        }

        await _customKeyStoreGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await LoadRuntimeLockedAsync(record, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _customKeyStoreGate.Release();
        }
    }

    /// <summary>The runtime of a store; the first time, it takes the stored state, connecting a store recorded as connected (a restart reconnects).</summary>
    private async Task<CustomKeyStoreRuntime> LoadRuntimeLockedAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        if (_customKeyStoreRuntimes.TryGetValue(record.CustomKeyStoreId, out var existing))
        {
            existing.Record = record;
            return existing;
        }

        var runtime = new CustomKeyStoreRuntime(record) { State = record.ConnectionState, ErrorCode = record.ConnectionErrorCode };
        if (record.ConnectionState == CustomKeyStoreConnectionState.Connected)
        {
            runtime.State = CustomKeyStoreConnectionState.Disconnected;
            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            await ConnectRuntimeLockedAsync(rootKey, record, runtime, ctx: null).ConfigureAwait(false);
        }
        else if (record.ConnectionState != CustomKeyStoreConnectionState.Failed)
        {
            runtime.State = CustomKeyStoreConnectionState.Disconnected;
            runtime.ErrorCode = null;
        }

        _customKeyStoreRuntimes[record.CustomKeyStoreId] = runtime;
        return runtime;
    }

    /// <summary>Creates the backend with the unwrapped credential and connects it; a failure leaves the runtime FAILED with its code.</summary>
    private async Task ConnectRuntimeLockedAsync(RootKey rootKey, CustomKeyStoreRecord record, CustomKeyStoreRuntime runtime, OperationContext? ctx)
    {
        if (runtime.Backend is { } previous)
        {
            runtime.Backend = null;
            await previous.DisposeAsync().ConfigureAwait(false);
        }

        var backend = CustomKeyStoreBackends.Create(ContextOf(record, UnwrapCredential(rootKey, record)));
        if (backend is null)
        {
            (runtime.State, runtime.ErrorCode) = (CustomKeyStoreConnectionState.Failed,
                record.CustomKeyStoreType == CustomKeyStoreType.AwsCloudHsm ? CustomKeyStoreConnectionErrorCode.ClusterNotFound : CustomKeyStoreConnectionErrorCode.XksProxyNotReachable);
            return;
        }

        if (ctx is not null)
        {
            SetCallContext(ctx, keyId: null);
        }

        try
        {
            await backend.ConnectAsync(CancellationToken.None).ConfigureAwait(false);
            (runtime.Backend, runtime.State, runtime.ErrorCode) = (backend, CustomKeyStoreConnectionState.Connected, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            (runtime.State, runtime.ErrorCode) = (CustomKeyStoreConnectionState.Failed,
                (e as KmsCustomKeyStoreInvalidStateException)?.ConnectionErrorCode ?? backend.ConnectionErrorCode ?? CustomKeyStoreConnectionErrorCode.InternalError);
            await backend.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task DisconnectRuntimeLockedAsync(CustomKeyStoreRuntime runtime)
    {
        runtime.State = CustomKeyStoreConnectionState.Disconnecting;
        if (runtime.Backend is { } backend)
        {
            runtime.Backend = null;
            try
            {
                await backend.DisconnectAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                await backend.DisposeAsync().ConfigureAwait(false);
            }
        }

        (runtime.State, runtime.ErrorCode) = (CustomKeyStoreConnectionState.Disconnected, null);
    }

    /// <summary>Records the connection state (the latest version of the record; a concurrent rename is kept).</summary>
    private async Task WriteConnectionStateAsync(CustomKeyStoreRecord record, CustomKeyStoreConnectionState state, CustomKeyStoreConnectionErrorCode? code)
    {
        var records = RequireCustomKeyStoreRecords();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var stored = await records.UpdateCustomKeyStoreAsync(record with { ConnectionState = state, ConnectionErrorCode = code }, CancellationToken.None).ConfigureAwait(false);
                if (_customKeyStoreRuntimes.TryGetValue(record.CustomKeyStoreId, out var runtime))
                {
                    runtime.Record = stored;
                }

                return;
            }
            catch (KeyStoreConflictException) when (attempt < _maxRetries)
            {
                record = await records.GetCustomKeyStoreAsync(record.CustomKeyStoreId, CancellationToken.None).ConfigureAwait(false)
                    ?? throw new KmsCustomKeyStoreNotFoundException($"Custom key store {record.CustomKeyStoreId} was deleted meanwhile.");
            }
        }
    }

    private async Task<ICustomKeyStoreBackend> ConnectedBackendAsync(CustomKeyStoreRecord store, CancellationToken cancellationToken)
    {
        var runtime = await EnsureRuntimeAsync(store, cancellationToken).ConfigureAwait(false);
        return runtime.State == CustomKeyStoreConnectionState.Connected && runtime.Backend is { } backend
            ? backend
            : throw new KmsCustomKeyStoreInvalidStateException(
                $"Custom key store {store.CustomKeyStoreId} is {runtime.State.ToKmsName()}{ErrorSuffix(runtime.ErrorCode)}; it must be CONNECTED.", runtime.State, runtime.ErrorCode);
    }

    private async Task<(ICustomKeyStoreBackend Backend, string BackendKeyId, string MaterialId)> BackendOfKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        var storeId = key.CustomKeyStoreId!;
        var backendKeyId = key.CustomKeyStoreKeyId ?? throw new KmsStorageIntegrityException($"The record of {_ids.KeyArn(key.KeyId)} names no backend key.");
        var materialId = key.CurrentKeyMaterialId ?? throw new KmsKeyUnavailableException($"{_ids.KeyArn(key.KeyId)} has no key material.");
        if (!_customKeyStoreRuntimes.TryGetValue(storeId, out var runtime))
        {
            var record = await GetCustomKeyStoreAsync(storeId, cancellationToken).ConfigureAwait(false);
            runtime = await EnsureRuntimeAsync(record, cancellationToken).ConfigureAwait(false);
        }

        return runtime.State == CustomKeyStoreConnectionState.Connected && runtime.Backend is { } backend
            ? (backend, backendKeyId, materialId)
            : throw new KmsInvalidStateException($"{_ids.KeyArn(key.KeyId)} is Unavailable: its custom key store {storeId} is {runtime.State.ToKmsName()}.");
    }

    private async Task<List<KeyRecord>> KeysInCustomKeyStoreAsync(OperationContext ctx, string customKeyStoreId, CancellationToken cancellationToken)
    {
        var found = new List<KeyRecord>();
        string? after = null;
        while (true)
        {
            var batch = await _store.ListKeysAsync(after, 100, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                return found;
            }

            after = batch[^1].KeyId;
            foreach (var key in batch)
            {
                if (key.CustomKeyStoreId == customKeyStoreId && !await PurgeIfExpiredAsync(ctx, key, cancellationToken).ConfigureAwait(false))
                {
                    found.Add(key);
                }
            }
        }
    }

    private void SetCallContext(OperationContext ctx, string? keyId) => CustomKeyStoreCallContext.Set(new XksRequestMetadata
    {
        AwsPrincipalArn = ctx.Caller.PrincipalArn,
        KmsOperation = Auditing.AuditEventNames.Of(ctx.Operation),
        KmsRequestId = ctx.RequestId,
        KmsKeyArn = keyId is null ? null : _ids.KeyArn(keyId),
    });

    // ---------------------------------------------------------------- records and validation

    private ICustomKeyStoreRecordStore RequireCustomKeyStoreRecords()
        => _store.CustomKeyStores ?? throw new KmsUnsupportedOperationException($"The key store ({_innerStore.GetType().Name}) does not keep custom key stores.");

    private async Task<CustomKeyStoreRecord> GetCustomKeyStoreAsync(string? customKeyStoreId, CancellationToken cancellationToken)
    {
        if (customKeyStoreId is null || !IsCustomKeyStoreIdShape(customKeyStoreId))
        {
            throw new KmsCustomKeyStoreNotFoundException($"'{customKeyStoreId}' is not a custom key store id (cks- and 17 hex characters).");
        }

        return await RequireCustomKeyStoreRecords().GetCustomKeyStoreAsync(customKeyStoreId, cancellationToken).ConfigureAwait(false)
            ?? throw new KmsCustomKeyStoreNotFoundException($"Custom key store {customKeyStoreId} does not exist.");
    }

    internal static bool IsCustomKeyStoreIdShape(string value)
        => value.Length == 21 && value.StartsWith("cks-", StringComparison.Ordinal) && !value.AsSpan(4).ContainsAnyExcept(LowerHex);

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private static readonly System.Buffers.SearchValues<char> Base32Upper = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    private static readonly System.Buffers.SearchValues<char> Base64Chars = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    private static CustomKeyStoreEntry ToEntry(CustomKeyStoreRecord record, CustomKeyStoreRuntime runtime) => new()
    {
        CustomKeyStoreId = record.CustomKeyStoreId,
        CustomKeyStoreName = record.CustomKeyStoreName,
        CustomKeyStoreType = record.CustomKeyStoreType,
        ConnectionState = runtime.State,
        ConnectionErrorCode = runtime.State == CustomKeyStoreConnectionState.Failed ? runtime.ErrorCode : null,
        CreationDate = record.CreationDate,
        CloudHsmClusterId = record.CloudHsmClusterId,
        TrustAnchorCertificate = record.TrustAnchorCertificate,
        XksProxyConfiguration = record.CustomKeyStoreType == CustomKeyStoreType.ExternalKeyStore
            ? new XksProxyConfiguration
            {
                Connectivity = XksProxyConnectivityNames.TryParse(record.XksProxyConnectivity, out var c) ? c : XksProxyConnectivityType.PublicEndpoint,
                AccessKeyId = record.XksProxyAccessKeyId ?? "",
                UriEndpoint = record.XksProxyUriEndpoint ?? "",
                UriPath = record.XksProxyUriPath ?? "",
                VpcEndpointServiceName = record.XksProxyVpcEndpointServiceName,
            }
            : null,
    };

    private static CustomKeyStoreConnectionContext ContextOf(CustomKeyStoreRecord record, string credential) => new()
    {
        CustomKeyStoreId = record.CustomKeyStoreId,
        CustomKeyStoreName = record.CustomKeyStoreName,
        CustomKeyStoreType = record.CustomKeyStoreType,
        CloudHsmClusterId = record.CloudHsmClusterId,
        XksProxyUriEndpoint = record.XksProxyUriEndpoint,
        XksProxyUriPath = record.XksProxyUriPath,
        XksProxyAccessKeyId = record.XksProxyAccessKeyId,
        Credential = credential,
    };

    /// <summary>
    /// The backend of a new or changed store must be registered and not used by another store; an external key store's
    /// proxy must answer <c>GetHealthStatus</c> with the credential (KMS checks the proxy when the store is created).
    /// </summary>
    private async Task RequireBackendAvailableAsync(CustomKeyStoreRecord record, IReadOnlyList<CustomKeyStoreRecord> others, string credential, CancellationToken cancellationToken)
    {
        if (record.CustomKeyStoreType == CustomKeyStoreType.AwsCloudHsm)
        {
            if (!CustomKeyStoreBackends.IsClusterRegistered(record.CloudHsmClusterId!))
            {
                throw new KmsCloudHsmClusterNotFoundException($"No HSM cluster '{record.CloudHsmClusterId}' is registered with the key manager (CustomKeyStoreBackends.AddCloudHsmCluster).");
            }

            if (others.Any(o => o.CustomKeyStoreId != record.CustomKeyStoreId && o.CloudHsmClusterId == record.CloudHsmClusterId))
            {
                throw new KmsCloudHsmClusterInUseException($"The HSM cluster '{record.CloudHsmClusterId}' is used by another custom key store.");
            }

            return;
        }

        if (!CustomKeyStoreBackends.IsProxyRegistered(record.XksProxyUriEndpoint!, record.XksProxyUriPath!))
        {
            throw new KmsXksProxyUriUnreachableException($"No external key store proxy is registered at {record.XksProxyUriEndpoint}{record.XksProxyUriPath} (CustomKeyStoreBackends.AddExternalKeyStoreProxy).");
        }

        if (others.Any(o => o.CustomKeyStoreId != record.CustomKeyStoreId && o.XksProxyUriEndpoint == record.XksProxyUriEndpoint && o.XksProxyUriPath == record.XksProxyUriPath))
        {
            throw new KmsXksProxyUriInUseException($"The proxy {record.XksProxyUriEndpoint}{record.XksProxyUriPath} is used by another external key store.");
        }

        var probe = CustomKeyStoreBackends.Create(ContextOf(record, credential))!;
        try
        {
            await probe.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (KmsCustomKeyStoreInvalidStateException e)
        {
            throw e.ConnectionErrorCode switch
            {
                CustomKeyStoreConnectionErrorCode.InvalidCredentials => new KmsXksProxyIncorrectAuthenticationCredentialException("The external key store proxy rejected the authentication credential.", e),
                CustomKeyStoreConnectionErrorCode.XksProxyNotReachable or CustomKeyStoreConnectionErrorCode.XksProxyTimedOut
                    => new KmsXksProxyUriUnreachableException($"The external key store proxy did not answer GetHealthStatus ({e.ConnectionErrorCode?.ToKmsName()}).", e),
                CustomKeyStoreConnectionErrorCode.XksProxyInvalidConfiguration or CustomKeyStoreConnectionErrorCode.XksProxyAccessDenied
                    => new KmsXksProxyInvalidConfigurationException($"The external key store proxy's configuration does not let KMS in ({e.ConnectionErrorCode?.ToKmsName()}).", e),
                _ => new KmsXksProxyInvalidResponseException($"The external key store proxy's GetHealthStatus answer is not usable ({e.ConnectionErrorCode?.ToKmsName()}).", e),
            };
        }
        finally
        {
            await probe.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static byte[] CredentialAssociatedData(string customKeyStoreId) => Encoding.UTF8.GetBytes($"EnvelopeKms custom key store credential v1\n{customKeyStoreId}");

    private static byte[] WrapCredential(RootKey rootKey, string customKeyStoreId, string credential)
    {
        var bytes = Encoding.UTF8.GetBytes(credential);
        try
        {
            return rootKey.Wrap(bytes, CredentialAssociatedData(customKeyStoreId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static string UnwrapCredential(RootKey rootKey, CustomKeyStoreRecord record)
    {
        var wrapped = record.WrappedCredential ?? throw new KmsStorageIntegrityException($"The record of custom key store {record.CustomKeyStoreId} has no credential.");
        var bytes = new byte[rootKey.GetUnwrappedLength(wrapped)];
        try
        {
            rootKey.Unwrap(wrapped, CredentialAssociatedData(record.CustomKeyStoreId), bytes);
            return Encoding.UTF8.GetString(bytes);
        }
        catch (CryptographicException e)
        {
            throw new KmsStorageIntegrityException($"The credential of custom key store {record.CustomKeyStoreId} does not unwrap under the root key.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static string ErrorSuffix(CustomKeyStoreConnectionErrorCode? code) => code is { } c ? $" ({c.ToKmsName()})" : "";

    private static string ValidateCustomKeyStoreName(string? name, string parameter)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 256)
        {
            throw new KmsValidationException($"{parameter} must have 1–256 characters.");
        }

        return name;
    }

    private static void RequireText(string? value, string parameter)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 256)
        {
            throw new KmsValidationException($"{parameter} is required (1–256 characters).");
        }
    }

    private static void RequireAbsent(string? endpoint, string? path, XksProxyConnectivityType? connectivity, string? service, XksProxyAuthenticationCredential? credential, string what)
    {
        if (endpoint is not null || path is not null || connectivity is not null || service is not null || credential is not null)
        {
            throw new KmsValidationException($"The XksProxy* parameters are for EXTERNAL_KEY_STORE key stores, not {what}.");
        }
    }

    private static string ValidatePassword(string password)
    {
        if (password.Length is < 7 or > 32)
        {
            // Never the password itself, nor its length.
            throw new KmsValidationException("KeyStorePassword must have 7–32 characters.");
        }

        return password;
    }

    private static void ValidateXksProxy(string? endpoint, string? path, XksProxyConnectivityType connectivity, string? serviceName)
    {
        if (endpoint is null || endpoint.Length > 128 || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
            || uri.AbsolutePath is not ("/" or "") || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new KmsValidationException("XksProxyUriEndpoint must be https:// and a host name, with an optional port, and nothing else.");
        }

        if (path is null || path.Length > 128 || !path.StartsWith('/') || !path.EndsWith(XksUriPathSuffix, StringComparison.Ordinal))
        {
            throw new KmsValidationException($"XksProxyUriPath must end with {XksUriPathSuffix} (an optional prefix before it starts with '/').");
        }

        if (!Enum.IsDefined(connectivity))
        {
            throw new KmsValidationException("XksProxyConnectivity must be PUBLIC_ENDPOINT or VPC_ENDPOINT_SERVICE.");
        }

        if ((connectivity == XksProxyConnectivityType.VpcEndpointService) != !string.IsNullOrEmpty(serviceName))
        {
            throw new KmsValidationException("XksProxyVpcEndpointServiceName is required with VPC_ENDPOINT_SERVICE connectivity, and only then.");
        }
    }

    private static string ValidateXksCredential(XksProxyAuthenticationCredential credential)
    {
        if (credential.AccessKeyId is null || credential.AccessKeyId.Length is < 20 or > 30 || credential.AccessKeyId.AsSpan().ContainsAnyExcept(Base32Upper))
        {
            throw new KmsValidationException("XksProxyAuthenticationCredential.AccessKeyId must have 20–30 characters of A-Z and 2-7.");
        }

        if (credential.RawSecretAccessKey is null || credential.RawSecretAccessKey.Length is < 43 or > 64
            || credential.RawSecretAccessKey.AsSpan().ContainsAnyExcept(Base64Chars))
        {
            throw new KmsValidationException("XksProxyAuthenticationCredential.RawSecretAccessKey must have 43–64 characters of A-Z, a-z, 0-9, +, / and =.");
        }

        return credential.RawSecretAccessKey;
    }
}
