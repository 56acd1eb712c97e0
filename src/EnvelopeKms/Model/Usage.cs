using EnvelopeKms.Auditing.Usage;

namespace EnvelopeKms;

/// <summary>Input of <c>GetKeyLastUsage</c> (an EnvelopeKms call; needs <c>kms:GetKeyLastUsage</c>).</summary>
public sealed class GetKeyLastUsageRequest : KeyRequest;

/// <summary>Output of <c>GetKeyLastUsage</c>: the last operation and the last cryptographic operation on a key.</summary>
public sealed class GetKeyLastUsageResponse
{
    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }
    /// <summary>The key ARN.</summary>
    public required string Arn { get; init; }
    /// <summary>The last successful operation on the key, or <see langword="null"/> when none since <see cref="TrackingStartDate"/>.</summary>
    public KmsOperation? LastUsedOperation { get; init; }
    /// <summary>When <see cref="LastUsedOperation"/> happened.</summary>
    public DateTimeOffset? LastUsedDate { get; init; }
    /// <summary>The last successful cryptographic operation on the key (Encrypt, Decrypt, GenerateDataKey, Sign, ...), or <see langword="null"/>.</summary>
    public KmsOperation? LastCryptographicOperation { get; init; }
    /// <summary>When <see cref="LastCryptographicOperation"/> happened.</summary>
    public DateTimeOffset? LastCryptographicDate { get; init; }
    /// <summary>
    /// Since when usage is known: when the key manager's <see cref="KeyUsageMeter"/> started, or the oldest record of the
    /// audit trail it was replayed from. A key used only before it reads as never used.
    /// </summary>
    public required DateTimeOffset TrackingStartDate { get; init; }
}

/// <summary>Input of <c>GetUsageReport</c> (an EnvelopeKms call on no key; needs <c>kms:GetUsageReport</c>).</summary>
public sealed class GetUsageReportRequest : KmsRequest
{
    /// <summary>The start of the period (inclusive).</summary>
    public required DateTimeOffset From { get; init; }
    /// <summary>The end of the period (exclusive), after <see cref="From"/> and at most 400 days later.</summary>
    public required DateTimeOffset To { get; init; }
    /// <summary>The prices; <see cref="KmsPriceModel.AwsDefault"/> when <see langword="null"/>.</summary>
    public KmsPriceModel? PriceModel { get; init; }
}
