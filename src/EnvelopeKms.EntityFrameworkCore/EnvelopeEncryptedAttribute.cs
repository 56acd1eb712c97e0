namespace EnvelopeKms.EntityFrameworkCore;

/// <summary>
/// Marks a <see cref="string"/> or <see cref="byte"/>[] property to be stored envelope-encrypted by
/// <see cref="EnvelopeKmsModelBuilderExtensions.UseEnvelopeKmsEncryption"/>. The column holds the envelope
/// (binary); the property holds the plaintext.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class EnvelopeEncryptedAttribute : Attribute
{
    /// <summary>A key other than the model's default for this property (key id, key ARN, alias name or alias ARN), or <see langword="null"/>.</summary>
    public string? KeyId { get; init; }
}
