using EnvelopeKms;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The background service <see cref="EnvelopeKmsBuilder.AddKeyMaintenanceService"/> registers: applies due
/// rotations and purges expired keys on a fixed interval of the host's <see cref="TimeProvider"/>. A failed
/// round is logged and retried at the next tick; it never stops the host.
/// </summary>
internal sealed partial class KeyMaintenanceService(IKeyManager keyManager, TimeSpan interval, TimeProvider time, ILogger logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            await RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One maintenance round; returns the rotated and purged counts.</summary>
    internal async Task<(int Rotated, int Purged)> RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Imported material past its ValidTo first: an expired key must not be rotated or used.
            await keyManager.ExpireImportedKeyMaterialAsync(cancellationToken).ConfigureAwait(false);
            var rotated = await keyManager.RotateDueKeysAsync(cancellationToken).ConfigureAwait(false);
            var purged = await keyManager.PurgeExpiredKeysAsync(cancellationToken).ConfigureAwait(false);
            if (rotated + purged > 0)
            {
                LogRound(logger, rotated, purged);
            }

            return (rotated, purged);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (0, 0);
        }
#pragma warning disable CA1031 // A failed round (store unreachable, ...) is retried at the next tick.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogFailure(logger, e);
            return (0, 0);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(3101, LogLevel.Information, "Key maintenance: rotated {Rotated} keys, purged {Purged} keys.", EventName = "KeyMaintenanceRound")]
    private static partial void LogRound(ILogger logger, int rotated, int purged);

    [LoggerMessage(3102, LogLevel.Warning, "Key maintenance failed; it runs again at the next interval.", EventName = "KeyMaintenanceFailed")]
    private static partial void LogFailure(ILogger logger, Exception exception);
}
