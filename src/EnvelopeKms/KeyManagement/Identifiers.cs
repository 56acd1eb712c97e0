using System.Text;
using System.Security.Cryptography;

namespace EnvelopeKms.KeyManagement;

/// <summary>How a request named a key.</summary>
internal enum KeyIdentifierKind
{
    KeyId,
    KeyArn,
    AliasName,
    AliasArn,
}

/// <summary>A key reference as given, parsed: the key id, or the alias name to resolve.</summary>
internal readonly record struct KeyIdentifier(KeyIdentifierKind Kind, string Value)
{
    public bool IsAlias => Kind is KeyIdentifierKind.AliasName or KeyIdentifierKind.AliasArn;
}

/// <summary>Key ids, key-material ids and ARNs: generation, formatting and parsing.</summary>
internal sealed class Identifiers
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
    private readonly string _arnPrefix;

    public Identifiers(string partition, string region, string accountId)
    {
        Partition = partition;
        Region = region;
        AccountId = accountId;
        _arnPrefix = $"arn:{partition}:kms:{region}:{accountId}:";
    }

    public string Partition { get; }

    public string Region { get; }

    public string AccountId { get; }

    /// <summary>A new key id: a random (version 4) UUID in lowercase, as AWS KMS key ids look.</summary>
    public static string NewKeyId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var h = Convert.ToHexStringLower(bytes);
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}";
    }

    /// <summary>
    /// The fixed key id of a key the library creates for a purpose (a managed key of a service, an owned
    /// key): a version-8 UUID from SHA-256 of the label, so that every instance sharing a store derives
    /// the same id and a concurrent or interrupted creation converges on one key.
    /// </summary>
    public static string DerivedKeyId(string label)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(label), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var h = Convert.ToHexStringLower(bytes);
        return $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}";
    }

    /// <summary>Whether <paramref name="value"/> is a key-material id: 64 lowercase hex characters.</summary>
    public static bool IsKeyMaterialId(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigitLower);

    /// <summary>A new key-material id: 32 random bytes as 64 lowercase hex characters.</summary>
    public static string NewKeyMaterialId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Whether <paramref name="value"/> has the shape of a key id (a lowercase UUID, or <c>mrk-</c> and 32 hex characters).</summary>
    public static bool IsKeyIdShape(ReadOnlySpan<char> value)
    {
        if (value.Length != 36)
        {
            return false;
        }

        if (value.StartsWith("mrk-"))
        {
            return !value[4..].ContainsAnyExcept(LowerHex);
        }

        for (var i = 0; i < 36; i++)
        {
            var ok = i is 8 or 13 or 18 or 23 ? value[i] == '-' : char.IsAsciiDigit(value[i]) || char.IsAsciiHexDigitLower(value[i]);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public string KeyArn(string keyId) => _arnPrefix + "key/" + keyId;

    public string AliasArn(string aliasName) => _arnPrefix + aliasName;

    /// <summary>Parses a key id, key ARN, alias name or alias ARN.</summary>
    /// <exception cref="KmsNotFoundException">The value is none of these, or names another account, region or partition.</exception>
    public KeyIdentifier Parse(string? value, string parameterName)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new KmsValidationException($"{parameterName} is required: give a key id, key ARN, alias name or alias ARN.");
        }

        if (value.Length > 2048)
        {
            throw new KmsValidationException($"{parameterName} is longer than 2048 characters.");
        }

        if (value.StartsWith("alias/", StringComparison.Ordinal))
        {
            return new KeyIdentifier(KeyIdentifierKind.AliasName, value);
        }

        if (value.StartsWith("arn:", StringComparison.Ordinal))
        {
            var parts = value.Split(':', 6);
            if (parts.Length != 6 || parts[2] != "kms")
            {
                throw new KmsNotFoundException($"Invalid {parameterName} '{value}': not a KMS key or alias ARN.");
            }

            if (!value.StartsWith(_arnPrefix, StringComparison.Ordinal))
            {
                throw new KmsNotFoundException($"Invalid {parameterName} '{value}': the ARN names partition '{parts[1]}', region '{parts[3]}' and account '{parts[4]}'; this key manager serves '{Partition}', '{Region}' and '{AccountId}'.");
            }

            var resource = parts[5];
            if (resource.StartsWith("key/", StringComparison.Ordinal) && IsKeyIdShape(resource.AsSpan(4)))
            {
                return new KeyIdentifier(KeyIdentifierKind.KeyArn, resource[4..]);
            }

            if (resource.StartsWith("alias/", StringComparison.Ordinal))
            {
                return new KeyIdentifier(KeyIdentifierKind.AliasArn, resource);
            }

            throw new KmsNotFoundException($"Invalid {parameterName} '{value}': an ARN must end in 'key/KEY_ID' or 'alias/NAME'.");
        }

        if (IsKeyIdShape(value))
        {
            return new KeyIdentifier(KeyIdentifierKind.KeyId, value);
        }

        throw new KmsNotFoundException($"Invalid {parameterName} '{value}': give a key id (a lowercase UUID), key ARN, alias name ('alias/...') or alias ARN.");
    }
}
