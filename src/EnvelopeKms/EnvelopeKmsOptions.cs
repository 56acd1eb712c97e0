using Microsoft.Extensions.Options;

namespace EnvelopeKms;

/// <summary>Settings of a key manager. They shape ARNs and the default caller, so keep them stable for a store.</summary>
public sealed class EnvelopeKmsOptions
{
    /// <summary>The 12-digit account id that owns the keys; <c>000000000000</c> by default.</summary>
    public string AccountId { get; set; } = "000000000000";

    /// <summary>The region name used in ARNs; <c>local</c> by default.</summary>
    public string Region { get; set; } = "local";

    /// <summary>The partition used in ARNs; <c>aws</c> by default.</summary>
    public string Partition { get; set; } = "aws";

    /// <summary>How many times a write that lost an optimistic-concurrency race is retried; 8 by default.</summary>
    public int MaxConflictRetries { get; set; } = 8;

    /// <summary>
    /// How many encryptions one key material may do before the key rotates automatically: 2^28
    /// (268,435,456) by default, allowed 1–2^32. Each encryption takes a random 96-bit nonce, and NIST SP
    /// 800-38D bounds one AES-GCM key to 2^32 of them; the default keeps the chance of a repeated nonce
    /// below 2^-41. Counts are reserved in the store in blocks, so they survive restarts as an upper
    /// bound (see <c>docs/rotation.md</c>).
    /// </summary>
    public long MaxEncryptionsPerKeyMaterial { get; set; } = 1L << 28;

    /// <summary>
    /// Restricts the key manager to FIPS-approved algorithms run by the platform's cryptographic module
    /// (OpenSSL on Linux); <see langword="false"/> by default. When set, creating or using a key whose
    /// algorithms are not FIPS-approved (<c>ECC_SECG_P256K1</c>) or run in BouncyCastle here
    /// (<c>ECC_NIST_EDWARDS25519</c>, <c>ML_DSA_*</c>, <c>ML_KEM_*</c>, <c>HMAC_224</c>) is an
    /// <see cref="KmsUnsupportedOperationException"/>, and an <see cref="Envelope.EnvelopeEncryptor"/> over
    /// this key manager uses the platform's AES-GCM only. It restricts algorithms and providers; whether
    /// OpenSSL itself runs its FIPS provider is the system's configuration, which is not checked here.
    /// </summary>
    public bool FipsApprovedAlgorithmsOnly { get; set; }

    /// <summary>
    /// How long the key manager waits for the audit sink to accept a record: 10 seconds by default,
    /// allowed 1 millisecond to 5 minutes. A write that takes longer is abandoned (its cancellation
    /// token is cancelled) and, unless <see cref="AuditFailOpen"/> is set, the operation fails with
    /// <see cref="KmsAuditUnavailableException"/> and neither returns a secret nor commits a change.
    /// </summary>
    public TimeSpan AuditWriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Lets operations complete when the audit sink fails or times out; <see langword="false"/> (fail
    /// closed) by default. Choose it only where availability outweighs a complete trail: the failure
    /// is logged (event <c>AuditRecordLost</c>), every record this key manager writes carries
    /// <c>auditFailOpen: true</c>, and the next record the sink accepts counts the records lost before it.
    /// </summary>
    public bool AuditFailOpen { get; set; }
}

/// <summary>Validates <see cref="EnvelopeKmsOptions"/> at start-up.</summary>
public sealed class EnvelopeKmsOptionsValidator : IValidateOptions<EnvelopeKmsOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EnvelopeKmsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.AccountId is not { Length: 12 } account || !account.All(char.IsAsciiDigit))
        {
            failures.Add($"EnvelopeKms:AccountId must be 12 digits; it is '{options.AccountId}'.");
        }

        if (string.IsNullOrEmpty(options.Region) || options.Region.Length > 32 || !options.Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            failures.Add($"EnvelopeKms:Region must be 1–32 characters of a-z, 0-9 and '-'; it is '{options.Region}'.");
        }

        if (string.IsNullOrEmpty(options.Partition) || options.Partition.Length > 16 || !options.Partition.All(c => char.IsAsciiLetterLower(c) || c == '-'))
        {
            failures.Add($"EnvelopeKms:Partition must be 1–16 characters of a-z and '-'; it is '{options.Partition}'.");
        }

        if (options.MaxConflictRetries is < 0 or > 100)
        {
            failures.Add("EnvelopeKms:MaxConflictRetries must be between 0 and 100.");
        }

        if (options.MaxEncryptionsPerKeyMaterial is < 1 or > 1L << 32)
        {
            failures.Add("EnvelopeKms:MaxEncryptionsPerKeyMaterial must be between 1 and 2^32 (4294967296).");
        }

        if (options.AuditWriteTimeout < TimeSpan.FromMilliseconds(1) || options.AuditWriteTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"EnvelopeKms:AuditWriteTimeout must be between 1 millisecond and 5 minutes; it is {options.AuditWriteTimeout}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
