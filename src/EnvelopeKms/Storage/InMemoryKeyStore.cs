namespace EnvelopeKms.Storage;

/// <summary>
/// An ephemeral key store that keeps records in process memory: every key is lost when the process
/// ends. Meant for tests and demos; the key manager logs a warning when it runs on one.
/// </summary>
public sealed class InMemoryKeyStore : IKeyStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, KeyRecord> _keys = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, AliasRecord> _aliases = new(StringComparer.Ordinal);
    private KeyStoreMetadata? _metadata;

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_metadata);
        }
    }

    /// <inheritdoc />
    public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        lock (_gate)
        {
            _metadata ??= metadata;
            return ValueTask.FromResult(_metadata);
        }
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_keys.GetValueOrDefault(keyId));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<KeyRecord> page = [.. _keys.Values
                .Where(k => afterKeyId is null || string.CompareOrdinal(k.KeyId, afterKeyId) > 0)
                .Take(limit)];
            return ValueTask.FromResult(page);
        }
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            var stored = key with { Version = 1 };
            if (!_keys.TryAdd(key.KeyId, stored))
            {
                throw new KeyStoreConflictException($"Key '{key.KeyId}' already exists.");
            }

            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            CheckVersion(_keys.GetValueOrDefault(key.KeyId)?.Version, key.Version, key.KeyId);
            var stored = key with { Version = key.Version + 1 };
            _keys[key.KeyId] = stored;
            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            CheckVersion(_keys.GetValueOrDefault(keyId)?.Version, expectedVersion, keyId);
            _keys.Remove(keyId);
            return ValueTask.CompletedTask;
        }
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_aliases.GetValueOrDefault(aliasName));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<AliasRecord> page = [.. _aliases.Values
                .Where(a => (targetKeyId is null || a.TargetKeyId == targetKeyId)
                            && (afterAliasName is null || string.CompareOrdinal(a.AliasName, afterAliasName) > 0))
                .Take(limit)];
            return ValueTask.FromResult(page);
        }
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        lock (_gate)
        {
            var stored = alias with { Version = 1 };
            if (!_aliases.TryAdd(alias.AliasName, stored))
            {
                throw new KeyStoreConflictException($"Alias '{alias.AliasName}' already exists.");
            }

            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alias);
        lock (_gate)
        {
            CheckVersion(_aliases.GetValueOrDefault(alias.AliasName)?.Version, alias.Version, alias.AliasName);
            var stored = alias with { Version = alias.Version + 1 };
            _aliases[alias.AliasName] = stored;
            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            CheckVersion(_aliases.GetValueOrDefault(aliasName)?.Version, expectedVersion, aliasName);
            _aliases.Remove(aliasName);
            return ValueTask.CompletedTask;
        }
    }

    private static void CheckVersion(long? stored, long expected, string name)
    {
        if (stored != expected)
        {
            throw new KeyStoreConflictException($"Record '{name}' changed since it was read.");
        }
    }
}
