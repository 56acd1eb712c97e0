using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EnvelopeKms.Protection;

namespace EnvelopeKms.Storage;

/// <summary>
/// Seals of key and alias records: a MAC by the root key over every field of the record except its
/// store version, so that a record modified in the store (a bit flip, a hand edit, a state or
/// deletion date forged, an alias pointed elsewhere, a record copied from another key) is detected on
/// read. The seal is the root key's wrap of zero bytes of material with the record's canonical
/// encoding as associated data: with the AES-GCM root key, a GMAC under the key-wrapping key with a
/// random nonce (29 bytes). Any <see cref="RootKey"/> (an HSM's too) can seal and verify. See
/// <c>docs/storage.md</c> ("Record seals").
/// </summary>
internal static class RecordSeal
{
    /// <summary>The store format that seals every record; stores of format 1 hold unsealed records from before seals.</summary>
    public const int SealedFormatVersion = 2;

    public static KeyRecord Seal(RootKey rootKey, KeyRecord key) => key with { Seal = SealOf(rootKey, Encode(key)) };

    public static AliasRecord Seal(RootKey rootKey, AliasRecord alias) => alias with { Seal = SealOf(rootKey, Encode(alias)) };

    public static GrantRecord Seal(RootKey rootKey, GrantRecord grant) => grant with { Seal = SealOf(rootKey, Encode(grant)) };

    public static CustomKeyStoreRecord Seal(RootKey rootKey, CustomKeyStoreRecord record) => record with { Seal = SealOf(rootKey, Encode(record)) };

    /// <summary>Whether the record carries a valid seal of this root key.</summary>
    public static bool IsAuthentic(RootKey rootKey, KeyRecord key) => key.Seal is { } seal && Verify(rootKey, seal, Encode(key));

    /// <summary>Whether the record carries a valid seal of this root key.</summary>
    public static bool IsAuthentic(RootKey rootKey, AliasRecord alias) => alias.Seal is { } seal && Verify(rootKey, seal, Encode(alias));

    /// <summary>Whether the grant carries a valid seal of this root key.</summary>
    public static bool IsAuthentic(RootKey rootKey, GrantRecord grant) => grant.Seal is { } seal && Verify(rootKey, seal, Encode(grant));

    /// <summary>Whether the custom key store record carries a valid seal.</summary>
    public static bool IsAuthentic(RootKey rootKey, CustomKeyStoreRecord record) => record.Seal is { } seal && Verify(rootKey, seal, Encode(record));

    /// <summary>Seals an encoding and returns its buffer.</summary>
    private static byte[] SealOf(RootKey rootKey, ArrayBufferWriter<byte> canonical)
    {
        try
        {
            return rootKey.Wrap([], canonical.WrittenSpan);
        }
        finally
        {
            Return(canonical);
        }
    }

    /// <summary>Checks a seal against an encoding and returns its buffer.</summary>
    private static bool Verify(RootKey rootKey, byte[] seal, ArrayBufferWriter<byte> canonical)
    {
        try
        {
            return Verify(rootKey, seal, canonical.WrittenSpan);
        }
        finally
        {
            Return(canonical);
        }
    }

    private static bool Verify(RootKey rootKey, byte[] seal, ReadOnlySpan<byte> canonical)
    {
        if (rootKey.GetUnwrappedLength(seal) != 0)
        {
            return false;
        }

        try
        {
            rootKey.Unwrap(seal, canonical, []);
            return true;
        }
        catch (KmsStorageIntegrityException)
        {
            return false;
        }
    }

    /// <summary>
    /// The canonical encoding of a key record: a label, then every field as a 4-byte big-endian length
    /// and its UTF-8 (or raw) bytes, in a fixed order; absent values have length -1. Numbers and
    /// instants (UTC ticks) are written as invariant decimal text, enums by name. These bytes are what
    /// every stored seal covers: they must never change (<c>RecordSealCanonicalEncodingTests</c>).
    /// </summary>
    internal static byte[] Canonical(KeyRecord key)
    {
        var buffer = Encode(key);
        var canonical = buffer.WrittenSpan.ToArray();
        Return(buffer);
        return canonical;
    }

    /// <summary>The canonical encoding of an alias record (see <see cref="Canonical(KeyRecord)"/>).</summary>
    internal static byte[] Canonical(AliasRecord alias)
    {
        var buffer = Encode(alias);
        var canonical = buffer.WrittenSpan.ToArray();
        Return(buffer);
        return canonical;
    }

    /// <summary>The canonical encoding of a grant record (see <see cref="Canonical(KeyRecord)"/>).</summary>
    internal static byte[] Canonical(GrantRecord grant)
    {
        var buffer = Encode(grant);
        var canonical = buffer.WrittenSpan.ToArray();
        Return(buffer);
        return canonical;
    }

    /// <summary>The canonical encoding of a custom key store record (see <see cref="Canonical(KeyRecord)"/>).</summary>
    internal static byte[] Canonical(CustomKeyStoreRecord record)
    {
        var buffer = Encode(record);
        var canonical = buffer.WrittenSpan.ToArray();
        Return(buffer);
        return canonical;
    }

    private static ArrayBufferWriter<byte> Encode(KeyRecord key)
    {
        var buffer = Rent();
        Add(buffer, KeyLabel);
        Add(buffer, key.KeyId);
        Add(buffer, key.AccountId);
        Add(buffer, key.CreationDate);
        Add(buffer, key.Description);
        Add(buffer, key.KeyState.ToString());
        Add(buffer, key.KeySpec.ToString());
        Add(buffer, key.KeyUsage.ToString());
        Add(buffer, key.Origin.ToString());
        Add(buffer, key.KeyManager.ToString());
        Add(buffer, key.DeletionDate);
        Add(buffer, key.PendingDeletionWindowInDays);
        Add(buffer, key.Tags.Count);
        foreach (var tag in key.Tags)
        {
            Add(buffer, tag.TagKey);
            Add(buffer, tag.TagValue);
        }

        Add(buffer, key.CurrentKeyMaterialId);
        Add(buffer, key.KeyMaterials.Count);
        foreach (var material in key.KeyMaterials)
        {
            Add(buffer, material.KeyMaterialId);
            Add(buffer, material.CreationDate);
            Add(buffer, material.WrappedMaterial);
        }

        // Rotation fields (added with key rotation) extend the encoding only when one is set, so that the
        // records sealed before them keep their exact bytes. The extension follows a complete encoding
        // and starts with its own label, so the two forms cannot be confused.
        if (HasRotationFields(key))
        {
            Add(buffer, RotationLabel);
            Add(buffer, key.RotationPeriodInDays);
            Add(buffer, key.NextRotationDate);
            Add(buffer, key.KeyMaterials.Count);
            foreach (var material in key.KeyMaterials)
            {
                Add(buffer, material.RotationType?.ToString());
                Add(buffer, material.EncryptionsReserved);
            }
        }

        // The key policy (added with key policies) extends the encoding the same way, only when set.
        if (key.Policy is not null)
        {
            Add(buffer, PolicyLabel);
            Add(buffer, key.Policy);
        }

        // Imported key material (added with BYOK) extends the encoding the same way, only when present.
        if (HasImportFields(key))
        {
            Add(buffer, ImportLabel);
            Add(buffer, key.KeyMaterials.Count);
            foreach (var material in key.KeyMaterials)
            {
                Add(buffer, material.Imported ? 1 : 0);
                Add(buffer, material.ValidTo);
                Add(buffer, material.Description);
            }

            var used = key.UsedImportTokens ?? [];
            Add(buffer, used.Count);
            foreach (var token in used)
            {
                Add(buffer, token.TokenId);
                Add(buffer, token.ValidTo);
            }
        }

        // The custom key store a key lives in (added with custom key stores) extends it the same way, only when set.
        if (key.CustomKeyStoreId is not null || key.CustomKeyStoreKeyId is not null)
        {
            Add(buffer, CustomKeyStoreLabel);
            Add(buffer, key.CustomKeyStoreId);
            Add(buffer, key.CustomKeyStoreKeyId);
        }

        // The multi-Region configuration (added with multi-Region keys) extends it the same way, only when set.
        if (key.MultiRegion is { } multiRegion)
        {
            Add(buffer, MultiRegionLabel);
            Add(buffer, multiRegion.KeyType.ToString());
            Add(buffer, multiRegion.PrimaryRegion);
            Add(buffer, multiRegion.ReplicaRegions.Count);
            foreach (var region in multiRegion.ReplicaRegions)
            {
                Add(buffer, region);
            }
        }

        return buffer;
    }

    /// <summary>A custom key store record: every field but the version, in declaration order.</summary>
    private static ArrayBufferWriter<byte> Encode(CustomKeyStoreRecord record)
    {
        var buffer = Rent();
        Add(buffer, CustomKeyStoreRecordLabel);
        Add(buffer, record.CustomKeyStoreId);
        Add(buffer, record.CustomKeyStoreName);
        Add(buffer, record.CustomKeyStoreType.ToString());
        Add(buffer, record.CreationDate);
        Add(buffer, record.CloudHsmClusterId);
        Add(buffer, record.TrustAnchorCertificate);
        Add(buffer, record.XksProxyUriEndpoint);
        Add(buffer, record.XksProxyUriPath);
        Add(buffer, record.XksProxyConnectivity);
        Add(buffer, record.XksProxyVpcEndpointServiceName);
        Add(buffer, record.XksProxyAccessKeyId);
        if (record.WrappedCredential is { } credential)
        {
            Add(buffer, credential);
        }
        else
        {
            AddAbsent(buffer);
        }

        Add(buffer, record.ConnectionState.ToString());
        Add(buffer, record.ConnectionErrorCode?.ToString());
        return buffer;
    }

    private static bool HasImportFields(KeyRecord key)
        => key.UsedImportTokens is not null || key.KeyMaterials.Any(m => m.Imported || m.ValidTo is not null || m.Description is not null);

    private static bool HasRotationFields(KeyRecord key)
    {
        if (key.RotationPeriodInDays is not null || key.NextRotationDate is not null)
        {
            return true;
        }

        foreach (var material in key.KeyMaterials)
        {
            if (material.RotationType is not null || material.EncryptionsReserved != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static ArrayBufferWriter<byte> Encode(AliasRecord alias)
    {
        var buffer = Rent();
        Add(buffer, AliasLabel);
        Add(buffer, alias.AliasName);
        Add(buffer, alias.TargetKeyId);
        Add(buffer, alias.CreationDate);
        Add(buffer, alias.LastUpdatedDate);
        return buffer;
    }

    /// <summary>
    /// A grant: every field but the version, in declaration order. The operations keep their stored
    /// order (a count, then each); an encryption-context constraint is absent (-1) or a count and its
    /// pairs in ordinal order of their keys, so that the order a store returns them in does not matter.
    /// </summary>
    private static ArrayBufferWriter<byte> Encode(GrantRecord grant)
    {
        var buffer = Rent();
        Add(buffer, GrantLabel);
        Add(buffer, grant.KeyId);
        Add(buffer, grant.GrantId);
        Add(buffer, grant.Name);
        Add(buffer, grant.GranteePrincipal);
        Add(buffer, grant.RetiringPrincipal);
        Add(buffer, grant.IssuingAccount);
        Add(buffer, grant.Operations.Count);
        foreach (var operation in grant.Operations)
        {
            Add(buffer, operation);
        }

        Add(buffer, grant.EncryptionContextSubset);
        Add(buffer, grant.EncryptionContextEquals);
        Add(buffer, grant.CreationDate);
        return buffer;
    }

    private static void Add(ArrayBufferWriter<byte> buffer, IReadOnlyDictionary<string, string>? pairs)
    {
        if (pairs is null)
        {
            AddAbsent(buffer);
            return;
        }

        Add(buffer, pairs.Count);
        foreach (var pair in pairs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Add(buffer, pair.Key);
            Add(buffer, pair.Value);
        }
    }

    private const string KeyLabel = "EnvelopeKms key record v1";
    private const string AliasLabel = "EnvelopeKms alias record v1";
    private const string RotationLabel = "EnvelopeKms key record rotation extension v1";
    private const string PolicyLabel = "EnvelopeKms key record policy extension v1";
    private const string ImportLabel = "EnvelopeKms key record import extension v1";
    private const string GrantLabel = "EnvelopeKms grant record v1";
    private const string CustomKeyStoreLabel = "EnvelopeKms key record custom key store extension v1";
    private const string CustomKeyStoreRecordLabel = "EnvelopeKms custom key store record v1";
    private const string MultiRegionLabel = "EnvelopeKms key record multi-region extension v1";

    /// <summary>Buffers larger than this (a key with very many materials or tags) are not kept per thread.</summary>
    private const int MaxRetainedBuffer = 64 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    // One encoding buffer per thread: sealing and verifying run on every key read, and the encoding is
    // used (MACed) before the thread can encode another record. It holds wrapped material and metadata,
    // nothing secret.
    private static ArrayBufferWriter<byte> Rent()
    {
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(512);
        t_buffer = null;
        buffer.ResetWrittenCount();
        return buffer;
    }

    private static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= MaxRetainedBuffer)
        {
            t_buffer = buffer;
        }
    }

    private static void Add(ArrayBufferWriter<byte> buffer, string? value)
    {
        if (value is null)
        {
            AddAbsent(buffer);
            return;
        }

        var span = buffer.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var length = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        buffer.Advance(4 + length);
    }

    private static void Add(ArrayBufferWriter<byte> buffer, DateTimeOffset? value) => Add(buffer, value?.UtcTicks);

    private static void Add(ArrayBufferWriter<byte> buffer, long? value)
    {
        if (value is not { } number)
        {
            AddAbsent(buffer);
            return;
        }

        var span = buffer.GetSpan(4 + 20);
        if (!number.TryFormat(span[4..], out var length, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException("A 64-bit number did not fit in 20 bytes.");
        }

        BinaryPrimitives.WriteInt32BigEndian(span, length);
        buffer.Advance(4 + length);
    }

    private static void Add(ArrayBufferWriter<byte> buffer, byte[] value)
    {
        var span = buffer.GetSpan(4 + value.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, value.Length);
        value.CopyTo(span[4..]);
        buffer.Advance(4 + value.Length);
    }

    private static void AddAbsent(ArrayBufferWriter<byte> buffer)
    {
        BinaryPrimitives.WriteInt32BigEndian(buffer.GetSpan(4), -1);
        buffer.Advance(4);
    }
}

/// <summary>
/// The key manager's view of its store: seals every key and alias record it writes and verifies the
/// seal of every record it reads (<see cref="RecordSeal"/>). Listing keys does not verify (a listing
/// names keys only; a damaged key must not hide the others); everything that acts on a key does.
/// </summary>
internal sealed class SealingKeyStore(IKeyStore inner) : IKeyStore
{
    private volatile RootKey? _rootKey;
    private volatile bool _sealsRequired;
    private SealingGrantStore? _grants;
    private SealingCustomKeyStoreRecordStore? _customKeyStores;

    public IKeyStore Inner => inner;

    /// <summary>
    /// The store's grants, sealed on insert and verified on every read (a forged or edited grant is a
    /// <see cref="KmsStorageIntegrityException"/>), or <see langword="null"/> when the inner store keeps no grants.
    /// </summary>
    public IGrantStore? Grants => inner is IGrantStore grants ? _grants ??= new SealingGrantStore(this, grants) : null;

    /// <summary>
    /// The store's custom key store records, sealed on every write and verified on every read, or
    /// <see langword="null"/> when the inner store keeps none.
    /// </summary>
    public ICustomKeyStoreRecordStore? CustomKeyStores
        => inner is ICustomKeyStoreRecordStore records ? _customKeyStores ??= new SealingCustomKeyStoreRecordStore(this, records) : null;

    /// <summary>Seals a custom key store record with the open root key.</summary>
    internal CustomKeyStoreRecord Seal(CustomKeyStoreRecord record) => RecordSeal.Seal(RootKey, record);

    /// <summary>Throws <see cref="KmsStorageIntegrityException"/> unless the custom key store record is authentic (it always needs its seal).</summary>
    internal CustomKeyStoreRecord Verify(CustomKeyStoreRecord record)
    {
        if (!RecordSeal.IsAuthentic(RootKey, record))
        {
            throw new KmsStorageIntegrityException(
                $"The stored record of custom key store '{record.CustomKeyStoreId}' failed its integrity check: it was written or modified outside EnvelopeKms, or its seal was removed. It was left in place.");
        }

        return record;
    }

    /// <summary>Seals a grant with the open root key.</summary>
    internal GrantRecord Seal(GrantRecord grant) => RecordSeal.Seal(RootKey, grant);

    /// <summary>
    /// Throws <see cref="KmsStorageIntegrityException"/> unless the grant is authentic. Grants came with
    /// sealed stores, so a grant always needs its seal, whatever the store's format version.
    /// </summary>
    internal GrantRecord Verify(GrantRecord grant)
    {
        if (!RecordSeal.IsAuthentic(RootKey, grant))
        {
            throw new KmsStorageIntegrityException(
                $"The stored grant '{grant.GrantId}' of key '{grant.KeyId}' failed its integrity check: it was written or modified outside EnvelopeKms, copied from another key, or its seal was removed. It grants nothing until it is removed; it was left in place.");
        }

        return grant;
    }

    /// <summary>Set once the root key is open: from then on records are sealed and verified.</summary>
    public void Open(RootKey rootKey, int formatVersion)
    {
        _sealsRequired = formatVersion >= RecordSeal.SealedFormatVersion;
        _rootKey = rootKey;
    }

    /// <summary>Throws <see cref="KmsStorageIntegrityException"/> unless the key record is authentic.</summary>
    public KeyRecord Verify(KeyRecord key)
    {
        var rootKey = RootKey;
        if ((key.Seal is not null || _sealsRequired) && !RecordSeal.IsAuthentic(rootKey, key))
        {
            throw new KmsStorageIntegrityException(
                $"The stored record of key '{key.KeyId}' failed its integrity check: it was modified outside EnvelopeKms, copied from another key, or its seal was removed. The key is unusable until the record is restored; it was left in place.");
        }

        return key;
    }

    /// <summary>Whether the key record is authentic, without throwing.</summary>
    public bool IsAuthentic(KeyRecord key)
        => (key.Seal is null && !_sealsRequired) || RecordSeal.IsAuthentic(RootKey, key);

    private AliasRecord Verify(AliasRecord alias)
    {
        var rootKey = RootKey;
        if ((alias.Seal is not null || _sealsRequired) && !RecordSeal.IsAuthentic(rootKey, alias))
        {
            throw new KmsStorageIntegrityException(
                $"The stored record of alias '{alias.AliasName}' failed its integrity check: it was modified outside EnvelopeKms, copied from another alias, or its seal was removed. It was left in place.");
        }

        return alias;
    }

    private RootKey RootKey => _rootKey ?? throw new InvalidOperationException("The root key is not open yet.");

    public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => inner.GetMetadataAsync(cancellationToken);

    public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken) => inner.InitializeMetadataAsync(metadata, cancellationToken);

    public async ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken)
        => await inner.GetKeyAsync(keyId, cancellationToken).ConfigureAwait(false) is { } key ? Verify(key) : null;

    public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken)
        => inner.ListKeysAsync(afterKeyId, limit, cancellationToken);

    public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
        => inner.InsertKeyAsync(RecordSeal.Seal(RootKey, key), cancellationToken);

    public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
        => inner.UpdateKeyAsync(RecordSeal.Seal(RootKey, key), cancellationToken);

    public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
        => inner.DeleteKeyAsync(keyId, expectedVersion, cancellationToken);

    public async ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken)
        => await inner.GetAliasAsync(aliasName, cancellationToken).ConfigureAwait(false) is { } alias ? Verify(alias) : null;

    public async ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
    {
        var aliases = await inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, cancellationToken).ConfigureAwait(false);
        foreach (var alias in aliases)
        {
            Verify(alias);
        }

        return aliases;
    }

    public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
        => inner.InsertAliasAsync(RecordSeal.Seal(RootKey, alias), cancellationToken);

    public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
        => inner.UpdateAliasAsync(RecordSeal.Seal(RootKey, alias), cancellationToken);

    public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
        => inner.DeleteAliasAsync(aliasName, expectedVersion, cancellationToken);
}


/// <summary>The grants of a <see cref="SealingKeyStore"/>: seals every grant it inserts and verifies every grant it reads.</summary>
internal sealed class SealingGrantStore(SealingKeyStore owner, IGrantStore inner) : IGrantStore
{
    public IGrantStore Inner => inner;

    public async ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken)
        => await inner.GetGrantAsync(keyId, grantId, cancellationToken).ConfigureAwait(false) is { } grant ? owner.Verify(grant) : null;

    public async ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
        => VerifyAll(await inner.ListGrantsAsync(keyId, afterGrantId, limit, cancellationToken).ConfigureAwait(false));

    public async ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken)
        => VerifyAll(await inner.ListGrantsForGranteeAsync(keyId, granteePrincipal, cancellationToken).ConfigureAwait(false));

    public async ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
        => VerifyAll(await inner.ListRetirableGrantsAsync(retiringPrincipal, afterKeyId, afterGrantId, limit, cancellationToken).ConfigureAwait(false));

    public ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken)
        => inner.CountGrantsAsync(keyId, cancellationToken);

    public ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken)
        => inner.InsertGrantAsync(owner.Seal(grant), cancellationToken);

    public ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken)
        => inner.DeleteGrantAsync(keyId, grantId, expectedVersion, cancellationToken);

    public ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken)
        => inner.DeleteGrantsOfKeyAsync(keyId, cancellationToken);

    private IReadOnlyList<GrantRecord> VerifyAll(IReadOnlyList<GrantRecord> grants)
    {
        foreach (var grant in grants)
        {
            owner.Verify(grant);
        }

        return grants;
    }
}

/// <summary>The custom key store records of a <see cref="SealingKeyStore"/>: seals every record it writes and verifies every record it reads.</summary>
internal sealed class SealingCustomKeyStoreRecordStore(SealingKeyStore owner, ICustomKeyStoreRecordStore inner) : ICustomKeyStoreRecordStore
{
    public ICustomKeyStoreRecordStore Inner => inner;

    public async ValueTask<CustomKeyStoreRecord?> GetCustomKeyStoreAsync(string customKeyStoreId, CancellationToken cancellationToken)
        => await inner.GetCustomKeyStoreAsync(customKeyStoreId, cancellationToken).ConfigureAwait(false) is { } record ? owner.Verify(record) : null;

    public async ValueTask<IReadOnlyList<CustomKeyStoreRecord>> ListCustomKeyStoresAsync(CancellationToken cancellationToken)
    {
        var records = await inner.ListCustomKeyStoresAsync(cancellationToken).ConfigureAwait(false);
        foreach (var record in records)
        {
            owner.Verify(record);
        }

        return records;
    }

    public ValueTask<CustomKeyStoreRecord> InsertCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
        => inner.InsertCustomKeyStoreAsync(owner.Seal(record), cancellationToken);

    public ValueTask<CustomKeyStoreRecord> UpdateCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
        => inner.UpdateCustomKeyStoreAsync(owner.Seal(record), cancellationToken);

    public ValueTask DeleteCustomKeyStoreAsync(string customKeyStoreId, long expectedVersion, CancellationToken cancellationToken)
        => inner.DeleteCustomKeyStoreAsync(customKeyStoreId, expectedVersion, cancellationToken);
}
