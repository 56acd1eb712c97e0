using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EnvelopeKms.Storage;

/// <summary>
/// A durable key store in one directory: one JSON document per key (<c>keys/</c>), per alias
/// (<c>aliases/</c>) and per grant (<c>grants/KEY-ID/GRANT-ID.json</c>) plus <c>store.json</c>. Every write goes to a temporary file in the same
/// directory, is flushed to disk, and then atomically renamed over the committed file, so a crash
/// leaves either the old or the new document and a half-written file never shadows a committed
/// one. Writers take an exclusive lock file, so several processes may share the directory.
/// Key material in the documents is wrapped by the root key; nothing secret is stored in plaintext.
/// </summary>
public sealed class FileSystemKeyStore : IKeyStore, IGrantStore, ICustomKeyStoreRecordStore
{
    internal const int FormatVersion = 1;
    private const string TempSuffix = ".tmp";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private readonly string _keysDirectory;
    private readonly string _aliasesDirectory;
    private readonly string _grantsDirectory;
    private readonly string _customKeyStoresDirectory;
    private readonly string _metadataPath;
    private readonly string _lockPath;
    private readonly Lock _writerGate = new();
    private readonly Action<string>? _writeStepObserver;
    private bool _leftoversRemoved;

    /// <summary>Opens (and creates when missing) a key store in <paramref name="directory"/>.</summary>
    /// <exception cref="KmsStorageUnavailableException">The directory cannot be created or written.</exception>
    public FileSystemKeyStore(string directory) : this(directory, null)
    {
    }

    /// <param name="directory">The store directory.</param>
    /// <param name="writeStepObserver">Called with the name of each step of a write (crash tests only).</param>
    internal FileSystemKeyStore(string directory, Action<string>? writeStepObserver)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        _keysDirectory = Path.Combine(Directory, "keys");
        _aliasesDirectory = Path.Combine(Directory, "aliases");
        _grantsDirectory = Path.Combine(Directory, "grants");
        _customKeyStoresDirectory = Path.Combine(Directory, "custom-key-stores");
        _metadataPath = Path.Combine(Directory, "store.json");
        _lockPath = Path.Combine(Directory, ".lock");
        _writeStepObserver = writeStepObserver;
        try
        {
            System.IO.Directory.CreateDirectory(_keysDirectory);
            System.IO.Directory.CreateDirectory(_aliasesDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The key store directory '{Directory}' cannot be created: {e.Message}", e);
        }
    }

    /// <summary>The full path of the store directory.</summary>
    public string Directory { get; }

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult(ReadMetadata());

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            if (ReadMetadata() is { } existing)
            {
                return existing;
            }

            Commit(_metadataPath, JsonSerializer.SerializeToUtf8Bytes(
                new MetadataFile { FormatVersion = FormatVersion, Metadata = metadata }, FileSystemKeyStoreJsonContext.Default.MetadataFile));
            return metadata;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken)
        => ValueTask.FromResult(ReadKey(KeyPath(keyId)));

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken)
    {
        var ids = EnumerateDocuments(_keysDirectory)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Where(id => afterKeyId is null || string.CompareOrdinal(id, afterKeyId) > 0)
            .Order(StringComparer.Ordinal);
        var page = new List<KeyRecord>();
        foreach (var id in ids)
        {
            if (page.Count == limit)
            {
                break;
            }

            if (!IsValidKeyId(id))
            {
                throw new KmsStorageIntegrityException($"The key directory '{_keysDirectory}' holds '{id}.json', which is not named after a key id; it was left in place.");
            }

            // A key deleted between the listing and the read is simply skipped.
            if (ReadKey(KeyPath(id)) is { } key)
            {
                page.Add(key);
            }
        }

        return ValueTask.FromResult<IReadOnlyList<KeyRecord>>(page);
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var path = KeyPath(key.KeyId);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            if (ReadKey(path) is not null)
            {
                throw new KeyStoreConflictException($"Key '{key.KeyId}' already exists.");
            }

            var stored = key with { Version = 1 };
            Commit(path, SerializeKey(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var path = KeyPath(key.KeyId);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            CheckVersion(ReadKey(path)?.Version, key.Version, key.KeyId);
            var stored = key with { Version = key.Version + 1 };
            Commit(path, SerializeKey(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
    {
        var path = KeyPath(keyId);
        WriteLocked(() =>
        {
            CheckVersion(ReadKey(path)?.Version, expectedVersion, keyId);
            Remove(path);
            return true;
        }, cancellationToken);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken)
        => ValueTask.FromResult(ReadAlias(AliasPath(aliasName)));

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
    {
        IReadOnlyList<AliasRecord> page = [.. EnumerateDocuments(_aliasesDirectory)
            .Select(ReadAlias)
            .OfType<AliasRecord>()
            .Where(a => (targetKeyId is null || a.TargetKeyId == targetKeyId)
                        && (afterAliasName is null || string.CompareOrdinal(a.AliasName, afterAliasName) > 0))
            .OrderBy(a => a.AliasName, StringComparer.Ordinal)
            .Take(limit)];
        return ValueTask.FromResult(page);
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var path = AliasPath(alias.AliasName);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            if (ReadAlias(path) is not null)
            {
                throw new KeyStoreConflictException($"Alias '{alias.AliasName}' already exists.");
            }

            var stored = alias with { Version = 1 };
            Commit(path, SerializeAlias(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        var path = AliasPath(alias.AliasName);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            CheckVersion(ReadAlias(path)?.Version, alias.Version, alias.AliasName);
            var stored = alias with { Version = alias.Version + 1 };
            Commit(path, SerializeAlias(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
    {
        var path = AliasPath(aliasName);
        WriteLocked(() =>
        {
            CheckVersion(ReadAlias(path)?.Version, expectedVersion, aliasName);
            Remove(path);
            return true;
        }, cancellationToken);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken)
        => ValueTask.FromResult(ReadGrant(GrantPath(keyId, grantId)));

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        IReadOnlyList<GrantRecord> page = [.. ReadGrantsOfKey(keyId, afterGrantId, limit)];
        return ValueTask.FromResult(page);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(granteePrincipal);
        IReadOnlyList<GrantRecord> grants = [.. ReadGrantsOfKey(keyId, null, int.MaxValue)
            .Where(g => string.Equals(g.GranteePrincipal, granteePrincipal, StringComparison.Ordinal))];
        return ValueTask.FromResult(grants);
    }

    /// <inheritdoc />
    /// <remarks>This store has no index of retiring principals: it reads every grant of every key.</remarks>
    public ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retiringPrincipal);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        GrantPaging.CheckPosition(afterKeyId, afterGrantId);
        var page = new List<GrantRecord>();
        foreach (var keyId in GrantKeyIds().Where(id => afterKeyId is null || string.CompareOrdinal(id, afterKeyId) >= 0))
        {
            foreach (var grant in ReadGrantsOfKey(keyId, string.Equals(keyId, afterKeyId, StringComparison.Ordinal) ? afterGrantId : null, int.MaxValue))
            {
                if (page.Count == limit)
                {
                    return ValueTask.FromResult<IReadOnlyList<GrantRecord>>(page);
                }

                if (string.Equals(grant.RetiringPrincipal, retiringPrincipal, StringComparison.Ordinal))
                {
                    page.Add(grant);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<GrantRecord>>(page);
    }

    /// <inheritdoc />
    public ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken)
        => ValueTask.FromResult(GrantIdsOfKey(keyId).Count);

    /// <inheritdoc />
    public ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var path = GrantPath(grant.KeyId, grant.GrantId);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            if (ReadGrant(path) is not null)
            {
                throw new KeyStoreConflictException($"Key '{grant.KeyId}' already has grant '{grant.GrantId}'.");
            }

            var stored = grant with { Version = 1 };
            CreateDirectory(Path.GetDirectoryName(path)!);
            Commit(path, SerializeGrant(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken)
    {
        var path = GrantPath(keyId, grantId);
        WriteLocked(() =>
        {
            CheckVersion(ReadGrant(path)?.Version, expectedVersion, grantId);
            Remove(path);
            return true;
        }, cancellationToken);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Deletes one document at a time; after a crash part-way, running it again deletes the rest.</remarks>
    public ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        var directory = GrantDirectory(keyId);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            var deleted = 0;
            foreach (var grantId in GrantIdsOfKey(keyId))
            {
                Remove(Path.Combine(directory, grantId + ".json"));
                deleted++;
            }

            try
            {
                System.IO.Directory.Delete(directory, recursive: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Missing, or holding a leftover temporary file: an empty or stray directory holds no grant.
            }

            return deleted;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord?> GetCustomKeyStoreAsync(string customKeyStoreId, CancellationToken cancellationToken)
        => ValueTask.FromResult(ReadCustomKeyStore(CustomKeyStorePath(customKeyStoreId)));

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<CustomKeyStoreRecord>> ListCustomKeyStoresAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult<IReadOnlyList<CustomKeyStoreRecord>>(ReadAllCustomKeyStores());
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> InsertCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var path = CustomKeyStorePath(record.CustomKeyStoreId);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            if (ReadCustomKeyStore(path) is not null)
            {
                throw new KeyStoreConflictException($"Custom key store '{record.CustomKeyStoreId}' already exists.");
            }

            CheckCustomKeyStoreNameFree(record);
            CreateDirectory(_customKeyStoresDirectory);
            var stored = record with { Version = 1 };
            Commit(path, SerializeCustomKeyStore(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> UpdateCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var path = CustomKeyStorePath(record.CustomKeyStoreId);
        return ValueTask.FromResult(WriteLocked(() =>
        {
            CheckVersion(ReadCustomKeyStore(path)?.Version, record.Version, record.CustomKeyStoreId);
            CheckCustomKeyStoreNameFree(record);
            var stored = record with { Version = record.Version + 1 };
            Commit(path, SerializeCustomKeyStore(stored));
            return stored;
        }, cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask DeleteCustomKeyStoreAsync(string customKeyStoreId, long expectedVersion, CancellationToken cancellationToken)
    {
        var path = CustomKeyStorePath(customKeyStoreId);
        WriteLocked(() =>
        {
            CheckVersion(ReadCustomKeyStore(path)?.Version, expectedVersion, customKeyStoreId);
            Remove(path);
            return true;
        }, cancellationToken);
        return ValueTask.CompletedTask;
    }

    private void CheckCustomKeyStoreNameFree(CustomKeyStoreRecord record)
    {
        foreach (var other in ReadAllCustomKeyStores())
        {
            if (!string.Equals(other.CustomKeyStoreId, record.CustomKeyStoreId, StringComparison.Ordinal)
                && string.Equals(other.CustomKeyStoreName, record.CustomKeyStoreName, StringComparison.Ordinal))
            {
                throw new KeyStoreConflictException($"Another custom key store ('{other.CustomKeyStoreId}') has the name '{record.CustomKeyStoreName}'.");
            }
        }
    }

    private List<CustomKeyStoreRecord> ReadAllCustomKeyStores()
    {
        if (!System.IO.Directory.Exists(_customKeyStoresDirectory))
        {
            return [];
        }

        var records = new List<CustomKeyStoreRecord>();
        foreach (var path in EnumerateDocuments(_customKeyStoresDirectory).Order(StringComparer.Ordinal))
        {
            if (ReadCustomKeyStore(path) is { } record)
            {
                records.Add(record);
            }
        }

        records.Sort((a, b) => string.CompareOrdinal(a.CustomKeyStoreId, b.CustomKeyStoreId));
        return records;
    }

    private string CustomKeyStorePath(string customKeyStoreId)
    {
        ArgumentNullException.ThrowIfNull(customKeyStoreId);

        // Ids are "cks-" and hex characters (validated by the key manager); refuse anything that could escape the directory.
        if (customKeyStoreId.Length is < 5 or > 64 || !customKeyStoreId.StartsWith("cks-", StringComparison.Ordinal)
            || customKeyStoreId.AsSpan(4).ContainsAnyExcept(LowerHex))
        {
            throw new ArgumentException($"'{customKeyStoreId}' is not a custom key store id.", nameof(customKeyStoreId));
        }

        return Path.Combine(_customKeyStoresDirectory, customKeyStoreId + ".json");
    }

    private static CustomKeyStoreRecord? ReadCustomKeyStore(string path)
    {
        var file = Read(path, FileSystemKeyStoreJsonContext.Default.CustomKeyStoreFile);
        if (file is null)
        {
            return null;
        }

        var record = Require(file.CustomKeyStore, file.FormatVersion, path);
        if (!string.Equals(Path.GetFileNameWithoutExtension(path), record.CustomKeyStoreId, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The custom key store document '{path}' names another custom key store.");
        }

        return record;
    }

    private static byte[] SerializeCustomKeyStore(CustomKeyStoreRecord record)
        => JsonSerializer.SerializeToUtf8Bytes(new CustomKeyStoreFile { FormatVersion = FormatVersion, CustomKeyStore = record }, FileSystemKeyStoreJsonContext.Default.CustomKeyStoreFile);

    private string GrantDirectory(string keyId)
    {
        if (!IsValidKeyId(keyId))
        {
            throw new ArgumentException("A key id may contain only ASCII letters, digits and '-'.", nameof(keyId));
        }

        return Path.Combine(_grantsDirectory, keyId);
    }

    private string GrantPath(string keyId, string grantId)
    {
        // Grant ids are 64 lowercase hex characters (validated by the key manager); refuse anything that could escape the directory.
        if (!IsValidKeyId(grantId))
        {
            throw new ArgumentException("A grant id may contain only ASCII letters, digits and '-'.", nameof(grantId));
        }

        return Path.Combine(GrantDirectory(keyId), grantId + ".json");
    }

    /// <summary>The ids of the keys that have a grant directory, in ordinal order.</summary>
    private List<string> GrantKeyIds()
    {
        try
        {
            return [.. System.IO.Directory.GetDirectories(_grantsDirectory)
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(IsValidKeyId)
                .Order(StringComparer.Ordinal)];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The grant directory '{_grantsDirectory}' cannot be listed: {e.Message}", e);
        }
    }

    /// <summary>The ids of a key's grants, in ordinal order.</summary>
    private List<string> GrantIdsOfKey(string keyId)
    {
        var directory = GrantDirectory(keyId);
        string[] files;
        try
        {
            files = System.IO.Directory.GetFiles(directory, "*.json");
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The grant directory '{directory}' cannot be listed: {e.Message}", e);
        }

        var ids = new List<string>(files.Length);
        foreach (var id in files.Select(Path.GetFileNameWithoutExtension).OfType<string>())
        {
            if (!IsValidKeyId(id))
            {
                throw new KmsStorageIntegrityException($"The grant directory '{directory}' holds '{id}.json', which is not named after a grant id; it was left in place.");
            }

            ids.Add(id);
        }

        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    private IEnumerable<GrantRecord> ReadGrantsOfKey(string keyId, string? afterGrantId, int limit)
    {
        var count = 0;
        foreach (var grantId in GrantIdsOfKey(keyId))
        {
            if (count == limit)
            {
                yield break;
            }

            if (afterGrantId is not null && string.CompareOrdinal(grantId, afterGrantId) <= 0)
            {
                continue;
            }

            // A grant deleted between the listing and the read is simply skipped.
            if (ReadGrant(GrantPath(keyId, grantId)) is { } grant)
            {
                count++;
                yield return grant;
            }
        }
    }

    private static GrantRecord? ReadGrant(string path)
    {
        var file = Read(path, FileSystemKeyStoreJsonContext.Default.GrantFile);
        if (file is null)
        {
            return null;
        }

        var grant = Require(file.Grant, file.FormatVersion, path);
        if (!string.Equals(Path.GetFileNameWithoutExtension(path), grant.GrantId, StringComparison.Ordinal)
            || !string.Equals(Path.GetFileName(Path.GetDirectoryName(path)), grant.KeyId, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The grant document '{path}' names another grant or key.");
        }

        return grant;
    }

    private static byte[] SerializeGrant(GrantRecord grant)
        => JsonSerializer.SerializeToUtf8Bytes(new GrantFile { FormatVersion = FormatVersion, Grant = grant }, FileSystemKeyStoreJsonContext.Default.GrantFile);

    private static void CreateDirectory(string directory)
    {
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The key store directory '{directory}' cannot be created: {e.Message}; nothing was changed.", e);
        }
    }

    private static bool IsValidKeyId(string keyId)
        => keyId.Length is > 0 and <= 128 && keyId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private string KeyPath(string keyId)
    {
        // Key ids are validated by the key manager; refuse anything that could escape the directory.
        if (!IsValidKeyId(keyId))
        {
            throw new ArgumentException("A key id may contain only ASCII letters, digits and '-'.", nameof(keyId));
        }

        return Path.Combine(_keysDirectory, keyId + ".json");
    }

    private string AliasPath(string aliasName)
    {
        // Alias names may contain '/' and ':' and differ only in case, so the file is named by a hash.
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(aliasName), hash);
        return Path.Combine(_aliasesDirectory, Convert.ToHexStringLower(hash) + ".json");
    }

    private static string[] EnumerateDocuments(string directory)
    {
        try
        {
            return System.IO.Directory.GetFiles(directory, "*.json");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The key store directory '{directory}' cannot be listed: {e.Message}", e);
        }
    }

    private KeyStoreMetadata? ReadMetadata()
    {
        var file = Read(_metadataPath, FileSystemKeyStoreJsonContext.Default.MetadataFile);
        return file is null ? null : Require(file.Metadata, file.FormatVersion, _metadataPath);
    }

    private static KeyRecord? ReadKey(string path)
    {
        var file = Read(path, FileSystemKeyStoreJsonContext.Default.KeyFile);
        if (file is null)
        {
            return null;
        }

        var key = Require(file.Key, file.FormatVersion, path);
        if (!string.Equals(Path.GetFileNameWithoutExtension(path), key.KeyId, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The key document '{path}' names another key.");
        }

        return key;
    }

    private AliasRecord? ReadAlias(string path)
    {
        var file = Read(path, FileSystemKeyStoreJsonContext.Default.AliasFile);
        if (file is null)
        {
            return null;
        }

        var alias = Require(file.Alias, file.FormatVersion, path);
        if (!string.Equals(AliasPath(alias.AliasName), path, StringComparison.Ordinal))
        {
            throw new KmsStorageIntegrityException($"The alias document '{path}' names another alias.");
        }

        return alias;
    }

    private static T? Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The key store document '{path}' cannot be read: {e.Message}", e);
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo)
                ?? throw new KmsStorageIntegrityException($"The key store document '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new KmsStorageIntegrityException($"The key store document '{path}' is not a valid document ({bytes.Length} bytes); it was left in place.", e);
        }
    }

    private static T Require<T>(T? record, int formatVersion, string path)
        where T : class
    {
        if (formatVersion != FormatVersion)
        {
            throw new KmsStorageIntegrityException($"The key store document '{path}' has format version {formatVersion}; this release reads version {FormatVersion}.");
        }

        return record ?? throw new KmsStorageIntegrityException($"The key store document '{path}' has no record.");
    }

    private static byte[] SerializeKey(KeyRecord key)
        => JsonSerializer.SerializeToUtf8Bytes(new KeyFile { FormatVersion = FormatVersion, Key = key }, FileSystemKeyStoreJsonContext.Default.KeyFile);

    private static byte[] SerializeAlias(AliasRecord alias)
        => JsonSerializer.SerializeToUtf8Bytes(new AliasFile { FormatVersion = FormatVersion, Alias = alias }, FileSystemKeyStoreJsonContext.Default.AliasFile);

    private static void CheckVersion(long? stored, long expected, string name)
    {
        if (stored != expected)
        {
            throw new KeyStoreConflictException($"Record '{name}' changed since it was read.");
        }
    }

    /// <summary>Writes a document: temporary file, flush to disk, atomic rename over the committed file.</summary>
    private void Commit(string path, byte[] content)
    {
        var temp = $"{path}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}{TempSuffix}";
        try
        {
            _writeStepObserver?.Invoke("create-temp");
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.None))
            {
                var half = content.Length / 2;
                stream.Write(content, 0, half);
                stream.Flush();
                _writeStepObserver?.Invoke("write-half");
                stream.Write(content, half, content.Length - half);
                stream.Flush(flushToDisk: true);
            }

            _writeStepObserver?.Invoke("flushed");
            File.Move(temp, path, overwrite: true);
            _writeStepObserver?.Invoke("renamed");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new KmsStorageUnavailableException($"The key store document '{path}' cannot be written: {e.Message}; nothing was changed.", e);
        }
    }

    private void Remove(string path)
    {
        try
        {
            _writeStepObserver?.Invoke("delete");
            File.Delete(path);
            _writeStepObserver?.Invoke("deleted");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KmsStorageUnavailableException($"The key store document '{path}' cannot be deleted: {e.Message}", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary file is never read as a document and is removed by the next writer.
        }
    }

    /// <summary>Runs a read-check-write under the in-process gate and the cross-process lock file.</summary>
    private T WriteLocked<T>(Func<T> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_writerGate)
        {
            using var fileLock = AcquireFileLock(cancellationToken);
            if (!_leftoversRemoved)
            {
                RemoveLeftoverTemporaryFiles();
                _leftoversRemoved = true;
            }

            return write();
        }
    }

    private FileStream AcquireFileLock(CancellationToken cancellationToken)
    {
        var started = Environment.TickCount64;
        while (true)
        {
            try
            {
                return new FileStream(_lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (Environment.TickCount64 - started < LockTimeout.TotalMilliseconds)
            {
                // Another process holds the lock; writes are short, so wait briefly.
                cancellationToken.ThrowIfCancellationRequested();
                Thread.Sleep(5);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KmsStorageUnavailableException($"The key store lock '{_lockPath}' could not be taken: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Removes temporary files left by a writer that crashed. Called while holding the lock, so no
    /// other writer is mid-write; a temporary file is never read as a committed document.
    /// </summary>
    private void RemoveLeftoverTemporaryFiles()
    {
        // The grants directory is made by the first grant written (a store from before grants has none).
        string[] grantDirectories;
        try
        {
            grantDirectories = System.IO.Directory.GetDirectories(_grantsDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            grantDirectories = [];
        }

        string[] customKeyStoreDirectory = System.IO.Directory.Exists(_customKeyStoresDirectory) ? [_customKeyStoresDirectory] : [];
        foreach (var directory in (string[])[_keysDirectory, _aliasesDirectory, Directory, .. grantDirectories, .. customKeyStoreDirectory])
        {
            foreach (var temp in System.IO.Directory.EnumerateFiles(directory, "*" + TempSuffix))
            {
                TryDelete(temp);
            }
        }
    }
}
