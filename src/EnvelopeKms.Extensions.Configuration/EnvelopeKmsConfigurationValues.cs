namespace EnvelopeKms.Extensions.Configuration;

/// <summary>
/// Encrypted configuration values: <c>ENC[EnvelopeKms,v1,&lt;base64 ciphertext blob&gt;]</c>, the output
/// of KMS <c>Encrypt</c> under an encryption context that names the configuration key the value belongs to.
/// </summary>
public static class EnvelopeKmsConfigurationValues
{
    /// <summary>What every encrypted value starts with.</summary>
    public const string Prefix = "ENC[EnvelopeKms,v1,";

    /// <summary>What every encrypted value ends with.</summary>
    public const string Suffix = "]";

    /// <summary>The encryption-context key whose value is the (lower-case) configuration key.</summary>
    public const string ContextKey = "EnvelopeKms:ConfigurationKey";

    /// <summary>The largest plaintext, in UTF-8 bytes: KMS <c>Encrypt</c>'s limit.</summary>
    public const int MaxPlaintextBytes = 4096;

    /// <summary>Whether <paramref name="value"/> has the shape of an encrypted value.</summary>
    /// <param name="value">A configuration value.</param>
    public static bool IsEncrypted(string? value)
        => value is not null
            && value.StartsWith(Prefix, StringComparison.Ordinal)
            && value.EndsWith(Suffix, StringComparison.Ordinal)
            && value.Length > Prefix.Length + Suffix.Length;

    /// <summary>
    /// The encryption context of a value of <paramref name="configurationKey"/>: configuration keys are
    /// case-insensitive, so the key is lower-cased (invariant culture); sections are separated by <c>:</c>.
    /// </summary>
    /// <param name="configurationKey">The configuration key, e.g. <c>ConnectionStrings:Orders</c>.</param>
    public static IReadOnlyDictionary<string, string> EncryptionContextFor(string configurationKey)
    {
        CheckConfigurationKey(configurationKey);
        return new Dictionary<string, string>(StringComparer.Ordinal) { [ContextKey] = configurationKey.ToLowerInvariant() };
    }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> as the value of <paramref name="configurationKey"/>: the
    /// result can only be decrypted as that key's value (moving it to another setting fails).
    /// </summary>
    /// <param name="keyManager">The key manager holding <paramref name="keyId"/>.</param>
    /// <param name="keyId">A symmetric encryption key: key id, key ARN, alias name or alias ARN.</param>
    /// <param name="configurationKey">The configuration key the value is for, e.g. <c>ConnectionStrings:Orders</c>.</param>
    /// <param name="plaintext">The secret, at most <see cref="MaxPlaintextBytes"/> UTF-8 bytes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The value to put in the configuration file.</returns>
    /// <exception cref="KmsValidationException">An empty configuration key, or a plaintext that is empty or too long.</exception>
    public static async Task<string> EncryptAsync(IKeyManager keyManager, string keyId, string configurationKey, string plaintext, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        ArgumentNullException.ThrowIfNull(keyId);
        ArgumentNullException.ThrowIfNull(plaintext);
        var context = EncryptionContextFor(configurationKey);
        var bytes = System.Text.Encoding.UTF8.GetBytes(plaintext);
        try
        {
            if (bytes.Length is 0 or > MaxPlaintextBytes)
            {
                throw new KmsValidationException($"The value of '{configurationKey}' is {bytes.Length} UTF-8 bytes; an encrypted configuration value holds 1 to {MaxPlaintextBytes} bytes (KMS Encrypt's limit).");
            }

            var response = await keyManager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = bytes, EncryptionContext = context }, cancellationToken).ConfigureAwait(false);
            return Prefix + Convert.ToBase64String(response.CiphertextBlob) + Suffix;
        }
        finally
        {
            Array.Clear(bytes);
        }
    }

    /// <summary>The ciphertext blob of an encrypted value, or <see langword="null"/> when it is not valid base64.</summary>
    internal static byte[]? CiphertextOf(string value)
    {
        var base64 = value.AsSpan(Prefix.Length, value.Length - Prefix.Length - Suffix.Length);
        var buffer = new byte[base64.Length * 3 / 4 + 3];
        return Convert.TryFromBase64Chars(base64, buffer, out var written) ? buffer[..written] : null;
    }

    internal static void CheckConfigurationKey(string configurationKey)
    {
        ArgumentNullException.ThrowIfNull(configurationKey);
        if (configurationKey.Length == 0)
        {
            throw new KmsValidationException("The configuration key of an encrypted value must not be empty: it is bound into the value's encryption context.");
        }
    }
}
