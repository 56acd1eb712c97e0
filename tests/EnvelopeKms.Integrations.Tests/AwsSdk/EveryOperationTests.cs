using Amazon.KeyManagementService;
using EnvelopeKms.AwsSdk;
using EnvelopeKms.Tests.Shared;

namespace EnvelopeKms.Integrations.Tests.AwsSdk;

/// <summary>
/// Code written against <see cref="IAmazonKeyManagementService"/> runs unchanged on EnvelopeKms, in process: the
/// walk through every operation the AWS SDK knows (shared with the endpoint's tests), checked against the audit
/// trail so that no operation is skipped.
/// </summary>
public sealed class EveryOperationTests : IDisposable
{
    private readonly AwsSdkTestKms _kms = new();

    public void Dispose() => _kms.Dispose();

    [Fact]
    public async Task Every_operation_of_the_AWS_SDK_client_runs_against_the_key_manager()
    {
        using var east = new EnvelopeKmsAmazonClient(_kms.East);
        await EveryOperationScenario.RunAsync(new KmsScenarioEnvironment
        {
            East = east,
            West = () => new EnvelopeKmsAmazonClient(_kms.West),
            Grantee = AwsSdkTestKms.Grantee,
            AsGrantee = () => new EnvelopeKmsAmazonClient(_kms.East, AwsSdkTestKms.Grantee),
            Retirer = AwsSdkTestKms.Retirer,
            AsRetirer = () => new EnvelopeKmsAmazonClient(_kms.East, AwsSdkTestKms.Retirer),
            Account = AwsSdkTestKms.Account,
            Audit = _kms.Audit,
            XksEndpoint = AwsSdkTestKms.XksEndpoint,
            XksPath = AwsSdkTestKms.XksPath,
            XksOtherPath = AwsSdkTestKms.XksOtherPath,
            XksAccessKeyId = AwsSdkTestKms.XksAccessKeyId,
            XksSecret = AwsSdkTestKms.XksSecret,
            ExternalKeyId = AwsSdkTestKms.ExternalKeyId,
        }, AwsSdkTestKms.Ct);
    }
}
