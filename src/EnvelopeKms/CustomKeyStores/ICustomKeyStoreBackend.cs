namespace EnvelopeKms.CustomKeyStores;

/// <summary>
/// The extension point of a custom key store: the backend that holds the key material of the KMS keys
/// created in the store (an HSM over PKCS#11, or an external key manager) and runs every cryptographic
/// operation on it, so that the material never reaches EnvelopeKms. EnvelopeKms keeps the KMS key's
/// metadata (state, policy, aliases) and only an opaque <em>backend key id</em> for the material.
/// </summary>
/// <remarks>
/// <para>
/// The symmetric operations are AES-256-GCM with a 12-byte IV and a 16-byte tag, binding additional
/// authenticated data (the caller derives it from the KMS key id and the encryption context).
/// Implementations must be safe for concurrent use.
/// </para>
/// <para>
/// Failure modes, each with its AWS KMS error code:
/// <list type="bullet">
/// <item>the store is not <see cref="CustomKeyStoreConnectionState.Connected"/> (never connected, disconnected, or failed):
/// <see cref="KmsCustomKeyStoreInvalidStateException"/> carrying the state and, when failed, the <see cref="CustomKeyStoreConnectionErrorCode"/>;</item>
/// <item>a connection attempt fails: <see cref="KmsCustomKeyStoreInvalidStateException"/> with state <see cref="CustomKeyStoreConnectionState.Failed"/>
/// and the error code (for example <see cref="CustomKeyStoreConnectionErrorCode.InvalidCredentials"/> for a wrong PIN); an external key
/// store may report the more specific <see cref="KmsXksProxyIncorrectAuthenticationCredentialException"/>, <see cref="KmsXksProxyUriUnreachableException"/>
/// or <see cref="KmsXksProxyInvalidResponseException"/>;</item>
/// <item>the backend did not answer in time: <see cref="KmsDependencyTimeoutException"/> (retryable);</item>
/// <item>the backend key id names no key in the backend: <see cref="KmsInvalidStateException"/> (HSM) or <see cref="KmsXksKeyNotFoundException"/> (external);</item>
/// <item>the ciphertext, IV, tag or additional authenticated data do not authenticate under the key (tampering, or another key): <see cref="KmsInvalidCiphertextException"/>;</item>
/// <item>a malformed argument: <see cref="KmsValidationException"/>; an operation the backend cannot do: <see cref="KmsUnsupportedOperationException"/>;</item>
/// <item>anything else the backend reports: <see cref="KmsInternalException"/>.</item>
/// </list>
/// Messages never contain credentials, plaintext or key material.
/// </para>
/// </remarks>
public interface ICustomKeyStoreBackend : IAsyncDisposable
{
    /// <summary>The kind of store this backend implements.</summary>
    CustomKeyStoreType StoreType { get; }

    /// <summary>The current connection state.</summary>
    CustomKeyStoreConnectionState ConnectionState { get; }

    /// <summary>Why the store is <see cref="CustomKeyStoreConnectionState.Failed"/>; <see langword="null"/> in every other state.</summary>
    CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; }

    /// <summary>
    /// Connects (for an HSM: opens a session and logs in). Connecting a connected store does nothing.
    /// On failure the store is left <see cref="CustomKeyStoreConnectionState.Failed"/> with the error code, and the exception says why.
    /// </summary>
    /// <exception cref="KmsCustomKeyStoreInvalidStateException">The connection failed; see its <see cref="KmsCustomKeyStoreInvalidStateException.ConnectionErrorCode"/>.</exception>
    ValueTask ConnectAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Disconnects (for an HSM: waits for operations in flight, logs out and closes the sessions). The store becomes
    /// <see cref="CustomKeyStoreConnectionState.Disconnected"/>; disconnecting a disconnected or failed store only clears the failure.
    /// </summary>
    ValueTask DisconnectAsync(CancellationToken cancellationToken);

    /// <summary>Checks that a connected backend still answers, and reports the state (it never throws for an unhealthy backend).</summary>
    ValueTask<CustomKeyStoreHealth> CheckHealthAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Creates a new AES-256 key inside the backend for the KMS key <paramref name="kmsKeyId"/> and returns its description,
    /// whose <see cref="CustomKeyStoreBackendKey.BackendKeyId"/> the caller records. A backend whose keys are created
    /// outside (an external key store) throws <see cref="KmsUnsupportedOperationException"/>, and the caller names an
    /// existing key with <see cref="DescribeKeyAsync"/>.
    /// </summary>
    ValueTask<CustomKeyStoreBackendKey> CreateKeyAsync(string kmsKeyId, CancellationToken cancellationToken);

    /// <summary>Describes the backend key <paramref name="backendKeyId"/> (checking that it exists and is usable for AES-GCM).</summary>
    ValueTask<CustomKeyStoreBackendKey> DescribeKeyAsync(string backendKeyId, CancellationToken cancellationToken);

    /// <summary>Encrypts <paramref name="plaintext"/> with AES-256-GCM under the backend key, inside the backend, binding <paramref name="additionalAuthenticatedData"/>.</summary>
    ValueTask<CustomKeyStoreCiphertext> EncryptAsync(string backendKeyId, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken);

    /// <summary>Decrypts and authenticates <paramref name="ciphertext"/> under the backend key, inside the backend.</summary>
    /// <exception cref="KmsInvalidCiphertextException">The ciphertext, IV, tag or additional authenticated data were modified, or another key made them.</exception>
    ValueTask<byte[]> DecryptAsync(string backendKeyId, CustomKeyStoreCiphertext ciphertext, ReadOnlyMemory<byte> additionalAuthenticatedData, CancellationToken cancellationToken);

    /// <summary>
    /// Destroys the backend key (the end of a KMS key's deletion waiting period; the waiting period itself is the caller's).
    /// Deleting a key that is already gone does nothing. A backend that does not own its keys (an external key store) leaves them in place.
    /// </summary>
    ValueTask DeleteKeyAsync(string backendKeyId, CancellationToken cancellationToken);
}

/// <summary>An AES-256-GCM ciphertext made inside a custom key store backend: the IV, the encrypted bytes and the tag.</summary>
public sealed class CustomKeyStoreCiphertext
{
    /// <summary>The IV length: 12 bytes (96 bits).</summary>
    public const int IvSize = 12;

    /// <summary>The authentication tag length: 16 bytes (128 bits).</summary>
    public const int TagSize = 16;

    /// <summary>Initializes the ciphertext.</summary>
    /// <exception cref="KmsValidationException">The IV is not 12 bytes or the tag is not 16 bytes.</exception>
    public CustomKeyStoreCiphertext(ReadOnlyMemory<byte> iv, ReadOnlyMemory<byte> ciphertext, ReadOnlyMemory<byte> tag)
    {
        if (iv.Length != IvSize)
        {
            throw new KmsValidationException($"An AES-GCM IV must be {IvSize} bytes; the one given has {iv.Length}.");
        }

        if (tag.Length != TagSize)
        {
            throw new KmsValidationException($"An AES-GCM tag must be {TagSize} bytes; the one given has {tag.Length}.");
        }

        Iv = iv;
        Ciphertext = ciphertext;
        Tag = tag;
    }

    /// <summary>The 12-byte IV.</summary>
    public ReadOnlyMemory<byte> Iv { get; }

    /// <summary>The encrypted bytes (as long as the plaintext).</summary>
    public ReadOnlyMemory<byte> Ciphertext { get; }

    /// <summary>The 16-byte authentication tag.</summary>
    public ReadOnlyMemory<byte> Tag { get; }
}

/// <summary>A key inside a custom key store backend, as the backend describes it.</summary>
public sealed class CustomKeyStoreBackendKey
{
    /// <summary>The opaque id the backend knows the key by (for PKCS#11: the hexadecimal <c>CKA_ID</c>).</summary>
    public required string BackendKeyId { get; init; }

    /// <summary>The KMS key id the key was created for (for PKCS#11: its <c>CKA_LABEL</c>), when the backend records one.</summary>
    public string? KmsKeyId { get; init; }

    /// <summary>The key length in bits (256).</summary>
    public int KeySizeBits { get; init; }

    /// <summary>Whether the backend would ever let the key material out (for PKCS#11: <c>CKA_EXTRACTABLE</c> or not <c>CKA_SENSITIVE</c>). <see langword="false"/> for a well-made key.</summary>
    public bool MaterialExportable { get; init; }

    /// <summary>Whether the material was created inside the backend and never left it (for PKCS#11: <c>CKA_NEVER_EXTRACTABLE</c> and <c>CKA_ALWAYS_SENSITIVE</c>).</summary>
    public bool MaterialNeverLeftBackend { get; init; }
}

/// <summary>The result of <see cref="ICustomKeyStoreBackend.CheckHealthAsync"/>.</summary>
public sealed class CustomKeyStoreHealth
{
    /// <summary>The connection state after the check.</summary>
    public required CustomKeyStoreConnectionState ConnectionState { get; init; }

    /// <summary>Why the store is failed, when it is.</summary>
    public CustomKeyStoreConnectionErrorCode? ConnectionErrorCode { get; init; }

    /// <summary>Whether the backend answered the check.</summary>
    public bool Healthy { get; init; }

    /// <summary>A description for operators (for PKCS#11: the token label, model and serial); never a secret.</summary>
    public string? Detail { get; init; }
}
