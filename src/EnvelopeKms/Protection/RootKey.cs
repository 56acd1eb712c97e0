using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.Protection;

/// <summary>
/// Supplies the root key that wraps every key's material before it reaches a key store. The
/// provider is asked once per key manager; the stored parameters are the public
/// parameters an earlier instance recorded in the store (for example a passphrase KDF's salt).
/// </summary>
public interface IRootKeyProvider
{
    /// <summary>Opens the root key.</summary>
    /// <param name="storedParameters">
    /// The parameters recorded in an existing store (an empty string when it recorded none), or
    /// <see langword="null"/> for a new store.
    /// </param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <exception cref="KmsRootKeyException">The root key is missing or malformed.</exception>
    ValueTask<RootKey> GetRootKeyAsync(string? storedParameters, CancellationToken cancellationToken);
}

/// <summary>
/// An open root key: wraps and unwraps key material with authenticated encryption bound to
/// associated data. Implementations keep the key out of reach (pinned and zeroed, or inside an HSM).
/// </summary>
public abstract class RootKey : IDisposable
{
    /// <summary>
    /// A key check value: a one-way value derived from the root key that the store records, so that a
    /// different root key is detected before anything is read or written. It reveals nothing of the key.
    /// </summary>
    public abstract string KeyCheckValue { get; }

    /// <summary>Public parameters to record in the store with a new store (for example a KDF salt), or <see langword="null"/>.</summary>
    public abstract string? Parameters { get; }

    /// <summary>Wraps key material, binding <paramref name="associatedData"/>.</summary>
    public abstract byte[] Wrap(ReadOnlySpan<byte> material, ReadOnlySpan<byte> associatedData);

    /// <summary>Returns the length of the material inside a wrapped blob, or -1 when the blob is malformed.</summary>
    public abstract int GetUnwrappedLength(ReadOnlySpan<byte> wrapped);

    /// <summary>Unwraps key material into <paramref name="material"/>.</summary>
    /// <exception cref="KmsStorageIntegrityException">The blob was modified, belongs to another key, or was wrapped by another root key.</exception>
    public abstract void Unwrap(ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData, Span<byte> material);

    /// <summary>Releases the key.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the key.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>A 256-bit root key held in pinned memory: AES-256-GCM wrapping under an HKDF-derived key-encryption key.</summary>
internal sealed class AesGcmRootKey : RootKey
{
    internal const int KeySize = 32;
    private const byte WrapFormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] WrapLabel = Encoding.ASCII.GetBytes("EnvelopeKms root key: key-material wrapping v1");
    private static readonly byte[] CheckLabel = Encoding.ASCII.GetBytes("EnvelopeKms root key: key check value v1");

    private readonly byte[] _kek = GC.AllocateArray<byte>(KeySize, pinned: true);
    private readonly AesGcm _aes;
    private readonly Lock _aesGate = new();

    public AesGcmRootKey(ReadOnlySpan<byte> rootKey, string? parameters)
    {
        if (rootKey.Length != KeySize)
        {
            throw new KmsRootKeyException($"A root key must be {KeySize} bytes (256 bits); the one given has {rootKey.Length} bytes.");
        }

        HKDF.Expand(HashAlgorithmName.SHA256, rootKey, _kek, WrapLabel);
        Span<byte> check = stackalloc byte[16];
        HKDF.Expand(HashAlgorithmName.SHA256, rootKey, check, CheckLabel);
        KeyCheckValue = Convert.ToHexStringLower(check);
        _aes = new AesGcm(_kek, TagSize);
        Parameters = parameters;
    }

    public override string KeyCheckValue { get; }

    public override string? Parameters { get; }

    public override byte[] Wrap(ReadOnlySpan<byte> material, ReadOnlySpan<byte> associatedData)
    {
        var wrapped = new byte[1 + NonceSize + material.Length + TagSize];
        wrapped[0] = WrapFormatVersion;
        var nonce = wrapped.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        lock (_aesGate)
        {
            _aes.Encrypt(nonce, material, wrapped.AsSpan(1 + NonceSize, material.Length), wrapped.AsSpan(1 + NonceSize + material.Length), associatedData);
        }

        return wrapped;
    }

    public override int GetUnwrappedLength(ReadOnlySpan<byte> wrapped)
        => wrapped.Length < 1 + NonceSize + TagSize || wrapped[0] != WrapFormatVersion ? -1 : wrapped.Length - 1 - NonceSize - TagSize;

    public override void Unwrap(ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData, Span<byte> material)
    {
        var length = GetUnwrappedLength(wrapped);
        if (length < 0 || material.Length != length)
        {
            throw new KmsStorageIntegrityException("A stored key-material blob is malformed; it was left in place.");
        }

        try
        {
            lock (_aesGate)
            {
                _aes.Decrypt(wrapped.Slice(1, NonceSize), wrapped.Slice(1 + NonceSize, length), wrapped[(1 + NonceSize + length)..], material, associatedData);
            }
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(material);
            throw new KmsStorageIntegrityException("A stored key-material blob failed authentication: it was modified or copied from another key; it was left in place.", e);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_kek);
        }

        base.Dispose(disposing);
    }
}
