namespace EnvelopeKms.CustomKeyStores;

/// <summary>The kind of a custom key store (<c>CustomKeyStoreType</c>).</summary>
public enum CustomKeyStoreType
{
    /// <summary><c>AWS_CLOUDHSM</c>: keys live in an HSM (here: a PKCS#11 token); keys created in it have origin <see cref="KeyOrigin.AwsCloudHsm"/>.</summary>
    AwsCloudHsm = 1,
    /// <summary><c>EXTERNAL_KEY_STORE</c>: keys live in a key manager outside EnvelopeKms; keys created in it have origin <see cref="KeyOrigin.ExternalKeyStore"/>.</summary>
    ExternalKeyStore,
}

/// <summary>The connection state of a custom key store (<c>ConnectionState</c>), as AWS KMS names it.</summary>
public enum CustomKeyStoreConnectionState
{
    /// <summary><c>CONNECTED</c>: the backend is reachable and logged in; its keys can be used.</summary>
    Connected = 1,
    /// <summary><c>CONNECTING</c>: a connection is being established.</summary>
    Connecting,
    /// <summary><c>DISCONNECTED</c>: never connected, or disconnected on request; its keys are unavailable.</summary>
    Disconnected,
    /// <summary><c>DISCONNECTING</c>: a disconnection is in progress.</summary>
    Disconnecting,
    /// <summary><c>FAILED</c>: the last connection attempt failed, or the connection was lost; see <see cref="CustomKeyStoreConnectionErrorCode"/>.</summary>
    Failed,
}

/// <summary>Why a custom key store is in the <see cref="CustomKeyStoreConnectionState.Failed"/> state (<c>ConnectionErrorCode</c>), as AWS KMS names it.</summary>
public enum CustomKeyStoreConnectionErrorCode
{
    /// <summary><c>INTERNAL_ERROR</c>: an internal error; disconnect, then connect again.</summary>
    InternalError = 1,
    /// <summary><c>NETWORK_ERRORS</c>: the backend cannot be reached (for an HSM: the device or its client stopped answering).</summary>
    NetworkErrors,
    /// <summary><c>CLUSTER_NOT_FOUND</c>: the HSM cannot be found (for PKCS#11: the module cannot be loaded, or no token has the configured label).</summary>
    ClusterNotFound,
    /// <summary><c>INSUFFICIENT_CLOUDHSM_HSMS</c>: the HSM cluster has no active HSM.</summary>
    InsufficientCloudHsmHsms,
    /// <summary><c>INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET</c>: a subnet of the HSM cluster has no free address (CloudHSM only).</summary>
    InsufficientFreeAddressesInSubnet,
    /// <summary><c>INVALID_CREDENTIALS</c>: the backend rejected the credentials (for an HSM: the user PIN).</summary>
    InvalidCredentials,
    /// <summary><c>SUBNET_NOT_FOUND</c>: a subnet of the HSM cluster was deleted (CloudHSM only).</summary>
    SubnetNotFound,
    /// <summary><c>USER_LOCKED_OUT</c>: the HSM user is locked out after too many failed logins.</summary>
    UserLockedOut,
    /// <summary><c>USER_LOGGED_IN</c>: the HSM user is already logged in by someone else, which prevents the connection.</summary>
    UserLoggedIn,
    /// <summary><c>USER_NOT_FOUND</c>: the HSM has no such user (for PKCS#11: the token's user PIN was never initialized).</summary>
    UserNotFound,
    /// <summary><c>XKS_PROXY_ACCESS_DENIED</c>: the external key store proxy denied access.</summary>
    XksProxyAccessDenied,
    /// <summary><c>XKS_PROXY_INVALID_CONFIGURATION</c>: a configuration error prevents reaching the external key store proxy.</summary>
    XksProxyInvalidConfiguration,
    /// <summary><c>XKS_PROXY_INVALID_RESPONSE</c>: the external key store proxy's response cannot be interpreted.</summary>
    XksProxyInvalidResponse,
    /// <summary><c>XKS_PROXY_INVALID_TLS_CONFIGURATION</c>: the external key store proxy's TLS configuration is not valid.</summary>
    XksProxyInvalidTlsConfiguration,
    /// <summary><c>XKS_PROXY_NOT_REACHABLE</c>: the external key store proxy cannot be reached.</summary>
    XksProxyNotReachable,
    /// <summary><c>XKS_PROXY_TIMED_OUT</c>: the external key store proxy did not answer in time.</summary>
    XksProxyTimedOut,
    /// <summary><c>XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION</c>: the proxy's endpoint service is misconfigured.</summary>
    XksVpcEndpointServiceInvalidConfiguration,
    /// <summary><c>XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND</c>: the proxy's endpoint service cannot be found.</summary>
    XksVpcEndpointServiceNotFound,
}

/// <summary>Converts the custom key store enumerations to and from their AWS KMS wire names.</summary>
public static class CustomKeyStoreNames
{
    /// <summary>Returns the AWS KMS name of a custom key store type (<c>AWS_CLOUDHSM</c>, <c>EXTERNAL_KEY_STORE</c>).</summary>
    public static string ToKmsName(this CustomKeyStoreType value) => value switch
    {
        CustomKeyStoreType.AwsCloudHsm => "AWS_CLOUDHSM",
        CustomKeyStoreType.ExternalKeyStore => "EXTERNAL_KEY_STORE",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a connection state (<c>CONNECTED</c>, ...).</summary>
    public static string ToKmsName(this CustomKeyStoreConnectionState value) => value switch
    {
        CustomKeyStoreConnectionState.Connected => "CONNECTED",
        CustomKeyStoreConnectionState.Connecting => "CONNECTING",
        CustomKeyStoreConnectionState.Disconnected => "DISCONNECTED",
        CustomKeyStoreConnectionState.Disconnecting => "DISCONNECTING",
        CustomKeyStoreConnectionState.Failed => "FAILED",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Returns the AWS KMS name of a connection error code (<c>INVALID_CREDENTIALS</c>, ...).</summary>
    public static string ToKmsName(this CustomKeyStoreConnectionErrorCode value) => value switch
    {
        CustomKeyStoreConnectionErrorCode.InternalError => "INTERNAL_ERROR",
        CustomKeyStoreConnectionErrorCode.NetworkErrors => "NETWORK_ERRORS",
        CustomKeyStoreConnectionErrorCode.ClusterNotFound => "CLUSTER_NOT_FOUND",
        CustomKeyStoreConnectionErrorCode.InsufficientCloudHsmHsms => "INSUFFICIENT_CLOUDHSM_HSMS",
        CustomKeyStoreConnectionErrorCode.InsufficientFreeAddressesInSubnet => "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET",
        CustomKeyStoreConnectionErrorCode.InvalidCredentials => "INVALID_CREDENTIALS",
        CustomKeyStoreConnectionErrorCode.SubnetNotFound => "SUBNET_NOT_FOUND",
        CustomKeyStoreConnectionErrorCode.UserLockedOut => "USER_LOCKED_OUT",
        CustomKeyStoreConnectionErrorCode.UserLoggedIn => "USER_LOGGED_IN",
        CustomKeyStoreConnectionErrorCode.UserNotFound => "USER_NOT_FOUND",
        CustomKeyStoreConnectionErrorCode.XksProxyAccessDenied => "XKS_PROXY_ACCESS_DENIED",
        CustomKeyStoreConnectionErrorCode.XksProxyInvalidConfiguration => "XKS_PROXY_INVALID_CONFIGURATION",
        CustomKeyStoreConnectionErrorCode.XksProxyInvalidResponse => "XKS_PROXY_INVALID_RESPONSE",
        CustomKeyStoreConnectionErrorCode.XksProxyInvalidTlsConfiguration => "XKS_PROXY_INVALID_TLS_CONFIGURATION",
        CustomKeyStoreConnectionErrorCode.XksProxyNotReachable => "XKS_PROXY_NOT_REACHABLE",
        CustomKeyStoreConnectionErrorCode.XksProxyTimedOut => "XKS_PROXY_TIMED_OUT",
        CustomKeyStoreConnectionErrorCode.XksVpcEndpointServiceInvalidConfiguration => "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
        CustomKeyStoreConnectionErrorCode.XksVpcEndpointServiceNotFound => "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Parses an AWS KMS connection error code name; <see langword="false"/> when it is not one.</summary>
    public static bool TryParseConnectionErrorCode(string? name, out CustomKeyStoreConnectionErrorCode value)
    {
        foreach (var candidate in Enum.GetValues<CustomKeyStoreConnectionErrorCode>())
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

    /// <summary>Parses an AWS KMS connection state name; <see langword="false"/> when it is not one.</summary>
    public static bool TryParseConnectionState(string? name, out CustomKeyStoreConnectionState value)
    {
        foreach (var candidate in Enum.GetValues<CustomKeyStoreConnectionState>())
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
