// The child process of the crash tests. It runs a fixed workload of key-manager operations over a
// store (file, SQLite or PostgreSQL, see CrashStores) and kills itself (SIGKILL: no finally blocks, no flushing,
// no core dump) at the N-th write step of the store, or runs to the end while the test kills it at
// a random moment ("run" mode). The file store's write steps are inside its writes (temp file, half
// written, flushed, renamed); a SQL store's are before and after each write call. Before each writing operation it prints
// "begin <op> <args>" and after it "ok <op> <args>", one line each, flushed, so that the test
// knows which operations completed and which one was in flight when the process died.
//
// Usage: EnvelopeKms.Tests.CrashHost <store> <rootKeyBase64> <crashAtStep|run>
//        EnvelopeKms.Tests.CrashHost multi <store> ...   (the multi-process worker, see MultiProcessWorker)
// <store> is file:<dir> (or a bare directory), sqlite:<path> or postgres:<connection string>. A crashAtStep larger than the number
// of write steps, or "run", runs the whole workload; the last lines are then "ok steps <count>" and
// "ok done". "run" prints "ready" just before the workload starts, for the test's kill timer.
//
// Output lines (tokens contain no spaces; binary values are base64):
//   begin create <role>                 ok create <role> <keyId>
//   begin alias-create <alias> <keyId>  ok alias-create <alias> <keyId>
//   begin alias-update <alias> <keyId>  ok alias-update <alias> <keyId>
//   begin alias-delete <alias>          ok alias-delete <alias>
//   begin state <keyId> <KeyState>      ok state <keyId> <KeyState>
//   begin tag <keyId> <tagKey> <value>  ok tag <keyId> <tagKey> <value>
//   begin description <keyId> <text>    ok description <keyId> <text>
//   begin purge                         ok purge <count>
//   begin rotation <keyId> <days>       ok rotation <keyId> <days>           (EnableKeyRotation)
//   begin rotate <keyId> <kind>         ok rotate <keyId> <kind> <materialId> (kind: on-demand, scheduled
//                                       (RotateDueKeysAsync after the clock passed the due date), usage
//                                       (an encryption by a key manager whose MaxEncryptionsPerKeyMaterial
//                                       the current material has reached))
//   ok encrypt <keyId> <ciphertext> <plaintext>      (encryption context: purpose=crash-test)
//   ok datakey <keyId> <ciphertext> <plaintext>      (encryption context: purpose=crash-test)
//   crash <step> <stepName>             (the last line before the process is killed)
using System.Diagnostics;
using System.Globalization;
using System.Text;
using EnvelopeKms;
using EnvelopeKms.Protection;

if (args is ["multi", .. var workerArguments])
{
    return await EnvelopeKms.Tests.CrashHost.MultiProcessWorker.RunAsync(workerArguments);
}

if (args is ["rotate-race", .. var raceArguments])
{
    return await EnvelopeKms.Tests.CrashHost.RotationRaceWorker.RunAsync(raceArguments);
}

var timed = args.Length == 3 && args[2] == "run";
var crashAt = long.MaxValue;
if (args.Length != 3 || (!timed && (!long.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out crashAt) || crashAt < 1)))
{
    await Console.Error.WriteLineAsync("usage: EnvelopeKms.Tests.CrashHost <store> <rootKeyBase64> <crashAtStep|run>");
    return 2;
}

var steps = 0L;
var clock = new ManualClock(Workload.Start);
using var rootKey = StaticRootKeyProvider.FromBase64(args[1], "the command line");
var store = EnvelopeKms.Tests.CrashHost.CrashStores.Open(args[0], OnWriteStep);
using var kms = new KeyManager(store, rootKey, timeProvider: clock);

// A second key manager on the same store whose encryption cap is tiny: its first encryption under a
// material the first one reserved a block of encryptions for rotates the key (usage-based rotation).
using var capped = new KeyManager(store, rootKey, new EnvelopeKmsOptions { MaxEncryptionsPerKeyMaterial = 2 }, timeProvider: clock);
if (timed)
{
    Report("ready");
}

var context = new Dictionary<string, string>(StringComparer.Ordinal) { ["purpose"] = "crash-test" };

var alpha = await CreateAsync("alpha");
await EncryptAsync(alpha, "alpha");
var beta = await CreateAsync("beta");
await EncryptAsync(beta, "beta");
await WriteAsync(["alias-create", "alias/crash/alpha", alpha], () => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/crash/alpha", TargetKeyId = alpha }));
await WriteAsync(["alias-create", "alias/crash/beta", beta], () => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/crash/beta", TargetKeyId = beta }));
await WriteAsync(["tag", alpha, "env", "crash"], () => kms.TagResourceAsync(new TagResourceRequest { KeyId = alpha, Tags = [new KeyTag("env", "crash")] }));
await WriteAsync(["state", beta, nameof(KeyState.Disabled)], () => kms.DisableKeyAsync(new DisableKeyRequest { KeyId = beta }));
await WriteAsync(["state", beta, nameof(KeyState.Enabled)], () => kms.EnableKeyAsync(new EnableKeyRequest { KeyId = beta }));
await WriteAsync(["alias-update", "alias/crash/beta", alpha], () => kms.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/crash/beta", TargetKeyId = alpha }));
var doomed = await CreateAsync("doomed");
await EncryptAsync(doomed, "doomed");
await WriteAsync(["alias-create", "alias/crash/doomed", doomed], () => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/crash/doomed", TargetKeyId = doomed }));
using (var dataKey = await kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = "alias/crash/alpha", KeySpec = DataKeySpec.Aes256, EncryptionContext = context }))
{
    Report("ok", "datakey", KeyIdOf(dataKey.KeyId), Convert.ToBase64String(dataKey.CiphertextBlob), Convert.ToBase64String(dataKey.Plaintext));
}

await WriteAsync(["state", doomed, nameof(KeyState.PendingDeletion)], () => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = doomed, PendingWindowInDays = 7 }));
clock.Advance(TimeSpan.FromDays(8));
Report("begin", "purge");
var purged = await kms.PurgeExpiredKeysAsync();
Report("ok", "purge", purged.ToString(CultureInfo.InvariantCulture));
await WriteAsync(["alias-delete", "alias/crash/alpha"], () => kms.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/crash/alpha" }));
await WriteAsync(["description", alpha, "alpha-v2"], () => kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = alpha, Description = "alpha-v2" }));

// Rotation (RELIABILITY row 42): on demand, scheduled, and by usage; each one record write, each followed by
// an encryption under the new material (whose first encryption reserves a block: one more write).
await WriteAsync(["rotation", alpha, "90"], () => kms.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = alpha, RotationPeriodInDays = 90 }));
await RotateAsync(alpha, "on-demand", async () => (await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = alpha })).KeyMaterialId);
await EncryptAsync(alpha, "alpha-on-demand");
clock.Advance(TimeSpan.FromDays(91));
await RotateAsync(alpha, "scheduled", async () =>
{
    var rotated = await kms.RotateDueKeysAsync();
    return rotated == 1 ? (await kms.DescribeKeyAsync(alpha)).CurrentKeyMaterialId! : throw new InvalidOperationException($"RotateDueKeysAsync rotated {rotated} keys, not 1.");
});
await EncryptAsync(alpha, "alpha-scheduled");
await RotateAsync(alpha, "usage", () => EncryptAsync(alpha, "alpha-usage", capped));
await EncryptAsync("alias/crash/beta", "via-moved-alias");

Report("ok", "steps", steps.ToString(CultureInfo.InvariantCulture));
Report("ok", "done");
(store as IDisposable)?.Dispose();
return 0;

void OnWriteStep(string step)
{
    steps++;
    if (steps == crashAt)
    {
        Report("crash", steps.ToString(CultureInfo.InvariantCulture), step);
        using var self = Process.GetCurrentProcess();
        self.Kill();
        Thread.Sleep(Timeout.Infinite);
    }
}

async Task<string> CreateAsync(string role)
{
    Report("begin", "create", role);
    var response = await kms.CreateKeyAsync(new CreateKeyRequest { Description = role, Tags = [new KeyTag("role", role)] });
    Report("ok", "create", role, response.KeyMetadata.KeyId);
    return response.KeyMetadata.KeyId;
}

async Task<string> EncryptAsync(string keyId, string label, KeyManager? manager = null)
{
    var plaintext = Encoding.UTF8.GetBytes($"secret of {label} {Guid.NewGuid():N}");
    var response = await (manager ?? kms).EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionContext = context });
    Report("ok", "encrypt", KeyIdOf(response.KeyId), Convert.ToBase64String(response.CiphertextBlob), Convert.ToBase64String(plaintext));
    return response.KeyMaterialId;
}

async Task RotateAsync(string keyId, string kind, Func<Task<string>> rotate)
{
    Report("begin", "rotate", keyId, kind);
    var materialId = await rotate();
    Report("ok", "rotate", keyId, kind, materialId);
}

async Task WriteAsync(string[] operation, Func<Task> write)
{
    Report(["begin", .. operation]);
    await write();
    Report(["ok", .. operation]);
}

static string KeyIdOf(string keyArn) => keyArn[(keyArn.LastIndexOf('/') + 1)..];

static void Report(params string[] tokens)
{
    Console.Out.WriteLine(string.Join(' ', tokens));
    Console.Out.Flush();
}

/// <summary>The workload's clock: fixed, moved only by the workload.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Facts about the workload the test relies on.</summary>
internal static class Workload
{
    /// <summary>The workload's start time; the test's fake clock starts at the same instant.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
