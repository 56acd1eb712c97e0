using EnvelopeKms.Envelope;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EnvelopeKms.AspNetCore.DataProtection;

/// <summary>Options of <see cref="EnvelopeKmsDataProtectionBuilderExtensions.ProtectKeysWithEnvelopeKms"/>.</summary>
public sealed class EnvelopeKmsXmlEncryptionOptions
{
    /// <summary>The encryption context used when none is configured: <c>{"purpose": "Microsoft.AspNetCore.DataProtection key ring"}</c>.</summary>
    public static IReadOnlyDictionary<string, string> DefaultEncryptionContext { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["purpose"] = "Microsoft.AspNetCore.DataProtection key ring" };

    /// <summary>
    /// The encryption context of every key element (recorded in the audit trail, usable in key policy
    /// and grant conditions); <see cref="DefaultEncryptionContext"/> when <see langword="null"/>. Not secret.
    /// </summary>
    public IReadOnlyDictionary<string, string>? EncryptionContext { get; set; }

    internal IReadOnlyDictionary<string, string> ValidatedEncryptionContext()
    {
        var context = EncryptionContext ?? DefaultEncryptionContext;
        foreach (var pair in context)
        {
            if (string.IsNullOrEmpty(pair.Key))
            {
                throw new ArgumentException("An encryption context key of ProtectKeysWithEnvelopeKms is empty: KMS requires 1 or more characters.", nameof(EncryptionContext));
            }
        }

        return new Dictionary<string, string>(context, StringComparer.Ordinal);
    }

    internal static void CheckKeyId(string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (keyId.Length is 0 or > 2048 || keyId.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"'{keyId}' is not a KMS key identifier: give a key id, key ARN, alias name (alias/...) or alias ARN of 1–2048 characters without spaces.", nameof(keyId));
        }
    }
}

/// <summary>Registers EnvelopeKms as the Data Protection key ring's at-rest encryption.</summary>
public static class EnvelopeKmsDataProtectionBuilderExtensions
{
    /// <summary>
    /// Encrypts every key element of the Data Protection key ring with the EnvelopeKms key
    /// <paramref name="keyId"/> before it is written to the key repository. Needs the host's
    /// EnvelopeKms registration (<c>services.AddEnvelopeKms(...)</c>); every encryption and decryption
    /// is a KMS call, authorized and audited like any other.
    /// </summary>
    /// <param name="builder">The Data Protection builder.</param>
    /// <param name="keyId">A symmetric encryption key: key id, key ARN, alias name or alias ARN. An alias lets the key change without touching the configuration.</param>
    /// <param name="configure">Sets the encryption context; optional.</param>
    /// <returns>The builder.</returns>
    public static IDataProtectionBuilder ProtectKeysWithEnvelopeKms(this IDataProtectionBuilder builder, string keyId, Action<EnvelopeKmsXmlEncryptionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        EnvelopeKmsXmlEncryptionOptions.CheckKeyId(keyId);
        var options = new EnvelopeKmsXmlEncryptionOptions();
        configure?.Invoke(options);
        options.ValidatedEncryptionContext();
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services => new ConfigureOptions<KeyManagementOptions>(management =>
            management.XmlEncryptor = new EnvelopeKmsXmlEncryptor(services.GetRequiredService<IEnvelopeEncryptor>(), keyId, options)));
        return builder;
    }
}
