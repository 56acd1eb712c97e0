namespace EnvelopeKms.Storage;

/// <summary>
/// Persists keys, their wrapped key material and aliases. A store is a dumb, durable map of
/// records with optimistic concurrency: every record carries a <see cref="KeyRecord.Version"/>, a
/// write states the version it read, and a write against a changed record fails with
/// <see cref="KeyStoreConflictException"/>. Every method writes one record atomically: after a
/// crash a record is either the old one or the new one.
/// </summary>
/// <remarks>
/// Stores never see plaintext key material: the key manager wraps it with the root key first.
/// Implementations map their own failures to <see cref="KmsStorageUnavailableException"/> (the store
/// could not be reached; nothing changed) or <see cref="KmsStorageIntegrityException"/> (a record is
/// unreadable; it is left in place).
/// </remarks>
public interface IKeyStore
{
    /// <summary>Reads the store's metadata, or <see langword="null"/> for a new, empty store.</summary>
    ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes the store's metadata if the store has none yet and returns the metadata in force: the
    /// given one, or the one another instance wrote first.
    /// </summary>
    ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken);

    /// <summary>Reads a key, or <see langword="null"/> when there is none with that id.</summary>
    ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Lists up to <paramref name="limit"/> keys whose ids sort after <paramref name="afterKeyId"/> (ordinal).</summary>
    ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken);

    /// <summary>Inserts a new key and returns it with its first version (1).</summary>
    /// <exception cref="KeyStoreConflictException">A key with that id exists.</exception>
    ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken);

    /// <summary>Replaces a key whose stored version is <c>key.Version</c> and returns it with the next version.</summary>
    /// <exception cref="KeyStoreConflictException">The key is missing or its version changed.</exception>
    ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken);

    /// <summary>Deletes a key whose stored version is <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="KeyStoreConflictException">The key is missing or its version changed.</exception>
    ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>Reads an alias, or <see langword="null"/>.</summary>
    ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken);

    /// <summary>
    /// Lists up to <paramref name="limit"/> aliases whose names sort after <paramref name="afterAliasName"/>
    /// (ordinal), only those of <paramref name="targetKeyId"/> when it is given.
    /// </summary>
    ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken);

    /// <summary>Inserts a new alias and returns it with version 1.</summary>
    /// <exception cref="KeyStoreConflictException">An alias with that name exists.</exception>
    ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken);

    /// <summary>Replaces an alias whose stored version is <c>alias.Version</c>.</summary>
    /// <exception cref="KeyStoreConflictException">The alias is missing or its version changed.</exception>
    ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken);

    /// <summary>Deletes an alias whose stored version is <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="KeyStoreConflictException">The alias is missing or its version changed.</exception>
    ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken);
}

/// <summary>A write lost an optimistic-concurrency race; the key manager re-reads and retries.</summary>
public sealed class KeyStoreConflictException : Exception
{
    /// <summary>Initializes the exception.</summary>
    public KeyStoreConflictException(string message) : base(message) { }

    /// <summary>Initializes the exception.</summary>
    public KeyStoreConflictException(string message, Exception? innerException) : base(message, innerException) { }
}
