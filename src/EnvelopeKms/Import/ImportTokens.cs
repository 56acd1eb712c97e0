using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;

namespace EnvelopeKms.Import;

/// <summary>What an import token carries.</summary>
internal sealed record ImportTokenContents(string TokenId, string KeyId, DateTimeOffset ValidTo, WrappingKeySpec WrappingKeySpec, ImportWrappingAlgorithm Algorithm, byte[] PrivateKeyPkcs8);

/// <summary>
/// Import tokens: <c>version 1 ‖ token id (16 bytes) ‖ valid-to (Unix seconds, 8 bytes big-endian) ‖
/// wrapping key spec (1) ‖ wrapping algorithm (1) ‖ key-id length (1) ‖ key id (ASCII) ‖ wrap</c>, where
/// the wrap is the root key's wrap of the RSA wrapping key's PKCS#8 private key with the label and the
/// preceding bytes as associated data. The wrap both hides the private key and authenticates the header,
/// so a token is bound to its key, its expiry and its algorithm; only a key manager holding the store's
/// root key can issue or read one. One-time use is enforced by the key record (<see cref="Storage.KeyRecord.UsedImportTokens"/>).
/// </summary>
internal static class ImportTokens
{
    /// <summary>How long a token and its public key are valid (KMS: 24 hours).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>The longest token accepted (KMS's limit on <c>ImportToken</c>).</summary>
    public const int MaxTokenLength = 6144;

    private const byte Version = 1;
    private const int HeaderFixed = 1 + 16 + 8 + 1 + 1 + 1;
    private static readonly byte[] Label = "EnvelopeKms import token v1"u8.ToArray();

    public static byte[] Issue(RootKey rootKey, string keyId, DateTimeOffset validTo, WrappingKeySpec spec, ImportWrappingAlgorithm algorithm, ReadOnlySpan<byte> privateKeyPkcs8)
    {
        var keyIdBytes = Encoding.ASCII.GetBytes(keyId);
        var header = new byte[HeaderFixed + keyIdBytes.Length];
        header[0] = Version;
        RandomNumberGenerator.Fill(header.AsSpan(1, 16));
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(17, 8), validTo.ToUnixTimeSeconds());
        header[25] = (byte)spec;
        header[26] = (byte)algorithm;
        header[27] = checked((byte)keyIdBytes.Length);
        keyIdBytes.CopyTo(header.AsSpan(HeaderFixed));
        var wrap = rootKey.Wrap(privateKeyPkcs8, AssociatedData(header));
        return [.. header, .. wrap];
    }

    /// <summary>Opens a token; its expiry and use are the caller's to check.</summary>
    /// <exception cref="KmsInvalidImportTokenException">The token is malformed or was not issued by this key manager.</exception>
    public static ImportTokenContents Open(RootKey rootKey, byte[] token)
    {
        if (token.Length < HeaderFixed || token.Length > MaxTokenLength || token[0] != Version)
        {
            throw Invalid();
        }

        var headerLength = HeaderFixed + token[27];
        if (token.Length <= headerLength || !Enum.IsDefined((WrappingKeySpec)token[25]) || !Enum.IsDefined((ImportWrappingAlgorithm)token[26]))
        {
            throw Invalid();
        }

        var header = token.AsSpan(0, headerLength);
        var wrap = token.AsSpan(headerLength);
        var length = rootKey.GetUnwrappedLength(wrap);
        if (length <= 0 || length > MaxTokenLength)
        {
            throw Invalid();
        }

        var privateKey = new byte[length];
        try
        {
            rootKey.Unwrap(wrap, AssociatedData(header), privateKey);
        }
        catch (Exception e) when (e is KmsStorageIntegrityException or CryptographicException)
        {
            throw Invalid();
        }

        return new ImportTokenContents(
            Convert.ToHexStringLower(header.Slice(1, 16)),
            Encoding.ASCII.GetString(header.Slice(HeaderFixed)),
            DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(header.Slice(17, 8))),
            (WrappingKeySpec)token[25],
            (ImportWrappingAlgorithm)token[26],
            privateKey);
    }

    private static KmsInvalidImportTokenException Invalid()
        => new("ImportToken is not an import token of this key manager, or it was modified.");

    private static byte[] AssociatedData(ReadOnlySpan<byte> header) => [.. Label, .. header];
}
