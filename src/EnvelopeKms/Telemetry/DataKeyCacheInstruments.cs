using System.Diagnostics.Metrics;
using EnvelopeKms.Envelope;

namespace EnvelopeKms.Telemetry;

/// <summary>
/// The data-key cache's hit and miss counters. They are observable counters read from
/// <see cref="IEnvelopeEncryptor.CacheStatistics"/> when a listener collects, so encrypting or decrypting
/// with a cached data key records nothing and allocates nothing, telemetry or not.
/// </summary>
internal static class DataKeyCacheInstruments
{
    private static readonly KeyValuePair<string, object?> EncryptTag = new(EnvelopeKmsTelemetry.CacheDirectionTag, "encrypt");
    private static readonly KeyValuePair<string, object?> DecryptTag = new(EnvelopeKmsTelemetry.CacheDirectionTag, "decrypt");

    public static void Register(IMeterFactory? meterFactory, IEnvelopeEncryptor encryptor)
    {
        if (meterFactory is null)
        {
            return;
        }

        var meter = meterFactory.Create(new MeterOptions(EnvelopeKmsTelemetry.MeterName) { Version = typeof(DataKeyCacheInstruments).Assembly.GetName().Version?.ToString() });

        // A weak reference: the meter (owned by the factory) must not keep a disposed encryptor alive.
        var target = new WeakReference<IEnvelopeEncryptor>(encryptor);
        meter.CreateObservableCounter(
            EnvelopeKmsTelemetry.DataKeyCacheHitsInstrument,
            () => Observe(target, hits: true),
            "{message}",
            "Envelope messages served by a cached data key.");
        meter.CreateObservableCounter(
            EnvelopeKmsTelemetry.DataKeyCacheMissesInstrument,
            () => Observe(target, hits: false),
            "{data_key}",
            "Data keys the envelope encryptor asked the key manager for (GenerateDataKey on encryption, Decrypt on decryption).");
    }

    private static IEnumerable<Measurement<long>> Observe(WeakReference<IEnvelopeEncryptor> target, bool hits)
    {
        if (!target.TryGetTarget(out var encryptor))
        {
            return [];
        }

        EnvelopeCacheStatistics statistics;
        try
        {
            statistics = encryptor.CacheStatistics;
        }
        catch (ObjectDisposedException)
        {
            return [];
        }

        return hits
            ? [new(statistics.EncryptHits, EncryptTag), new(statistics.DecryptHits, DecryptTag)]
            : [new(statistics.EncryptMisses, EncryptTag), new(statistics.DecryptMisses, DecryptTag)];
    }
}
