using System.Security.Cryptography;
using EnvelopeKms.CustomKeyStores;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace EnvelopeKms.Hsm.Pkcs11;

/// <summary>
/// An HSM key store backend over PKCS#11 (the CloudHSM key store analogue): keys are AES-256 token objects
/// generated inside the HSM, sensitive and never extractable, labelled with the KMS key id, and every
/// encryption and decryption is <c>CKM_AES_GCM</c> inside the HSM. Connecting logs the crypto user in;
/// disconnecting logs out (when no other connection in the process uses the token). Safe for concurrent
/// use: operations borrow sessions from a pool of at most <see cref="Pkcs11HsmOptions.MaxSessions"/>.
/// </summary>
public sealed class Pkcs11CustomKeyStoreBackend : ICustomKeyStoreBackend
{
    /// <summary>The largest plaintext accepted (64 KiB; KMS itself sends at most 4 KiB).</summary>
    public const int MaxPlaintextBytes = 64 * 1024;

    private readonly Pkcs11HsmOptions _options;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Lock _stateGate = new();
    private Pkcs11Token? _token;
    private CustomKeyStoreConnectionState _state = CustomKeyStoreConnectionState.Disconnected;
    private CustomKeyStoreConnectionErrorCode? _errorCode;
    private bool _disposed;

    /// <summary>Creates a disconnected backend for the HSM in <paramref name="options"/> (nothing is loaded until <see cref="ConnectAsync"/>).</summary>
    /// <exception cref="KmsValidationException">The options are incomplete.</exception>
    public Pkcs11CustomKeyStoreBackend(Pkcs11HsmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    /// <inheritdoc />
    public CustomKeyStoreType StoreType => CustomKeyStoreType.AwsCloudHsm;

    /// <inheritdoc />
    public CustomKeyStoreConnectionState ConnectionState
    {
        get
        {
            lock (_stateGate)
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
            lock (_stateGate)
            {
                return _errorCode;
            }
        }
    }

    /// <summary>Describes the backend without the PIN.</summary>
    public override string ToString() => $"PKCS#11 key store backend ({_options}), {ConnectionState.ToKmsName()}";

    /// <inheritdoc />
    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_token is not null)
            {
                if (ConnectionState == CustomKeyStoreConnectionState.Connected)
                {
                    return;
                }

                // Failed after the connection was made (the device went away): start again.
                CloseToken();
            }

            SetState(CustomKeyStoreConnectionState.Connecting, null);
            try
            {
                var token = Pkcs11Token.Connect(_options);
                lock (_stateGate)
                {
                    _token = token;
                    _state = CustomKeyStoreConnectionState.Connected;
                    _errorCode = null;
                }
            }
            catch (KmsCustomKeyStoreInvalidStateException e)
            {
                SetState(CustomKeyStoreConnectionState.Failed, e.ConnectionErrorCode ?? CustomKeyStoreConnectionErrorCode.InternalError);
                throw;
            }
            catch (Exception e) when (e is not OperationCanceledException and not KmsValidationException)
            {
                SetState(CustomKeyStoreConnectionState.Failed, CustomKeyStoreConnectionErrorCode.InternalError);
                throw Pkcs11Token.Failed(CustomKeyStoreConnectionErrorCode.InternalError, $"Connecting to the token '{_options.TokenLabel}' failed ({e.GetType().Name}).", e);
            }
            catch (KmsValidationException e)
            {
                // The PIN source had no PIN.
                SetState(CustomKeyStoreConnectionState.Failed, CustomKeyStoreConnectionErrorCode.InvalidCredentials);
                throw Pkcs11Token.Failed(CustomKeyStoreConnectionErrorCode.InvalidCredentials, e.Message, e);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisconnectAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            CloseToken();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private void CloseToken()
    {
        Pkcs11Token? token;
        lock (_stateGate)
        {
            token = _token;
            _token = null;
            _state = token is null ? CustomKeyStoreConnectionState.Disconnected : CustomKeyStoreConnectionState.Disconnecting;
            _errorCode = null;
        }

        token?.Dispose();
        SetState(CustomKeyStoreConnectionState.Disconnected, null);
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Pkcs11Token? token;
        CustomKeyStoreConnectionState state;
        CustomKeyStoreConnectionErrorCode? code;
        lock (_stateGate)
        {
            (token, state, code) = (_token, _state, _errorCode);
        }

        if (token is null || state != CustomKeyStoreConnectionState.Connected)
        {
            return ValueTask.FromResult(new CustomKeyStoreHealth { ConnectionState = state, ConnectionErrorCode = code, Healthy = false, Detail = $"token '{_options.TokenLabel}'" });
        }

        try
        {
            var loggedIn = token.Run(session => session.GetSessionInfo().State is CKS.CKS_RW_USER_FUNCTIONS or CKS.CKS_RO_USER_FUNCTIONS);
            if (!loggedIn)
            {
                SetFailed(token, CustomKeyStoreConnectionErrorCode.InternalError);
            }
        }
        catch (Pkcs11Exception e)
        {
            SetFailed(token, ConnectionErrorOfOperation(e.RV));
        }
        catch (KmsException)
        {
            // A timeout: busy, not broken.
        }

        lock (_stateGate)
        {
            return ValueTask.FromResult(new CustomKeyStoreHealth
            {
                ConnectionState = _state,
                ConnectionErrorCode = _errorCode,
                Healthy = _state == CustomKeyStoreConnectionState.Connected,
                Detail = token.ToString(),
            });
        }
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreBackendKey> CreateKeyAsync(string kmsKeyId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kmsKeyId);
        cancellationToken.ThrowIfCancellationRequested();
        var id = RandomNumberGenerator.GetBytes(Pkcs11Aes.IdSize);
        var backendKeyId = Convert.ToHexStringLower(id);
        return ValueTask.FromResult(Execute(backendKeyId, (token, session) =>
        {
            var handle = Pkcs11Aes.Generate(session, kmsKeyId, id);
            token.Handles[backendKeyId] = handle;
            return Describe(backendKeyId, Pkcs11Aes.ReadAttributes(session, handle));
        }));
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreBackendKey> DescribeKeyAsync(string backendKeyId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Describe(backendKeyId, DescribeAttributes(backendKeyId)));
    }

    /// <summary>Reads the PKCS#11 attributes of a backend key (to audit that it is sensitive, never extractable and generated in the token).</summary>
    public ValueTask<Pkcs11KeyAttributes> DescribeKeyAttributesAsync(string backendKeyId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(DescribeAttributes(backendKeyId));
    }

    private Pkcs11KeyAttributes DescribeAttributes(string backendKeyId)
    {
        Pkcs11Aes.ParseId(backendKeyId);
        return Execute(backendKeyId, (token, session) => Pkcs11Aes.ReadAttributes(session, FindKey(token, session, backendKeyId)));
    }

    /// <inheritdoc />
    public ValueTask<CustomKeyStoreCiphertext> EncryptAsync(string backendKeyId, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Pkcs11Aes.ParseId(backendKeyId);
        if (plaintext.Length > MaxPlaintextBytes)
        {
            throw new KmsValidationException($"The plaintext has {plaintext.Length} bytes; the HSM backend accepts at most {MaxPlaintextBytes}.");
        }

        return ValueTask.FromResult(Execute(backendKeyId, (token, session)
            => Pkcs11Aes.Encrypt(session, FindKey(token, session, backendKeyId), plaintext.Span, additionalAuthenticatedData.Span)));
    }

    /// <inheritdoc />
    public ValueTask<byte[]> DecryptAsync(string backendKeyId, CustomKeyStoreCiphertext ciphertext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        cancellationToken.ThrowIfCancellationRequested();
        Pkcs11Aes.ParseId(backendKeyId);
        return ValueTask.FromResult(Execute(backendKeyId, (token, session)
            => Pkcs11Aes.Decrypt(session, FindKey(token, session, backendKeyId), ciphertext, additionalAuthenticatedData.Span)));
    }

    /// <inheritdoc />
    public ValueTask DeleteKeyAsync(string backendKeyId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var id = Pkcs11Aes.ParseId(backendKeyId);
        Execute(backendKeyId, (token, session) =>
        {
            token.Handles.TryRemove(backendKeyId, out _);
            foreach (var handle in Pkcs11Aes.FindById(session, id))
            {
                session.DestroyObject(handle);
            }

            return true;
        });
        return ValueTask.CompletedTask;
    }

    /// <summary>Disconnects (logging out when this is the last connection to the token).</summary>
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_disposed)
            {
                _disposed = true;
                CloseToken();
            }
        }
        finally
        {
            _lifecycle.Release();
        }

        _lifecycle.Dispose();
    }

    /// <summary>Runs raw PKCS#11 calls on a backend key (tests read attributes and attempt forbidden operations with it).</summary>
    internal T WithKey<T>(string backendKeyId, Func<ISession, IObjectHandle, T> operation)
        => Execute(backendKeyId, (token, session) => operation(session, FindKey(token, session, backendKeyId)));

    private static CustomKeyStoreBackendKey Describe(string backendKeyId, Pkcs11KeyAttributes attributes) => new()
    {
        BackendKeyId = backendKeyId,
        KmsKeyId = attributes.Label,
        KeySizeBits = attributes.KeySizeBytes * 8,
        MaterialExportable = attributes.Extractable || !attributes.Sensitive,
        MaterialNeverLeftBackend = attributes.NeverExtractable && attributes.AlwaysSensitive && attributes.Local,
    };

    private IObjectHandle FindKey(Pkcs11Token token, ISession session, string backendKeyId)
    {
        if (token.Handles.TryGetValue(backendKeyId, out var cached))
        {
            return cached;
        }

        var found = Pkcs11Aes.FindById(session, Pkcs11Aes.ParseId(backendKeyId));
        if (found.Count == 0 && session.GetSessionInfo().State is not (CKS.CKS_RW_USER_FUNCTIONS or CKS.CKS_RO_USER_FUNCTIONS))
        {
            // The keys are private objects: without a login they are invisible, not gone.
            SetFailed(token, CustomKeyStoreConnectionErrorCode.InternalError);
            throw new KmsCustomKeyStoreInvalidStateException(
                "The HSM key store's login ended (logged out by other code, or the token restarted); it is FAILED (INTERNAL_ERROR): disconnect and connect it again.",
                CustomKeyStoreConnectionState.Failed, CustomKeyStoreConnectionErrorCode.InternalError);
        }

        return found.Count switch
        {
            0 => throw new KmsInvalidStateException($"The HSM key '{backendKeyId}' is not in the {token}: it was deleted from the HSM, or the key store points at another token."),
            1 => token.Handles.GetOrAdd(backendKeyId, found[0]),
            _ => throw new KmsInternalException($"The {token} holds {found.Count} AES keys with the id '{backendKeyId}'; ids must be unique."),
        };
    }

    /// <summary>Runs an operation on a connected token, mapping PKCS#11 failures to KMS errors; a stale key handle is looked up again once.</summary>
    private T Execute<T>(string backendKeyId, Func<Pkcs11Token, ISession, T> operation)
    {
        Pkcs11Token? token;
        lock (_stateGate)
        {
            token = _token;
            if (token is null || _state != CustomKeyStoreConnectionState.Connected)
            {
                throw new KmsCustomKeyStoreInvalidStateException(
                    $"The HSM key store is {_state.ToKmsName()}{(_errorCode is { } c ? $" ({c.ToKmsName()})" : "")}; connect it before using its keys.", _state, _errorCode);
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return token.Run(session => operation(token, session));
            }
            catch (Pkcs11Exception e) when (attempt == 0 && e.RV is CKR.CKR_KEY_HANDLE_INVALID or CKR.CKR_OBJECT_HANDLE_INVALID)
            {
                token.Handles.TryRemove(backendKeyId, out _);
            }
            catch (Pkcs11Exception e)
            {
                throw MapOperationFailure(token, e);
            }
        }
    }

    private KmsException MapOperationFailure(Pkcs11Token token, Pkcs11Exception e)
    {
        switch (e.RV)
        {
            case CKR.CKR_KEY_HANDLE_INVALID or CKR.CKR_OBJECT_HANDLE_INVALID:
                return new KmsInvalidStateException($"The HSM key is no longer in the {token} ({e.Method} returned {e.RV}).", e);
            case CKR.CKR_KEY_FUNCTION_NOT_PERMITTED or CKR.CKR_KEY_TYPE_INCONSISTENT or CKR.CKR_KEY_SIZE_RANGE:
                return new KmsInvalidKeyUsageException($"The HSM key cannot be used for AES-GCM ({e.Method} returned {e.RV}).", e);
            case CKR.CKR_DATA_LEN_RANGE or CKR.CKR_MECHANISM_PARAM_INVALID:
                return new KmsValidationException($"The HSM rejected the input ({e.Method} returned {e.RV}).", e);
            case CKR.CKR_USER_NOT_LOGGED_IN or CKR.CKR_DEVICE_REMOVED or CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_DEVICE_ERROR
                or CKR.CKR_CRYPTOKI_NOT_INITIALIZED or CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED:
                var code = ConnectionErrorOfOperation(e.RV);
                SetFailed(token, code);
                return new KmsCustomKeyStoreInvalidStateException(
                    $"The HSM key store lost its connection ({e.Method} returned {e.RV}); it is FAILED ({code.ToKmsName()}): disconnect and connect it again.",
                    CustomKeyStoreConnectionState.Failed, code, e);
            default:
                return new KmsInternalException($"The HSM failed the request: {e.Method} returned {e.RV}.", e);
        }
    }

    private static CustomKeyStoreConnectionErrorCode ConnectionErrorOfOperation(CKR rv) => rv switch
    {
        CKR.CKR_DEVICE_REMOVED or CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_DEVICE_ERROR or CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED => CustomKeyStoreConnectionErrorCode.NetworkErrors,
        _ => Pkcs11Token.ConnectionErrorOf(rv),
    };

    private void SetFailed(Pkcs11Token token, CustomKeyStoreConnectionErrorCode code)
    {
        lock (_stateGate)
        {
            if (ReferenceEquals(_token, token))
            {
                _state = CustomKeyStoreConnectionState.Failed;
                _errorCode = code;
            }
        }
    }

    private void SetState(CustomKeyStoreConnectionState state, CustomKeyStoreConnectionErrorCode? code)
    {
        lock (_stateGate)
        {
            _state = state;
            _errorCode = code;
        }
    }
}
