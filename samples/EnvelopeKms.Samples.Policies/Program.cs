// EnvelopeKms key policies and grants: the seed's example policy (an administrator with kms:*, an
// application role with Encrypt and GenerateDataKey only), allowed and denied calls with their
// explanations, a dry run, then a grant that lets a third principal (an auditor) decrypt for a while.
//
//   dotnet run --project samples/EnvelopeKms.Samples.Policies
//
// Runs on an in-memory store: nothing is written to disk.

using System.Text;
using EnvelopeKms;
using EnvelopeKms.Auditing;
using EnvelopeKms.Authorization;
using Microsoft.Extensions.DependencyInjection;

const string Account = "111122223333";
var admin = new CallerIdentity($"arn:aws:iam::{Account}:role/KeyAdmin");
var app = new CallerIdentity($"arn:aws:iam::{Account}:role/OrdersApp");
var auditor = new CallerIdentity($"arn:aws:iam::{Account}:role/Auditor");
var orders = new Dictionary<string, string> { ["table"] = "orders" };

// The seed's key policy: the administrator manages and uses the key; the application encrypts only.
var policy = $$"""
    {
      "Version": "2012-10-17",
      "Statement": [
        { "Sid": "KeyAdministrator", "Effect": "Allow",
          "Principal": { "AWS": "arn:aws:iam::{{Account}}:role/KeyAdmin" },
          "Action": "kms:*", "Resource": "*" },
        { "Sid": "ApplicationEncryptsOnly", "Effect": "Allow",
          "Principal": { "AWS": "arn:aws:iam::{{Account}}:role/OrdersApp" },
          "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*",
          "Condition": { "StringEquals": { "kms:EncryptionContext:table": "orders" } } }
      ]
    }
    """;

// Identity policies (IAM's part): the administrator may create keys; keys are created by calls on no key.
var identities = new InMemoryIdentityPolicies();
identities.Attach(admin.PrincipalArn, "CreateKeys", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:CreateKey","kms:List*"],"Resource":"*"}]}""");

var audit = new AuditTrail();
var services = new ServiceCollection();
services.AddEnvelopeKms(b => b.UseIdentityPolicies(_ => identities).UseAuditSink(_ => audit));
services.Configure<EnvelopeKmsOptions>(options => options.AccountId = Account);
await using var provider = services.BuildServiceProvider();
var kms = provider.GetRequiredService<IKeyManager>();

Console.WriteLine("EnvelopeKms key policies and grants");
Console.WriteLine("===================================");

Step(1, "The administrator creates a key with the seed's key policy");
var key = (await kms.CreateKeyAsync(new CreateKeyRequest { Caller = admin, Description = "orders key", Policy = policy })).KeyMetadata;
Console.WriteLine($"   Created key {key.KeyId} as {admin}");
Console.WriteLine("   (The lockout check passed: the policy lets KeyAdmin call PutKeyPolicy again.)");

Step(2, "The application encrypts: allowed by statement ApplicationEncryptsOnly");
var order = await kms.EncryptAsync(new EncryptRequest { Caller = app, KeyId = key.KeyId, Plaintext = Encoding.UTF8.GetBytes("order #4711: 3 widgets"), EncryptionContext = orders });
Console.WriteLine($"   Encrypt as OrdersApp: {order.CiphertextBlob.Length}-byte ciphertext");
Console.WriteLine($"   Audit: {audit.Last.AuthorizationSummary}");

Step(3, "The application decrypts: denied, and the error says why");
await Denied(() => kms.DecryptAsync(new DecryptRequest { Caller = app, CiphertextBlob = order.CiphertextBlob, EncryptionContext = orders }));

Step(4, "The application encrypts for another table: denied by the encryption-context condition");
await Denied(() => kms.EncryptAsync(new EncryptRequest { Caller = app, KeyId = key.KeyId, Plaintext = new byte[] { 1 }, EncryptionContext = new Dictionary<string, string> { ["table"] = "payroll" } }));

Step(5, "Explain without running: how would OrdersApp's Decrypt be decided?");
var explanation = await kms.SimulateAuthorizationAsync(new SimulateAuthorizationRequest { Caller = admin, KeyId = key.KeyId, Principal = app, Operation = KmsOperation.Decrypt, EncryptionContext = orders });
Console.Write(Indent(explanation.ToString()));

Step(6, "Dry run: may the application call GenerateDataKey?");
try
{
    await kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { Caller = app, KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = orders, DryRun = true });
}
catch (KmsDryRunOperationException e)
{
    Console.WriteLine($"   {e.ErrorCode}: {e.Message}");
}

Step(7, "The administrator grants the auditor Decrypt on orders data, for a while");
await Denied(() => kms.DecryptAsync(new DecryptRequest { Caller = auditor, CiphertextBlob = order.CiphertextBlob, EncryptionContext = orders }));
var grant = await kms.CreateGrantAsync(new CreateGrantRequest
{
    Caller = admin,
    KeyId = key.KeyId,
    GranteePrincipal = auditor.PrincipalArn,
    RetiringPrincipal = auditor.PrincipalArn,
    Operations = [GrantOperation.Decrypt],
    Constraints = new GrantConstraints { EncryptionContextSubset = orders },
    Name = "quarterly-audit",
});
Console.WriteLine($"   CreateGrant: grant {grant.GrantId[..16]}… for Auditor (Decrypt, only where table=orders)");
using (var plaintext = await kms.DecryptAsync(new DecryptRequest { Caller = auditor, CiphertextBlob = order.CiphertextBlob, EncryptionContext = orders, GrantTokens = [grant.GrantToken] }))
{
    Console.WriteLine($"   Decrypt as Auditor: \"{Encoding.UTF8.GetString(plaintext.Plaintext)}\"");
}

Console.WriteLine($"   Audit: {audit.Last.AuthorizationSummary}");
var grants = await kms.ListGrantsAsync(new ListGrantsRequest { Caller = admin, KeyId = key.KeyId });
Console.WriteLine($"   ListGrants: {grants.Items.Count} grant, '{grants.Items[0].Name}' -> {grants.Items[0].GranteePrincipal}");

Step(8, "The audit is over: the auditor retires the grant, and access ends at once");
await kms.RetireGrantAsync(new RetireGrantRequest { Caller = auditor, GrantToken = grant.GrantToken });
Console.WriteLine("   RetireGrant: done");
await Denied(() => kms.DecryptAsync(new DecryptRequest { Caller = auditor, CiphertextBlob = order.CiphertextBlob, EncryptionContext = orders }));

Step(9, "A policy that would lock the administrator out is refused");
var lockout = policy.Replace("\"kms:*\"", "\"kms:Describe*\"", StringComparison.Ordinal);
try
{
    await kms.PutKeyPolicyAsync(new PutKeyPolicyRequest { Caller = admin, KeyId = key.KeyId, Policy = lockout });
}
catch (KmsMalformedPolicyDocumentException e)
{
    Console.Write(Wrap($"{e.ErrorCode}: {e.Message}"));
}

Step(10, "Denials in the audit trail");
foreach (var denial in audit.Events.Where(e => e.Outcome == KmsOutcome.Denied))
{
    Console.WriteLine($"   {denial.Operation,-8} {denial.Caller.Split('/')[^1],-10} {Shorten(denial.AuthorizationSummary ?? "")}");
}

Console.WriteLine();
Console.WriteLine("Done.");

static void Step(int number, string title)
{
    Console.WriteLine();
    Console.WriteLine($"{number}. {title}");
}

static async Task Denied(Func<Task> call)
{
    try
    {
        await call();
        Console.WriteLine("   (unexpectedly allowed)");
    }
    catch (KmsAccessDeniedException e)
    {
        Console.Write(Wrap($"{e.ErrorCode}: {e.Message}"));
    }
}

// Long messages (denials explain themselves at length) wrapped to the console's width.
static string Wrap(string text, int width = 110)
{
    var lines = new StringBuilder();
    var line = new StringBuilder("  ");
    foreach (var word in text.Split(' '))
    {
        if (line.Length + word.Length + 1 > width && line.Length > 2)
        {
            lines.AppendLine(line.ToString());
            line.Clear().Append("    ");
        }

        line.Append(' ').Append(word);
    }

    return lines.AppendLine(line.ToString()).ToString();
}

static string Shorten(string text) => text.Length <= 150 ? text : text[..150] + "…";

static string Indent(string text) => string.Concat(text.Split('\n').Where(l => l.Length > 0).Select(l => "   " + l.TrimEnd('\r') + Environment.NewLine));

/// <summary>An audit sink that keeps the events in memory, for the sample to print.</summary>
internal sealed class AuditTrail : IKmsAuditSink
{
    private readonly List<KmsAuditEvent> _events = [];

    public IReadOnlyList<KmsAuditEvent> Events => _events;

    public KmsAuditEvent Last => _events[^1];

    public ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
    {
        _events.Add(auditEvent);
        return ValueTask.CompletedTask;
    }
}
