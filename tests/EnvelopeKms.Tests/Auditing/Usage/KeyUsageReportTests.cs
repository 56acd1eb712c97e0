using System.Text.Json;
using EnvelopeKms.Auditing.Usage;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.Time.Testing;
using static EnvelopeKms.Tests.Auditing.Usage.UsageTestSupport;

namespace EnvelopeKms.Tests.Auditing.Usage;

public sealed class KeyUsageReportTests
{
    /// <summary>November 2026: a 30-day month.</summary>
    private static readonly DateTimeOffset November = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset December = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static KeyUsageMeter MeterAt(DateTimeOffset now) => new(timeProvider: new FakeTimeProvider(now));

    private static KeyInventoryItem Key(string id, DateTimeOffset created, KeyManagerType manager = KeyManagerType.Customer, DateTimeOffset? until = null, int replicas = 0)
        => new() { KeyId = id, KeyManager = manager, CreationDate = created, BilledUntil = until, ReplicaCount = replicas };

    [Fact]
    public void Three_keys_for_a_whole_30_day_month_and_250000_requests_cost_3_dollars_75()
    {
        var meter = MeterAt(November);
        string[] keys = [KeyA, KeyB, KeyC];
        for (var i = 0; i < 250_000; i++)
        {
            meter.Record(Event(November.AddSeconds(i * 10), i % 2 == 0 ? KmsOperation.Decrypt : KmsOperation.GenerateDataKey, keys[i % 3]));
        }

        var report = KeyUsageReport.Create(November, December, keys.Select(k => Key(k, November.AddMonths(-1))), meter);

        Assert.Equal(3.75m, report.Total);
        Assert.Equal([3m, 0m, 0.75m], report.Lines.Select(l => l.Amount));
        Assert.Equal(3m, report.Lines[0].Quantity);
        Assert.Equal(25m, report.Lines[2].Quantity);
        Assert.Equal(250_000, report.TotalRequests);
        Assert.Equal(250_000, report.BillableRequests);
        Assert.Equal(0, report.FreeRequests);
        Assert.All(report.Keys, k => Assert.Equal(1m, k.MonthsActive));
        Assert.Equal(83_334, report.Keys.Single(k => k.KeyId == KeyA).Requests);
        Assert.Equal([KmsOperation.Decrypt, KmsOperation.GenerateDataKey], report.Keys.Single(k => k.KeyId == KeyA).Operations.Select(o => o.Operation));
        Assert.True(report.CountsAreComplete);
    }

    [Fact]
    public void Key_months_are_prorated_hourly_per_calendar_month()
    {
        var meter = MeterAt(November);

        // Created in the middle of November: 15 days of 30.
        Assert.Equal(0.5m, KeyUsageReport.MonthsActive(Key(KeyA, November.AddDays(15)), November, December));
        // Created at 10:30: billable from 10:00, so 14 hours of the first day.
        Assert.Equal(14m / 720m, KeyUsageReport.MonthsActive(Key(KeyA, November.AddHours(10.5)), November, November.AddDays(1)));
        // Billable until its deletion was scheduled at 06:10: to the end of that hour.
        Assert.Equal(7m / 720m, KeyUsageReport.MonthsActive(Key(KeyA, November.AddMonths(-2), until: November.AddHours(6).AddMinutes(10)), November, December));
        // Across two months: half of November (30 days) and half of December (31 days).
        var mid = KeyUsageReport.MonthsActive(Key(KeyA, November.AddMonths(-2)), November.AddDays(15), December.AddDays(15));
        Assert.Equal(360m / 720m + 360m / 744m, mid);
        // Created after the period, or no longer billable before it: nothing.
        Assert.Equal(0m, KeyUsageReport.MonthsActive(Key(KeyA, December), November, December));
        Assert.Equal(0m, KeyUsageReport.MonthsActive(Key(KeyA, November.AddMonths(-2), until: November.AddDays(-1)), November, December));

        var report = KeyUsageReport.Create(November, December, [Key(KeyA, November.AddDays(15)), Key(KeyB, November.AddMonths(-2), until: November.AddDays(-1))], meter);
        Assert.Equal(0.5m, report.Total);
        Assert.Equal(KeyA, Assert.Single(report.Keys).KeyId); // KeyB was neither billable nor used in the period.
    }

    [Fact]
    public void Aws_managed_keys_pay_only_for_requests_and_owned_keys_are_neither_listed_nor_charged()
    {
        var meter = MeterAt(November);
        for (var i = 0; i < 10_000; i++)
        {
            meter.Record(Event(November.AddMinutes(i), KmsOperation.Encrypt, KeyA));
            meter.Record(Event(November.AddMinutes(i), KmsOperation.Decrypt, KeyB));
        }

        var report = KeyUsageReport.Create(November, December,
            [Key(KeyA, November.AddMonths(-1), KeyManagerType.Aws), Key(KeyB, November.AddMonths(-1), KeyManagerType.Owned), Key(KeyC, November.AddMonths(-1))], meter);

        Assert.Equal([KeyA, KeyC], report.Keys.Select(k => k.KeyId));
        var managed = report.Keys[0];
        Assert.Equal(KeyManagerType.Aws, managed.KeyManager);
        Assert.Equal(1m, managed.MonthsActive);
        Assert.Equal(0m, managed.KeyCharge);
        Assert.Equal(10_000, managed.BillableRequests);
        Assert.Equal(1m, report.Lines[0].Quantity); // Only the customer managed key.
        Assert.Equal(1m + 0.03m, report.Total);
    }

    [Fact]
    public void A_custom_price_model_with_a_free_tier_per_calendar_month_and_successes_only()
    {
        var meter = MeterAt(November);
        for (var i = 0; i < 30_000; i++)
        {
            meter.Record(Event(November.AddDays(20).AddSeconds(i), KmsOperation.Encrypt, KeyA));
            meter.Record(Event(December.AddDays(1).AddSeconds(i), KmsOperation.Encrypt, KeyA, i < 10_000 ? KmsOutcome.Denied : KmsOutcome.Success));
        }

        var model = new KmsPriceModel
        {
            PricePerKeyMonth = 2m,
            PricePerReplicaKeyMonth = 0.5m,
            PricePerTenThousandRequests = 0.10m,
            FreeRequestsPerMonth = KmsPriceModel.AwsFreeTierRequestsPerMonth,
            ChargeUnsuccessfulRequests = false,
            Currency = "EUR",
        };
        var to = December.AddMonths(1);
        var report = KeyUsageReport.Create(November, to, [Key(KeyA, November.AddMonths(-1), replicas: 2)], meter, model);

        // November: 30,000 billable − 20,000 free; December: 20,000 successes − 20,000 free.
        Assert.Equal(50_000, report.BillableRequests);
        Assert.Equal(40_000, report.FreeRequests);
        Assert.Equal(60_000, report.TotalRequests);
        Assert.Equal(2m, report.Lines[0].Quantity);
        Assert.Equal(4m, report.Lines[1].Quantity);
        Assert.Equal(4m + 2m + 0.10m, report.Total);
        Assert.Equal(4m + 2m, report.Keys[0].KeyCharge);
        Assert.Contains("Total EUR", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Requests_on_no_key_and_the_service_own_work_are_handled_apart()
    {
        var meter = MeterAt(November);
        meter.Record(Event(November.AddHours(1), KmsOperation.ListKeys, keyId: null));
        meter.Record(Event(November.AddHours(1), KmsOperation.GenerateRandom, keyId: null));
        meter.Record(Event(November.AddHours(1), KmsOperation.RotateKey, KeyA));
        meter.Record(Event(November.AddHours(1), KmsOperation.ReEncryptFrom, KeyA, destinationKeyId: KeyB));

        var report = KeyUsageReport.Create(November, December, [], meter);

        Assert.Equal([null, KeyA, KeyB], report.Keys.Select(k => k.KeyId));
        Assert.Equal(2, report.Keys[0].BillableRequests);
        Assert.Equal(1, report.Keys[1].BillableRequests); // RotateKey is the service's own work.
        Assert.Equal(2, report.Keys[1].Requests);
        Assert.Equal(0, report.Keys[2].BillableRequests); // ReEncryptTo: the same request as ReEncryptFrom.
        Assert.Equal(3, report.BillableRequests);
    }

    [Fact]
    public void A_period_before_the_meter_started_is_flagged_incomplete()
    {
        var report = KeyUsageReport.Create(November, December, [], MeterAt(November.AddDays(3)));

        Assert.False(report.CountsAreComplete);
        Assert.Contains("counts incomplete", report.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_period_or_a_negative_price_is_refused()
    {
        var meter = MeterAt(November);

        Assert.Throws<KmsValidationException>(() => KeyUsageReport.Create(November, November, [], meter));
        Assert.Throws<KmsValidationException>(() => KeyUsageReport.Create(November, December, [], meter, new KmsPriceModel { PricePerKeyMonth = -1m }));
        Assert.Throws<KmsValidationException>(() => KeyUsageReport.Create(November, December, [], meter, new KmsPriceModel { FreeRequestsPerMonth = -1 }));
    }

    [Fact]
    public void The_report_renders_as_a_text_table_csv_and_json()
    {
        var meter = MeterAt(November);
        meter.Record(Event(November.AddHours(1), KmsOperation.Encrypt, KeyA));
        meter.Record(Event(November.AddHours(2), KmsOperation.Decrypt, KeyA, KmsOutcome.Denied));
        var report = KeyUsageReport.Create(November, December, [Key(KeyA, November.AddMonths(-1)) with { Arn = Kms.KeyArn(KeyA) }, Key(KeyB, November.AddMonths(-1))], meter);

        var text = report.ToText();
        Assert.Contains("KMS usage 2026-11-01 00:00 to 2026-12-01 00:00 UTC", text, StringComparison.Ordinal);
        Assert.Contains(KeyA, text, StringComparison.Ordinal);
        Assert.Contains("Encrypt=1, Decrypt=1", text, StringComparison.Ordinal);
        Assert.Contains("2.00", text, StringComparison.Ordinal);

        var csv = report.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("keyId,arn,keyManager,monthsActive,replicaCount,keyCharge,operation,success,failure,denied", csv[0]);
        Assert.Equal($"{KeyA},{Kms.KeyArn(KeyA)},CUSTOMER,1,0,1.00,Encrypt,1,0,0", csv[1]);
        Assert.Equal($"{KeyA},{Kms.KeyArn(KeyA)},CUSTOMER,1,0,1.00,Decrypt,0,0,1", csv[2]);
        Assert.Equal($"{KeyB},,CUSTOMER,1,0,1.00,,,,", csv[3]);
        Assert.Equal(4, csv.Length);

        var lines = report.ToPriceLinesCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("item,quantity,unit,unitPrice,amount,currency", lines[0]);
        Assert.Equal("Customer managed keys,2,key-month,1.00,2.00,USD", lines[1]);
        Assert.StartsWith("Total,,,,2.00", lines[^1], StringComparison.Ordinal);

        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(report.Total, root.GetProperty("total").GetDecimal());
        Assert.Equal("Encrypt", root.GetProperty("keys")[0].GetProperty("operations")[0].GetProperty("operation").GetString());
        Assert.Equal("Customer", root.GetProperty("keys")[0].GetProperty("keyManager").GetString());
        Assert.Equal(0.03m, root.GetProperty("priceModel").GetProperty("pricePerTenThousandRequests").GetDecimal());
    }
}
