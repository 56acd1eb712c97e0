using System.Security.Cryptography;
using Amazon.KeyManagementService;
using EnvelopeKms.AspNetCore.KmsEndpoint;
using EnvelopeKms.Auditing;
using EnvelopeKms.CustomKeyStores;
using EnvelopeKms.MultiRegion;
using EnvelopeKms.Storage;

namespace EnvelopeKms.KmsEndpoint.Tests.Infrastructure;

/// <summary>
/// Two Regions of one group (us-east-1 and eu-west-1, account 111122223333) on in-memory stores, each
/// served by its own endpoint, with an in-process XKS proxy registered in us-east-1. The endpoints accept
/// the account root's access key and those of two roles.
/// </summary>
internal sealed class TwoRegionEndpoints : IAsyncDisposable
{
    public const string Account = "111122223333";
    public const string XksEndpoint = "https://xks.example.com";
    public const string XksPath = "/example/kms/xks/v1";
    public const string XksOtherPath = "/other/kms/xks/v1";
    public const string XksAccessKeyId = "ABCDEFGHIJKLMNOPQRST";
    public const string XksSecret = "c2VjcmV0LXhrcy1wcm94eS1hY2Nlc3Mta2V5LTAxMjM0NQ==";
    public const string ExternalKeyId = "external-key-1";

    public static readonly CallerIdentity RoleA = new($"arn:aws:iam::{Account}:role/a");
    public static readonly CallerIdentity RoleB = new($"arn:aws:iam::{Account}:role/b");
    public const string RoleAKeyId = "AKIAROLEA00000000001";
    public const string RoleBKeyId = "AKIAROLEB00000000001";
    public const string RoleSecret = "role-secret-access-key-0000000000000000";

    private TwoRegionEndpoints(KeyManager east, KeyManager west, InProcessExternalKeyStoreProxy proxy, InMemoryAuditSink audit)
    {
        East = east;
        West = west;
        Proxy = proxy;
        Audit = audit;
    }

    public KeyManager East { get; }

    public KeyManager West { get; }

    public InProcessExternalKeyStoreProxy Proxy { get; }

    public InMemoryAuditSink Audit { get; }

    public EndpointHost EastHost { get; private set; } = null!;

    public EndpointHost WestHost { get; private set; } = null!;

    public static async Task<TwoRegionEndpoints> StartAsync()
    {
        var group = new KmsRegionGroup();
        var audit = new InMemoryAuditSink();
        var east = Create("us-east-1", group, audit);
        var west = Create("eu-west-1", group, null);
        var proxy = new InProcessExternalKeyStoreProxy(XksAccessKeyId, XksSecret);
        proxy.CreateKey(ExternalKeyId);
        foreach (var path in new[] { XksPath, XksOtherPath })
        {
            east.CustomKeyStoreBackends.AddExternalKeyStoreProxy(XksEndpoint, path, proxy, new ExternalKeyStoreBackendOptions { Timeout = TimeSpan.FromSeconds(10) });
        }

        var endpoints = new TwoRegionEndpoints(east, west, proxy, audit);
        endpoints.EastHost = await EndpointHost.StartAsync(east, Roles, CallerIdentity.AccountRoot(Account));
        endpoints.WestHost = await EndpointHost.StartAsync(west, Roles, CallerIdentity.AccountRoot(Account));
        return endpoints;
    }

    private static void Roles(KmsEndpointOptions options)
        => options.AddAccessKey(RoleAKeyId, RoleSecret, RoleA).AddAccessKey(RoleBKeyId, RoleSecret, RoleB);

    private static KeyManager Create(string region, KmsRegionGroup group, InMemoryAuditSink? audit)
        => KeyManagerFactory.Create(b =>
        {
            b.UseKeyStore(_ => new InMemoryKeyStore())
                .ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))
                .Configure(o =>
                {
                    o.Region = region;
                    o.AccountId = Account;
                })
                .JoinRegionGroup(group);
            if (audit is not null)
            {
                b.AddAuditSink(_ => audit);
            }
        });

    /// <summary>The SDK client of us-east-1 as the account root.</summary>
    public AmazonKeyManagementServiceClient EastClient() => EastHost.Client(region: "us-east-1");

    /// <summary>The SDK client of eu-west-1 as the account root.</summary>
    public AmazonKeyManagementServiceClient WestClient() => WestHost.Client(region: "eu-west-1");

    public AmazonKeyManagementServiceClient AsRole(string accessKeyId) => EastHost.Client(accessKeyId, RoleSecret);

    public async ValueTask DisposeAsync()
    {
        await EastHost.DisposeAsync();
        await WestHost.DisposeAsync();
        East.Dispose();
        West.Dispose();
        Proxy.Dispose();
    }
}
