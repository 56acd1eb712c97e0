using EnvelopeKms.Auditing.Usage;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.Time.Testing;
using static EnvelopeKms.Tests.Auditing.Usage.UsageTestSupport;

namespace EnvelopeKms.Tests.Auditing.Usage;

public sealed class KeyUsageMeterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Requests_are_counted_per_key_operation_hour_and_outcome()
    {
        var clock = new FakeTimeProvider(Start);
        var meter = new KeyUsageMeter(timeProvider: clock);
        var ten = Start.AddHours(10);

        meter.Record(Event(ten.AddMinutes(15), KmsOperation.Encrypt));
        meter.Record(Event(ten.AddMinutes(45), KmsOperation.Encrypt));
        meter.Record(Event(ten.AddMinutes(50), KmsOperation.Encrypt, outcome: KmsOutcome.Denied));
        meter.Record(Event(ten.AddMinutes(55), KmsOperation.Decrypt, outcome: KmsOutcome.Failure));
        meter.Record(Event(ten.AddMinutes(65), KmsOperation.Encrypt));
        meter.Record(Event(ten.AddMinutes(66), KmsOperation.Encrypt, KeyB));
        meter.Record(Event(ten.AddMinutes(67), KmsOperation.ListKeys, keyId: null));

        Assert.Equal($"{KeyA} Encrypt 2/0/1\n{KeyA} Decrypt 0/1/0", Describe(meter.GetUsage(ten, ten.AddHours(1))));
        Assert.Equal($"- ListKeys 1/0/0\n{KeyA} Encrypt 1/0/0\n{KeyB} Encrypt 1/0/0", Describe(meter.GetUsage(ten.AddHours(1), ten.AddHours(2))));
        Assert.Equal(6, meter.GetUsage(Start, Start.AddDays(1)).Where(u => u.KeyId is not null).Sum(u => u.Total));
        Assert.Empty(meter.GetUsage(ten.AddHours(2), ten.AddDays(1)));
    }

    [Fact]
    public void Day_periods_count_a_whole_utc_day_in_one_bucket()
    {
        var clock = new FakeTimeProvider(Start);
        var meter = new KeyUsageMeter(new KeyUsageMeterOptions { Period = UsagePeriod.Day }, clock);

        meter.Record(Event(Start.AddHours(1), KmsOperation.Encrypt));
        meter.Record(Event(Start.AddHours(23), KmsOperation.Encrypt));
        meter.Record(Event(Start.AddHours(25), KmsOperation.Encrypt));

        Assert.Equal(UsagePeriod.Day, meter.Period);
        // A bucket counts when its start is in the range: the day bucket of Nov 1 starts at midnight.
        Assert.Equal(2, Assert.Single(meter.GetUsage(Start, Start.AddDays(1))).Success);
        Assert.Empty(meter.GetUsage(Start.AddHours(1), Start.AddDays(1)));
        Assert.Equal(1, Assert.Single(meter.GetUsage(Start.AddDays(1), Start.AddDays(2))).Success);
    }

    [Fact]
    public void Last_usage_follows_successful_operations_and_last_cryptographic_use_only_cryptographic_ones()
    {
        var meter = new KeyUsageMeter(timeProvider: new FakeTimeProvider(Start));
        Assert.Null(meter.GetLastUsage(KeyA).LastUsedOperation);

        meter.Record(Event(Start.AddMinutes(1), KmsOperation.CreateKey));
        Assert.Null(meter.GetLastUsage(KeyA).LastUsedDate); // Creating a key is not using it.

        meter.Record(Event(Start.AddMinutes(2), KmsOperation.GenerateDataKey));
        meter.Record(Event(Start.AddMinutes(3), KmsOperation.DescribeKey));
        meter.Record(Event(Start.AddMinutes(4), KmsOperation.Decrypt, outcome: KmsOutcome.Failure));
        meter.Record(Event(Start.AddMinutes(5), KmsOperation.Encrypt, outcome: KmsOutcome.Denied));
        meter.Record(Event(Start.AddMinutes(6), KmsOperation.GetKeyLastUsage));
        meter.Record(Event(Start.AddSeconds(30), KmsOperation.Sign)); // Older than what is known: ignored.

        var usage = meter.GetLastUsage(KeyA);
        Assert.Equal(KmsOperation.DescribeKey, usage.LastUsedOperation);
        Assert.Equal(Start.AddMinutes(3), usage.LastUsedDate);
        Assert.Equal(KmsOperation.GenerateDataKey, usage.LastCryptographicOperation);
        Assert.Equal(Start.AddMinutes(2), usage.LastCryptographicDate);
    }

    [Fact]
    public void A_re_encrypt_is_a_cryptographic_use_of_both_keys_but_one_request_on_the_source()
    {
        var meter = new KeyUsageMeter(timeProvider: new FakeTimeProvider(Start));

        meter.Record(Event(Start.AddMinutes(1), KmsOperation.ReEncryptFrom, KeyA, destinationKeyId: KeyB));

        Assert.Equal(KmsOperation.ReEncryptFrom, meter.GetLastUsage(KeyA).LastCryptographicOperation);
        Assert.Equal(KmsOperation.ReEncryptTo, meter.GetLastUsage(KeyB).LastCryptographicOperation);
        Assert.Equal($"{KeyA} ReEncryptFrom 1/0/0\n{KeyB} ReEncryptTo 1/0/0", Describe(meter.GetUsage(Start, Start.AddDays(1))));
        Assert.False(KeyUsageReport.IsBillableOperation(KmsOperation.ReEncryptTo));
        Assert.True(KeyUsageReport.IsBillableOperation(KmsOperation.ReEncryptFrom));
    }

    [Fact]
    public void Counts_older_than_the_retention_window_are_dropped_but_last_usage_is_kept()
    {
        var clock = new FakeTimeProvider(Start);
        var meter = new KeyUsageMeter(new KeyUsageMeterOptions { Retention = TimeSpan.FromDays(2) }, clock);

        meter.Record(Event(Start.AddDays(-3), KmsOperation.Encrypt)); // Already outside the window.
        meter.Record(Event(Start.AddHours(1), KmsOperation.Decrypt));
        Assert.Equal($"{KeyA} Decrypt 1/0/0", Describe(meter.GetUsage(Start.AddDays(-10), Start.AddDays(10))));
        Assert.Equal(Start.AddDays(-2), meter.CountsRetainedSince);

        clock.Advance(TimeSpan.FromDays(3));
        meter.Record(Event(clock.GetUtcNow(), KmsOperation.Encrypt, KeyB)); // Any record prunes once a period.

        Assert.Equal($"{KeyB} Encrypt 1/0/0", Describe(meter.GetUsage(Start.AddDays(-10), Start.AddDays(10))));
        Assert.Equal(Start.AddDays(1), meter.CountsRetainedSince);
        Assert.Equal(KmsOperation.Decrypt, meter.GetLastUsage(KeyA).LastUsedOperation);
    }

    [Fact]
    public void Keys_beyond_the_limit_are_counted_on_the_account_line()
    {
        var meter = new KeyUsageMeter(new KeyUsageMeterOptions { MaxTrackedKeys = 2 }, new FakeTimeProvider(Start));

        meter.Record(Event(Start, KmsOperation.Encrypt, KeyA));
        meter.Record(Event(Start, KmsOperation.Encrypt, KeyB));
        meter.Record(Event(Start, KmsOperation.Encrypt, KeyC));
        meter.Record(Event(Start, KmsOperation.Encrypt, KeyC));

        Assert.Equal($"- Encrypt 2/0/0\n{KeyA} Encrypt 1/0/0\n{KeyB} Encrypt 1/0/0", Describe(meter.GetUsage(Start, Start.AddHours(1))));
        Assert.Null(meter.GetLastUsage(KeyC).LastUsedOperation);
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyUsageMeter(new KeyUsageMeterOptions { Retention = TimeSpan.FromMinutes(59) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyUsageMeter(new KeyUsageMeterOptions { Period = (UsagePeriod)7 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyUsageMeter(new KeyUsageMeterOptions { MaxTrackedKeys = 0 }));
    }

    [Fact]
    public void The_tracking_start_is_the_creation_of_the_meter()
    {
        var meter = new KeyUsageMeter(timeProvider: new FakeTimeProvider(Start));

        Assert.Equal(Start, meter.TrackingStartDate);
    }

    [Fact]
    public async Task Parallel_records_lose_no_counts()
    {
        var meter = new KeyUsageMeter(timeProvider: new FakeTimeProvider(Start));
        string[] keys = [KeyA, KeyB, KeyC];
        KmsOperation[] operations = [KmsOperation.Encrypt, KmsOperation.Decrypt, KmsOperation.GenerateDataKey];
        const int Threads = 8;
        const int PerThread = 30_000;

        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                var n = t * PerThread + i;
                meter.Record(Event(Start.AddMinutes(n % 600), operations[n % 3], keys[(n / 3) % 3], (KmsOutcome)(1 + n % 3)));
            }
        }, Kms.Ct)));

        var usage = meter.GetUsage(Start, Start.AddDays(1));
        Assert.Equal(Threads * PerThread, usage.Sum(u => u.Total));
        Assert.Equal(9, usage.Count);
        Assert.Equal(Threads * PerThread / 3, usage.Sum(u => u.Success));
        Assert.Equal(Threads * PerThread / 3, usage.Sum(u => u.Denied));
        Assert.Equal(Start.AddMinutes(597), keys.Select(k => meter.GetLastUsage(k).LastUsedDate).Max());
    }
}
