namespace EnvelopeKms.CustomKeyStores;

/// <summary>
/// The external key store contract, modelled on the AWS XKS proxy API (<c>aws/aws-kms-xksproxy-api-spec</c>):
/// the four operations KMS calls on a proxy in front of an external key manager. Keys are AES-256 keys that never
/// leave the external key manager; encryption is AES-GCM with a 12-byte IV and a 16-byte tag, binding additional
/// authenticated data. Every call carries the proxy credential (the XKS API signs requests with SigV4 under it; an
/// in-process proxy compares it) and request metadata for the proxy's own authorization and logs.
/// </summary>
/// <remarks>
/// <para>A proxy reports failures by throwing <see cref="XksProxyException"/> with an <see cref="XksErrorName"/>; anything
/// else it throws, or a response that breaks the contract (a wrong IV or tag length, a plaintext of another length),
/// is an invalid response. <see cref="ExternalKeyStoreBackend"/> maps both to the exceptions KMS callers see
/// (see <c>docs/custom-key-stores.md</c>), and bounds every call by its timeout (250 ms by default, as in KMS).</para>
/// <para>A production implementation is an HTTPS client (<c>POST {uriEndpoint}{uriPath}/keys/{keyId}/encrypt</c>, ...);
/// this version ships the contract and <see cref="InProcessExternalKeyStoreProxy"/>.</para>
/// </remarks>
public interface IExternalKeyStoreProxy
{
    /// <summary><c>GetHealthStatus</c>: whether the proxy and its external key manager can serve requests.</summary>
    ValueTask<XksHealthStatus> GetHealthStatusAsync(XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken);

    /// <summary><c>GetKeyMetadata</c>: the spec, usages and status of an external key.</summary>
    ValueTask<XksKeyMetadata> GetKeyMetadataAsync(string externalKeyId, XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken);

    /// <summary><c>Encrypt</c>: AES-GCM under the external key, binding <paramref name="additionalAuthenticatedData"/>.</summary>
    ValueTask<XksEncryptResult> EncryptAsync(string externalKeyId, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> additionalAuthenticatedData, XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken);

    /// <summary><c>Decrypt</c>: authenticates and decrypts an AES-GCM ciphertext made by <see cref="EncryptAsync"/>.</summary>
    ValueTask<byte[]> DecryptAsync(string externalKeyId, XksEncryptResult ciphertext, ReadOnlyMemory<byte> additionalAuthenticatedData, XksProxyCredential credential, XksRequestMetadata metadata, CancellationToken cancellationToken);
}

/// <summary>The credential of an external key store proxy: access key id and secret. <see cref="ToString"/> hides the secret.</summary>
public sealed class XksProxyCredential
{
    /// <summary>Creates the credential.</summary>
    public XksProxyCredential(string accessKeyId, string secretAccessKey)
    {
        ArgumentNullException.ThrowIfNull(accessKeyId);
        ArgumentNullException.ThrowIfNull(secretAccessKey);
        AccessKeyId = accessKeyId;
        SecretAccessKey = secretAccessKey;
    }

    /// <summary>The access key id.</summary>
    public string AccessKeyId { get; }

    /// <summary>The secret access key.</summary>
    public string SecretAccessKey { get; }

    /// <summary>Shows the access key id only.</summary>
    public override string ToString() => $"XKS credential {AccessKeyId}";
}

/// <summary>The <c>requestMetadata</c> KMS sends with every XKS call.</summary>
public sealed class XksRequestMetadata
{
    /// <summary>The caller of the KMS request (<c>awsPrincipalArn</c>).</summary>
    public string? AwsPrincipalArn { get; init; }

    /// <summary>The KMS operation (<c>kmsOperation</c>), such as <c>Encrypt</c> or <c>CreateKey</c>.</summary>
    public required string KmsOperation { get; init; }

    /// <summary>The KMS request id (<c>kmsRequestId</c>).</summary>
    public string? KmsRequestId { get; init; }

    /// <summary>The ARN of the KMS key (<c>kmsKeyArn</c>), for operations on a key.</summary>
    public string? KmsKeyArn { get; init; }
}

/// <summary>The answer of <c>GetHealthStatus</c>.</summary>
public sealed class XksHealthStatus
{
    /// <summary>The proxy's vendor (<c>xksProxyVendor</c>).</summary>
    public string? XksProxyVendor { get; init; }

    /// <summary>Whether at least one external key manager instance is <c>ACTIVE</c>.</summary>
    public required bool Active { get; init; }
}

/// <summary>The answer of <c>GetKeyMetadata</c>.</summary>
public sealed class XksKeyMetadata
{
    /// <summary>The key spec; KMS requires <c>AES_256</c>.</summary>
    public required string KeySpec { get; init; }

    /// <summary>The usages; KMS requires <c>ENCRYPT</c> and <c>DECRYPT</c>.</summary>
    public required IReadOnlyList<string> KeyUsage { get; init; }

    /// <summary>The status; KMS requires <c>ENABLED</c>.</summary>
    public required string KeyStatus { get; init; }
}

/// <summary>The answer of <c>Encrypt</c> (and the input of <c>Decrypt</c>): ciphertext, IV and authentication tag.</summary>
public sealed class XksEncryptResult
{
    /// <summary>The ciphertext, as long as the plaintext.</summary>
    public required ReadOnlyMemory<byte> Ciphertext { get; init; }

    /// <summary>The IV (12 bytes).</summary>
    public required ReadOnlyMemory<byte> InitializationVector { get; init; }

    /// <summary>The authentication tag (16 bytes).</summary>
    public required ReadOnlyMemory<byte> AuthenticationTag { get; init; }
}

/// <summary>The error names of the XKS proxy API.</summary>
public enum XksErrorName
{
    /// <summary><c>ValidationException</c> (400): the request is malformed.</summary>
    ValidationException = 1,
    /// <summary><c>InvalidStateException</c> (400): the external key is not enabled.</summary>
    InvalidStateException,
    /// <summary><c>InvalidCiphertextException</c> (400): the ciphertext, IV, tag or AAD do not authenticate.</summary>
    InvalidCiphertextException,
    /// <summary><c>InvalidKeyUsageException</c> (400): the external key does not allow the operation.</summary>
    InvalidKeyUsageException,
    /// <summary><c>AuthenticationFailedException</c> (401): the credential (signature) is not valid.</summary>
    AuthenticationFailedException,
    /// <summary><c>AccessDeniedException</c> (403): the proxy's authorization rules deny the request.</summary>
    AccessDeniedException,
    /// <summary><c>KeyNotFoundException</c> (404): no external key has the id.</summary>
    KeyNotFoundException,
    /// <summary><c>InvalidUriPathException</c> (404): the URI path is not the proxy's.</summary>
    InvalidUriPathException,
    /// <summary><c>UnsupportedOperationException</c> (501): the proxy does not implement the operation.</summary>
    UnsupportedOperationException,
    /// <summary><c>DependencyTimeoutException</c> (503): the external key manager did not answer the proxy in time.</summary>
    DependencyTimeoutException,
    /// <summary><c>InternalException</c> (500): anything else.</summary>
    InternalException,
}

/// <summary>An error the external key store proxy reported, by its XKS error name; the message never holds secrets.</summary>
public sealed class XksProxyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public XksProxyException(XksErrorName errorName, string message) : base(message) => ErrorName = errorName;

    /// <summary>Creates the exception with a cause.</summary>
    public XksProxyException(XksErrorName errorName, string message, Exception? innerException) : base(message, innerException) => ErrorName = errorName;

    /// <summary>The XKS error name.</summary>
    public XksErrorName ErrorName { get; }
}

/// <summary>The proxy could not be reached at all (the in-process analogue of a refused TCP connection or a DNS failure).</summary>
public sealed class XksProxyUnreachableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public XksProxyUnreachableException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public XksProxyUnreachableException(string message, Exception? innerException) : base(message, innerException) { }
}
