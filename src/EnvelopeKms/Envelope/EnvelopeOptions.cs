using Microsoft.Extensions.Options;

namespace EnvelopeKms.Envelope;

/// <summary>Limits of the data-key cache and the choice of AES-GCM implementation.</summary>
public sealed class EnvelopeOptions
{
    /// <summary>The most messages encrypted under one data key; 2^24 by default (far below the 2^32 NIST bound; nonces are counters, so they never repeat).</summary>
    public long MaxMessagesPerDataKey { get; set; } = 1L << 24;

    /// <summary>The most plaintext bytes encrypted under one data key; 64 GiB by default.</summary>
    public long MaxBytesPerDataKey { get; set; } = 1L << 36;

    /// <summary>How long a data key is used (encrypt side) or kept (decrypt side) after it was created or unwrapped; 5 minutes by default.</summary>
    public TimeSpan MaxDataKeyAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most data keys cached at once on each side; the oldest are evicted first. 1000 by default.</summary>
    public int CacheCapacity { get; set; } = 1000;

    /// <summary>
    /// The plaintext bytes of every segment of an encrypted stream but the last; 64 KiB by default,
    /// between 4 KiB and 16 MiB. Stored in each stream's header, so decryption never needs it.
    /// </summary>
    public int StreamSegmentSize { get; set; } = 64 * 1024;

    /// <summary>The AES-GCM implementation; <see cref="AeadBackend.Automatic"/> by default.</summary>
    public AeadBackend Backend { get; set; } = AeadBackend.Automatic;
}

/// <summary>Validates <see cref="EnvelopeOptions"/>.</summary>
public sealed class EnvelopeOptionsValidator : IValidateOptions<EnvelopeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EnvelopeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxMessagesPerDataKey is < 1 or > uint.MaxValue)
        {
            failures.Add("EnvelopeOptions.MaxMessagesPerDataKey must be between 1 and 2^32 - 1.");
        }

        if (options.MaxBytesPerDataKey < 1)
        {
            failures.Add("EnvelopeOptions.MaxBytesPerDataKey must be positive.");
        }

        if (options.MaxDataKeyAge <= TimeSpan.Zero)
        {
            failures.Add("EnvelopeOptions.MaxDataKeyAge must be positive.");
        }

        if (options.CacheCapacity < 1)
        {
            failures.Add("EnvelopeOptions.CacheCapacity must be at least 1.");
        }

        if (options.StreamSegmentSize is < EnvelopeFormat.MinSegmentSize or > EnvelopeFormat.MaxSegmentSize)
        {
            failures.Add("EnvelopeOptions.StreamSegmentSize must be between 4 KiB (4096) and 16 MiB (16777216).");
        }

        if (!Enum.IsDefined(options.Backend))
        {
            failures.Add("EnvelopeOptions.Backend is not a known backend.");
        }
        else if (options.Backend == AeadBackend.Libsodium && !AeadKey.LibsodiumSupported)
        {
            failures.Add("EnvelopeOptions.Backend is Libsodium, but libsodium's AES-256-GCM is not available on this processor.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// Under <see cref="EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly"/> only the platform's AES-GCM may
    /// run: an explicit <see cref="AeadBackend.Libsodium"/> is refused (<see cref="AeadBackend.Automatic"/>
    /// then means <see cref="AeadBackend.Platform"/>).
    /// </summary>
    internal static ValidateOptionsResult ValidateForFips(EnvelopeOptions options, bool fipsApprovedAlgorithmsOnly)
        => fipsApprovedAlgorithmsOnly && options.Backend == AeadBackend.Libsodium
            ? ValidateOptionsResult.Fail(
                "EnvelopeOptions.Backend is Libsodium, but EnvelopeKmsOptions.FipsApprovedAlgorithmsOnly is set: only the platform's cryptographic module (OpenSSL) may run, "
                + "and libsodium is not it. Use AeadBackend.Platform, or AeadBackend.Automatic, which then chooses the platform's AES-GCM.")
            : ValidateOptionsResult.Success;
}

/// <summary>Checks <see cref="EnvelopeOptions"/> against the key manager's FIPS option at start-up (service container only).</summary>
internal sealed class EnvelopeOptionsFipsValidator(IOptions<EnvelopeKmsOptions> kmsOptions) : IValidateOptions<EnvelopeOptions>
{
    public ValidateOptionsResult Validate(string? name, EnvelopeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            return EnvelopeOptionsValidator.ValidateForFips(options, kmsOptions.Value.FipsApprovedAlgorithmsOnly);
        }
        catch (OptionsValidationException)
        {
            return ValidateOptionsResult.Skip; // invalid EnvelopeKmsOptions are reported by their own validation
        }
    }
}

/// <summary>Counters of the data-key cache.</summary>
/// <param name="EncryptHits">Messages encrypted with a cached data key.</param>
/// <param name="EncryptMisses">Data keys generated (each a <c>GenerateDataKey</c> call).</param>
/// <param name="DecryptHits">Messages decrypted with a cached data key.</param>
/// <param name="DecryptMisses">Data keys unwrapped (each a <c>Decrypt</c> call).</param>
/// <param name="Evictions">Data keys dropped: by age, usage limits, capacity, a key change, or <c>ClearCache</c>.</param>
/// <param name="Entries">Data keys cached now, both sides.</param>
public readonly record struct EnvelopeCacheStatistics(long EncryptHits, long EncryptMisses, long DecryptHits, long DecryptMisses, long Evictions, int Entries);
