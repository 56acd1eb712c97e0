using System.Collections.ObjectModel;
using System.Globalization;

namespace EnvelopeKms;

/// <summary>
/// What a verified attestation document attests: the recipient's public key and the measurements that
/// policies can test through the condition keys <c>kms:RecipientAttestation:ImageSha384</c> and
/// <c>kms:RecipientAttestation:PCR&lt;n&gt;</c>. Nothing in it is secret.
/// </summary>
public sealed class RecipientAttestation
{
    /// <summary>The condition key of the image digest (<see cref="ImageSha384"/>).</summary>
    public const string ImageSha384ConditionKey = "kms:RecipientAttestation:ImageSha384";

    /// <summary>The prefix of the PCR condition keys: <c>kms:RecipientAttestation:PCR</c> followed by the PCR index (0–31).</summary>
    public const string PcrConditionKeyPrefix = "kms:RecipientAttestation:PCR";

    /// <summary>The highest PCR index (Nitro Enclaves have 32 PCRs, 0–31).</summary>
    public const int MaxPcrIndex = 31;

    private readonly ReadOnlyDictionary<int, ReadOnlyMemory<byte>> _pcrs;

    /// <summary>Creates the result of a verification.</summary>
    /// <param name="publicKey">The recipient's public key as a DER SubjectPublicKeyInfo (RFC 5280); the key manager requires RSA of at least 2048 bits.</param>
    /// <param name="pcrs">The measurements by PCR index (0–31); PCR0 is the image digest.</param>
    /// <param name="moduleId">The identifier of the attested module (the enclave).</param>
    /// <param name="timestamp">When the document was made.</param>
    public RecipientAttestation(ReadOnlyMemory<byte> publicKey, IReadOnlyDictionary<int, ReadOnlyMemory<byte>> pcrs, string moduleId, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(pcrs);
        ArgumentNullException.ThrowIfNull(moduleId);
        if (publicKey.IsEmpty)
        {
            throw new ArgumentException("The attested public key is empty.", nameof(publicKey));
        }

        var copy = new Dictionary<int, ReadOnlyMemory<byte>>(pcrs.Count);
        foreach (var (index, value) in pcrs)
        {
            if (index is < 0 or > MaxPcrIndex)
            {
                throw new ArgumentOutOfRangeException(nameof(pcrs), index, $"PCR indexes are 0–{MaxPcrIndex}.");
            }

            copy[index] = value.ToArray();
        }

        PublicKey = publicKey.ToArray();
        _pcrs = copy.AsReadOnly();
        ModuleId = moduleId;
        Timestamp = timestamp;
    }

    /// <summary>The recipient's public key (DER SubjectPublicKeyInfo): secrets are encrypted for it.</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>The measurements by PCR index.</summary>
    public IReadOnlyDictionary<int, ReadOnlyMemory<byte>> Pcrs => _pcrs;

    /// <summary>The identifier of the attested module (Nitro's <c>module_id</c>).</summary>
    public string ModuleId { get; }

    /// <summary>When the document was made.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Optional application data the recipient put in the document (Nitro's <c>user_data</c>).</summary>
    public ReadOnlyMemory<byte>? UserData { get; init; }

    /// <summary>Optional nonce the recipient put in the document (Nitro's <c>nonce</c>).</summary>
    public ReadOnlyMemory<byte>? Nonce { get; init; }

    /// <summary>
    /// The image digest as lowercase hex, the value of <c>kms:RecipientAttestation:ImageSha384</c>. As in
    /// AWS KMS, it is PCR0 (the enclave image file's SHA-384 measurement); <see langword="null"/> when the
    /// document has no PCR0.
    /// </summary>
    public string? ImageSha384 => Pcrs.TryGetValue(0, out var pcr0) ? Convert.ToHexStringLower(pcr0.Span) : null;

    /// <summary>
    /// Reads a condition key by its name: <c>kms:RecipientAttestation:ImageSha384</c> or
    /// <c>kms:RecipientAttestation:PCR&lt;n&gt;</c> (n = 0–31, no leading zeros), compared ignoring case as
    /// IAM compares condition key names. The value is lowercase hex, as AWS KMS policies write it.
    /// </summary>
    /// <returns><see langword="true"/> when the key is one of these and the document has the measurement.</returns>
    public bool TryGetConditionValue(string conditionKey, out string value)
    {
        ArgumentNullException.ThrowIfNull(conditionKey);
        value = "";
        if (string.Equals(conditionKey, ImageSha384ConditionKey, StringComparison.OrdinalIgnoreCase))
        {
            var image = ImageSha384;
            value = image ?? "";
            return image is not null;
        }

        if (!conditionKey.StartsWith(PcrConditionKeyPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var digits = conditionKey.AsSpan(PcrConditionKeyPrefix.Length);
        if (digits.Length is 0 or > 2 || (digits.Length == 2 && digits[0] == '0') || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !Pcrs.TryGetValue(index, out var pcr))
        {
            return false;
        }

        value = Convert.ToHexStringLower(pcr.Span);
        return true;
    }
}
