using System.Text.RegularExpressions;

namespace EnvelopeKms.KeyManagement;

/// <summary>The limits of AWS KMS on names, descriptions and tags, checked before anything else runs.</summary>
internal static partial class InputValidation
{
    public const int MaxDescriptionLength = 8192;
    public const int MaxAliasNameLength = 256;
    public const int MaxAliasesPerKey = 50;
    public const int MaxTagsPerKey = 50;
    public const int MaxTagKeyLength = 128;
    public const int MaxTagValueLength = 256;
    public const int MaxPlaintextLength = 4096;
    public const int MaxCiphertextLength = 6144;
    public const int MaxDataKeyBytes = 1024;
    public const int MaxRandomBytes = 1024;
    public const int MinPendingWindowInDays = 7;
    public const int MaxPendingWindowInDays = 30;
    public const int DefaultPendingWindowInDays = 30;

    [GeneratedRegex("^[a-zA-Z0-9:/_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex AliasNamePattern();

    [GeneratedRegex(@"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public static string ValidateDescription(string? description)
    {
        description ??= "";
        if (description.Length > MaxDescriptionLength)
        {
            throw new KmsValidationException($"Description has {description.Length} characters; the limit is {MaxDescriptionLength}.");
        }

        return description;
    }

    public static void ValidateAliasName(string? aliasName, bool forCreate)
    {
        if (string.IsNullOrEmpty(aliasName))
        {
            throw new KmsValidationException("AliasName is required.");
        }

        if (aliasName.Length > MaxAliasNameLength)
        {
            throw new KmsValidationException($"AliasName has {aliasName.Length} characters; the limit is {MaxAliasNameLength}.");
        }

        if (!aliasName.StartsWith("alias/", StringComparison.Ordinal) || aliasName.Length == "alias/".Length)
        {
            throw new KmsInvalidAliasNameException($"Alias '{aliasName}' must begin with 'alias/' followed by a name, such as 'alias/ExampleAlias'.");
        }

        if (!AliasNamePattern().IsMatch(aliasName))
        {
            throw new KmsInvalidAliasNameException($"Alias '{aliasName}' may contain only letters, digits, '/', '_', '-' and ':'.");
        }

        if (forCreate && aliasName.StartsWith("alias/aws/", StringComparison.Ordinal))
        {
            throw new KmsInvalidAliasNameException($"Alias '{aliasName}' uses the reserved prefix 'alias/aws/', which belongs to keys managed on your behalf.");
        }

        if (forCreate && aliasName.StartsWith(ManagedAliasPrefix, StringComparison.Ordinal))
        {
            throw new KmsInvalidAliasNameException($"Alias '{aliasName}' uses the reserved prefix '{ManagedAliasPrefix}', which belongs to managed keys that integrations create on your behalf.");
        }
    }

    /// <summary>The alias prefix of managed keys (the analogue of AWS's <c>alias/aws/</c>).</summary>
    public const string ManagedAliasPrefix = "alias/managed/";

    public static IReadOnlyList<KeyTag> ValidateTags(IReadOnlyList<KeyTag>? tags, string parameterName)
    {
        if (tags is null)
        {
            return [];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            if (tag is null)
            {
                throw new KmsTagException($"{parameterName} contains a null tag.");
            }

            ValidateTagKey(tag.TagKey);
            if (tag.TagValue is null || tag.TagValue.Length > MaxTagValueLength || !TagPattern().IsMatch(tag.TagValue))
            {
                throw new KmsTagException($"The value of tag '{tag.TagKey}' must have 0–{MaxTagValueLength} characters of letters, digits, spaces and _ . : / = + - @.");
            }

            if (!seen.Add(tag.TagKey))
            {
                throw new KmsTagException($"{parameterName} names tag key '{tag.TagKey}' more than once.");
            }
        }

        if (seen.Count > MaxTagsPerKey)
        {
            throw new KmsLimitExceededException($"{parameterName} has {seen.Count} tags; a key can have at most {MaxTagsPerKey}.");
        }

        return tags;
    }

    public static void ValidateTagKey(string? tagKey)
    {
        if (string.IsNullOrEmpty(tagKey) || tagKey.Length > MaxTagKeyLength || !TagPattern().IsMatch(tagKey))
        {
            throw new KmsTagException($"Tag key '{tagKey}' must have 1–{MaxTagKeyLength} characters of letters, digits, spaces and _ . : / = + - @.");
        }

        if (tagKey.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
        {
            throw new KmsTagException($"Tag key '{tagKey}' uses the reserved prefix 'aws:'.");
        }
    }

    public static int ValidateLimit(int? limit, int max, int defaultValue)
    {
        var value = limit ?? defaultValue;
        if (value < 1 || value > max)
        {
            throw new KmsValidationException($"Limit must be between 1 and {max}; it was {value}.");
        }

        return value;
    }

    public static void ValidateAlgorithm(EncryptionAlgorithm algorithm, string parameterName)
    {
        if (!Enum.IsDefined(algorithm))
        {
            throw new KmsValidationException($"{parameterName} is not a known encryption algorithm.");
        }

        if (algorithm != EncryptionAlgorithm.SymmetricDefault)
        {
            throw new KmsInvalidKeyUsageException($"{parameterName} {algorithm.ToKmsName()} is not supported by SYMMETRIC_DEFAULT keys; use SYMMETRIC_DEFAULT.");
        }
    }
}
