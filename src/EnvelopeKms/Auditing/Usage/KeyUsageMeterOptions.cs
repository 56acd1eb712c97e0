namespace EnvelopeKms.Auditing.Usage;

/// <summary>The width of the periods a <see cref="KeyUsageMeter"/> counts requests in (UTC).</summary>
public enum UsagePeriod
{
    /// <summary>One bucket per UTC hour.</summary>
    Hour = 1,
    /// <summary>One bucket per UTC day.</summary>
    Day,
}

/// <summary>Options of a <see cref="KeyUsageMeter"/>.</summary>
public sealed class KeyUsageMeterOptions
{
    /// <summary>The default <see cref="Retention"/>: 62 days, the current calendar month and the whole previous one.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(62);

    /// <summary>The default <see cref="MaxTrackedKeys"/>.</summary>
    public const int DefaultMaxTrackedKeys = 100_000;

    /// <summary>The width of a counting bucket; <see cref="UsagePeriod.Hour"/> by default.</summary>
    public UsagePeriod Period { get; set; } = UsagePeriod.Hour;

    /// <summary>
    /// How long counts are kept: buckets that start before <c>now − Retention</c> are dropped, and events older than that are
    /// not counted (they still update the last usage). Between 1 hour and 3660 days; 62 days by default. Memory is at most
    /// one bucket per key, operation and period inside the window (an hourly bucket is about 100 bytes).
    /// </summary>
    public TimeSpan Retention { get; set; } = DefaultRetention;

    /// <summary>
    /// The most keys the meter tracks (100,000 by default). Events on further keys are counted on the account line
    /// (no key id) and do not record a last usage: this bounds memory against requests that name made-up key ids.
    /// </summary>
    public int MaxTrackedKeys { get; set; } = DefaultMaxTrackedKeys;

    internal void Validate()
    {
        if (!Enum.IsDefined(Period))
        {
            throw new ArgumentOutOfRangeException(nameof(Period), Period, "Period must be Hour or Day.");
        }

        if (Retention < TimeSpan.FromHours(1) || Retention > TimeSpan.FromDays(3660))
        {
            throw new ArgumentOutOfRangeException(nameof(Retention), Retention, "Retention must be between 1 hour and 3660 days.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTrackedKeys, 1, nameof(MaxTrackedKeys));
    }
}
