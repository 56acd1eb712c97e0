using EnvelopeKms.CustomKeyStores;

namespace EnvelopeKms;

/// <summary>How KMS reaches an external key store proxy (<c>XksProxyConnectivity</c>).</summary>
public enum XksProxyConnectivityType
{
    /// <summary><c>PUBLIC_ENDPOINT</c>: the proxy has a public endpoint.</summary>
    PublicEndpoint = 1,
    /// <summary><c>VPC_ENDPOINT_SERVICE</c>: the proxy is reached through a VPC endpoint service (<see cref="CreateCustomKeyStoreRequest.XksProxyVpcEndpointServiceName"/>).</summary>
    VpcEndpointService,
}

/// <summary>
/// The credential KMS uses to authenticate to an external key store proxy (<c>XksProxyAuthenticationCredential</c>):
/// an access key id and a secret access key. <see cref="ToString"/> shows the access key id only; the secret is never
/// logged, audited or stored in the clear (the key manager keeps it wrapped by its root key).
/// </summary>
public sealed class XksProxyAuthenticationCredential
{
    /// <summary>The access key id (20–30 characters of <c>A-Z</c> and <c>2-7</c>); not secret.</summary>
    public required string AccessKeyId { get; init; }

    /// <summary>The secret access key (43–64 characters of <c>A-Z</c>, <c>a-z</c>, <c>0-9</c>, <c>+</c>, <c>/</c> and <c>=</c>).</summary>
    public required string RawSecretAccessKey { get; init; }

    /// <summary>Shows the access key id, never the secret.</summary>
    public override string ToString() => $"XksProxyAuthenticationCredential {{ AccessKeyId = {AccessKeyId} }}";
}

/// <summary>Input of <c>CreateCustomKeyStore</c>.</summary>
/// <remarks>The secrets (<see cref="KeyStorePassword"/>, <see cref="XksProxyAuthenticationCredential"/>) are never written to the audit trail.</remarks>
public sealed class CreateCustomKeyStoreRequest : KmsRequest
{
    /// <summary>A friendly name, unique among the custom key stores of the store (1–256 characters).</summary>
    public required string CustomKeyStoreName { get; init; }

    /// <summary>The type; <see cref="CustomKeyStoreType.AwsCloudHsm"/> by default, as in AWS KMS.</summary>
    public CustomKeyStoreType CustomKeyStoreType { get; init; } = CustomKeyStoreType.AwsCloudHsm;

    /// <summary>HSM key stores: the id of the HSM "cluster", naming a backend registered with <see cref="CustomKeyStoreBackendRegistry.AddCloudHsmCluster"/>.</summary>
    public string? CloudHsmClusterId { get; init; }

    /// <summary>HSM key stores: the trust anchor certificate (PEM) of the cluster; optional in-process, kept for reference.</summary>
    public string? TrustAnchorCertificate { get; init; }

    /// <summary>HSM key stores: the password of the crypto user <c>kmsuser</c> (for PKCS#11: the token's user PIN), 7–32 characters. Never recorded.</summary>
    public string? KeyStorePassword { get; init; }

    /// <summary>External key stores: the proxy's URI endpoint, <c>https://</c> and a host name (with an optional port).</summary>
    public string? XksProxyUriEndpoint { get; init; }

    /// <summary>External key stores: the base path of the proxy API, <c>/kms/xks/v1</c> with an optional prefix.</summary>
    public string? XksProxyUriPath { get; init; }

    /// <summary>External key stores: how the proxy is reached.</summary>
    public XksProxyConnectivityType? XksProxyConnectivity { get; init; }

    /// <summary>External key stores with <see cref="XksProxyConnectivityType.VpcEndpointService"/>: the endpoint service name.</summary>
    public string? XksProxyVpcEndpointServiceName { get; init; }

    /// <summary>External key stores: the credential for the proxy. Never recorded (not even its access key id in the audit trail's parameters).</summary>
    public XksProxyAuthenticationCredential? XksProxyAuthenticationCredential { get; init; }
}

/// <summary>Output of <c>CreateCustomKeyStore</c>.</summary>
public sealed record CreateCustomKeyStoreResponse(string CustomKeyStoreId);

/// <summary>Input of <c>ConnectCustomKeyStore</c>.</summary>
public sealed class ConnectCustomKeyStoreRequest : KmsRequest
{
    /// <summary>The custom key store id (<c>cks-</c> and 17 hex characters).</summary>
    public required string CustomKeyStoreId { get; init; }
}

/// <summary>
/// Output of <c>ConnectCustomKeyStore</c>. AWS KMS connects asynchronously and returns nothing; in-process the
/// connection is attempted during the call, and its outcome is returned here as well as by <c>DescribeCustomKeyStores</c>.
/// </summary>
public sealed class ConnectCustomKeyStoreResponse
{
    /// <summary>The state after the attempt: <see cref="CustomKeyStoreConnectionState.Connected"/> or <see cref="CustomKeyStoreConnectionState.Failed"/>.</summary>
    public required CustomKeyStoreConnectionState ConnectionState { get; init; }

    /// <summary>Why the attempt failed, when it did.</summary>
    public CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; init; }
}

/// <summary>Input of <c>DisconnectCustomKeyStore</c>.</summary>
public sealed class DisconnectCustomKeyStoreRequest : KmsRequest
{
    /// <summary>The custom key store id.</summary>
    public required string CustomKeyStoreId { get; init; }
}

/// <summary>Input of <c>DescribeCustomKeyStores</c>: one store by id or by name, or every store a page at a time.</summary>
public sealed class DescribeCustomKeyStoresRequest : KmsRequest
{
    /// <summary>The id of the one store to describe; not with <see cref="CustomKeyStoreName"/>.</summary>
    public string? CustomKeyStoreId { get; init; }

    /// <summary>The name of the one store to describe; not with <see cref="CustomKeyStoreId"/>.</summary>
    public string? CustomKeyStoreName { get; init; }

    /// <summary>The page size, 1–1000 (default 1000).</summary>
    public int? Limit { get; init; }

    /// <summary>The <see cref="PagedResponse{T}.NextMarker"/> of the previous page.</summary>
    public string? Marker { get; init; }
}

/// <summary>Output of <c>DescribeCustomKeyStores</c>.</summary>
public sealed class DescribeCustomKeyStoresResponse : PagedResponse<CustomKeyStoreEntry>;

/// <summary>The external key store proxy settings of a custom key store (<c>XksProxyConfiguration</c>); never the secret.</summary>
public sealed class XksProxyConfiguration
{
    /// <summary>How the proxy is reached.</summary>
    public required XksProxyConnectivityType Connectivity { get; init; }

    /// <summary>The access key id of the proxy credential.</summary>
    public required string AccessKeyId { get; init; }

    /// <summary>The URI endpoint.</summary>
    public required string UriEndpoint { get; init; }

    /// <summary>The URI path.</summary>
    public required string UriPath { get; init; }

    /// <summary>The VPC endpoint service name, with VPC connectivity.</summary>
    public string? VpcEndpointServiceName { get; init; }
}

/// <summary>A custom key store as <c>DescribeCustomKeyStores</c> shows it (<c>CustomKeyStoresListEntry</c>).</summary>
public sealed class CustomKeyStoreEntry
{
    /// <summary>The id.</summary>
    public required string CustomKeyStoreId { get; init; }

    /// <summary>The name.</summary>
    public required string CustomKeyStoreName { get; init; }

    /// <summary>The type.</summary>
    public required CustomKeyStoreType CustomKeyStoreType { get; init; }

    /// <summary>The connection state.</summary>
    public required CustomKeyStoreConnectionState ConnectionState { get; init; }

    /// <summary>Why the store is <see cref="CustomKeyStoreConnectionState.Failed"/>, when it is.</summary>
    public CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; init; }

    /// <summary>When the store was created.</summary>
    public required DateTimeOffset CreationDate { get; init; }

    /// <summary>HSM key stores: the cluster id.</summary>
    public string? CloudHsmClusterId { get; init; }

    /// <summary>HSM key stores: the trust anchor certificate given at creation.</summary>
    public string? TrustAnchorCertificate { get; init; }

    /// <summary>External key stores: the proxy settings.</summary>
    public XksProxyConfiguration? XksProxyConfiguration { get; init; }
}

/// <summary>Input of <c>UpdateCustomKeyStore</c>. Only the name may change while the store is connected; everything else needs it disconnected.</summary>
/// <remarks>The secrets (<see cref="KeyStorePassword"/>, <see cref="XksProxyAuthenticationCredential"/>) are never written to the audit trail.</remarks>
public sealed class UpdateCustomKeyStoreRequest : KmsRequest
{
    /// <summary>The custom key store id.</summary>
    public required string CustomKeyStoreId { get; init; }

    /// <summary>A new name.</summary>
    public string? NewCustomKeyStoreName { get; init; }

    /// <summary>HSM key stores: a new <c>kmsuser</c> password (PIN); it must be the one the HSM already has. Never recorded.</summary>
    public string? KeyStorePassword { get; init; }

    /// <summary>HSM key stores: another cluster id (KMS requires a cluster related to the original one; in-process any registered cluster).</summary>
    public string? CloudHsmClusterId { get; init; }

    /// <summary>External key stores: a new proxy URI endpoint.</summary>
    public string? XksProxyUriEndpoint { get; init; }

    /// <summary>External key stores: a new proxy URI path.</summary>
    public string? XksProxyUriPath { get; init; }

    /// <summary>External key stores: new connectivity.</summary>
    public XksProxyConnectivityType? XksProxyConnectivity { get; init; }

    /// <summary>External key stores: a new VPC endpoint service name.</summary>
    public string? XksProxyVpcEndpointServiceName { get; init; }

    /// <summary>External key stores: a new proxy credential. Never recorded.</summary>
    public XksProxyAuthenticationCredential? XksProxyAuthenticationCredential { get; init; }
}

/// <summary>Input of <c>DeleteCustomKeyStore</c>: the store must be disconnected and hold no KMS keys.</summary>
public sealed class DeleteCustomKeyStoreRequest : KmsRequest
{
    /// <summary>The custom key store id.</summary>
    public required string CustomKeyStoreId { get; init; }
}

/// <summary>The external key of a KMS key in an external key store (<c>XksKeyConfiguration</c>).</summary>
public sealed record XksKeyConfiguration(string Id);

/// <summary>The AWS KMS names of <see cref="XksProxyConnectivityType"/>.</summary>
public static class XksProxyConnectivityNames
{
    /// <summary><c>PUBLIC_ENDPOINT</c> or <c>VPC_ENDPOINT_SERVICE</c>.</summary>
    public static string ToKmsName(this XksProxyConnectivityType value) => value switch
    {
        XksProxyConnectivityType.PublicEndpoint => "PUBLIC_ENDPOINT",
        XksProxyConnectivityType.VpcEndpointService => "VPC_ENDPOINT_SERVICE",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Parses an AWS KMS connectivity name.</summary>
    public static bool TryParse(string? name, out XksProxyConnectivityType value)
    {
        foreach (var candidate in Enum.GetValues<XksProxyConnectivityType>())
        {
            if (string.Equals(candidate.ToKmsName(), name, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
