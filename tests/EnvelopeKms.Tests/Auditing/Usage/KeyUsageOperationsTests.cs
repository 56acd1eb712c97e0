using EnvelopeKms.Auditing.Usage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Auditing.Usage;

/// <summary><c>GetKeyLastUsage</c> and <c>GetUsageReport</c> on a real key manager (clock: 2026-01-01, a 31-day month).</summary>
public sealed class KeyUsageOperationsTests
{
    private static Task<GetKeyLastUsageResponse> LastUsageAsync(IKeyManager km, string keyId, CallerIdentity? caller = null)
        => km.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { KeyId = keyId, Caller = caller }, Kms.Ct);

    [Fact]
    public async Task Last_usage_follows_encrypt_decrypt_and_describe()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var start = kms.Clock.GetUtcNow();
        var key = await km.NewKeyAsync("usage");

        var never = await LastUsageAsync(km, key.KeyId);
        Assert.Equal(key.KeyId, never.KeyId);
        Assert.Equal(key.Arn, never.Arn);
        Assert.Null(never.LastUsedOperation);
        Assert.Null(never.LastUsedDate);
        Assert.Null(never.LastCryptographicOperation);
        Assert.Null(never.LastCryptographicDate);
        Assert.Equal(start, never.TrackingStartDate);

        kms.Clock.Advance(TimeSpan.FromMinutes(1));
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("secret"));
        var afterEncrypt = await LastUsageAsync(km, key.KeyId);
        Assert.Equal(KmsOperation.Encrypt, afterEncrypt.LastUsedOperation);
        Assert.Equal(start.AddMinutes(1), afterEncrypt.LastUsedDate);
        Assert.Equal(KmsOperation.Encrypt, afterEncrypt.LastCryptographicOperation);

        kms.Clock.Advance(TimeSpan.FromMinutes(1));
        await km.DecryptBlobAsync(blob);
        kms.Clock.Advance(TimeSpan.FromMinutes(1));
        await km.DescribeAsync(key.KeyId);
        kms.Clock.Advance(TimeSpan.FromMinutes(1));

        var usage = await LastUsageAsync(km, key.KeyId);
        Assert.Equal(KmsOperation.DescribeKey, usage.LastUsedOperation);
        Assert.Equal(start.AddMinutes(3), usage.LastUsedDate);
        Assert.Equal(KmsOperation.Decrypt, usage.LastCryptographicOperation);
        Assert.Equal(start.AddMinutes(2), usage.LastCryptographicDate);
        // Reading the last usage is not a use: asking again still says DescribeKey.
        Assert.Equal(KmsOperation.DescribeKey, (await LastUsageAsync(km, key.Arn)).LastUsedOperation);
    }

    [Fact]
    public async Task Failures_and_denials_do_not_count_as_a_use_but_are_counted_as_requests()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("usage");
        kms.Clock.Advance(TimeSpan.FromMinutes(1));
        await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("ok"));
        kms.Clock.Advance(TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.EncryptAsync(new EncryptRequest { Caller = new CallerIdentity(Kms.RoleArn), KeyId = key.KeyId, Plaintext = new byte[] { 1 } }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[4097] }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptAsync(new DecryptRequest { CiphertextBlob = new byte[64] }, Kms.Ct));

        var usage = await LastUsageAsync(km, key.KeyId);
        Assert.Equal(KmsOperation.Encrypt, usage.LastUsedOperation);
        Assert.Equal(kms.Clock.GetUtcNow().AddMinutes(-1), usage.LastUsedDate);

        var counts = kms.Manager.UsageMeter.GetUsage(kms.Clock.GetUtcNow().AddDays(-1), kms.Clock.GetUtcNow().AddDays(1));
        var encrypt = counts.Single(u => u.KeyId == key.KeyId && u.Operation == KmsOperation.Encrypt);
        Assert.Equal((1, 0, 1), (encrypt.Success, encrypt.Failure, encrypt.Denied));
        // The oversized plaintext and the garbage ciphertext failed before a key was resolved: counted on the account line.
        Assert.Equal(1, counts.Single(u => u.KeyId is null && u.Operation == KmsOperation.Encrypt).Failure);
        Assert.Equal(1, counts.Single(u => u.KeyId is null && u.Operation == KmsOperation.Decrypt).Failure);
    }

    [Fact]
    public async Task Get_key_last_usage_accepts_an_alias_runs_in_any_key_state_and_is_audited_and_authorized()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("usage");
        await km.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/usage", TargetKeyId = key.KeyId }, Kms.Ct);
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = key.KeyId, PendingWindowInDays = 7 }, Kms.Ct);

        var usage = await LastUsageAsync(km, "alias/usage");
        Assert.Equal(key.KeyId, usage.KeyId);
        Assert.Equal(KmsOperation.ScheduleKeyDeletion, usage.LastUsedOperation);
        var audit = kms.Audit.Events[^1];
        Assert.Equal(KmsOperation.GetKeyLastUsage, audit.Operation);
        Assert.Equal(key.KeyId, audit.KeyId);

        var denied = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => LastUsageAsync(km, key.KeyId, new CallerIdentity(Kms.RoleArn)));
        Assert.Contains("kms:GetKeyLastUsage", denied.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsNotFoundException>(() => LastUsageAsync(km, "11111111-1111-4111-8111-111111111111"));
    }

    [Fact]
    public async Task The_usage_report_prices_the_keys_of_the_store_and_the_requests_of_the_meter()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var january = kms.Clock.GetUtcNow();
        var february = january.AddMonths(1);
        var kept = await km.NewKeyAsync("kept");
        var scheduled = await km.NewKeyAsync("scheduled");
        var purged = await km.NewKeyAsync("purged");
        for (var i = 0; i < 5; i++)
        {
            await km.EncryptBlobAsync(kept.KeyId, Kms.Utf8("x"));
        }

        kms.Clock.Advance(TimeSpan.FromDays(10));
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = purged.KeyId, PendingWindowInDays = 7 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(5));
        await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = scheduled.KeyId, PendingWindowInDays = 30 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromDays(5));
        Assert.Equal(1, await km.PurgeExpiredKeysAsync(Kms.Ct));
        Assert.Null(await kms.Store.GetKeyAsync(purged.KeyId, Kms.Ct));

        var report = await km.GetUsageReportAsync(new GetUsageReportRequest { From = january, To = february }, Kms.Ct);

        var byKey = report.Keys.Where(k => k.KeyId is not null).ToDictionary(k => k.KeyId!);
        Assert.Equal(1m, byKey[kept.KeyId].MonthsActive);
        Assert.Equal(360m / 744m, byKey[scheduled.KeyId].MonthsActive); // Until its deletion was scheduled on day 15.
        Assert.Equal(240m / 744m, byKey[purged.KeyId].MonthsActive); // Purged, known from the meter: until day 10.
        Assert.Equal(KeyManagerType.Customer, byKey[kept.KeyId].KeyManager);
        Assert.Equal(5, byKey[kept.KeyId].Operations.Single(o => o.Operation == KmsOperation.Encrypt).Success);
        Assert.Equal(1m + 600m / 744m, report.Lines[0].Quantity, 20);
        Assert.Equal(report.Lines.Sum(l => l.Amount), report.Total);
        Assert.Equal(KmsOperation.GetUsageReport, kms.Audit.Events[^1].Operation);
        Assert.Null(kms.Audit.Events[^1].KeyId);

        var custom = await km.GetUsageReportAsync(new GetUsageReportRequest { From = january, To = february, PriceModel = new KmsPriceModel { PricePerKeyMonth = 10m, PricePerTenThousandRequests = 0m } }, Kms.Ct);
        Assert.Equal((1m + 600m / 744m) * 10m, custom.Total, 18);
    }

    [Fact]
    public async Task The_usage_report_is_refused_for_a_bad_period_or_an_unauthorized_caller()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var now = kms.Clock.GetUtcNow();

        await Assert.ThrowsAsync<KmsValidationException>(() => km.GetUsageReportAsync(new GetUsageReportRequest { From = now, To = now.AddDays(-1) }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GetUsageReportAsync(new GetUsageReportRequest { From = now, To = now.AddDays(401) }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GetUsageReportAsync(new GetUsageReportRequest { From = now, To = now.AddDays(1), PriceModel = new KmsPriceModel { PricePerTenThousandRequests = -0.01m } }, Kms.Ct));
        var denied = await Assert.ThrowsAsync<KmsAccessDeniedException>(() => km.GetUsageReportAsync(new GetUsageReportRequest { Caller = new CallerIdentity(Kms.RoleArn), From = now, To = now.AddDays(1) }, Kms.Ct));
        Assert.Contains("kms:GetUsageReport", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_builder_supplies_or_configures_the_meter()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var meter = new KeyUsageMeter(timeProvider: clock);
        using (var supplied = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().TrackUsage(_ => meter), timeProvider: clock))
        {
            Assert.Same(meter, supplied.UsageMeter);
            var key = await supplied.Api().NewKeyAsync("builder");
            await supplied.Api().DescribeAsync(key.KeyId);
            Assert.Equal(KmsOperation.DescribeKey, meter.GetLastUsage(key.KeyId).LastUsedOperation);
        }

        using (var configured = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().TrackUsage(o => { o.Period = UsagePeriod.Day; o.Retention = TimeSpan.FromDays(400); }), timeProvider: clock))
        {
            Assert.Equal(UsagePeriod.Day, configured.UsageMeter.Period);
            Assert.Equal(TimeSpan.FromDays(400), configured.UsageMeter.Retention);
            Assert.Equal(clock.GetUtcNow(), configured.UsageMeter.TrackingStartDate);
        }

        using (var byDefault = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore(), timeProvider: clock))
        {
            Assert.Equal(UsagePeriod.Hour, byDefault.UsageMeter.Period);
            Assert.Equal(KeyUsageMeterOptions.DefaultRetention, byDefault.UsageMeter.Retention);
        }

        var services = new ServiceCollection();
        services.AddSingleton(meter);
        services.AddEnvelopeKms();
        await using var provider = services.BuildServiceProvider();
        Assert.Same(meter, provider.GetRequiredService<KeyManager>().UsageMeter);
    }
}
