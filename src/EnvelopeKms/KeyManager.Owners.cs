using EnvelopeKms.KeyManagement;
using EnvelopeKms.Storage;

namespace EnvelopeKms;

// The three kinds of key owner: customer-managed keys (everything CreateKey makes), managed keys that
// integrations create on first use under alias/managed/<service>, and owned keys that EnvelopeKms uses
// itself and never shows. See docs/rotation.md ("Key owners").
public sealed partial class KeyManager
{
    /// <summary>The operations a managed key's owner forbids to everyone (as AWS KMS forbids them on AWS managed keys).</summary>
    private static readonly HashSet<KmsOperation> ForbiddenOnManagedKeys =
    [
        KmsOperation.UpdateKeyDescription, KmsOperation.EnableKey, KmsOperation.DisableKey,
        KmsOperation.ScheduleKeyDeletion, KmsOperation.CancelKeyDeletion, KmsOperation.TagResource,
        KmsOperation.UntagResource, KmsOperation.CreateAlias, KmsOperation.UpdateAlias,
        KmsOperation.EnableKeyRotation, KmsOperation.DisableKeyRotation, KmsOperation.RotateKeyOnDemand,
        KmsOperation.PutKeyPolicy,
    ];

    /// <summary>
    /// Returns the managed key of an integration, creating it on first use: a symmetric encryption key
    /// under the alias <c>alias/managed/&lt;service&gt;</c>, shown with <c>KeyManager</c> <c>AWS</c>. It
    /// rotates every year (not configurable) and cannot be disabled, deleted, described anew, tagged,
    /// aliased or have its rotation changed. Every instance sharing a store gets the same key.
    /// </summary>
    /// <param name="service">The integration's name: 1–200 characters of <c>a-zA-Z0-9/_-</c>, such as <c>datastore</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public Task<KeyMetadata> GetOrCreateManagedKeyAsync(string service, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        return RunAsync(KmsOperation.CreateKey, new CreateKeyRequest(), async ctx =>
        {
            if (service.Length is 0 or > 200 || !service.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '_' or '-'))
            {
                throw new KmsValidationException($"The managed-key service name must be 1–200 characters of a-z, A-Z, 0-9, '/', '_' and '-'; it is '{service}'.");
            }

            var aliasName = InputValidation.ManagedAliasPrefix + service;
            ctx.AliasName = aliasName;
            var key = await GetOrCreateLibraryKeyAsync(ctx, $"EnvelopeKms managed key\n{_ids.AccountId}\n{service}", KeyManagerType.Aws, $"Managed key of '{service}': created by EnvelopeKms when the integration first needed it; it rotates every year.", cancellationToken).ConfigureAwait(false);
            if (await _store.GetAliasAsync(aliasName, cancellationToken).ConfigureAwait(false) is null)
            {
                var now = _time.GetUtcNow();
                await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
                try
                {
                    await _store.InsertAliasAsync(new AliasRecord { AliasName = aliasName, TargetKeyId = key.KeyId, CreationDate = now, LastUpdatedDate = now }, CancellationToken.None).ConfigureAwait(false);
                }
                catch (KeyStoreConflictException e)
                {
                    _ = e; // Another instance created the alias first; the key id is the same.
                }
            }

            return ToMetadata(key);
        });
    }

    /// <summary>
    /// Returns the id of an owned key, creating it on first use: a symmetric encryption key that
    /// EnvelopeKms components use for their own data. No public operation can find it and
    /// <c>ListKeys</c> never lists it; it rotates every year.
    /// </summary>
    internal Task<string> GetOrCreateOwnedKeyAsync(string purpose, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        return RunAsync(KmsOperation.CreateKey, new CreateKeyRequest(), async ctx =>
        {
            ctx.IsInternal = true;
            var key = await GetOrCreateLibraryKeyAsync(ctx, OwnedKeyLabel(purpose), KeyManagerType.Owned, $"Owned key of EnvelopeKms for '{purpose}'.", cancellationToken).ConfigureAwait(false);
            return key.KeyId;
        });
    }

    /// <summary>Encrypts with an owned key (audited like <c>Encrypt</c>; the customer's authorizer is not asked: the library acts for itself).</summary>
    internal Task<byte[]> EncryptWithOwnedKeyAsync(string purpose, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? encryptionContext, CancellationToken cancellationToken = default)
        => RunAsync(KmsOperation.Encrypt, new CreateKeyRequest(), async ctx =>
        {
            ctx.IsInternal = true;
            ctx.EncryptionContext = encryptionContext;
            var context = EncryptionContextEncoding.Encode(encryptionContext);
            var key = await UseKeyAsync(ctx, KmsOperation.Encrypt, Identifiers.DerivedKeyId(OwnedKeyLabel(purpose)), "KeyId", allowAlias: false, cancellationToken).ConfigureAwait(false);
            var (blob, _) = await EncryptCoreAsync(ctx, key, plaintext, context, cancellationToken).ConfigureAwait(false);
            return blob;
        });

    /// <summary>Decrypts what <see cref="EncryptWithOwnedKeyAsync"/> encrypted for the same purpose.</summary>
    internal Task<byte[]> DecryptWithOwnedKeyAsync(string purpose, ReadOnlyMemory<byte> ciphertext, IReadOnlyDictionary<string, string>? encryptionContext, CancellationToken cancellationToken = default)
        => RunAsync(KmsOperation.Decrypt, new CreateKeyRequest(), async ctx =>
        {
            ctx.IsInternal = true;
            ctx.EncryptionContext = encryptionContext;
            var (_, plaintext) = await DecryptCoreAsync(ctx, KmsOperation.Decrypt, ciphertext, encryptionContext, Identifiers.DerivedKeyId(OwnedKeyLabel(purpose)), "KeyId", EncryptionAlgorithm.SymmetricDefault, cancellationToken).ConfigureAwait(false);
            return plaintext;
        });

    private string OwnedKeyLabel(string purpose) => $"EnvelopeKms owned key\n{_ids.AccountId}\n{purpose}";

    /// <summary>Reads or inserts the key with the id derived from <paramref name="label"/>; concurrent creators converge on one key.</summary>
    private async Task<KeyRecord> GetOrCreateLibraryKeyAsync(OperationContext ctx, string label, KeyManagerType owner, string description, CancellationToken cancellationToken)
    {
        var keyId = Identifiers.DerivedKeyId(label);
        ctx.KeyId = keyId;
        if (await _store.GetKeyAsync(keyId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing.KeyManager == owner
                ? await ApplyDueRotationAsync(ctx, existing, cancellationToken).ConfigureAwait(false)
                : throw new KmsStorageIntegrityException($"Key '{keyId}' should be a {owner} key of EnvelopeKms but its record says {existing.KeyManager}; it was left in place.");
        }

        if (!ctx.IsInternal)
        {
            await AuthorizeAsync(ctx, KmsOperation.CreateKey, key: null, cancellationToken).ConfigureAwait(false);
        }

        var rootKey = await GetRootKeyAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var record = new KeyRecord
        {
            KeyId = keyId,
            AccountId = _ids.AccountId,
            CreationDate = now,
            Description = description,
            KeyState = KeyState.Enabled,
            KeySpec = KeySpec.SymmetricDefault,
            KeyUsage = KeyUsage.EncryptDecrypt,
            Origin = KeyOrigin.AwsKms,
            KeyManager = owner,
            RotationPeriodInDays = DefaultRotationPeriodInDays,
            NextRotationDate = now.AddDays(DefaultRotationPeriodInDays),
        };
        var material = NewKeyMaterial(rootKey, record, now, type: null);
        var materialId = material.KeyMaterialId;
        record = record with { CurrentKeyMaterialId = materialId, KeyMaterials = [material] };

        try
        {
            ctx.KeyMaterialId = materialId;
            await CommitPointAsync(ctx, cancellationToken).ConfigureAwait(false);
            return await _store.InsertKeyAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
        catch (KeyStoreConflictException e)
        {
            _ = e; // Created by another instance at the same time: use that one.
            return await _store.GetKeyAsync(keyId, cancellationToken).ConfigureAwait(false)
                ?? throw new KmsConflictException("The key was created and removed while the request ran; retry the request.");
        }
    }

    /// <summary>Refuses what a key's owner forbids. Runs after authorization and the state check.</summary>
    private void RequireOwnerAllows(KeyRecord key, KmsOperation operation)
    {
        if (key.KeyManager == KeyManagerType.Aws && ForbiddenOnManagedKeys.Contains(operation))
        {
            throw new KmsUnsupportedOperationException($"{_ids.KeyArn(key.KeyId)} is a managed key: its owner, the integration that created it, does not allow {operation}. Managed keys stay enabled, rotate every year and cannot be deleted; use a customer managed key for full control.");
        }
    }
}
