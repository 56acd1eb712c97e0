namespace EnvelopeKms.Storage;

/// <summary>
/// Persists grants (<see cref="GrantRecord"/>). A separate interface from <see cref="IKeyStore"/> so
/// that key stores written before grants keep compiling; every built-in store implements both. Grants
/// are inserted and deleted, never updated; every method changes at most one record atomically, except
/// <see cref="DeleteGrantsOfKeyAsync"/>, which deletes one record at a time and is idempotent.
/// </summary>
/// <remarks>
/// Stores keep records as given (the seal included) and map their failures to
/// <see cref="KmsStorageUnavailableException"/> and <see cref="KmsStorageIntegrityException"/> as
/// <see cref="IKeyStore"/> does. Orders are ordinal (byte-wise) orders of the ids.
/// </remarks>
public interface IGrantStore
{
    /// <summary>Reads a grant, or <see langword="null"/> when the key has no grant with that id.</summary>
    ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken);

    /// <summary>
    /// Lists up to <paramref name="limit"/> grants of <paramref name="keyId"/> ordered by grant id (ordinal),
    /// those whose ids sort after <paramref name="afterGrantId"/> when it is given.
    /// </summary>
    ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Lists every grant of <paramref name="keyId"/> whose <see cref="GrantRecord.GranteePrincipal"/> is
    /// <paramref name="granteePrincipal"/> (ordinal comparison), ordered by grant id: the key manager's
    /// authorization path, an indexed lookup in the database stores.
    /// </summary>
    ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken);

    /// <summary>
    /// Lists up to <paramref name="limit"/> grants of every key whose <see cref="GrantRecord.RetiringPrincipal"/>
    /// is <paramref name="retiringPrincipal"/>, ordered by (key id, grant id) ordinal, those after the
    /// position (<paramref name="afterKeyId"/>, <paramref name="afterGrantId"/>) when it is given.
    /// </summary>
    /// <exception cref="ArgumentException">Only one of <paramref name="afterKeyId"/> and <paramref name="afterGrantId"/> is given.</exception>
    ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken);

    /// <summary>Counts the grants of a key.</summary>
    ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Inserts a grant and returns it with version 1.</summary>
    /// <exception cref="KeyStoreConflictException">The key has a grant with that id.</exception>
    ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken);

    /// <summary>Deletes a grant whose stored version is <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="KeyStoreConflictException">The grant is missing or its version changed.</exception>
    ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>Deletes every grant of a key (when the key is purged) and returns how many it deleted. Idempotent.</summary>
    ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken);
}

/// <summary>The position rule of <see cref="IGrantStore.ListRetirableGrantsAsync"/>, shared by the built-in stores.</summary>
internal static class GrantPaging
{
    /// <summary>Throws unless the position is given whole or not at all.</summary>
    public static void CheckPosition(string? afterKeyId, string? afterGrantId)
    {
        if ((afterKeyId is null) != (afterGrantId is null))
        {
            throw new ArgumentException("A position in the retirable grants is a key id and a grant id: give both or neither.", afterKeyId is null ? nameof(afterKeyId) : nameof(afterGrantId));
        }
    }

    /// <summary>Whether a grant sorts after the position (key id, then grant id, ordinal); every grant does when there is no position.</summary>
    public static bool IsAfter(GrantRecord grant, string? afterKeyId, string? afterGrantId)
    {
        if (afterKeyId is null || afterGrantId is null)
        {
            return true;
        }

        var byKey = string.CompareOrdinal(grant.KeyId, afterKeyId);
        return byKey > 0 || (byKey == 0 && string.CompareOrdinal(grant.GrantId, afterGrantId) > 0);
    }
}
