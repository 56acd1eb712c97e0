namespace EnvelopeKms.CustomKeyStores;

/// <summary>Options of <see cref="ExternalKeyStoreBackend"/>.</summary>
public sealed class ExternalKeyStoreBackendOptions
{
    /// <summary>KMS's budget for one XKS proxy call: 250 milliseconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>How long one proxy call may take before it fails as timed out (default <see cref="DefaultTimeout"/>).</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>The clock of the timeout; <see cref="TimeProvider.System"/> when <see langword="null"/>.</summary>
    public TimeProvider? TimeProvider { get; init; }
}

/// <summary>
/// The request metadata of the KMS request being served, for external key store proxies (<c>requestMetadata</c>).
/// The key manager sets it around each backend call; a backend reads it with <see cref="Current"/>.
/// </summary>
public static class CustomKeyStoreCallContext
{
    private static readonly AsyncLocal<XksRequestMetadata?> CurrentValue = new();

    /// <summary>The metadata of the current KMS request, or <see langword="null"/> outside one.</summary>
    public static XksRequestMetadata? Current => CurrentValue.Value;

    /// <summary>Sets the metadata for the rest of the calling async flow.</summary>
    internal static void Set(XksRequestMetadata metadata) => CurrentValue.Value = metadata;
}

/// <summary>
/// An <see cref="ICustomKeyStoreBackend"/> over an <see cref="IExternalKeyStoreProxy"/> (the XKS analogue). Every proxy
/// call is bounded by <see cref="ExternalKeyStoreBackendOptions.Timeout"/> and its failures become the KMS exceptions
/// a caller sees:
/// <list type="table">
/// <listheader><term>proxy outcome</term><description>connecting (<c>ConnectCustomKeyStore</c>) / using a key</description></listheader>
/// <item><term>timeout</term><description><c>XKS_PROXY_TIMED_OUT</c> / <see cref="KmsDependencyTimeoutException"/></description></item>
/// <item><term>unreachable</term><description><c>XKS_PROXY_NOT_REACHABLE</c> / <see cref="KmsCustomKeyStoreInvalidStateException"/> (XKS_PROXY_NOT_REACHABLE)</description></item>
/// <item><term><c>AuthenticationFailedException</c></term><description><c>INVALID_CREDENTIALS</c> / <see cref="KmsXksProxyIncorrectAuthenticationCredentialException"/></description></item>
/// <item><term><c>AccessDeniedException</c></term><description><c>XKS_PROXY_ACCESS_DENIED</c> / <see cref="KmsCustomKeyStoreInvalidStateException"/> (XKS_PROXY_ACCESS_DENIED)</description></item>
/// <item><term><c>InvalidUriPathException</c></term><description><c>XKS_PROXY_INVALID_CONFIGURATION</c> / <see cref="KmsXksProxyInvalidConfigurationException"/></description></item>
/// <item><term>a response that breaks the contract, an unhealthy proxy's answer, <c>ValidationException</c></term><description><c>XKS_PROXY_INVALID_RESPONSE</c> / <see cref="KmsXksProxyInvalidResponseException"/></description></item>
/// <item><term><c>KeyNotFoundException</c></term><description>— / <see cref="KmsXksKeyNotFoundException"/></description></item>
/// <item><term><c>InvalidStateException</c></term><description>— / <see cref="KmsInvalidStateException"/> (the external key is disabled)</description></item>
/// <item><term><c>InvalidKeyUsageException</c></term><description>— / <see cref="KmsXksKeyInvalidConfigurationException"/></description></item>
/// <item><term><c>InvalidCiphertextException</c></term><description>— / <see cref="KmsInvalidCiphertextException"/></description></item>
/// <item><term><c>UnsupportedOperationException</c></term><description>— / <see cref="KmsUnsupportedOperationException"/></description></item>
/// <item><term><c>DependencyTimeoutException</c></term><description><c>XKS_PROXY_TIMED_OUT</c> / <see cref="KmsDependencyTimeoutException"/></description></item>
/// <item><term><c>InternalException</c>, anything else</term><description><c>INTERNAL_ERROR</c> / <see cref="KmsInternalException"/></description></item>
/// </list>
/// </summary>
public sealed class ExternalKeyStoreBackend : ICustomKeyStoreBackend
{
    private readonly IExternalKeyStoreProxy _proxy;
    private readonly XksProxyCredential _credential;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private CustomKeyStoreConnectionState _state = CustomKeyStoreConnectionState.Disconnected;
    private CustomKeyStoreConnectionErrorCode? _errorCode;

    /// <summary>Creates a disconnected backend.</summary>
    public ExternalKeyStoreBackend(IExternalKeyStoreProxy proxy, XksProxyCredential credential, ExternalKeyStoreBackendOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(credential);
        options ??= new ExternalKeyStoreBackendOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Timeout, TimeSpan.Zero, nameof(options));
        _proxy = proxy;
        _credential = credential;
        _timeout = options.Timeout;
        _time = options.TimeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public CustomKeyStoreType StoreType => CustomKeyStoreType.ExternalKeyStore;

    /// <inheritdoc />
    public CustomKeyStoreConnectionState ConnectionState
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <inheritdoc />
    public CustomKeyStoreConnectionErrorCode? ConnectionErrorCode
    {
        get
        {
            lock (_gate)
            {
                return _errorCode;
            }
        }
    }

    /// <summary>Describes the backend without its secret.</summary>
    public override string ToString() => $"external key store backend ({_credential}), {ConnectionState.ToKmsName()}";

    /// <inheritdoc />
    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        SetState(CustomKeyStoreConnectionState.Connecting, null);
        CustomKeyStoreConnectionErrorCode code;
        Exception? cause;
        try
        {
            var health = await CallAsync((credential, metadata, ct) => _proxy.GetHealthStatusAsync(credential, metadata, ct), "ConnectCustomKeyStore", cancellationToken).ConfigureAwait(false);
            if (health is { Active: true })
            {
                SetState(CustomKeyStoreConnectionState.Connected, null);
                return;
            }

            (code, cause) = (CustomKeyStoreConnectionErrorCode.XksProxyInvalidResponse, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            SetState(CustomKeyStoreConnectionState.Disconnected, null);
            throw;
        }
        catch (Exception e)
        {
            (code, cause) = (ConnectionErrorOf(e), e);
        }

        SetState(CustomKeyStoreConnectionState.Failed, code);
        throw new KmsCustomKeyStoreInvalidStateException(
            $"Connecting to the external key store proxy failed ({code.ToKmsName()}).", CustomKeyStoreConnectionState.Failed, code, cause);
    }

    /// <inheritdoc />
    public ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        SetState(CustomKeyStoreConnectionState.Disconnected, null);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public async ValueTask<CustomKeyStoreHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        if (ConnectionState != CustomKeyStoreConnectionState.Connected)
        {
            return new CustomKeyStoreHealth { ConnectionState = ConnectionState, ConnectionErrorCode = ConnectionErrorCode, Healthy = false, Detail = ToString() };
        }

        try
        {
            var health = await CallAsync((credential, metadata, ct) => _proxy.GetHealthStatusAsync(credential, metadata, ct), "GetHealthStatus", cancellationToken).ConfigureAwait(false);
            return new CustomKeyStoreHealth { ConnectionState = ConnectionState, Healthy = health.Active, Detail = health.XksProxyVendor };
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new CustomKeyStoreHealth { ConnectionState = ConnectionState, Healthy = false, ConnectionErrorCode = ConnectionErrorOf(e), Detail = ToString() };
        }
    }

    /// <summary>External keys are created in the external key manager, never by KMS: always <see cref="KmsUnsupportedOperationException"/>.</summary>
    public ValueTask<CustomKeyStoreBackendKey> CreateKeyAsync(string kmsKeyId, CancellationToken cancellationToken)
        => throw new KmsUnsupportedOperationException("Keys of an external key store are created in the external key manager; name one with XksKeyId.");

    /// <summary>Checks an external key with <c>GetKeyMetadata</c>: it must exist and be an enabled <c>AES_256</c> key that can <c>ENCRYPT</c> and <c>DECRYPT</c>.</summary>
    /// <exception cref="KmsXksKeyNotFoundException">No external key has the id.</exception>
    /// <exception cref="KmsXksKeyInvalidConfigurationException">The key has another spec, lacks a usage, or is not enabled.</exception>
    public async ValueTask<CustomKeyStoreBackendKey> DescribeKeyAsync(string backendKeyId, CancellationToken cancellationToken)
    {
        RequireConnected();
        RequireKeyId(backendKeyId);
        var metadata = await CallAsync((credential, request, ct) => _proxy.GetKeyMetadataAsync(backendKeyId, credential, request, ct), "DescribeKey", cancellationToken, backendKeyId).ConfigureAwait(false)
            ?? throw new KmsXksProxyInvalidResponseException("The external key store proxy returned no key metadata.");
        if (!string.Equals(metadata.KeySpec, "AES_256", StringComparison.Ordinal)
            || metadata.KeyUsage is null || !metadata.KeyUsage.Contains("ENCRYPT") || !metadata.KeyUsage.Contains("DECRYPT")
            || !string.Equals(metadata.KeyStatus, "ENABLED", StringComparison.Ordinal))
        {
            throw new KmsXksKeyInvalidConfigurationException(
                $"The external key '{backendKeyId}' is a {metadata.KeySpec} key with usages [{string.Join(", ", metadata.KeyUsage ?? [])}] and status {metadata.KeyStatus}; KMS needs an ENABLED AES_256 key that can ENCRYPT and DECRYPT.");
        }

        return new CustomKeyStoreBackendKey { BackendKeyId = backendKeyId, KeySizeBits = 256, MaterialExportable = false, MaterialNeverLeftBackend = true };
    }

    /// <inheritdoc />
    public async ValueTask<CustomKeyStoreCiphertext> EncryptAsync(string backendKeyId, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken)
    {
        RequireConnected();
        RequireKeyId(backendKeyId);
        var result = await CallAsync((credential, metadata, ct) => _proxy.EncryptAsync(backendKeyId, plaintext, additionalAuthenticatedData, credential, metadata, ct), "Encrypt", cancellationToken, backendKeyId).ConfigureAwait(false);
        if (result is null || result.InitializationVector.Length != CustomKeyStoreCiphertext.IvSize || result.AuthenticationTag.Length != CustomKeyStoreCiphertext.TagSize
            || result.Ciphertext.Length != plaintext.Length)
        {
            throw new KmsXksProxyInvalidResponseException("The external key store proxy's Encrypt response does not follow the contract (a 12-byte IV, a 16-byte tag, a ciphertext as long as the plaintext).");
        }

        return new CustomKeyStoreCiphertext(result.InitializationVector, result.Ciphertext, result.AuthenticationTag);
    }

    /// <inheritdoc />
    public async ValueTask<byte[]> DecryptAsync(string backendKeyId, CustomKeyStoreCiphertext ciphertext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        RequireConnected();
        RequireKeyId(backendKeyId);
        var request = new XksEncryptResult { Ciphertext = ciphertext.Ciphertext, InitializationVector = ciphertext.Iv, AuthenticationTag = ciphertext.Tag };
        var plaintext = await CallAsync((credential, metadata, ct) => _proxy.DecryptAsync(backendKeyId, request, additionalAuthenticatedData, credential, metadata, ct), "Decrypt", cancellationToken, backendKeyId).ConfigureAwait(false);
        if (plaintext is null || plaintext.Length != ciphertext.Ciphertext.Length)
        {
            throw new KmsXksProxyInvalidResponseException("The external key store proxy's Decrypt response does not follow the contract (a plaintext as long as the ciphertext).");
        }

        return plaintext;
    }

    /// <summary>External keys belong to the external key manager: deleting the KMS key leaves them in place.</summary>
    public ValueTask DeleteKeyAsync(string backendKeyId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        SetState(CustomKeyStoreConnectionState.Disconnected, null);
        return ValueTask.CompletedTask;
    }

    /// <summary>The connection error code of a failed proxy call.</summary>
    internal static CustomKeyStoreConnectionErrorCode ConnectionErrorOf(Exception e) => e switch
    {
        TimeoutException => CustomKeyStoreConnectionErrorCode.XksProxyTimedOut,
        XksProxyUnreachableException => CustomKeyStoreConnectionErrorCode.XksProxyNotReachable,
        XksProxyException x => x.ErrorName switch
        {
            XksErrorName.AuthenticationFailedException => CustomKeyStoreConnectionErrorCode.InvalidCredentials,
            XksErrorName.AccessDeniedException => CustomKeyStoreConnectionErrorCode.XksProxyAccessDenied,
            XksErrorName.InvalidUriPathException => CustomKeyStoreConnectionErrorCode.XksProxyInvalidConfiguration,
            XksErrorName.DependencyTimeoutException => CustomKeyStoreConnectionErrorCode.XksProxyTimedOut,
            XksErrorName.ValidationException or XksErrorName.UnsupportedOperationException => CustomKeyStoreConnectionErrorCode.XksProxyInvalidResponse,
            _ => CustomKeyStoreConnectionErrorCode.InternalError,
        },
        // A proxy call already mapped to the exception of a key operation (see Map).
        KmsDependencyTimeoutException => CustomKeyStoreConnectionErrorCode.XksProxyTimedOut,
        KmsCustomKeyStoreInvalidStateException { ConnectionErrorCode: { } code } => code,
        KmsXksProxyIncorrectAuthenticationCredentialException => CustomKeyStoreConnectionErrorCode.InvalidCredentials,
        KmsXksProxyInvalidConfigurationException => CustomKeyStoreConnectionErrorCode.XksProxyInvalidConfiguration,
        KmsInternalException => CustomKeyStoreConnectionErrorCode.InternalError,
        _ => CustomKeyStoreConnectionErrorCode.XksProxyInvalidResponse,
    };

    /// <summary>Runs one proxy call within the timeout and maps its failure to the KMS exception of a key operation.</summary>
    private async ValueTask<T> CallAsync<T>(Func<XksProxyCredential, XksRequestMetadata, CancellationToken, ValueTask<T>> call, string operation, CancellationToken cancellationToken, string? externalKeyId = null)
    {
        var metadata = CustomKeyStoreCallContext.Current ?? new XksRequestMetadata { KmsOperation = operation };
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await call(_credential, metadata, linked.Token).AsTask().WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Map(new TimeoutException($"The external key store proxy did not answer {operation} within {_timeout.TotalMilliseconds:0} ms.", e), externalKeyId);
        }
        catch (TimeoutException e)
        {
            throw Map(new TimeoutException($"The external key store proxy did not answer {operation} within {_timeout.TotalMilliseconds:0} ms.", e), externalKeyId);
        }
        catch (Exception e) when (e is not OperationCanceledException and not KmsException)
        {
            throw Map(e, externalKeyId);
        }
    }

    /// <summary>The KMS exception of a failed proxy call during a key operation (connection attempts use <see cref="ConnectionErrorOf"/>).</summary>
    private static Exception Map(Exception e, string? externalKeyId)
    {
        var key = externalKeyId is null ? "" : $" (external key '{externalKeyId}')";
        return e switch
        {
            TimeoutException => new KmsDependencyTimeoutException(e.Message + " The request can be retried.", e),
            XksProxyUnreachableException => new KmsCustomKeyStoreInvalidStateException(
                "The external key store proxy cannot be reached (XKS_PROXY_NOT_REACHABLE).", CustomKeyStoreConnectionState.Connected, CustomKeyStoreConnectionErrorCode.XksProxyNotReachable, e),
            XksProxyException x => x.ErrorName switch
            {
                XksErrorName.AuthenticationFailedException => new KmsXksProxyIncorrectAuthenticationCredentialException("The external key store proxy rejected the authentication credential.", e),
                XksErrorName.AccessDeniedException => new KmsCustomKeyStoreInvalidStateException(
                    "The external key store proxy denied the request (XKS_PROXY_ACCESS_DENIED).", CustomKeyStoreConnectionState.Connected, CustomKeyStoreConnectionErrorCode.XksProxyAccessDenied, e),
                XksErrorName.InvalidUriPathException => new KmsXksProxyInvalidConfigurationException("The external key store proxy does not serve the configured URI path.", e),
                XksErrorName.KeyNotFoundException => new KmsXksKeyNotFoundException($"The external key store has no such key{key}.", e),
                XksErrorName.InvalidStateException => new KmsInvalidStateException($"The external key is not enabled in the external key manager{key}.", e),
                XksErrorName.InvalidKeyUsageException => new KmsXksKeyInvalidConfigurationException($"The external key does not allow the operation{key}.", e),
                XksErrorName.InvalidCiphertextException => new KmsInvalidCiphertextException(KeyManagement.SymmetricCiphertext.InvalidMessage, e),
                XksErrorName.UnsupportedOperationException => new KmsUnsupportedOperationException("The external key store proxy does not support the operation.", e),
                XksErrorName.DependencyTimeoutException => new KmsDependencyTimeoutException("The external key manager did not answer the proxy in time; the request can be retried.", e),
                XksErrorName.ValidationException => new KmsXksProxyInvalidResponseException("The external key store proxy rejected the request as malformed (ValidationException).", e),
                _ => new KmsInternalException("The external key store proxy failed the request (InternalException).", e),
            },
            _ => new KmsXksProxyInvalidResponseException($"The external key store proxy's response cannot be interpreted ({e.GetType().Name}).", e),
        };
    }

    private void RequireConnected()
    {
        lock (_gate)
        {
            if (_state != CustomKeyStoreConnectionState.Connected)
            {
                throw new KmsCustomKeyStoreInvalidStateException(
                    $"The external key store is {_state.ToKmsName()}{(_errorCode is { } c ? $" ({c.ToKmsName()})" : "")}; connect it before using its keys.", _state, _errorCode);
            }
        }
    }

    private static void RequireKeyId(string externalKeyId)
    {
        if (string.IsNullOrEmpty(externalKeyId) || externalKeyId.Length > 128)
        {
            throw new KmsValidationException("An external key id must have 1–128 characters.");
        }
    }

    private void SetState(CustomKeyStoreConnectionState state, CustomKeyStoreConnectionErrorCode? code)
    {
        lock (_gate)
        {
            _state = state;
            _errorCode = code;
        }
    }
}
