using EnvelopeKms.Auditing;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.Storage;

namespace EnvelopeKms.Integrations.Tests.AwsSdk;

/// <summary>Two Regions of one group (us-east-1 and eu-west-1) on in-memory stores, with an in-process XKS proxy registered in us-east-1.</summary>
internal sealed class AwsSdkTestKms : IDisposable
{
    public const string XksEndpoint = "https://xks.example.com";
    public const string XksPath = "/example/kms/xks/v1";
    public const string XksOtherPath = "/other/kms/xks/v1";
    public const string XksAccessKeyId = "ABCDEFGHIJKLMNOPQRST";
    public const string XksSecret = "c2VjcmV0LXhrcy1wcm94eS1hY2Nlc3Mta2V5LTAxMjM0NQ==";
    public const string ExternalKeyId = "external-key-1";
    public const string Account = "111122223333";

    public static readonly CallerIdentity Grantee = new($"arn:aws:iam::{Account}:role/worker");
    public static readonly CallerIdentity Retirer = new($"arn:aws:iam::{Account}:role/retirer");

    public AwsSdkTestKms()
    {
        var group = new MultiRegion.KmsRegionGroup();
        East = Create("us-east-1", group, Audit);
        West = Create("eu-west-1", group, null);
        Proxy = new InProcessExternalKeyStoreProxy(XksAccessKeyId, XksSecret);
        Proxy.CreateKey(ExternalKeyId);
        foreach (var path in new[] { XksPath, XksOtherPath })
        {
            East.CustomKeyStoreBackends.AddExternalKeyStoreProxy(XksEndpoint, path, Proxy, new ExternalKeyStoreBackendOptions { Timeout = TimeSpan.FromSeconds(10) });
        }
    }

    private static KeyManager Create(string region, MultiRegion.KmsRegionGroup group, InMemoryAuditSink? audit)
        => TestKeyManagers.InMemory(audit, b => b.Configure(o => { o.Region = region; o.AccountId = Account; }).JoinRegionGroup(group));

    public InMemoryAuditSink Audit { get; } = new();

    public KeyManager East { get; }

    public KeyManager West { get; }

    public InProcessExternalKeyStoreProxy Proxy { get; }

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        East.Dispose();
        West.Dispose();
        Proxy.Dispose();
    }
}
