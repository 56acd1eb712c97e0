using System.Collections.Concurrent;

namespace EnvelopeKms.CustomKeyStores;

/// <summary>
/// What a backend factory gets when a custom key store connects: the store's settings and its credential,
/// unwrapped by the key manager for this one call. <see cref="ToString"/> never shows the credential.
/// </summary>
public sealed class CustomKeyStoreConnectionContext
{
    /// <summary>The custom key store id.</summary>
    public required string CustomKeyStoreId { get; init; }

    /// <summary>The custom key store name.</summary>
    public required string CustomKeyStoreName { get; init; }

    /// <summary>The type.</summary>
    public required CustomKeyStoreType CustomKeyStoreType { get; init; }

    /// <summary>HSM key stores: the cluster id.</summary>
    public string? CloudHsmClusterId { get; init; }

    /// <summary>External key stores: the proxy URI endpoint.</summary>
    public string? XksProxyUriEndpoint { get; init; }

    /// <summary>External key stores: the proxy URI path.</summary>
    public string? XksProxyUriPath { get; init; }

    /// <summary>External key stores: the access key id of the proxy credential.</summary>
    public string? XksProxyAccessKeyId { get; init; }

    /// <summary>
    /// The secret: the <c>kmsuser</c> password of an HSM key store (the PKCS#11 user PIN), or the secret access key of an
    /// external key store's proxy credential. The factory may keep it for the backend's life (to log in again); it never
    /// logs it.
    /// </summary>
    public required string Credential { get; init; }

    /// <summary>Describes the store without its credential.</summary>
    public override string ToString() => $"{CustomKeyStoreType.ToKmsName()} custom key store {CustomKeyStoreId} ('{CustomKeyStoreName}')";
}

/// <summary>
/// The backends that custom key stores can use, registered in code (in AWS KMS they are AWS resources; in-process
/// they are factories): an HSM "cluster" id maps to a factory of HSM backends, and an external key store proxy
/// (URI endpoint and path) to a factory of external key store backends. <c>CreateCustomKeyStore</c> accepts only
/// registered clusters and proxies; <c>ConnectCustomKeyStore</c> creates the backend with the store's credential.
/// Safe for concurrent use.
/// </summary>
public sealed class CustomKeyStoreBackendRegistry
{
    private readonly ConcurrentDictionary<string, Func<CustomKeyStoreConnectionContext, ICustomKeyStoreBackend>> _clusters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<CustomKeyStoreConnectionContext, ICustomKeyStoreBackend>> _proxies = new(StringComparer.Ordinal);

    /// <summary>Registers (or replaces) the HSM backend factory of a cluster id.</summary>
    /// <param name="cloudHsmClusterId">The cluster id that <c>CreateCustomKeyStore</c> names (any non-empty text; AWS's form is <c>cluster-</c> and 11 base-32 characters).</param>
    /// <param name="factory">Creates a disconnected backend for a store; called at each connection, with the store's password.</param>
    public CustomKeyStoreBackendRegistry AddCloudHsmCluster(string cloudHsmClusterId, Func<CustomKeyStoreConnectionContext, ICustomKeyStoreBackend> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cloudHsmClusterId);
        ArgumentNullException.ThrowIfNull(factory);
        _clusters[cloudHsmClusterId] = factory;
        return this;
    }

    /// <summary>Registers (or replaces) the external key store backend factory of a proxy.</summary>
    /// <param name="uriEndpoint">The proxy URI endpoint (<c>https://host[:port]</c>).</param>
    /// <param name="uriPath">The proxy URI path (<c>[/prefix]/kms/xks/v1</c>).</param>
    /// <param name="factory">Creates a disconnected backend for a store; called at each connection, with the store's credential.</param>
    public CustomKeyStoreBackendRegistry AddExternalKeyStoreProxy(string uriEndpoint, string uriPath, Func<CustomKeyStoreConnectionContext, ICustomKeyStoreBackend> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uriEndpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(uriPath);
        ArgumentNullException.ThrowIfNull(factory);
        _proxies[ProxyKey(uriEndpoint, uriPath)] = factory;
        return this;
    }

    /// <summary>Registers an in-process external key store proxy at an endpoint and path, with the default adapter options.</summary>
    public CustomKeyStoreBackendRegistry AddExternalKeyStoreProxy(string uriEndpoint, string uriPath, IExternalKeyStoreProxy proxy, ExternalKeyStoreBackendOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        return AddExternalKeyStoreProxy(uriEndpoint, uriPath, context => new ExternalKeyStoreBackend(
            proxy, new XksProxyCredential(context.XksProxyAccessKeyId ?? "", context.Credential), options));
    }

    /// <summary>Whether a cluster id is registered.</summary>
    public bool IsClusterRegistered(string cloudHsmClusterId) => _clusters.ContainsKey(cloudHsmClusterId);

    /// <summary>Whether a proxy is registered.</summary>
    public bool IsProxyRegistered(string uriEndpoint, string uriPath) => _proxies.ContainsKey(ProxyKey(uriEndpoint, uriPath));

    /// <summary>Creates the backend of a store, or returns <see langword="null"/> when nothing is registered for it.</summary>
    internal ICustomKeyStoreBackend? Create(CustomKeyStoreConnectionContext context)
    {
        Func<CustomKeyStoreConnectionContext, ICustomKeyStoreBackend>? factory = null;
        var found = context.CustomKeyStoreType == CustomKeyStoreType.AwsCloudHsm
            ? context.CloudHsmClusterId is { } cluster && _clusters.TryGetValue(cluster, out factory)
            : context.XksProxyUriEndpoint is { } endpoint && context.XksProxyUriPath is { } path && _proxies.TryGetValue(ProxyKey(endpoint, path), out factory);
        return found ? factory!(context) : null;
    }

    private static string ProxyKey(string uriEndpoint, string uriPath) => uriEndpoint.TrimEnd('/') + "|" + uriPath;
}
