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

    public static KeyRecord Seal(RootKey rootKey, KeyRecord key) => key with { Seal = rootKey.Wrap([], Canonical(key)) };

    public static AliasRecord Seal(RootKey rootKey, AliasRecord alias) => alias with { Seal = rootKey.Wrap([], Canonical(alias)) };

    /// <summary>Whether the record carries a valid seal of this root key.</summary>
    public static bool IsAuthentic(RootKey rootKey, KeyRecord key) => key.Seal is { } seal && Verify(rootKey, seal, Canonical(key));

    /// <summary>Whether the record carries a valid seal of this root key.</summary>
    public static bool IsAuthentic(RootKey rootKey, AliasRecord alias) => alias.Seal is { } seal && Verify(rootKey, seal, Canonical(alias));

    private static bool Verify(RootKey rootKey, byte[] seal, byte[] canonical)
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
    /// and its UTF-8 (or raw) bytes, in a fixed order; absent values have length -1.
    /// </summary>
    internal static byte[] Canonical(KeyRecord key)
    {
        var writer = new Writer("EnvelopeKms key record v1");
        writer.Add(key.KeyId);
        writer.Add(key.AccountId);
        writer.Add(key.CreationDate);
        writer.Add(key.Description);
        writer.Add(key.KeyState.ToString());
        writer.Add(key.KeySpec.ToString());
        writer.Add(key.KeyUsage.ToString());
        writer.Add(key.Origin.ToString());
        writer.Add(key.KeyManager.ToString());
        writer.Add(key.DeletionDate);
        writer.Add(key.PendingDeletionWindowInDays?.ToString(CultureInfo.InvariantCulture));
        writer.Add(key.Tags.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var tag in key.Tags)
        {
            writer.Add(tag.TagKey);
            writer.Add(tag.TagValue);
        }

        writer.Add(key.CurrentKeyMaterialId);
        writer.Add(key.KeyMaterials.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var material in key.KeyMaterials)
        {
            writer.Add(material.KeyMaterialId);
            writer.Add(material.CreationDate);
            writer.Add(material.WrappedMaterial);
        }

        return writer.ToArray();
    }

    /// <summary>The canonical encoding of an alias record (see <see cref="Canonical(KeyRecord)"/>).</summary>
    internal static byte[] Canonical(AliasRecord alias)
    {
        var writer = new Writer("EnvelopeKms alias record v1");
        writer.Add(alias.AliasName);
        writer.Add(alias.TargetKeyId);
        writer.Add(alias.CreationDate);
        writer.Add(alias.LastUpdatedDate);
        return writer.ToArray();
    }

    private sealed class Writer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(256);

        public Writer(string label) => Add(label);

        public void Add(string? value) => Add(value is null ? null : Encoding.UTF8.GetBytes(value));

        public void Add(DateTimeOffset? value) => Add(value?.UtcTicks.ToString(CultureInfo.InvariantCulture));

        public void Add(byte[]? value)
        {
            BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value?.Length ?? -1);
            _buffer.Advance(4);
            if (value is not null)
            {
                _buffer.Write(value);
            }
        }

        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
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

    public IKeyStore Inner => inner;

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
