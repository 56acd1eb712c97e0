using EnvelopeKms.Storage;

namespace EnvelopeKms.Tests.Infrastructure;

/// <summary>An <see cref="IKeyStore"/> that passes every call to another; tests derive from it to change one behaviour.</summary>
internal class DelegatingKeyStore(IKeyStore inner) : IKeyStore
{
    protected IKeyStore Inner => inner;

    public virtual ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => inner.GetMetadataAsync(cancellationToken);
    public virtual ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken) => inner.InitializeMetadataAsync(metadata, cancellationToken);
    public virtual ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) => inner.GetKeyAsync(keyId, cancellationToken);
    public virtual ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken) => inner.ListKeysAsync(afterKeyId, limit, cancellationToken);
    public virtual ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken) => inner.InsertKeyAsync(key, cancellationToken);
    public virtual ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken) => inner.UpdateKeyAsync(key, cancellationToken);
    public virtual ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken) => inner.DeleteKeyAsync(keyId, expectedVersion, cancellationToken);
    public virtual ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken) => inner.GetAliasAsync(aliasName, cancellationToken);
    public virtual ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken) => inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, cancellationToken);
    public virtual ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => inner.InsertAliasAsync(alias, cancellationToken);
    public virtual ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => inner.UpdateAliasAsync(alias, cancellationToken);
    public virtual ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken) => inner.DeleteAliasAsync(aliasName, expectedVersion, cancellationToken);
}

/// <summary>A <see cref="DelegatingKeyStore"/> that also passes grant calls to a store that keeps grants.</summary>
internal class DelegatingGrantStore(InMemoryKeyStore inner) : DelegatingKeyStore(inner), IGrantStore
{
    public virtual ValueTask<GrantRecord?> GetGrantAsync(string keyId, string grantId, CancellationToken cancellationToken) => inner.GetGrantAsync(keyId, grantId, cancellationToken);
    public virtual ValueTask<IReadOnlyList<GrantRecord>> ListGrantsAsync(string keyId, string? afterGrantId, int limit, CancellationToken cancellationToken) => inner.ListGrantsAsync(keyId, afterGrantId, limit, cancellationToken);
    public virtual ValueTask<IReadOnlyList<GrantRecord>> ListGrantsForGranteeAsync(string keyId, string granteePrincipal, CancellationToken cancellationToken) => inner.ListGrantsForGranteeAsync(keyId, granteePrincipal, cancellationToken);
    public virtual ValueTask<IReadOnlyList<GrantRecord>> ListRetirableGrantsAsync(string retiringPrincipal, string? afterKeyId, string? afterGrantId, int limit, CancellationToken cancellationToken) => inner.ListRetirableGrantsAsync(retiringPrincipal, afterKeyId, afterGrantId, limit, cancellationToken);
    public virtual ValueTask<int> CountGrantsAsync(string keyId, CancellationToken cancellationToken) => inner.CountGrantsAsync(keyId, cancellationToken);
    public virtual ValueTask<GrantRecord> InsertGrantAsync(GrantRecord grant, CancellationToken cancellationToken) => inner.InsertGrantAsync(grant, cancellationToken);
    public virtual ValueTask DeleteGrantAsync(string keyId, string grantId, long expectedVersion, CancellationToken cancellationToken) => inner.DeleteGrantAsync(keyId, grantId, expectedVersion, cancellationToken);
    public virtual ValueTask<int> DeleteGrantsOfKeyAsync(string keyId, CancellationToken cancellationToken) => inner.DeleteGrantsOfKeyAsync(keyId, cancellationToken);
}
