namespace EnvelopeKms.Auditing.Usage;

/// <summary>
/// The prices a <see cref="KeyUsageReport"/> applies. The defaults are AWS KMS's list prices: $1 per customer managed key
/// per month (prorated hourly), $1 per multi-Region replica key per month, $0.03 per 10,000 requests. AWS's free tier of
/// 20,000 requests a month is account-wide (all Regions, all workloads), so it is <b>not</b> applied by default: set
/// <see cref="FreeRequestsPerMonth"/> to <see cref="AwsFreeTierRequestsPerMonth"/> when this workload has the account to itself.
/// </summary>
/// <remarks>
/// Not modelled: AWS's higher rates for some asymmetric requests (RSA other than 2048-bit, ECC, <c>GenerateDataKeyPair</c>)
/// and their exclusion from the free tier, and the extra $1 per month for each of a key's first two rotated key materials.
/// Prices and currency are whatever you set; the report does no currency conversion.
/// </remarks>
public sealed record KmsPriceModel
{
    /// <summary>AWS KMS's free tier: 20,000 requests a month, across all Regions of the account.</summary>
    public const long AwsFreeTierRequestsPerMonth = 20_000;

    /// <summary>The AWS KMS list prices, without the free tier.</summary>
    public static KmsPriceModel AwsDefault { get; } = new();

    /// <summary>The price of a customer managed key for a whole calendar month ($1). AWS managed keys and owned keys are not charged.</summary>
    public decimal PricePerKeyMonth { get; init; } = 1.00m;

    /// <summary>The price of each multi-Region replica of a key for a whole calendar month ($1).</summary>
    public decimal PricePerReplicaKeyMonth { get; init; } = 1.00m;

    /// <summary>The price of 10,000 billable requests ($0.03).</summary>
    public decimal PricePerTenThousandRequests { get; init; } = 0.03m;

    /// <summary>Billable requests a calendar month that are free (0 by default; AWS's free tier is <see cref="AwsFreeTierRequestsPerMonth"/>).</summary>
    public long FreeRequestsPerMonth { get; init; }

    /// <summary>
    /// Whether failed and denied requests are billable (<see langword="true"/> by default: AWS meters API requests, and its price
    /// list exempts none by outcome). Set to <see langword="false"/> to price successful requests only.
    /// </summary>
    public bool ChargeUnsuccessfulRequests { get; init; } = true;

    /// <summary>The currency of the prices, for display ("USD").</summary>
    public string Currency { get; init; } = "USD";

    internal void Validate()
    {
        if (PricePerKeyMonth < 0 || PricePerReplicaKeyMonth < 0 || PricePerTenThousandRequests < 0)
        {
            throw new KmsValidationException("Prices in PriceModel must not be negative.");
        }

        if (FreeRequestsPerMonth < 0)
        {
            throw new KmsValidationException("PriceModel.FreeRequestsPerMonth must not be negative.");
        }

        if (string.IsNullOrWhiteSpace(Currency) || Currency.Length > 16)
        {
            throw new KmsValidationException("PriceModel.Currency must be 1 to 16 characters.");
        }
    }
}
