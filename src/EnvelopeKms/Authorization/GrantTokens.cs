using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Protection;

namespace EnvelopeKms.Authorization;

/// <summary>
/// Grant tokens: a key manager's authenticated reference to a grant. A token is
/// <c>base64url(version 1 ‖ grant id (32 bytes) ‖ key-id length (1 byte) ‖ key id (ASCII) ‖ seal)</c>,
/// the seal being the root key's wrap of zero bytes with the label and the preceding bytes as
/// associated data (with the AES-GCM root key, a GMAC with a random nonce). Every call issues a
/// different token; any of a grant's tokens can be used. Only a key manager holding the store's root
/// key can issue or check one, and a token says nothing secret.
/// </summary>
internal static class GrantTokens
{
    /// <summary>At most this many tokens in one request (KMS's limit).</summary>
    public const int MaxTokensPerRequest = 10;

    /// <summary>A token is at most this long (KMS's limit).</summary>
    public const int MaxTokenLength = 8192;

    private const byte Version = 1;
    private static readonly byte[] Label = "EnvelopeKms grant token v1"u8.ToArray();

    public static string Issue(RootKey rootKey, string keyId, string grantId)
    {
        var body = Body(keyId, grantId);
        var seal = rootKey.Wrap([], AssociatedData(body));
        return Base64Url.EncodeToString([.. body, .. seal]);
    }

    /// <summary>Checks every token of a request; a bad one is <see cref="KmsInvalidGrantTokenException"/>.</summary>
    public static void Validate(RootKey rootKey, IReadOnlyList<string> tokens)
    {
        if (tokens.Count > MaxTokensPerRequest)
        {
            throw new KmsValidationException($"GrantTokens has {tokens.Count} tokens; at most {MaxTokensPerRequest} are allowed.");
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            Parse(rootKey, tokens[i], $"GrantTokens[{i}]");
        }
    }

    /// <summary>The key and grant a token names.</summary>
    /// <exception cref="KmsInvalidGrantTokenException">The token is malformed or was not issued with this root key.</exception>
    public static (string KeyId, string GrantId) Parse(RootKey rootKey, string? token, string parameterName)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            throw new KmsInvalidGrantTokenException($"{parameterName} must be a grant token of 1 to {MaxTokenLength} characters.");
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            throw new KmsInvalidGrantTokenException($"{parameterName} is not a grant token: it is not base64url.");
        }

        if (bytes.Length < 1 + 32 + 1 || bytes[0] != Version)
        {
            throw new KmsInvalidGrantTokenException($"{parameterName} is not a grant token of this key manager.");
        }

        var keyIdLength = bytes[33];
        var bodyLength = 34 + keyIdLength;
        if (bytes.Length <= bodyLength)
        {
            throw new KmsInvalidGrantTokenException($"{parameterName} is not a grant token of this key manager.");
        }

        var body = bytes.AsSpan(0, bodyLength);
        var seal = bytes.AsSpan(bodyLength);
        try
        {
            if (rootKey.GetUnwrappedLength(seal) != 0)
            {
                throw new KmsInvalidGrantTokenException($"{parameterName} is not a grant token of this key manager.");
            }

            rootKey.Unwrap(seal, AssociatedData(body), []);
        }
        catch (KmsStorageIntegrityException)
        {
            throw new KmsInvalidGrantTokenException($"{parameterName} is not a grant token of this key manager: its seal does not verify.");
        }
        catch (CryptographicException)
        {
            throw new KmsInvalidGrantTokenException($"{parameterName} is not a grant token of this key manager: its seal does not verify.");
        }

        return (Encoding.ASCII.GetString(body.Slice(34, keyIdLength)), Convert.ToHexStringLower(body.Slice(1, 32)));
    }

    private static byte[] Body(string keyId, string grantId)
    {
        var keyIdBytes = Encoding.ASCII.GetBytes(keyId);
        if (keyIdBytes.Length > byte.MaxValue)
        {
            throw new ArgumentException("The key id is too long.", nameof(keyId));
        }

        return [Version, .. Convert.FromHexString(grantId), (byte)keyIdBytes.Length, .. keyIdBytes];
    }

    private static byte[] AssociatedData(ReadOnlySpan<byte> body) => [.. Label, .. body];
}
