using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using EnvelopeKms.Protection;

namespace EnvelopeKms.Storage;

/// <summary>
/// Backup and restore: exports every key, key-material version, alias and grant of a store as one encrypted,
/// authenticated snapshot, and imports a snapshot into any store (the same provider or another one).
/// See <c>docs/storage.md</c> ("Backup and restore") for the format.
/// </summary>
/// <remarks>
/// <para>
/// Key material stays wrapped by the root key inside the snapshot, and the snapshot as a whole is
/// encrypted under a fresh 256-bit snapshot key that is itself wrapped by the root key: reading a
/// snapshot needs the root key of the store it came from. Frames are AES-256-GCM with a counter nonce
/// and a final-frame flag, so a modified, reordered or truncated snapshot is refused.
/// </para>
/// <para>
/// An import reads and verifies the whole snapshot before it writes anything; it then writes one record
/// at a time (stores are atomic per record). An interrupted import is finished by running it again with
/// <see cref="KeyStoreImportOptions.Overwrite"/>. Importing under a different root key
/// (<see cref="KeyStoreImportOptions.DestinationRootKeyProvider"/>) re-wraps every
/// key material (unwrapped in pinned memory, zeroed at once). Every record (grants included) is
/// verified under the source's root key and re-sealed under the destination's. Grants are exported
/// from stores that implement <see cref="IGrantStore"/>; a snapshot with grants imports only into one.
/// </para>
/// </remarks>
public static class KeyStoreSnapshot
{
    private const int FrameRecords = 256;
    private const int TagSize = 16;
    private const int NonceSize = 12;
    private const int MaxFrameLength = 64 * 1024 * 1024;
    /// <summary>The format this release writes: 2 (grants added). It reads 1 (no grants) and 2.</summary>
    private const byte FormatVersion = 2;

    /// <summary>The first format, from before grants: still read.</summary>
    private const byte FormatVersionWithoutGrants = 1;
    private static readonly byte[] Magic = "EKSNAP"u8.ToArray();
    private static readonly byte[] SnapshotKeyLabel = Encoding.ASCII.GetBytes("EnvelopeKms snapshot key v1");

    /// <summary>Writes a snapshot of <paramref name="source"/> to <paramref name="destination"/>.</summary>
    /// <param name="source">The store to export; it must be initialized.</param>
    /// <param name="rootKeyProvider">The root key of <paramref name="source"/>.</param>
    /// <param name="destination">Receives the snapshot; left open.</param>
    /// <param name="timeProvider">The clock for the snapshot's creation time; the system clock when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the export.</param>
    /// <returns>What the snapshot holds.</returns>
    /// <exception cref="KmsRootKeyException">The root key is not the store's.</exception>
    /// <exception cref="KmsStorageIntegrityException">The store has never been initialized.</exception>
    public static async Task<KeyStoreSnapshotSummary> ExportAsync(
        IKeyStore source,
        IRootKeyProvider rootKeyProvider,
        Stream destination,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rootKeyProvider);
        ArgumentNullException.ThrowIfNull(destination);
        var metadata = await source.GetMetadataAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new KmsStorageIntegrityException("The key store to export has never been initialized: it holds no metadata and no keys.");
        using var rootKey = await OpenAsync(rootKeyProvider, metadata, cancellationToken).ConfigureAwait(false);

        var snapshotKey = GC.AllocateArray<byte>(32, pinned: true);
        try
        {
            RandomNumberGenerator.Fill(snapshotKey);
            var createdAt = (timeProvider ?? TimeProvider.System).GetUtcNow();
            var header = new SnapshotHeader(metadata, createdAt, []);
            var wrappedKey = rootKey.Wrap(snapshotKey, header.WrapAssociatedData());
            header = header with { WrappedSnapshotKey = wrappedKey };
            var headerBytes = header.Encode();
            await destination.WriteAsync(headerBytes, cancellationToken).ConfigureAwait(false);

            using var writer = new FrameWriter(destination, snapshotKey, SHA256.HashData(headerBytes));
            int keys = 0, materials = 0, aliases = 0, grantCount = 0;
            var keyIds = new List<string>();
            string? after = null;
            while (true)
            {
                var batch = await source.ListKeysAsync(after, FrameRecords, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    break;
                }

                after = batch[^1].KeyId;
                keyIds.AddRange(batch.Select(k => k.KeyId));
                keys += batch.Count;
                materials += batch.Sum(k => k.KeyMaterials.Count);
                await writer.WriteAsync(new SnapshotFrame { Keys = [.. batch] }, final: false, cancellationToken).ConfigureAwait(false);
            }

            after = null;
            while (true)
            {
                var batch = await source.ListAliasesAsync(null, after, FrameRecords, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    break;
                }

                after = batch[^1].AliasName;
                aliases += batch.Count;
                await writer.WriteAsync(new SnapshotFrame { Aliases = [.. batch] }, final: false, cancellationToken).ConfigureAwait(false);
            }

            // Grants of the exported keys, key by key (a store without grants has none).
            if (source is IGrantStore grantStore)
            {
                var pending = new List<GrantRecord>();
                foreach (var keyId in keyIds)
                {
                    string? afterGrant = null;
                    while (true)
                    {
                        var batch = await grantStore.ListGrantsAsync(keyId, afterGrant, FrameRecords, cancellationToken).ConfigureAwait(false);
                        if (batch.Count == 0)
                        {
                            break;
                        }

                        afterGrant = batch[^1].GrantId;
                        pending.AddRange(batch);
                        if (pending.Count >= FrameRecords)
                        {
                            grantCount += pending.Count;
                            await writer.WriteAsync(new SnapshotFrame { Grants = pending }, final: false, cancellationToken).ConfigureAwait(false);
                            pending = [];
                        }
                    }
                }

                if (pending.Count > 0)
                {
                    grantCount += pending.Count;
                    await writer.WriteAsync(new SnapshotFrame { Grants = pending }, final: false, cancellationToken).ConfigureAwait(false);
                }
            }

            var summary = new KeyStoreSnapshotSummary(keys, materials, aliases, createdAt, metadata.RootKeyCheckValue) { Grants = grantCount };
            await writer.WriteAsync(new SnapshotFrame { End = new SnapshotEnd { Keys = keys, KeyMaterials = materials, Aliases = aliases, Grants = grantCount } }, final: true, cancellationToken).ConfigureAwait(false);
            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
            return summary;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(snapshotKey);
        }
    }

    /// <summary>
    /// Imports a snapshot into <paramref name="destination"/>, re-wrapping every key material under the
    /// destination's root key (<see cref="KeyStoreImportOptions.DestinationRootKeyProvider"/>) when it
    /// differs from the source's.
    /// </summary>
    /// <param name="snapshot">The snapshot, as <see cref="ExportAsync"/> wrote it; read to its end.</param>
    /// <param name="destination">The store to import into: empty (it is initialized) or initialized with the destination root key.</param>
    /// <param name="rootKeyProvider">The root key of the store the snapshot came from.</param>
    /// <param name="options">The destination's root key, and what to do with records the destination already holds.</param>
    /// <param name="cancellationToken">Cancels the import (records already written stay; run it again with <see cref="KeyStoreImportOptions.Overwrite"/>).</param>
    /// <returns>What the snapshot held.</returns>
    /// <exception cref="KmsStorageIntegrityException">The snapshot is not a snapshot, or was modified or truncated; nothing was written.</exception>
    /// <exception cref="KmsRootKeyException">A root key is not the one the snapshot or the destination store was made with; nothing was written.</exception>
    /// <exception cref="KmsAlreadyExistsException">The destination holds a key, alias or grant of the snapshot and <see cref="KeyStoreImportOptions.Overwrite"/> is off; nothing was written.</exception>
    /// <exception cref="KmsUnsupportedOperationException">The snapshot holds grants and the destination does not implement <see cref="IGrantStore"/>; nothing was written.</exception>
    public static async Task<KeyStoreSnapshotSummary> ImportAsync(
        Stream snapshot,
        IKeyStore destination,
        IRootKeyProvider rootKeyProvider,
        KeyStoreImportOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(rootKeyProvider);
        options ??= new KeyStoreImportOptions();
        var sourceRootKeyProvider = rootKeyProvider;
        var destinationRootKeyProvider = options.DestinationRootKeyProvider ?? rootKeyProvider;

        // 1. Read and verify the whole snapshot before anything is written.
        var (header, headerBytes) = await SnapshotHeader.ReadAsync(snapshot, cancellationToken).ConfigureAwait(false);
        using var sourceRootKey = await OpenAsync(sourceRootKeyProvider, header.Metadata, cancellationToken).ConfigureAwait(false);
        var keys = new List<KeyRecord>();
        var aliases = new List<AliasRecord>();
        var grants = new List<GrantRecord>();
        var snapshotKey = GC.AllocateArray<byte>(32, pinned: true);
        try
        {
            if (sourceRootKey.GetUnwrappedLength(header.WrappedSnapshotKey) != snapshotKey.Length)
            {
                throw new KmsStorageIntegrityException("The snapshot's wrapped snapshot key is malformed.");
            }

            sourceRootKey.Unwrap(header.WrappedSnapshotKey, header.WrapAssociatedData(), snapshotKey);
            using var reader = new FrameReader(snapshot, snapshotKey, SHA256.HashData(headerBytes));
            SnapshotEnd? end = null;
            while (end is null)
            {
                var frame = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                keys.AddRange(frame.Keys ?? []);
                aliases.AddRange(frame.Aliases ?? []);
                if (frame.Grants is { } frameGrants)
                {
                    if (header.FormatVersion < FormatVersion)
                    {
                        throw new KmsStorageIntegrityException("The snapshot holds grants although its format version predates grants; it was modified.");
                    }

                    grants.AddRange(frameGrants);
                }

                end = frame.End;
                if ((end is not null) != reader.LastWasFinal)
                {
                    throw new KmsStorageIntegrityException("The snapshot's end record and its final frame disagree; it was modified.");
                }
            }

            var materials = keys.Sum(k => k.KeyMaterials.Count);
            if (end.Keys != keys.Count || end.Aliases != aliases.Count || end.KeyMaterials != materials || end.Grants != grants.Count)
            {
                throw new KmsStorageIntegrityException("The snapshot's record counts do not match its end record; it was modified.");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(snapshotKey);
        }

        // 2. The destination: initialized with its root key, and (unless overwriting) holding none of the records.
        var destinationMetadata = await destination.GetMetadataAsync(cancellationToken).ConfigureAwait(false);
        using var destinationRootKey = destinationMetadata is null
            ? await destinationRootKeyProvider.GetRootKeyAsync(null, cancellationToken).ConfigureAwait(false)
            : await OpenAsync(destinationRootKeyProvider, destinationMetadata, cancellationToken).ConfigureAwait(false);
        var rewrap = !CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(destinationRootKey.KeyCheckValue),
            Encoding.ASCII.GetBytes(header.Metadata.RootKeyCheckValue));
        var existingKeys = new Dictionary<string, KeyRecord>(StringComparer.Ordinal);
        var existingAliases = new Dictionary<string, AliasRecord>(StringComparer.Ordinal);
        var existingGrants = new Dictionary<(string KeyId, string GrantId), GrantRecord>();
        var destinationGrants = destination as IGrantStore;
        if (grants.Count > 0 && destinationGrants is null)
        {
            throw new KmsUnsupportedOperationException(
                $"The snapshot holds {grants.Count} grant(s), but the destination store ({destination.GetType().Name}) does not implement IGrantStore and cannot keep them; nothing was imported.");
        }

        if (destinationMetadata is not null)
        {
            foreach (var key in keys)
            {
                if (await destination.GetKeyAsync(key.KeyId, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    existingKeys[key.KeyId] = existing;
                }
            }

            foreach (var alias in aliases)
            {
                if (await destination.GetAliasAsync(alias.AliasName, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    existingAliases[alias.AliasName] = existing;
                }
            }

            foreach (var grant in grants)
            {
                if (await destinationGrants!.GetGrantAsync(grant.KeyId, grant.GrantId, cancellationToken).ConfigureAwait(false) is { } existing)
                {
                    existingGrants[(grant.KeyId, grant.GrantId)] = existing;
                }
            }

            if (!options.Overwrite && (existingKeys.Count > 0 || existingAliases.Count > 0 || existingGrants.Count > 0))
            {
                var clash = existingKeys.Count > 0 ? $"key '{existingKeys.Keys.Order(StringComparer.Ordinal).First()}'"
                    : existingAliases.Count > 0 ? $"alias '{existingAliases.Keys.Order(StringComparer.Ordinal).First()}'"
                    : $"grant '{existingGrants.Keys.First().GrantId}' of key '{existingGrants.Keys.First().KeyId}'";
                throw new KmsAlreadyExistsException(
                    $"The destination store already holds {existingKeys.Count} key(s), {existingAliases.Count} alias(es) and {existingGrants.Count} grant(s) of the snapshot, the first being {clash}; nothing was imported. Set Overwrite to replace them.");
            }
        }

        // 3. Check every record's seal under the source's root key, re-wrap when the root keys differ,
        //    and seal under the destination's (in memory, before the first write).
        var sealsRequired = header.Metadata.FormatVersion >= RecordSeal.SealedFormatVersion;
        for (var i = 0; i < keys.Count; i++)
        {
            if ((keys[i].Seal is not null || sealsRequired) && !RecordSeal.IsAuthentic(sourceRootKey, keys[i]))
            {
                throw new KmsStorageIntegrityException($"The record of key '{keys[i].KeyId}' in the snapshot failed its integrity check (it was modified in the source store); nothing was imported.");
            }

            keys[i] = RecordSeal.Seal(destinationRootKey, rewrap ? Rewrap(keys[i], sourceRootKey, destinationRootKey) : keys[i]);
        }

        for (var i = 0; i < aliases.Count; i++)
        {
            if ((aliases[i].Seal is not null || sealsRequired) && !RecordSeal.IsAuthentic(sourceRootKey, aliases[i]))
            {
                throw new KmsStorageIntegrityException($"The record of alias '{aliases[i].AliasName}' in the snapshot failed its integrity check (it was modified in the source store); nothing was imported.");
            }

            aliases[i] = RecordSeal.Seal(destinationRootKey, aliases[i]);
        }

        // Grants came with sealed stores: every grant needs a valid seal, whatever the source's format version.
        for (var i = 0; i < grants.Count; i++)
        {
            if (!RecordSeal.IsAuthentic(sourceRootKey, grants[i]))
            {
                throw new KmsStorageIntegrityException($"The grant '{grants[i].GrantId}' of key '{grants[i].KeyId}' in the snapshot failed its integrity check (it was written or modified outside EnvelopeKms in the source store); nothing was imported.");
            }

            grants[i] = RecordSeal.Seal(destinationRootKey, grants[i]);
        }

        // 4. Write: metadata first (a crash after it leaves an initialized store with fewer keys, never keys without metadata).
        if (destinationMetadata is null)
        {
            var metadata = new KeyStoreMetadata
            {
                FormatVersion = RecordSeal.SealedFormatVersion,
                RootKeyCheckValue = destinationRootKey.KeyCheckValue,
                RootKeyParameters = destinationRootKey.Parameters,
                CreationDate = header.Metadata.CreationDate,
            };
            var inForce = await destination.InitializeMetadataAsync(metadata, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(inForce.RootKeyCheckValue, destinationRootKey.KeyCheckValue, StringComparison.Ordinal))
            {
                throw new KmsRootKeyException("Another instance initialized the destination store with a different root key while the import ran; nothing was imported.");
            }
        }

        foreach (var key in keys)
        {
            if (existingKeys.TryGetValue(key.KeyId, out var existing))
            {
                await destination.UpdateKeyAsync(key with { Version = existing.Version }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await destination.InsertKeyAsync(key with { Version = 0 }, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var alias in aliases)
        {
            if (existingAliases.TryGetValue(alias.AliasName, out var existing))
            {
                await destination.UpdateAliasAsync(alias with { Version = existing.Version }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await destination.InsertAliasAsync(alias with { Version = 0 }, cancellationToken).ConfigureAwait(false);
            }
        }

        // Grants never change, so an existing one is replaced by deleting it and inserting the snapshot's
        // (a crash between the two leaves it missing; running the import again with Overwrite restores it).
        foreach (var grant in grants)
        {
            if (existingGrants.TryGetValue((grant.KeyId, grant.GrantId), out var existing))
            {
                await destinationGrants!.DeleteGrantAsync(grant.KeyId, grant.GrantId, existing.Version, cancellationToken).ConfigureAwait(false);
            }

            await destinationGrants!.InsertGrantAsync(grant with { Version = 0 }, cancellationToken).ConfigureAwait(false);
        }

        return new KeyStoreSnapshotSummary(keys.Count, keys.Sum(k => k.KeyMaterials.Count), aliases.Count, header.CreatedAt, header.Metadata.RootKeyCheckValue) { Grants = grants.Count };
    }

    private static async Task<RootKey> OpenAsync(IRootKeyProvider provider, KeyStoreMetadata metadata, CancellationToken cancellationToken)
    {
        var rootKey = await provider.GetRootKeyAsync(metadata.RootKeyParameters ?? "", cancellationToken).ConfigureAwait(false);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(rootKey.KeyCheckValue), Encoding.ASCII.GetBytes(metadata.RootKeyCheckValue)))
        {
            rootKey.Dispose();
            throw new KmsRootKeyException("The root key given is not the one the key store (or the store the snapshot came from) was created with.");
        }

        return rootKey;
    }

    private static KeyRecord Rewrap(KeyRecord key, RootKey from, RootKey to)
    {
        var materials = new KeyMaterialRecord[key.KeyMaterials.Count];
        for (var i = 0; i < materials.Length; i++)
        {
            var record = key.KeyMaterials[i];
            if (record.WrappedMaterial.Length == 0)
            {
                materials[i] = record; // Imported material that expired or was deleted: nothing to rewrap.
                continue;
            }

            var associatedData = KeyManager.WrapAssociatedData(key, record.KeyMaterialId);
            var length = from.GetUnwrappedLength(record.WrappedMaterial);
            if (length < 0)
            {
                throw new KmsStorageIntegrityException($"A key-material blob of key '{key.KeyId}' in the snapshot is malformed; nothing was imported.");
            }

            var material = GC.AllocateArray<byte>(length, pinned: true);
            try
            {
                from.Unwrap(record.WrappedMaterial, associatedData, material);
                materials[i] = record with { WrappedMaterial = to.Wrap(material, associatedData) };
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }

        return key with { KeyMaterials = materials };
    }

    // ------------------------------------------------------------------ format

    /// <summary>
    /// The clear header: magic, format version, the source store's metadata (root-key check value and
    /// public root-key parameters: no secret), the creation time and the wrapped snapshot key.
    /// </summary>
    private sealed record SnapshotHeader(KeyStoreMetadata Metadata, DateTimeOffset CreatedAt, byte[] WrappedSnapshotKey)
    {
        /// <summary>The format version read from (or written to) the header.</summary>
        public byte FormatVersion { get; init; } = KeyStoreSnapshot.FormatVersion;

        public byte[] WrapAssociatedData()
        {
            var metadata = JsonSerializer.SerializeToUtf8Bytes(Metadata, KeyStoreJson.Metadata);
            var data = new byte[SnapshotKeyLabel.Length + 8 + metadata.Length];
            SnapshotKeyLabel.CopyTo(data, 0);
            BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(SnapshotKeyLabel.Length), CreatedAt.ToUnixTimeMilliseconds());
            metadata.CopyTo(data, SnapshotKeyLabel.Length + 8);
            return data;
        }

        public byte[] Encode()
        {
            var metadata = JsonSerializer.SerializeToUtf8Bytes(Metadata, KeyStoreJson.Metadata);
            var header = new byte[Magic.Length + 1 + 8 + 4 + metadata.Length + 2 + WrappedSnapshotKey.Length];
            var span = header.AsSpan();
            Magic.CopyTo(span);
            span[Magic.Length] = FormatVersion;
            span = span[(Magic.Length + 1)..];
            BinaryPrimitives.WriteInt64BigEndian(span, CreatedAt.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteInt32BigEndian(span[8..], metadata.Length);
            metadata.CopyTo(span[12..]);
            span = span[(12 + metadata.Length)..];
            BinaryPrimitives.WriteUInt16BigEndian(span, checked((ushort)WrappedSnapshotKey.Length));
            WrappedSnapshotKey.CopyTo(span[2..]);
            return header;
        }

        public static async Task<(SnapshotHeader Header, byte[] Bytes)> ReadAsync(Stream stream, CancellationToken cancellationToken)
        {
            var fixedPart = new byte[Magic.Length + 1 + 8 + 4];
            await ReadExactlyAsync(stream, fixedPart, "header", cancellationToken).ConfigureAwait(false);
            if (!fixedPart.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            {
                throw new KmsStorageIntegrityException("The data is not an EnvelopeKms key-store snapshot (its magic bytes are wrong).");
            }

            var formatVersion = fixedPart[Magic.Length];
            if (formatVersion is not (FormatVersionWithoutGrants or KeyStoreSnapshot.FormatVersion))
            {
                throw new KmsStorageIntegrityException($"UnsupportedSchema: the snapshot has format version {formatVersion}; this release reads versions {FormatVersionWithoutGrants} and {KeyStoreSnapshot.FormatVersion}.");
            }

            var createdAt = BinaryPrimitives.ReadInt64BigEndian(fixedPart.AsSpan(Magic.Length + 1));
            var metadataLength = BinaryPrimitives.ReadInt32BigEndian(fixedPart.AsSpan(Magic.Length + 9));
            if (metadataLength is <= 0 or > 64 * 1024)
            {
                throw new KmsStorageIntegrityException("The snapshot header is malformed (metadata length out of range).");
            }

            var rest = new byte[metadataLength + 2];
            await ReadExactlyAsync(stream, rest, "header", cancellationToken).ConfigureAwait(false);
            var wrappedLength = BinaryPrimitives.ReadUInt16BigEndian(rest.AsSpan(metadataLength));
            var wrapped = new byte[wrappedLength];
            await ReadExactlyAsync(stream, wrapped, "header", cancellationToken).ConfigureAwait(false);
            KeyStoreMetadata metadata;
            try
            {
                metadata = JsonSerializer.Deserialize(rest.AsSpan(0, metadataLength), KeyStoreJson.Metadata)
                    ?? throw new KmsStorageIntegrityException("The snapshot header holds no store metadata.");
            }
            catch (JsonException e)
            {
                throw new KmsStorageIntegrityException("The snapshot header's store metadata is not valid.", e);
            }

            DateTimeOffset created;
            try
            {
                created = DateTimeOffset.FromUnixTimeMilliseconds(createdAt);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new KmsStorageIntegrityException("The snapshot header's creation time is out of range.", e);
            }

            var header = new SnapshotHeader(metadata, created, wrapped) { FormatVersion = formatVersion };
            return (header, [.. fixedPart, .. rest, .. wrapped]);
        }
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] buffer, string what, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException e)
        {
            throw new KmsStorageIntegrityException($"The snapshot ends inside its {what}: it was truncated.", e);
        }
    }

    /// <summary>Nonce of frame <c>i</c>: the 8-byte big-endian counter, 3 zero bytes, and 1 when it is the final frame.</summary>
    private static void FrameNonce(Span<byte> nonce, long index, bool final)
    {
        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce, index);
        nonce[^1] = final ? (byte)1 : (byte)0;
    }

    private sealed class FrameWriter(Stream stream, byte[] key, byte[] associatedData) : IDisposable
    {
        private readonly AesGcm _aes = new(key, TagSize);
        private long _index;

        public async Task WriteAsync(SnapshotFrame frame, bool final, CancellationToken cancellationToken)
        {
            var plaintext = JsonSerializer.SerializeToUtf8Bytes(frame, KeyStoreSnapshotJsonContext.Default.SnapshotFrame);
            var output = new byte[4 + plaintext.Length + TagSize];
            BinaryPrimitives.WriteInt32BigEndian(output, plaintext.Length + TagSize);
            Span<byte> nonce = stackalloc byte[NonceSize];
            FrameNonce(nonce, _index++, final);
            _aes.Encrypt(nonce, plaintext, output.AsSpan(4, plaintext.Length), output.AsSpan(4 + plaintext.Length), associatedData);
            await stream.WriteAsync(output, cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => _aes.Dispose();
    }

    private sealed class FrameReader(Stream stream, byte[] key, byte[] associatedData) : IDisposable
    {
        private readonly AesGcm _aes = new(key, TagSize);
        private long _index;

        public bool LastWasFinal { get; private set; }

        public async Task<SnapshotFrame> ReadAsync(CancellationToken cancellationToken)
        {
            var lengthBytes = new byte[4];
            await ReadExactlyAsync(stream, lengthBytes, "frames (its final frame is missing)", cancellationToken).ConfigureAwait(false);
            var length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
            if (length is < TagSize or > MaxFrameLength)
            {
                throw new KmsStorageIntegrityException("A snapshot frame has an impossible length; the snapshot was modified.");
            }

            var sealedFrame = new byte[length];
            await ReadExactlyAsync(stream, sealedFrame, "frames", cancellationToken).ConfigureAwait(false);
            var plaintext = new byte[length - TagSize];
            Span<byte> nonce = stackalloc byte[NonceSize];
            var index = _index++;
            if (!TryOpen(nonce, index, final: false, sealedFrame, plaintext))
            {
                if (!TryOpen(nonce, index, final: true, sealedFrame, plaintext))
                {
                    throw new KmsStorageIntegrityException("A snapshot frame failed authentication: the snapshot was modified, reordered or made with another root key.");
                }

                LastWasFinal = true;
                if (stream.CanSeek ? stream.Position != stream.Length : stream.ReadByte() != -1)
                {
                    throw new KmsStorageIntegrityException("The snapshot has data after its final frame; it was modified.");
                }
            }

            try
            {
                return JsonSerializer.Deserialize(plaintext, KeyStoreSnapshotJsonContext.Default.SnapshotFrame)
                    ?? throw new KmsStorageIntegrityException("A snapshot frame is empty.");
            }
            catch (JsonException e)
            {
                throw new KmsStorageIntegrityException("A snapshot frame does not hold valid records.", e);
            }
        }

        private bool TryOpen(Span<byte> nonce, long index, bool final, byte[] sealedFrame, byte[] plaintext)
        {
            FrameNonce(nonce, index, final);
            try
            {
                _aes.Decrypt(nonce, sealedFrame.AsSpan(0, plaintext.Length), sealedFrame.AsSpan(plaintext.Length), plaintext, associatedData);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }

        public void Dispose() => _aes.Dispose();
    }
}

/// <summary>What a snapshot holds.</summary>
/// <param name="Keys">The number of keys.</param>
/// <param name="KeyMaterials">The number of key-material versions of all keys.</param>
/// <param name="Aliases">The number of aliases.</param>
/// <param name="CreatedAt">When the snapshot was made.</param>
/// <param name="SourceRootKeyCheckValue">The key check value of the root key of the store it came from (not the key).</param>
public sealed record KeyStoreSnapshotSummary(int Keys, int KeyMaterials, int Aliases, DateTimeOffset CreatedAt, string SourceRootKeyCheckValue)
{
    /// <summary>The number of grants (0 for a snapshot made before grants).</summary>
    public int Grants { get; init; }
}

/// <summary>Options of <see cref="KeyStoreSnapshot.ImportAsync"/>.</summary>
public sealed class KeyStoreImportOptions
{
    /// <summary>
    /// The root key of the destination store when it is not the snapshot's (moving keys to a store under
    /// another root key, or changing the root key): every key material is re-wrapped under it.
    /// <see langword="null"/> (the default) means the same root key as the snapshot's source.
    /// </summary>
    public IRootKeyProvider? DestinationRootKeyProvider { get; set; }

    /// <summary>
    /// Replace keys, aliases and grants the destination already holds with the snapshot's. Off by default: an
    /// import then refuses, before writing anything, a destination that holds any of them.
    /// </summary>
    public bool Overwrite { get; set; }
}

internal sealed class SnapshotFrame
{
    public List<KeyRecord>? Keys { get; set; }
    public List<AliasRecord>? Aliases { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<GrantRecord>? Grants { get; set; }
    public SnapshotEnd? End { get; set; }
}

internal sealed class SnapshotEnd
{
    public int Keys { get; set; }
    public int KeyMaterials { get; set; }
    public int Aliases { get; set; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Grants { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    AllowDuplicateProperties = false,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(SnapshotFrame))]
internal sealed partial class KeyStoreSnapshotJsonContext : JsonSerializerContext;
