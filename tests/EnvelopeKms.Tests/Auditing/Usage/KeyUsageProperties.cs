using EnvelopeKms.Auditing.Usage;
using FsCheck;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using static EnvelopeKms.Tests.Auditing.Usage.UsageTestSupport;

namespace EnvelopeKms.Tests.Auditing.Usage;

public sealed class KeyUsageProperties
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly KmsOperation[] Operations = [KmsOperation.Encrypt, KmsOperation.Decrypt, KmsOperation.GenerateDataKey, KmsOperation.ListKeys];
    private static readonly string?[] Keys = [KeyA, KeyB, null];

    [Property(MaxTest = 100)]
    public bool Counts_are_additive_over_splitting_a_period(int[] events, NonNegativeInt split, bool daily)
    {
        var meter = new KeyUsageMeter(new KeyUsageMeterOptions { Period = daily ? UsagePeriod.Day : UsagePeriod.Hour }, new FakeTimeProvider(Start.AddDays(20)));
        foreach (var e in events ?? [])
        {
            var n = e & int.MaxValue;
            meter.Record(Event(Start.AddMinutes(n % (20 * 24 * 60)), Operations[n % 4], Keys[(n / 4) % 3], (KmsOutcome)(1 + (n / 12) % 3)));
        }

        var from = Start;
        var to = Start.AddDays(20);
        var at = Start.AddSeconds(split.Get % (20 * 24 * 3600)); // Any instant, not only a period boundary.
        var whole = meter.GetUsage(from, to);
        var sum = meter.GetUsage(from, at).Concat(meter.GetUsage(at, to))
            .GroupBy(u => (u.KeyId, u.Operation))
            .Select(g => new KeyOperationUsage { KeyId = g.Key.KeyId, Operation = g.Key.Operation, Success = g.Sum(u => u.Success), Failure = g.Sum(u => u.Failure), Denied = g.Sum(u => u.Denied) })
            .OrderBy(u => u.KeyId ?? "", StringComparer.Ordinal).ThenBy(u => u.Operation);
        return Describe(whole) == Describe(sum) && whole.Sum(u => u.Total) == (events?.Length ?? 0);
    }
}
