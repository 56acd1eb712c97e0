namespace EnvelopeKms.Storage;

/// <summary>
/// An ephemeral key store that keeps records in process memory: every key is lost when the process
/// ends. Meant for tests and demos; the key manager logs a warning when it runs on one.
/// </summary>
public sealed class InMemoryKeyStore : IKeyStore, IGrantStore, ICustomKeyStoreRecordStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, KeyRecord> _keys = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, AliasRecord> _aliases = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SortedDictionary<string, GrantRecord>> _grants = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, CustomKeyStoreRecord> _customKeyStores = new(StringComparer.Ordinal);
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

    /// <inheritdoc />
    public ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(grantId);
        lock (_gate)
        {
            return ValueTask.FromResult(_grants.GetValueOrDefault(keyId)?.GetValueOrDefault(grantId));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_gate)
        {
            IReadOnlyList<GrantRecord> page = [.. (_grants.GetValueOrDefault(keyId)?.Values ?? Enumerable.Empty<GrantRecord>())
                .Where(g => afterGrantId is null || string.CompareOrdinal(g.GrantId, afterGrantId) > 0)
                .Take(limit)];
            return ValueTask.FromResult(page);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(granteePrincipal);
        lock (_gate)
        {
            IReadOnlyList<GrantRecord> grants = [.. (_grants.GetValueOrDefault(keyId)?.Values ?? Enumerable.Empty<GrantRecord>())
                .Where(g => string.Equals(g.GranteePrincipal, granteePrincipal, StringComparison.Ordinal))];
            return ValueTask.FromResult(grants);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(retiringPrincipal);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        GrantPaging.CheckPosition(afterKeyId, afterGrantId);
        lock (_gate)
        {
            IReadOnlyList<GrantRecord> page = [.. _grants.Values
                .SelectMany(grants => grants.Values)
                .Where(g => string.Equals(g.RetiringPrincipal, retiringPrincipal, StringComparison.Ordinal)
                            && GrantPaging.IsAfter(g, afterKeyId, afterGrantId))
                .Take(limit)];
            return ValueTask.FromResult(page);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        lock (_gate)
        {
            return ValueTask.FromResult(_grants.GetValueOrDefault(keyId)?.Count ?? 0);
        }
    }

    /// <inheritdoc />
    public ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        lock (_gate)
        {
            if (!_grants.TryGetValue(grant.KeyId, out var grants))
            {
                grants = new SortedDictionary<string, GrantRecord>(StringComparer.Ordinal);
                _grants.Add(grant.KeyId, grants);
            }

            var stored = grant with { Version = 1 };
            if (!grants.TryAdd(grant.GrantId, stored))
            {
                throw new KeyStoreConflictException($"Key '{grant.KeyId}' already has grant '{grant.GrantId}'.");
            }

            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(grantId);
        lock (_gate)
        {
            var grants = _grants.GetValueOrDefault(keyId);
            CheckVersion(grants?.GetValueOrDefault(grantId)?.Version, expectedVersion, grantId);
            grants!.Remove(grantId);
            if (grants.Count == 0)
            {
                _grants.Remove(keyId);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <inheritdoc />
    public ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        lock (_gate)
        {
            return ValueTask.FromResult(_grants.Remove(keyId, out var grants) ? grants.Count : 0);
        }
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord?> GetCustomKeyStoreAsync(string customKeyStoreId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_customKeyStores.GetValueOrDefault(customKeyStoreId));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<CustomKeyStoreRecord>> ListCustomKeyStoresAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<CustomKeyStoreRecord> all = [.. _customKeyStores.Values];
            return ValueTask.FromResult(all);
        }
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> InsertCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            if (_customKeyStores.ContainsKey(record.CustomKeyStoreId))
            {
                throw new KeyStoreConflictException($"Custom key store '{record.CustomKeyStoreId}' already exists.");
            }

            CheckCustomKeyStoreNameFree(record);
            var stored = record with { Version = 1 };
            _customKeyStores.Add(record.CustomKeyStoreId, stored);
            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreRecord> UpdateCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            CheckVersion(_customKeyStores.GetValueOrDefault(record.CustomKeyStoreId)?.Version, record.Version, record.CustomKeyStoreId);
            CheckCustomKeyStoreNameFree(record);
            var stored = record with { Version = record.Version + 1 };
            _customKeyStores[record.CustomKeyStoreId] = stored;
            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask DeleteCustomKeyStoreAsync(string customKeyStoreId, long expectedVersion, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            CheckVersion(_customKeyStores.GetValueOrDefault(customKeyStoreId)?.Version, expectedVersion, customKeyStoreId);
            _customKeyStores.Remove(customKeyStoreId);
            return ValueTask.CompletedTask;
        }
    }

    private void CheckCustomKeyStoreNameFree(CustomKeyStoreRecord record)
    {
        foreach (var other in _customKeyStores.Values)
        {
            if (other.CustomKeyStoreId != record.CustomKeyStoreId && string.Equals(other.CustomKeyStoreName, record.CustomKeyStoreName, StringComparison.Ordinal))
            {
                throw new KeyStoreConflictException($"Another custom key store ('{other.CustomKeyStoreId}') has the name '{record.CustomKeyStoreName}'.");
            }
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
