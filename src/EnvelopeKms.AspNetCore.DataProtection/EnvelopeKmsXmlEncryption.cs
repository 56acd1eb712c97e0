using EnvelopeKms.Envelope;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.AspNetCore.DataProtection;

/// <summary>
/// Encrypts the Data Protection key ring's key elements with an EnvelopeKms key before they reach the
/// key repository: envelope encryption (a data key from <c>GenerateDataKey</c>, AES-256-GCM), bound to
/// this purpose by associated data and to the configured encryption context.
/// </summary>
/// <remarks>
/// Data Protection calls <see cref="IXmlEncryptor.Encrypt"/> synchronously, when it creates a key (by
/// default every 90 days); the KMS call runs on the thread pool and the caller waits for it. The
/// element written to the repository names the KMS key and holds only ciphertext:
/// <code>
/// &lt;encryptedKey xmlns="https://envelopekms.dev/dataprotection/2026"&gt;
///   &lt;!-- This key is encrypted with EnvelopeKms key 'alias/dataprotection'. --&gt;
///   &lt;envelope keyId="alias/dataprotection"&gt;base64 envelope&lt;/envelope&gt;
/// &lt;/encryptedKey&gt;
/// </code>
/// </remarks>
public sealed class EnvelopeKmsXmlEncryptor : IXmlEncryptor
{
    private readonly IEnvelopeEncryptor _encryptor;
    private readonly string _keyId;
    private readonly IReadOnlyDictionary<string, string> _encryptionContext;

    /// <summary>Creates an encryptor that protects key elements with <paramref name="keyId"/>.</summary>
    /// <param name="encryptor">The envelope encryptor of the host's EnvelopeKms registration.</param>
    /// <param name="keyId">The KMS key: key id, key ARN, alias name or alias ARN of a symmetric encryption key.</param>
    /// <param name="options">The encryption context; <see cref="EnvelopeKmsXmlEncryptionOptions.DefaultEncryptionContext"/> when <see langword="null"/>.</param>
    public EnvelopeKmsXmlEncryptor(IEnvelopeEncryptor encryptor, string keyId, EnvelopeKmsXmlEncryptionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(encryptor);
        EnvelopeKmsXmlEncryptionOptions.CheckKeyId(keyId);
        _encryptor = encryptor;
        _keyId = keyId;
        _encryptionContext = (options ?? new EnvelopeKmsXmlEncryptionOptions()).ValidatedEncryptionContext();
    }

    /// <inheritdoc />
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var plaintext = EnvelopeKmsXmlFormat.Serialize(plaintextElement);
        try
        {
            var envelope = Task.Run(async () => await _encryptor.EncryptAsync(_keyId, plaintext, _encryptionContext, EnvelopeKmsXmlFormat.AssociatedData).ConfigureAwait(false))
                .GetAwaiter().GetResult();
            return new EncryptedXmlInfo(EnvelopeKmsXmlFormat.Wrap(_keyId, envelope), typeof(EnvelopeKmsXmlDecryptor));
        }
        finally
        {
            Array.Clear(plaintext);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"EnvelopeKms XML encryptor (key '{_keyId}')";
}

/// <summary>
/// Decrypts key elements written by <see cref="EnvelopeKmsXmlEncryptor"/>. Data Protection creates it
/// from the type name in the repository, with the application's services: it needs the host's
/// EnvelopeKms registration (<c>AddEnvelopeKms</c>) with access to the key that encrypted the element.
/// </summary>
public sealed class EnvelopeKmsXmlDecryptor : IXmlDecryptor
{
    private readonly IEnvelopeEncryptor _encryptor;

    /// <summary>Creates the decryptor from the application's services (how Data Protection creates it).</summary>
    /// <param name="services">The application's services; they must hold an <see cref="IEnvelopeEncryptor"/>.</param>
    /// <exception cref="InvalidOperationException">No EnvelopeKms registration: call <c>AddEnvelopeKms</c>.</exception>
    public EnvelopeKmsXmlDecryptor(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _encryptor = services.GetService<IEnvelopeEncryptor>()
            ?? throw new InvalidOperationException("The Data Protection key ring holds keys encrypted with EnvelopeKms, but the application's services have no IEnvelopeEncryptor: call services.AddEnvelopeKms(...) with the store that holds the key.");
    }

    /// <summary>Creates the decryptor over an envelope encryptor.</summary>
    /// <param name="encryptor">The envelope encryptor.</param>
    public EnvelopeKmsXmlDecryptor(IEnvelopeEncryptor encryptor)
    {
        ArgumentNullException.ThrowIfNull(encryptor);
        _encryptor = encryptor;
    }

    /// <inheritdoc />
    /// <exception cref="KmsInvalidCiphertextException">The element is not one this encryptor wrote, or it was altered.</exception>
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var envelope = EnvelopeKmsXmlFormat.Unwrap(encryptedElement);
        var plaintext = Task.Run(async () => await _encryptor.DecryptAsync(envelope, EnvelopeKmsXmlFormat.AssociatedData).ConfigureAwait(false))
            .GetAwaiter().GetResult();
        try
        {
            return EnvelopeKmsXmlFormat.Deserialize(plaintext);
        }
        finally
        {
            Array.Clear(plaintext);
        }
    }
}
