// EnvelopeKms audit trail: a workload writes a tamper-evident JSON Lines trail; the sample prints it,
// verifies its hash chain, edits one line as an intruder would and shows the verifier catch it, then
// prints what the workload would have cost on AWS KMS.
//
//   dotnet run --project samples/EnvelopeKms.Samples.Audit                 the whole story
//   dotnet run --project samples/EnvelopeKms.Samples.Audit -- verify PATH  verify an existing trail
//
// Keys live in memory; the trail is written to a temporary folder that is removed at the end.

using System.Text;
using System.Text.Json;
using EnvelopeKms;
using EnvelopeKms.Auditing;
using EnvelopeKms.Envelope;
using EnvelopeKms.Telemetry;
using Microsoft.Extensions.DependencyInjection;

if (args is ["verify", var trailToVerify])
{
    return await VerifyAsync(trailToVerify) ? 0 : 1;
}

Console.WriteLine("EnvelopeKms audit trail");
Console.WriteLine("=======================");
var folder = Directory.CreateTempSubdirectory("envelopekms-audit-sample-").FullName;
var trail = Path.Combine(folder, "audit.jsonl");
try
{
    var app = new CallerIdentity("arn:aws:iam::000000000000:role/OrdersApp");
    var intruder = new CallerIdentity("arn:aws:iam::999999999999:role/Intruder");
    var context = new Dictionary<string, string> { ["table"] = "orders" };

    var services = new ServiceCollection();
    services.AddEnvelopeKms(b => b.AddJsonLinesAuditTrail(trail));
    await using (var provider = services.BuildServiceProvider())
    {
        var kms = provider.GetRequiredService<KeyManager>();
        var lifecycle = new List<KeyLifecycleEvent>();
        using var subscription = kms.LifecycleEvents.Subscribe(new Observer(lifecycle.Add));

        Step(1, "A workload runs");
        const string policy = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Administrators","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"OrdersApp","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/OrdersApp"},
               "Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}]}
            """;
        var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Description = "orders", Policy = policy })).KeyMetadata;
        await kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/orders", TargetKeyId = key.KeyId });
        var blob = (await kms.EncryptAsync(new EncryptRequest { KeyId = "alias/orders", Plaintext = Encoding.UTF8.GetBytes("order #4711: 3 widgets"), EncryptionContext = context, Caller = app })).CiphertextBlob;
        using (var plain = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context, Caller = app }))
        {
            Console.WriteLine($"   Decrypt as OrdersApp: \"{Encoding.UTF8.GetString(plain.Plaintext)}\"");
        }

        try
        {
            await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context, Caller = intruder });
            Console.WriteLine("   Decrypt as Intruder: unexpectedly allowed");
        }
        catch (KmsAccessDeniedException e)
        {
            Console.WriteLine($"   Decrypt as Intruder: {e.ErrorCode}");
        }

        // Envelope encryption with a cached data key: 100 records encrypted, one GenerateDataKey on the trail.
        var envelopes = provider.GetRequiredService<IEnvelopeEncryptor>();
        for (var i = 0; i < 100; i++)
        {
            await envelopes.EncryptAsync("alias/orders", Encoding.UTF8.GetBytes($"row {i}"), context);
        }

        Console.WriteLine("   Envelope-encrypted 100 rows with one cached data key");
        await kms.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId });
        await kms.DisableKeyAsync(new DisableKeyRequest { KeyId = key.KeyId });
        await kms.EnableKeyAsync(new EnableKeyRequest { KeyId = key.KeyId });
        var usage = await kms.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { KeyId = "alias/orders" });
        Console.WriteLine($"   GetKeyLastUsage: last used by {usage.LastUsedOperation}, last cryptographic use {usage.LastCryptographicOperation}");
        Console.WriteLine($"   Lifecycle events: {string.Join(", ", lifecycle.Select(e => e.Type))}");

        Step(2, "The usage report: what this workload would cost on AWS KMS");
        var now = DateTimeOffset.UtcNow;
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var report = await kms.GetUsageReportAsync(new GetUsageReportRequest { From = monthStart, To = monthStart.AddMonths(1) });
        foreach (var line in report.ToText().Split('\n'))
        {
            Console.WriteLine($"   {line}");
        }
    }

    Step(3, "The trail (one JSON line per request; secrets never appear)");
    foreach (var line in File.ReadLines(trail))
    {
        using var record = JsonDocument.Parse(line);
        var r = record.RootElement;
        var parameters = r.TryGetProperty("requestParameters", out var p) ? p.GetRawText() : "{}";
        Console.WriteLine($"   #{r.GetProperty("sequence").GetInt64(),-3} {r.GetProperty("eventName").GetString(),-18} {r.GetProperty("outcome").GetString(),-8} {Text(r, "errorCode"),-22} {Shorten(parameters, 60)}");
    }

    Step(4, "Verify the hash chain");
    await VerifyAsync(trail);

    Step(5, "An intruder edits one record (turns their denied Decrypt into a success)");
    var lines = File.ReadAllLines(trail);
    var index = Array.FindIndex(lines, l => l.Contains("\"outcome\":\"Denied\"", StringComparison.Ordinal));
    lines[index] = lines[index].Replace("\"outcome\":\"Denied\"", "\"outcome\":\"Success\"", StringComparison.Ordinal);
    File.WriteAllLines(trail, lines);
    Console.WriteLine($"   Edited line {index + 1}");
    var intact = await VerifyAsync(trail);

    Console.WriteLine();
    Console.WriteLine(intact ? "The edit was NOT detected." : "Done.");
    return intact ? 1 : 0;
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static async Task<bool> VerifyAsync(string path)
{
    var result = await AuditChainVerifier.VerifyAsync(path, CancellationToken.None);
    Console.WriteLine(result.IsIntact
        ? $"   Intact: {result.RecordsChecked} records, every link and the head file check out"
        : $"   BROKEN at record {result.FirstBrokenSequence} ({Path.GetFileName(result.File)} line {result.LineNumber}): {result.Problem}");
    return result.IsIntact;
}

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

static string Text(JsonElement record, string name) => record.TryGetProperty(name, out var value) ? value.GetString() ?? string.Empty : string.Empty;

static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 3)] + "...";

sealed class Observer(Action<KeyLifecycleEvent> onNext) : IObserver<KeyLifecycleEvent>
{
    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void OnNext(KeyLifecycleEvent value) => onNext(value);
}
