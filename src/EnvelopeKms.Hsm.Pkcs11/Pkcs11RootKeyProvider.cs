using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Protection;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace EnvelopeKms.Hsm.Pkcs11;

/// <summary>How the library's root key uses the HSM (see <c>docs/hsm.md</c>, "The root key in the HSM").</summary>
public enum Pkcs11RootKeyMode
{
    /// <summary>
    /// The root key is a non-extractable AES-256 key in the HSM and every wrap, unwrap and record seal is an
    /// AES-GCM operation inside the HSM. The root key never exists outside the HSM; each store read and write
    /// costs HSM calls, and the key store is unusable while the HSM is unreachable.
    /// </summary>
    EveryWrapInHsm = 1,

    /// <summary>
    /// A random 256-bit root key is wrapped by a non-extractable HSM key (AES-GCM in the HSM) and the wrapped
    /// copy is recorded in the key store; at start the HSM unwraps it once and it then works in process memory
    /// (pinned, zeroed on dispose) like a static root key. Fast and independent of the HSM after start, but the
    /// root key is in the process's memory while it runs.
    /// </summary>
    UnwrapAtStart,
}

/// <summary>
/// A root key provider whose root key lives in a PKCS#11 HSM: either every wrap runs in the HSM
/// (<see cref="Pkcs11RootKeyMode.EveryWrapInHsm"/>, the default) or the stored root key is wrapped by an HSM key
/// and unwrapped at start (<see cref="Pkcs11RootKeyMode.UnwrapAtStart"/>). The HSM key is an AES-256 token object,
/// sensitive and never extractable, labelled <see cref="KeyLabel"/>; the key store records its <c>CKA_ID</c>, so a
/// restart finds the same key. For a new store the key is generated in the HSM when no key has the label
/// (or an existing, pre-provisioned key with the label is used).
/// </summary>
public sealed class Pkcs11RootKeyProvider : IRootKeyProvider
{
    /// <summary>The label given to the root key's HSM key by default.</summary>
    public const string DefaultKeyLabel = "envelopekms-root-key";

    private const string InHsmScheme = "pkcs11-aes-gcm-v1";
    private const string WrappedScheme = "pkcs11-wrapped-root-v1";
    private static readonly byte[] WrappedRootKeyAad = Encoding.ASCII.GetBytes("EnvelopeKms root key: HSM-wrapped root key v1");

    private readonly Pkcs11HsmOptions _options;

    /// <summary>Uses the root key held in (or wrapped by) the HSM key labelled <paramref name="keyLabel"/>.</summary>
    public Pkcs11RootKeyProvider(Pkcs11HsmOptions options, string keyLabel = DefaultKeyLabel, Pkcs11RootKeyMode mode = Pkcs11RootKeyMode.EveryWrapInHsm)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyLabel);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode));
        }

        options.Validate();
        _options = options.Clone();
        KeyLabel = keyLabel;
        Mode = mode;
    }

    /// <summary>The label of the HSM key.</summary>
    public string KeyLabel { get; }

    /// <summary>How the root key uses the HSM.</summary>
    public Pkcs11RootKeyMode Mode { get; }

    /// <summary>Whether a new store may generate the HSM key when no key has <see cref="KeyLabel"/>. Default <see langword="true"/>.</summary>
    public bool CreateKeyIfMissing { get; init; } = true;

    /// <inheritdoc />
    public ValueTask<RootKey> GetRootKeyAsync(string? storedParameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Pkcs11Token token;
        try
        {
            token = Pkcs11Token.Connect(_options);
        }
        catch (KmsCustomKeyStoreInvalidStateException e)
        {
            throw new KmsRootKeyException($"The HSM that holds the root key is not available: {e.Message}", e);
        }

        try
        {
            var stored = Parse(storedParameters);
            var (id, handle) = token.Run(session => stored is null ? FindOrCreate(session) : (stored.Value.Id, FindById(session, stored.Value.Id)));
            if (Mode == Pkcs11RootKeyMode.EveryWrapInHsm)
            {
                if (stored is { Wrapped: not null })
                {
                    throw new KmsRootKeyException("The key store's root key was made in UnwrapAtStart mode; configure Pkcs11RootKeyMode.UnwrapAtStart.");
                }

                var rootKey = new Pkcs11RootKey(_options, token, id, handle, $"{InHsmScheme};id={Convert.ToHexStringLower(id)}");
                return ValueTask.FromResult<RootKey>(rootKey);
            }

            if (stored is { Wrapped: null })
            {
                throw new KmsRootKeyException("The key store's root key was made in EveryWrapInHsm mode; configure Pkcs11RootKeyMode.EveryWrapInHsm.");
            }

            var material = GC.AllocateArray<byte>(Pkcs11Aes.KeySize, pinned: true);
            try
            {
                CustomKeyStoreCiphertext wrapped;
                if (stored?.Wrapped is { } existing)
                {
                    wrapped = existing;
                    var unwrapped = token.Run(session => Pkcs11Aes.Decrypt(session, handle, wrapped, WrappedRootKeyAad));
                    if (unwrapped.Length != material.Length)
                    {
                        CryptographicOperations.ZeroMemory(unwrapped);
                        throw new KmsRootKeyException("The HSM-wrapped root key recorded in the key store has the wrong length.");
                    }

                    unwrapped.CopyTo(material, 0);
                    CryptographicOperations.ZeroMemory(unwrapped);
                }
                else
                {
                    RandomNumberGenerator.Fill(material);
                    wrapped = token.Run(session => Pkcs11Aes.Encrypt(session, handle, material, WrappedRootKeyAad));
                }

                var parameters = string.Create(CultureInfo.InvariantCulture,
                    $"{WrappedScheme};id={Convert.ToHexStringLower(id)};w={Convert.ToBase64String([.. wrapped.Iv.Span, .. wrapped.Ciphertext.Span, .. wrapped.Tag.Span])}");
                using var inner = new StaticRootKeyProvider(material);
#pragma warning disable CA2012 // StaticRootKeyProvider completes synchronously.
                var rootKey = inner.GetRootKeyAsync(null, cancellationToken).AsTask().GetAwaiter().GetResult();
#pragma warning restore CA2012
                token.Dispose();
                return ValueTask.FromResult<RootKey>(new ParametersRootKey(rootKey, parameters));
            }
            catch (KmsInvalidCiphertextException e)
            {
                throw new KmsRootKeyException("The HSM key did not unwrap the root key recorded in the key store: the record was modified, or the HSM key is another one.", e);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(material);
            }
        }
        catch (Pkcs11Exception e)
        {
            token.Dispose();
            throw new KmsRootKeyException($"The HSM failed while opening the root key: {e.Method} returned {e.RV}.", e);
        }
        catch
        {
            token.Dispose();
            throw;
        }
    }

    private (byte[] Id, IObjectHandle Handle) FindOrCreate(ISession session)
    {
        var found = Pkcs11Aes.FindByLabel(session, KeyLabel);
        if (found.Count > 1)
        {
            throw new KmsRootKeyException($"The HSM holds {found.Count} AES keys labelled '{KeyLabel}'; the root key's label must be unique.");
        }

        if (found.Count == 1)
        {
            var attributes = Pkcs11Aes.ReadAttributes(session, found[0]);
            if (attributes.Extractable || !attributes.Sensitive || attributes.KeySizeBytes != Pkcs11Aes.KeySize)
            {
                throw new KmsRootKeyException($"The HSM key labelled '{KeyLabel}' is not a sensitive, non-extractable AES-256 key; it cannot hold the root key.");
            }

            return (Convert.FromHexString(attributes.Id), found[0]);
        }

        if (!CreateKeyIfMissing)
        {
            throw new KmsRootKeyException($"No AES key labelled '{KeyLabel}' is in the HSM, and CreateKeyIfMissing is off.");
        }

        var id = RandomNumberGenerator.GetBytes(Pkcs11Aes.IdSize);
        return (id, Pkcs11Aes.Generate(session, KeyLabel, id));
    }

    private static IObjectHandle FindById(ISession session, byte[] id)
    {
        var found = Pkcs11Aes.FindById(session, id);
        return found.Count == 1
            ? found[0]
            : throw new KmsRootKeyException($"The HSM key '{Convert.ToHexStringLower(id)}' that holds this key store's root key is {(found.Count == 0 ? "not in the token" : "not unique")}; configure the token the store was created with.");
    }

    private static (byte[] Id, CustomKeyStoreCiphertext? Wrapped)? Parse(string? parameters)
    {
        if (parameters is null)
        {
            return null;
        }

        var parts = parameters.Split(';');
        try
        {
            if (parts.Length == 2 && parts[0] == InHsmScheme && parts[1].StartsWith("id=", StringComparison.Ordinal))
            {
                return (Pkcs11Aes.ParseId(parts[1][3..]), null);
            }

            if (parts.Length == 3 && parts[0] == WrappedScheme && parts[1].StartsWith("id=", StringComparison.Ordinal) && parts[2].StartsWith("w=", StringComparison.Ordinal))
            {
                var blob = Convert.FromBase64String(parts[2][2..]);
                if (blob.Length == CustomKeyStoreCiphertext.IvSize + Pkcs11Aes.KeySize + CustomKeyStoreCiphertext.TagSize)
                {
                    var wrapped = new CustomKeyStoreCiphertext(
                        blob.AsMemory(0, CustomKeyStoreCiphertext.IvSize),
                        blob.AsMemory(CustomKeyStoreCiphertext.IvSize, Pkcs11Aes.KeySize),
                        blob.AsMemory(CustomKeyStoreCiphertext.IvSize + Pkcs11Aes.KeySize));
                    return (Pkcs11Aes.ParseId(parts[1][3..]), wrapped);
                }
            }
        }
        catch (Exception e) when (e is FormatException or KmsValidationException)
        {
            // Reported below.
        }

        throw new KmsRootKeyException("The key store was not created with a PKCS#11 HSM root key, or its recorded root-key parameters are malformed.");
    }

    /// <summary>A root key opened by another provider, recording this provider's parameters.</summary>
    private sealed class ParametersRootKey(RootKey inner, string parameters) : RootKey
    {
        public override string KeyCheckValue => inner.KeyCheckValue;

        public override string? Parameters => parameters;

        public override byte[] Wrap(ReadOnlySpan<byte> material, ReadOnlySpan<byte> associatedData) => inner.Wrap(material, associatedData);

        public override int GetUnwrappedLength(ReadOnlySpan<byte> wrapped) => inner.GetUnwrappedLength(wrapped);

        public override void Unwrap(ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData, Span<byte> material) => inner.Unwrap(wrapped, associatedData, material);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// The root key as a non-extractable HSM key: every wrap, unwrap and record seal is AES-256-GCM in the HSM
/// (format: version byte 0x81, 12-byte IV, ciphertext, 16-byte tag).
/// </summary>
internal sealed class Pkcs11RootKey : RootKey
{
    private const byte WrapFormatVersion = 0x81;
    private const int Overhead = 1 + CustomKeyStoreCiphertext.IvSize + CustomKeyStoreCiphertext.TagSize;
    private static readonly byte[] CheckAad = Encoding.ASCII.GetBytes("EnvelopeKms root key: HSM key check value v1");

    private readonly Pkcs11HsmOptions _options;
    private readonly byte[] _id;
    private readonly Lock _reconnectGate = new();
    private Connection _connection;
    private bool _disposed;

    public Pkcs11RootKey(Pkcs11HsmOptions options, Pkcs11Token token, byte[] id, IObjectHandle key, string parameters)
    {
        _options = options;
        _id = id;
        _connection = new Connection(token, key);
        Parameters = parameters;
        KeyCheckValue = ComputeKeyCheckValue();
    }

    public override string KeyCheckValue { get; }

    public override string? Parameters { get; }

    public override byte[] Wrap(ReadOnlySpan<byte> material, ReadOnlySpan<byte> associatedData)
    {
        var input = material.ToArray();
        var aad = associatedData.ToArray();
        try
        {
            var sealedData = Run((session, key) => Pkcs11Aes.Encrypt(session, key, input, aad));
            var wrapped = new byte[Overhead + input.Length];
            wrapped[0] = WrapFormatVersion;
            sealedData.Iv.Span.CopyTo(wrapped.AsSpan(1));
            sealedData.Ciphertext.Span.CopyTo(wrapped.AsSpan(1 + CustomKeyStoreCiphertext.IvSize));
            sealedData.Tag.Span.CopyTo(wrapped.AsSpan(1 + CustomKeyStoreCiphertext.IvSize + input.Length));
            return wrapped;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    public override int GetUnwrappedLength(ReadOnlySpan<byte> wrapped)
        => wrapped.Length < Overhead || wrapped[0] != WrapFormatVersion ? -1 : wrapped.Length - Overhead;

    public override void Unwrap(ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData, Span<byte> material)
    {
        var length = GetUnwrappedLength(wrapped);
        if (length < 0 || material.Length != length)
        {
            throw new KmsStorageIntegrityException("A stored key-material blob is malformed; it was left in place.");
        }

        var blob = new CustomKeyStoreCiphertext(
            wrapped.Slice(1, CustomKeyStoreCiphertext.IvSize).ToArray(),
            wrapped.Slice(1 + CustomKeyStoreCiphertext.IvSize, length).ToArray(),
            wrapped.Slice(1 + CustomKeyStoreCiphertext.IvSize + length).ToArray());
        var aad = associatedData.ToArray();
        byte[] plaintext;
        try
        {
            plaintext = Run((session, key) => Pkcs11Aes.Decrypt(session, key, blob, aad));
        }
        catch (KmsInvalidCiphertextException e)
        {
            throw new KmsStorageIntegrityException("A stored key-material blob failed authentication in the HSM: it was modified or copied from another key; it was left in place.", e);
        }

        plaintext.CopyTo(material);
        CryptographicOperations.ZeroMemory(plaintext);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_reconnectGate)
            {
                _disposed = true;
                _connection.Token.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// A GMAC in the HSM of a fixed label under a fixed all-zero IV, hashed: the same for the same HSM key, different for
    /// another, and revealing nothing of the key. The fixed IV is only ever used with this one input, so its reuse repeats
    /// the same output and nothing else (wraps use random IVs).
    /// </summary>
    private string ComputeKeyCheckValue()
    {
        var tag = Run((session, key) =>
        {
            var iv = new byte[CustomKeyStoreCiphertext.IvSize];
            using var parameters = session.Factories.MechanismParamsFactory.CreateCkGcmParams(iv, CustomKeyStoreCiphertext.IvSize * 8, CheckAad, CustomKeyStoreCiphertext.TagSize * 8);
            using var mechanism = session.Factories.MechanismFactory.Create(CKM.CKM_AES_GCM, parameters);
            return session.Encrypt(mechanism, key, []);
        });
        return "hsm:" + Convert.ToHexStringLower(SHA256.HashData(tag).AsSpan(0, 16));
    }

    /// <summary>
    /// Runs an HSM operation with the root key. When the connection was lost (the login ended, the token restarted,
    /// a handle or session went stale), it reconnects once with the configured options, finds the key again by its
    /// <c>CKA_ID</c> and retries; nothing is retried after an answer about the data itself.
    /// </summary>
    private T Run<T>(Func<ISession, IObjectHandle, T> operation)
    {
        var connection = Volatile.Read(ref _connection);
        try
        {
            try
            {
                return connection.Token.Run(session => operation(session, connection.Key));
            }
            catch (Pkcs11Exception e) when (IsConnectionLost(e.RV))
            {
                connection = Reconnect(connection);
                return connection.Token.Run(session => operation(session, connection.Key));
            }
        }
        catch (Pkcs11Exception e)
        {
            throw new KmsKeyUnavailableException($"The HSM that holds the root key failed the request: {e.Method} returned {e.RV}. Nothing was changed; retry when the HSM is reachable.", e);
        }
        catch (KmsCustomKeyStoreInvalidStateException e)
        {
            throw new KmsKeyUnavailableException($"The HSM that holds the root key is not reachable: {e.Message} Nothing was changed; retry when the HSM is reachable.", e);
        }
    }

    private static bool IsConnectionLost(CKR rv) => rv is CKR.CKR_USER_NOT_LOGGED_IN or CKR.CKR_KEY_HANDLE_INVALID or CKR.CKR_OBJECT_HANDLE_INVALID
        or CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED or CKR.CKR_DEVICE_REMOVED or CKR.CKR_TOKEN_NOT_PRESENT
        or CKR.CKR_DEVICE_ERROR or CKR.CKR_CRYPTOKI_NOT_INITIALIZED;

    private Connection Reconnect(Connection failed)
    {
        lock (_reconnectGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!ReferenceEquals(_connection, failed))
            {
                return _connection;
            }

            var token = Pkcs11Token.Connect(_options);
            try
            {
                var found = token.Run(session => Pkcs11Aes.FindById(session, _id));
                if (found.Count != 1)
                {
                    throw new KmsKeyUnavailableException($"After reconnecting, the HSM key '{Convert.ToHexStringLower(_id)}' that holds the root key is {(found.Count == 0 ? "not in the token" : "not unique")}.");
                }

                var connection = new Connection(token, found[0]);
                Volatile.Write(ref _connection, connection);
                failed.Token.Dispose();
                return connection;
            }
            catch
            {
                token.Dispose();
                throw;
            }
        }
    }

    private sealed record Connection(Pkcs11Token Token, IObjectHandle Key);
}
