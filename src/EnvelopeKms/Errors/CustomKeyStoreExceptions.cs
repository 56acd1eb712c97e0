namespace EnvelopeKms;

/// <summary>The HSM cluster is already used by another custom key store of the store. Error code <c>CloudHsmClusterInUseException</c>.</summary>
public sealed class KmsCloudHsmClusterInUseException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsCloudHsmClusterInUseException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsCloudHsmClusterInUseException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.CloudHsmClusterInUse;
}

/// <summary>The external key store proxy's URI endpoint and path are already used by another external key store. Error code <c>XksProxyUriInUseException</c>.</summary>
public sealed class KmsXksProxyUriInUseException : KmsException
{
    /// <summary>Initializes the exception with a message that names the problem.</summary>
    public KmsXksProxyUriInUseException(string message) : base(message) { }

    /// <summary>Initializes the exception with a message and the underlying cause.</summary>
    public KmsXksProxyUriInUseException(string message, Exception? innerException) : base(message, innerException) { }

    /// <inheritdoc />
    public override string ErrorCode => KmsErrorCodes.XksProxyUriInUse;
}
