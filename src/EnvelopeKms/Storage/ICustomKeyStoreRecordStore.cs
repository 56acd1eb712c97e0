using System.Text.Json.Serialization;
using EnvelopeKms.CustomKeyStores;

namespace EnvelopeKms.Storage;

/// <summary>
/// A key store that also keeps custom key store records (<c>CreateCustomKeyStore</c> and friends). The
/// built-in stores implement it; a store that does not cannot host custom key stores, and the
/// custom key store operations fail on it with <see cref="KmsUnsupportedOperationException"/>.
/// </summary>
/// <remarks>
/// Records are written by the key manager, which seals them with its root key and verifies the seal
/// on every read; a store keeps them as given. Names are unique: an insert or update that would give
/// two records the same <see cref="CustomKeyStoreRecord.CustomKeyStoreName"/> (ordinal comparison)
/// throws <see cref="KeyStoreConflictException"/> and writes nothing.
/// </remarks>
public interface ICustomKeyStoreRecordStore
{
    /// <summary>The record with this id, or <see langword="null"/>.</summary>
    /// <param name="customKeyStoreId">The custom key store id, <c>cks-</c> and 17 hex characters.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<CustomKeyStoreRecord?> GetCustomKeyStoreAsync(string customKeyStoreId, CancellationToken cancellationToken);

    /// <summary>Every record, in ordinal order of id (an account has few: KMS's quota is 10 per region).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<CustomKeyStoreRecord>> ListCustomKeyStoresAsync(CancellationToken cancellationToken);

    /// <summary>Inserts a new record and returns it with version 1.</summary>
    /// <param name="record">The record.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="KeyStoreConflictException">A record with the same id or name exists; nothing was written.</exception>
    ValueTask<CustomKeyStoreRecord> InsertCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken);

    /// <summary>Replaces the record whose version is <see cref="CustomKeyStoreRecord.Version"/> and returns it with the next version.</summary>
    /// <param name="record">The record, carrying the version it was read with.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="KeyStoreConflictException">The record is gone, its version moved on, or another record has the new name; nothing was written.</exception>
    ValueTask<CustomKeyStoreRecord> UpdateCustomKeyStoreAsync(CustomKeyStoreRecord record, CancellationToken cancellationToken);

    /// <summary>Deletes the record if its version is <paramref name="expectedVersion"/>.</summary>
    /// <param name="customKeyStoreId">The id.</param>
    /// <param name="expectedVersion">The version the caller read.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="KeyStoreConflictException">The record is gone or its version moved on; nothing was deleted.</exception>
    ValueTask DeleteCustomKeyStoreAsync(string customKeyStoreId, long expectedVersion, CancellationToken cancellationToken);
}

/// <summary>
/// The stored form of a custom key store: its name, type, where its backend is, its credential wrapped
/// by the root key, and the connection state it was last asked to be in.
/// </summary>
public sealed record CustomKeyStoreRecord
{
    /// <summary>The custom key store id: <c>cks-</c> and 17 lowercase hex characters.</summary>
    public required string CustomKeyStoreId { get; init; }
    /// <summary>The friendly name, unique in the store (1–256 characters).</summary>
    public required string CustomKeyStoreName { get; init; }
    /// <summary>The type: an HSM key store (<c>AWS_CLOUDHSM</c>) or an external key store.</summary>
    public required CustomKeyStoreType CustomKeyStoreType { get; init; }
    /// <summary>When the custom key store was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>HSM key stores: the cluster id naming the registered HSM backend (<c>cluster-</c> and 11 base-32 characters).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? CloudHsmClusterId { get; init; }
    /// <summary>HSM key stores: the trust anchor certificate (PEM) given at creation, or <see langword="null"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? TrustAnchorCertificate { get; init; }
    /// <summary>External key stores: the proxy's URI endpoint (<c>https://host[:port]</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? XksProxyUriEndpoint { get; init; }
    /// <summary>External key stores: the proxy's base path (<c>[/prefix]/kms/xks/v1</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? XksProxyUriPath { get; init; }
    /// <summary>External key stores: <c>PUBLIC_ENDPOINT</c> or <c>VPC_ENDPOINT_SERVICE</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? XksProxyConnectivity { get; init; }
    /// <summary>External key stores with VPC connectivity: the endpoint service name.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? XksProxyVpcEndpointServiceName { get; init; }
    /// <summary>External key stores: the access key id of the proxy authentication credential (not secret).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? XksProxyAccessKeyId { get; init; }
    /// <summary>
    /// The secret credential, wrapped by the root key: the key store password (the <c>kmsuser</c> PIN) of an
    /// HSM key store, or the secret access key of an external key store's proxy credential. Never plaintext.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public byte[]? WrappedCredential { get; init; }
    /// <summary>The connection state last requested or reached: connected, disconnected or failed.</summary>
    public required CustomKeyStoreConnectionState ConnectionState { get; init; }
    /// <summary>Why the last connection attempt failed, with <see cref="CustomKeyStoreConnectionState.Failed"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; init; }
    /// <summary>The root key's seal over every other field (except <see cref="Version"/>); stores keep it as given.</summary>
    public byte[]? Seal { get; init; }
    /// <summary>The optimistic-concurrency version; assigned by the store.</summary>
    public long Version { get; init; }
}
