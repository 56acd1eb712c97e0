using Amazon.KeyManagementService;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Tests.Shared;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>
/// The official AWS SDK for .NET client, pointed at the endpoint over loopback, runs every operation it
/// knows against a real key manager; the audit trail checks that none was skipped.
/// </summary>
public sealed class EveryOperationTests : IAsyncLifetime
{
    private TwoRegionEndpoints _kms = null!;
    private AmazonKeyManagementServiceClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kms = await TwoRegionEndpoints.StartAsync();
        _client = _kms.EastClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _kms.DisposeAsync();
    }

    [Fact]
    public Task Every_operation_of_the_AWS_SDK_client_runs_over_HTTP_against_the_key_manager()
        => EveryOperationScenario.RunAsync(new KmsScenarioEnvironment
        {
            East = _client,
            West = _kms.WestClient,
            Grantee = TwoRegionEndpoints.RoleA,
            AsGrantee = () => _kms.AsRole(TwoRegionEndpoints.RoleAKeyId),
            Retirer = TwoRegionEndpoints.RoleB,
            AsRetirer = () => _kms.AsRole(TwoRegionEndpoints.RoleBKeyId),
            Account = TwoRegionEndpoints.Account,
            Audit = _kms.Audit,
            XksEndpoint = TwoRegionEndpoints.XksEndpoint,
            XksPath = TwoRegionEndpoints.XksPath,
            XksOtherPath = TwoRegionEndpoints.XksOtherPath,
            XksAccessKeyId = TwoRegionEndpoints.XksAccessKeyId,
            XksSecret = TwoRegionEndpoints.XksSecret,
            ExternalKeyId = TwoRegionEndpoints.ExternalKeyId,
        }, Ct);
}
