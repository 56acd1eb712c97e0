using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Cryptography;
using EnvelopeKms.Import;
using EnvelopeKms.Internal;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

// Imported key material (origin EXTERNAL, "bring your own key"): GetParametersForImport,
// ImportKeyMaterial, DeleteImportedKeyMaterial, and the expiry of material whose ValidTo passed
// (applied before the key's next use, or by ExpireImportedKeyMaterialAsync). See docs/import.md.
public sealed partial class KeyManager
{
    /// <summary>The furthest <c>ValidTo</c> may be from the request (KMS: 365 days).</summary>
    internal static readonly TimeSpan MaxImportValidity = TimeSpan.FromDays(365);

    private static readonly byte[] MaterialIdLabel = "EnvelopeKms imported key material id v1"u8.ToArray();

    /// <inheritdoc />
    public Task<GetParametersForImportResponse> GetParametersForImportAsync(GetParametersForImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.GetParametersForImport, request, async ctx =>
        {
            if (!Enum.IsDefined(request.WrappingAlgorithm))
            {
                throw new KmsValidationException("WrappingAlgorithm must be RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256.");
            }

            if (!Enum.IsDefined(request.WrappingKeySpec))
            {
                throw new KmsValidationException("WrappingKeySpec must be RSA_2048, RSA_3072 or RSA_4096.");
            }

            var key = await UseKeyAsync(ctx, KmsOperation.GetParametersForImport, request.KeyId, nameof(request.KeyId), allowAlias: false, cancellationToken).ConfigureAwait(false);
            RequireImportable(key);
            ImportedMaterial.CheckWrapping(key.KeySpec, request.WrappingAlgorithm, request.WrappingKeySpec);
            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            var bits = request.WrappingKeySpec switch
            {
                WrappingKeySpec.Rsa2048 => 2048,
                WrappingKeySpec.Rsa3072 => 3072,
                _ => 4096,
            };
            var (pkcs8, spki) = RsaOaep.GenerateKeyPair(bits);
            try
            {
                var validTo = _time.GetUtcNow() + ImportTokens.Lifetime;
                validTo = DateTimeOffset.FromUnixTimeSeconds(validTo.ToUnixTimeSeconds()); // The token holds whole seconds.
                var token = ImportTokens.Issue(rootKey, key.KeyId, validTo, request.WrappingKeySpec, request.WrappingAlgorithm, pkcs8);
                return new GetParametersForImportResponse
                {
                    KeyId = _ids.KeyArn(key.KeyId),
                    ImportToken = token,
                    PublicKey = spki,
                    ParametersValidTo = validTo,
                };
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        });
    }

    /// <inheritdoc />
    public Task<ImportKeyMaterialResponse> ImportKeyMaterialAsync(ImportKeyMaterialRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.ImportKeyMaterial, request, async ctx =>
        {
            // Every parameter is checked before any cryptography.
            if (request.ImportToken is not { Length: > 0 and <= ImportTokens.MaxTokenLength })
            {
                throw new KmsValidationException($"ImportToken must have 1 to {ImportTokens.MaxTokenLength} bytes.");
            }

            if (request.EncryptedKeyMaterial is not { Length: > 0 and <= 6144 })
            {
                throw new KmsValidationException("EncryptedKeyMaterial must have 1 to 6144 bytes.");
            }

            var model = request.ExpirationModel ?? ExpirationModel.KeyMaterialExpires;
            if (!Enum.IsDefined(model))
            {
                throw new KmsValidationException("ExpirationModel must be KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE.");
            }

            var now = _time.GetUtcNow();
            if (model == ExpirationModel.KeyMaterialExpires)
            {
                if (request.ValidTo is not { } validTo)
                {
                    throw new KmsValidationException("ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES.");
                }

                if (validTo <= now || validTo > now + MaxImportValidity)
                {
                    throw new KmsValidationException("ValidTo must be a future date and time at most 365 days from the request date.");
                }
            }
            else if (request.ValidTo is not null)
            {
                throw new KmsValidationException("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.");
            }

            if (request.ImportType is { } type && !Enum.IsDefined(type))
            {
                throw new KmsValidationException("ImportType must be NEW_KEY_MATERIAL or EXISTING_KEY_MATERIAL.");
            }

            if (request.KeyMaterialDescription is { Length: > 256 })
            {
                throw new KmsValidationException("KeyMaterialDescription must have at most 256 characters.");
            }

            if (request.KeyMaterialDescription is { } text && !IsKeyMaterialDescription(text))
            {
                throw new KmsValidationException("KeyMaterialDescription may contain only letters, digits, white space and the characters : / _ . -");
            }

            if (request.KeyMaterialId is { } givenId)
            {
                if (!Identifiers.IsKeyMaterialId(givenId))
                {
                    throw new KmsValidationException("KeyMaterialId must be 64 lowercase hexadecimal characters.");
                }

                if (request.ImportType == ImportType.NewKeyMaterial)
                {
                    throw new KmsValidationException("KeyMaterialId cannot be given with ImportType NEW_KEY_MATERIAL.");
                }
            }

            var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
            string? importedId = null;
            var stored = await MutateKeyAsync(ctx, KmsOperation.ImportKeyMaterial, request.KeyId, key =>
            {
                var (changed, materialId) = ApplyImport(rootKey, key, request, model, now);
                importedId = materialId;
                ctx.KeyMaterialId = materialId;
                return changed;
            }, cancellationToken).ConfigureAwait(false);
            EvictMaterial(stored.KeyId, importedId!);
            OnKeyChanged(stored.KeyId, aliasName: null, KmsOperation.ImportKeyMaterial);
            return new ImportKeyMaterialResponse { KeyId = _ids.KeyArn(stored.KeyId), KeyMaterialId = importedId! };
        });
    }

    /// <inheritdoc />
    public Task<DeleteImportedKeyMaterialResponse> DeleteImportedKeyMaterialAsync(DeleteImportedKeyMaterialRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RunAsync(KmsOperation.DeleteImportedKeyMaterial, request, async ctx =>
        {
            if (request.KeyMaterialId is { } given && !Identifiers.IsKeyMaterialId(given))
            {
                throw new KmsValidationException("KeyMaterialId must be 64 lowercase hexadecimal characters.");
            }

            string? deletedId = null;
            var stored = await MutateKeyAsync(ctx, KmsOperation.DeleteImportedKeyMaterial, request.KeyId, key =>
            {
                RequireImportable(key);
                var materialId = request.KeyMaterialId ?? key.CurrentKeyMaterialId
                    ?? throw new KmsInvalidStateException($"{_ids.KeyArn(key.KeyId)} has no imported key material to delete.");
                if (!key.KeyMaterials.Any(m => m.KeyMaterialId == materialId))
                {
                    throw new KmsNotFoundException($"Key material '{materialId}' is not a key material of {_ids.KeyArn(key.KeyId)}.");
                }

                deletedId = materialId;
                ctx.KeyMaterialId = materialId;
                return WithoutMaterial(key, m => m.KeyMaterialId == materialId);
            }, cancellationToken).ConfigureAwait(false);
            EvictMaterial(stored.KeyId, deletedId!);
            OnKeyChanged(stored.KeyId, aliasName: null, KmsOperation.DeleteImportedKeyMaterial);
            return new DeleteImportedKeyMaterialResponse { KeyId = _ids.KeyArn(stored.KeyId), KeyMaterialId = deletedId! };
        });
    }

    /// <inheritdoc />
    public async Task<int> ExpireImportedKeyMaterialAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var expired = 0;
        string? after = null;
        var caller = _callerProvider.GetCurrentCaller();
        while (true)
        {
            var batch = await _store.ListKeysAsync(after, 100, cancellationToken).ConfigureAwait(false);
            if (batch.Count == 0)
            {
                break;
            }

            after = batch[^1].KeyId;
            foreach (var listed in batch)
            {
                if (listed.Origin == KeyOrigin.External)
                {
                    await WarnOfExpiringMaterialAsync(listed, cancellationToken).ConfigureAwait(false);
                }

                // ExpireImportedMaterialIfDueAsync acts only on an authentic record.
                if (listed.Origin == KeyOrigin.External && HasExpiredMaterial(listed))
                {
                    var ctx = new OperationContext(KmsOperation.DeleteExpiredKeyMaterial, caller, NewRequestId()) { KeyId = listed.KeyId };
                    var current = await ExpireImportedMaterialIfDueAsync(ctx, listed, cancellationToken).ConfigureAwait(false);
                    if (!HasExpiredMaterial(current))
                    {
                        expired++;
                    }
                }
            }
        }

        return expired;
    }

    /// <summary>How long before its <c>ValidTo</c> imported material is announced as expiring.</summary>
    internal static readonly TimeSpan ImportedMaterialExpiryWarning = TimeSpan.FromDays(7);

    /// <summary>The imported materials (key, material, ValidTo) this instance has announced as expiring.</summary>
    private readonly ConcurrentDictionary<(string KeyId, string MaterialId, DateTimeOffset ValidTo), byte> _expiryWarnings = new();

    /// <summary>Raises <see cref="Telemetry.KeyLifecycleEventType.ImportedMaterialExpiring"/> once per material that expires within the warning window, from the verified record.</summary>
    private async Task WarnOfExpiringMaterialAsync(KeyRecord listed, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (!listed.KeyMaterials.Any(m => m.Imported && m.ValidTo is { } v && v > now && v - now <= ImportedMaterialExpiryWarning))
        {
            return;
        }

        // Listings are not verified: announce only what the verified record says.
        if (await _store.GetKeyAsync(listed.KeyId, cancellationToken).ConfigureAwait(false) is not { } key)
        {
            return;
        }

        foreach (var material in key.KeyMaterials)
        {
            if (material.Imported && material.ValidTo is { } validTo && validTo > now && validTo - now <= ImportedMaterialExpiryWarning
                && _expiryWarnings.TryAdd((key.KeyId, material.KeyMaterialId, validTo), 0))
            {
                _lifecycleEvents.Publish(new Telemetry.KeyLifecycleEvent
                {
                    Type = Telemetry.KeyLifecycleEventType.ImportedMaterialExpiring,
                    KeyId = key.KeyId,
                    KeyArn = _ids.KeyArn(key.KeyId),
                    Time = now,
                    RequestId = NewRequestId(),
                    KeyMaterialId = material.KeyMaterialId,
                    ValidTo = validTo,
                });
            }
        }
    }

    /// <summary>
    /// Deletes imported material whose <c>ValidTo</c> passed (a service event, audited as
    /// <c>DeleteExpiredKeyMaterial</c>); the key becomes <see cref="KeyState.PendingImport"/> when its
    /// current material expired. Returns the key as it is now.
    /// </summary>
    private async Task<KeyRecord> ExpireImportedMaterialIfDueAsync(OperationContext requestContext, KeyRecord key, CancellationToken cancellationToken)
    {
        if (key.Origin != KeyOrigin.External || !HasExpiredMaterial(key) || !_store.IsAuthentic(key))
        {
            return key;
        }

        var ctx = new OperationContext(KmsOperation.DeleteExpiredKeyMaterial, requestContext.Caller, NewRequestId())
        {
            KeyId = key.KeyId,
            KeyMaterialId = key.CurrentKeyMaterialId,
            AuthorizationSummary = "Deletion of imported key material whose ValidTo passed.",
        };
        using var telemetry = StartTelemetry(ctx);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var now = _time.GetUtcNow();
                var expiredIds = key.KeyMaterials.Where(m => IsExpired(m, now)).Select(m => m.KeyMaterialId).ToList();
                var changed = WithoutMaterial(key, m => IsExpired(m, now));
                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                try
                {
                    var stored = await _store.UpdateKeyAsync(changed, CancellationToken.None).ConfigureAwait(false);
                    foreach (var id in expiredIds)
                    {
                        EvictMaterial(key.KeyId, id);
                    }

                    OnKeyChanged(key.KeyId, aliasName: null, KmsOperation.DeleteExpiredKeyMaterial);
                    CompleteInternalStep(telemetry, ctx, key, Telemetry.KeyLifecycleEventType.ImportedMaterialExpired);
                    return stored;
                }
                catch (KeyStoreConflictException e) when (attempt < _maxRetries)
                {
                    _ = e;
                    var current = await _store.GetKeyAsync(key.KeyId, CancellationToken.None).ConfigureAwait(false)
                        ?? throw new KmsNotFoundException($"Key '{_ids.KeyArn(key.KeyId)}' does not exist.");
                    if (!HasExpiredMaterial(current))
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

    private bool HasExpiredMaterial(KeyRecord key)
    {
        var now = _time.GetUtcNow();
        return key.KeyMaterials.Any(m => IsExpired(m, now));
    }

    private static bool IsExpired(KeyMaterialRecord material, DateTimeOffset now)
        => material.Imported && material.ValidTo is { } validTo && validTo <= now && material.WrappedMaterial.Length > 0;

    /// <summary>
    /// The key with the selected materials' wrapped bytes removed (their ids stay, for a re-import);
    /// PendingImport when the current one went. Material pending rotation goes entirely: it is not yet
    /// associated with the key, so different material can be imported in its place.
    /// </summary>
    private static KeyRecord WithoutMaterial(KeyRecord key, Func<KeyMaterialRecord, bool> selected)
    {
        var materials = key.KeyMaterials
            .Where(m => !(selected(m) && IsPendingRotation(key, m)))
            .Select(m => selected(m) ? m with { WrappedMaterial = [], ValidTo = null } : m).ToList();
        var current = materials.FirstOrDefault(m => m.KeyMaterialId == key.CurrentKeyMaterialId);
        var state = current is null || current.WrappedMaterial.Length == 0 ? KeyState.PendingImport : key.KeyState;
        return key with { KeyMaterials = materials, KeyState = key.KeyState == KeyState.PendingDeletion ? key.KeyState : state };
    }

    private void EvictMaterial(string keyId, string materialId)
    {
        if (_materials.TryRemove((keyId, materialId), out var cached))
        {
            CryptographicOperations.ZeroMemory(cached);
        }

        _budgets.TryRemove((keyId, materialId), out _);
    }

    /// <summary>Only EXTERNAL keys take imported material: symmetric encryption, HMAC, and asymmetric keys of a KMS key spec.</summary>
    private void RequireImportable(KeyRecord key)
    {
        if (key.Origin != KeyOrigin.External)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} has origin {key.Origin.ToKmsName()}; key material can be imported only into keys of origin EXTERNAL.");
        }

        if (key.KeySpec != KeySpec.SymmetricDefault && !KeySpecs.IsHmac(key.KeySpec) && !ImportedMaterial.IsImportableAsymmetric(key.KeySpec))
        {
            throw new KmsUnsupportedOperationException($"Importing {key.KeySpec.ToKmsName()} key material is not supported: it is not an AWS KMS key spec.");
        }
    }

    /// <summary>Checks the token, unwraps the material and returns the key with it (not yet stored).</summary>
    private (KeyRecord Key, string MaterialId) ApplyImport(Protection.RootKey rootKey, KeyRecord key, ImportKeyMaterialRequest request, ExpirationModel model, DateTimeOffset now)
    {
        RequireImportable(key);
        var token = ImportTokens.Open(rootKey, request.ImportToken);
        try
        {
            if (!string.Equals(token.KeyId, key.KeyId, StringComparison.Ordinal))
            {
                throw new KmsInvalidImportTokenException($"ImportToken was issued for another key, not {_ids.KeyArn(key.KeyId)}.");
            }

            if (token.ValidTo <= now)
            {
                throw new KmsExpiredImportTokenException("ImportToken has expired; call GetParametersForImport for new parameters.");
            }

            var used = (key.UsedImportTokens ?? []).Where(t => t.ValidTo > now).ToList();
            if (used.Any(t => string.Equals(t.TokenId, token.TokenId, StringComparison.Ordinal)))
            {
                throw new KmsInvalidImportTokenException("ImportToken was already used; call GetParametersForImport for new parameters.");
            }

            ImportedMaterial.CheckWrapping(key.KeySpec, token.Algorithm, token.WrappingKeySpec);
            var hasMaterial = key.KeyMaterials.Count > 0;
            var type = request.ImportType ?? (hasMaterial ? ImportType.ExistingKeyMaterial : ImportType.NewKeyMaterial);
            if (type == ImportType.NewKeyMaterial && hasMaterial)
            {
                RequireNewMaterialAllowed(key);
            }

            if (type == ImportType.ExistingKeyMaterial && !hasMaterial)
            {
                throw new KmsValidationException($"ImportType is EXISTING_KEY_MATERIAL but {_ids.KeyArn(key.KeyId)} never had key material.");
            }

            var unwrapped = UnwrapImportedMaterial(token, request.EncryptedKeyMaterial);
            byte[] material;
            try
            {
                // Checked against the key spec (an asymmetric key re-encoded canonically) before anything is stored.
                material = ImportedMaterial.Accept(key.KeySpec, unwrapped);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(unwrapped);
            }

            try
            {
                var computedId = ImportedMaterialId(key.KeyId, material);
                string materialId;
                List<KeyMaterialRecord> materials;
                if (type == ImportType.ExistingKeyMaterial)
                {
                    var expectedId = request.KeyMaterialId ?? key.CurrentKeyMaterialId!;
                    if (!key.KeyMaterials.Any(m => m.KeyMaterialId == expectedId))
                    {
                        throw new KmsNotFoundException($"Key material '{expectedId}' is not a key material of {_ids.KeyArn(key.KeyId)}.");
                    }

                    if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computedId), Encoding.ASCII.GetBytes(expectedId)))
                    {
                        throw new KmsIncorrectKeyMaterialException($"The key material is not the material {expectedId} that {_ids.KeyArn(key.KeyId)} had.");
                    }

                    materialId = expectedId;
                    materials = [.. key.KeyMaterials.Select(m => m.KeyMaterialId == materialId ? Imported(m, key, material, request, model) : m)];
                }
                else
                {
                    if (key.KeyMaterials.Any(m => m.KeyMaterialId == computedId))
                    {
                        throw new KmsValidationException($"The key material is already key material {computedId} of {_ids.KeyArn(key.KeyId)}; re-import it with ImportType EXISTING_KEY_MATERIAL.");
                    }

                    // A key's first material becomes current; a later one waits (PENDING_ROTATION) for RotateKeyOnDemand.
                    materialId = computedId;
                    var fresh = new KeyMaterialRecord { KeyMaterialId = materialId, CreationDate = now, WrappedMaterial = [] };
                    materials = [.. key.KeyMaterials, Imported(fresh, key, material, request, model)];
                }

                used.Add(new UsedImportToken { TokenId = token.TokenId, ValidTo = token.ValidTo });
                var state = key.KeyState == KeyState.PendingImport && materialId == (key.CurrentKeyMaterialId ?? materialId) ? KeyState.Enabled : key.KeyState;
                var changed = key with
                {
                    KeyMaterials = materials,
                    CurrentKeyMaterialId = key.CurrentKeyMaterialId ?? materialId,
                    KeyState = state,
                    UsedImportTokens = used,
                };
                return (changed, materialId);

                KeyMaterialRecord Imported(KeyMaterialRecord record, KeyRecord owner, byte[] plaintext, ImportKeyMaterialRequest r, ExpirationModel m) => record with
                {
                    WrappedMaterial = rootKey.Wrap(plaintext, WrapAssociatedData(owner, record.KeyMaterialId)),
                    ValidTo = m == ExpirationModel.KeyMaterialExpires ? r.ValidTo : null,
                    Description = r.KeyMaterialDescription ?? record.Description,
                    Imported = true,
                };
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(token.PrivateKeyPkcs8);
        }
    }

    /// <summary>Unwraps material wrapped to a token's public key with its algorithm; every failure is <see cref="KmsInvalidCiphertextException"/>.</summary>
    internal static byte[] UnwrapImportedMaterial(ImportTokenContents token, byte[] encrypted)
    {
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(token.PrivateKeyPkcs8, out _);
        var oaep = token.Algorithm is ImportWrappingAlgorithm.RsaesOaepSha1 or ImportWrappingAlgorithm.RsaAesKeyWrapSha1 ? RsaOaepAlgorithm.Sha1 : RsaOaepAlgorithm.Sha256;
        if (token.Algorithm is ImportWrappingAlgorithm.RsaesOaepSha1 or ImportWrappingAlgorithm.RsaesOaepSha256)
        {
            return RsaOaep.Decrypt(rsa, encrypted, oaep);
        }

        var modulusLength = (rsa.KeySize + 7) / 8;
        if (encrypted.Length <= modulusLength)
        {
            throw new KmsInvalidCiphertextException("The encrypted key material is too short for RSA_AES_KEY_WRAP: it must be the RSA-OAEP ciphertext of an AES key followed by the wrapped material.");
        }

        var aesKey = RsaOaep.Decrypt(rsa, encrypted.AsSpan(0, modulusLength), oaep);
        try
        {
            if (aesKey.Length != 32)
            {
                throw new KmsInvalidCiphertextException("The ephemeral key of RSA_AES_KEY_WRAP must be a 256-bit AES key.");
            }

            return AesKeyWrapPad.Unwrap(aesKey, encrypted.AsSpan(modulusLength));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(aesKey);
        }
    }

    /// <summary>
    /// The id of imported material, derived from the key id and the material as KMS does: HMAC-SHA256 keyed
    /// with the material over a label and the key id. It doubles as the check that a re-import brings the
    /// same material (a keyed digest: it reveals nothing about the material).
    /// </summary>
    internal static string ImportedMaterialId(string keyId, ReadOnlySpan<byte> material)
        => Convert.ToHexStringLower(HMACSHA256.HashData(material, [.. MaterialIdLabel, .. Encoding.ASCII.GetBytes(keyId)]));

    // ---------------------------------------------------------------- several materials, on-demand rotation

    /// <summary>
    /// Whether <paramref name="material"/> was imported with NEW_KEY_MATERIAL into a key that already had
    /// material and waits for <c>RotateKeyOnDemand</c> (<c>PENDING_ROTATION</c>): imported, never current
    /// (no rotation type) and not the key's first material.
    /// </summary>
    internal static bool IsPendingRotation(KeyRecord key, KeyMaterialRecord material)
        => material.Imported && material.RotationType is null && material.KeyMaterialId != key.CurrentKeyMaterialId
            && key.KeyMaterials.Count > 0 && key.KeyMaterials[0].KeyMaterialId != material.KeyMaterialId;

    /// <summary>Whether imported material's bytes are in the store (<c>IMPORTED</c>) or expired or were deleted (<c>PENDING_IMPORT</c>).</summary>
    internal static ImportState ImportStateOf(KeyMaterialRecord material)
        => material.WrappedMaterial.Length > 0 ? ImportState.Imported : ImportState.PendingImport;

    /// <summary>The expiration model of imported material that is in the store, or <see langword="null"/> when it is not.</summary>
    internal static ExpirationModel? ExpirationModelOf(KeyMaterialRecord material)
        => !material.Imported || material.WrappedMaterial.Length == 0 ? null
            : material.ValidTo is null ? ExpirationModel.KeyMaterialDoesNotExpire : ExpirationModel.KeyMaterialExpires;

    /// <summary>New material for a key that has material: symmetric encryption keys only, one pending material at a time.</summary>
    private void RequireNewMaterialAllowed(KeyRecord key)
    {
        if (key.KeySpec != KeySpec.SymmetricDefault)
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} already has key material, and only symmetric encryption keys (SYMMETRIC_DEFAULT) take new imported material (for on-demand rotation). Re-import the same material with EXISTING_KEY_MATERIAL.");
        }

        if (key.KeyMaterials.FirstOrDefault(m => IsPendingRotation(key, m)) is { } pending)
        {
            throw new KmsValidationException($"Key material {pending.KeyMaterialId} of {_ids.KeyArn(key.KeyId)} is already pending rotation; rotate the key on demand, or delete that material, before importing new material.");
        }
    }

    /// <summary>KMS's pattern for <c>KeyMaterialDescription</c>: <c>^[a-zA-Z0-9:/_\s.-]+$</c> (an empty description is allowed too).</summary>
    private static bool IsKeyMaterialDescription(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || char.IsWhiteSpace(c) || c is ':' or '/' or '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// On-demand rotation of an EXTERNAL symmetric key: the material pending rotation (imported with
    /// NEW_KEY_MATERIAL) becomes current; the previous one stays to decrypt. Nothing is generated.
    /// </summary>
    /// <exception cref="KeyStoreConflictException">The key changed since it was read.</exception>
    private async Task<KeyRecord> RotateImportedMaterialAsync(OperationContext ctx, KeyRecord key, CancellationToken cancellationToken)
    {
        var pending = key.KeyMaterials.FirstOrDefault(m => IsPendingRotation(key, m) && m.WrappedMaterial.Length > 0)
            ?? throw new KmsValidationException($"{_ids.KeyArn(key.KeyId)} has no imported key material pending rotation; import new key material with ImportType NEW_KEY_MATERIAL first.");
        var onDemand = key.KeyMaterials.Count(m => m.RotationType == KeyRotationType.OnDemand);
        if (onDemand >= MaxOnDemandRotations)
        {
            throw new KmsLimitExceededException($"{_ids.KeyArn(key.KeyId)} has been rotated on demand {onDemand} times, the most a key allows.");
        }

        // The rotation date of the material is when it became current.
        var now = _time.GetUtcNow();
        var rotated = key with
        {
            CurrentKeyMaterialId = pending.KeyMaterialId,
            KeyMaterials = [.. key.KeyMaterials.Select(m => m.KeyMaterialId == pending.KeyMaterialId ? m with { RotationType = KeyRotationType.OnDemand, CreationDate = now } : m)],
        };
        ctx.KeyMaterialId = pending.KeyMaterialId;
        await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
        KeyRecord result;
        try
        {
            result = await _store.UpdateKeyAsync(rotated, CancellationToken.None).ConfigureAwait(false);
        }
        catch (KeyStoreConflictException)
        {
            ctx.AuditWritten = false; // Nothing was stored: a retry writes its own audit record.
            throw;
        }

        Log.RotatedKey(_logger, key.KeyId, pending.KeyMaterialId, KeyRotationType.OnDemand.ToKmsName());
        return result;
    }
}
