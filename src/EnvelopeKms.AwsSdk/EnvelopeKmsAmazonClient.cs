// The overloads with optional parameters are the shape of IAmazonKeyManagementService itself.
#pragma warning disable RS0026
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

/// <summary>
/// <see cref="IAmazonKeyManagementService"/> over an EnvelopeKms <see cref="IKeyManager"/>, in process:
/// code written against the AWS SDK for .NET's KMS client runs unchanged. Requests, responses,
/// pagination markers and errors map one to one; errors are the SDK's own exception types
/// (<see cref="Aws.NotFoundException"/>, <see cref="Aws.KMSInvalidStateException"/>, ...) with the AWS error codes.
/// </summary>
public sealed partial class EnvelopeKmsAmazonClient : IAmazonKeyManagementService
{
    private readonly IKeyManager _keyManager;
    private readonly CallerIdentity? _caller;

    /// <summary>Creates a client whose calls run as the key manager's ambient caller.</summary>
    public EnvelopeKmsAmazonClient(IKeyManager keyManager) : this(keyManager, caller: null) { }

    /// <summary>Creates a client whose calls run as <paramref name="caller"/> (the ambient caller when <see langword="null"/>).</summary>
    public EnvelopeKmsAmazonClient(IKeyManager keyManager, CallerIdentity? caller)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        _keyManager = keyManager;
        _caller = caller;
    }

    /// <inheritdoc />
    public Task<Aws.CancelKeyDeletionResponse> CancelKeyDeletionAsync(Aws.CancelKeyDeletionRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.CancelKeyDeletionResponse> CancelKeyDeletionAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ConnectCustomKeyStoreResponse> ConnectCustomKeyStoreAsync(Aws.ConnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.CreateAliasResponse> CreateAliasAsync(Aws.CreateAliasRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.CreateAliasResponse> CreateAliasAsync(string aliasName, string targetKeyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.CreateCustomKeyStoreResponse> CreateCustomKeyStoreAsync(Aws.CreateCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.CreateGrantResponse> CreateGrantAsync(Aws.CreateGrantRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.CreateKeyResponse> CreateKeyAsync(Aws.CreateKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DecapsulateResponse> DecapsulateAsync(Aws.DecapsulateRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DecryptResponse> DecryptAsync(Aws.DecryptRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DeleteAliasResponse> DeleteAliasAsync(Aws.DeleteAliasRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DeleteAliasResponse> DeleteAliasAsync(string aliasName, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DeleteCustomKeyStoreResponse> DeleteCustomKeyStoreAsync(Aws.DeleteCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DeleteImportedKeyMaterialResponse> DeleteImportedKeyMaterialAsync(Aws.DeleteImportedKeyMaterialRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DeriveSharedSecretResponse> DeriveSharedSecretAsync(Aws.DeriveSharedSecretRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DescribeCustomKeyStoresResponse> DescribeCustomKeyStoresAsync(Aws.DescribeCustomKeyStoresRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DescribeKeyResponse> DescribeKeyAsync(Aws.DescribeKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DescribeKeyResponse> DescribeKeyAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DisableKeyResponse> DisableKeyAsync(Aws.DisableKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DisableKeyResponse> DisableKeyAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DisableKeyRotationResponse> DisableKeyRotationAsync(Aws.DisableKeyRotationRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DisableKeyRotationResponse> DisableKeyRotationAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.DisconnectCustomKeyStoreResponse> DisconnectCustomKeyStoreAsync(Aws.DisconnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.EnableKeyResponse> EnableKeyAsync(Aws.EnableKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.EnableKeyResponse> EnableKeyAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.EnableKeyRotationResponse> EnableKeyRotationAsync(Aws.EnableKeyRotationRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.EnableKeyRotationResponse> EnableKeyRotationAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.EncapsulateResponse> EncapsulateAsync(Aws.EncapsulateRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.EncryptResponse> EncryptAsync(Aws.EncryptRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyResponse> GenerateDataKeyAsync(Aws.GenerateDataKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyPairResponse> GenerateDataKeyPairAsync(Aws.GenerateDataKeyPairRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyPairWithoutPlaintextResponse> GenerateDataKeyPairWithoutPlaintextAsync(Aws.GenerateDataKeyPairWithoutPlaintextRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateDataKeyWithoutPlaintextResponse> GenerateDataKeyWithoutPlaintextAsync(Aws.GenerateDataKeyWithoutPlaintextRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateMacResponse> GenerateMacAsync(Aws.GenerateMacRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateRandomResponse> GenerateRandomAsync(Aws.GenerateRandomRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GenerateRandomResponse> GenerateRandomAsync(int? numberOfBytes, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetKeyLastUsageResponse> GetKeyLastUsageAsync(Aws.GetKeyLastUsageRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetKeyPolicyResponse> GetKeyPolicyAsync(Aws.GetKeyPolicyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetKeyPolicyResponse> GetKeyPolicyAsync(string keyId, string policyName, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetKeyRotationStatusResponse> GetKeyRotationStatusAsync(Aws.GetKeyRotationStatusRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetKeyRotationStatusResponse> GetKeyRotationStatusAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetParametersForImportResponse> GetParametersForImportAsync(Aws.GetParametersForImportRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.GetPublicKeyResponse> GetPublicKeyAsync(Aws.GetPublicKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ImportKeyMaterialResponse> ImportKeyMaterialAsync(Aws.ImportKeyMaterialRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListAliasesResponse> ListAliasesAsync(Aws.ListAliasesRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListGrantsResponse> ListGrantsAsync(Aws.ListGrantsRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListKeyPoliciesResponse> ListKeyPoliciesAsync(Aws.ListKeyPoliciesRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListKeyRotationsResponse> ListKeyRotationsAsync(Aws.ListKeyRotationsRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListKeysResponse> ListKeysAsync(Aws.ListKeysRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListResourceTagsResponse> ListResourceTagsAsync(Aws.ListResourceTagsRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListRetirableGrantsResponse> ListRetirableGrantsAsync(Aws.ListRetirableGrantsRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListRetirableGrantsResponse> ListRetirableGrantsAsync(string retiringPrincipal, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ListRetirableGrantsResponse> ListRetirableGrantsAsync(CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.PutKeyPolicyResponse> PutKeyPolicyAsync(Aws.PutKeyPolicyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.PutKeyPolicyResponse> PutKeyPolicyAsync(string keyId, string policy, string policyName, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ReEncryptResponse> ReEncryptAsync(Aws.ReEncryptRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ReplicateKeyResponse> ReplicateKeyAsync(Aws.ReplicateKeyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.RetireGrantResponse> RetireGrantAsync(Aws.RetireGrantRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.RetireGrantResponse> RetireGrantAsync(string grantToken, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.RevokeGrantResponse> RevokeGrantAsync(Aws.RevokeGrantRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.RevokeGrantResponse> RevokeGrantAsync(string grantId, string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.RotateKeyOnDemandResponse> RotateKeyOnDemandAsync(Aws.RotateKeyOnDemandRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(Aws.ScheduleKeyDeletionRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(string keyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(string keyId, int? pendingWindowInDays, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.SignResponse> SignAsync(Aws.SignRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.TagResourceResponse> TagResourceAsync(Aws.TagResourceRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UntagResourceResponse> UntagResourceAsync(Aws.UntagResourceRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UpdateAliasResponse> UpdateAliasAsync(Aws.UpdateAliasRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UpdateAliasResponse> UpdateAliasAsync(string aliasName, string targetKeyId, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UpdateCustomKeyStoreResponse> UpdateCustomKeyStoreAsync(Aws.UpdateCustomKeyStoreRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UpdateKeyDescriptionResponse> UpdateKeyDescriptionAsync(Aws.UpdateKeyDescriptionRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UpdateKeyDescriptionResponse> UpdateKeyDescriptionAsync(string keyId, string description, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.UpdatePrimaryRegionResponse> UpdatePrimaryRegionAsync(Aws.UpdatePrimaryRegionRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.VerifyResponse> VerifyAsync(Aws.VerifyRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Task<Aws.VerifyMacResponse> VerifyMacAsync(Aws.VerifyMacRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    /// <inheritdoc />
    public Aws.IKeyManagementServicePaginatorFactory Paginators => throw new NotSupportedException();

    /// <inheritdoc />
    public IClientConfig Config => throw new NotSupportedException();

    /// <inheritdoc />
    public Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(AmazonWebServiceRequest request) => throw new NotSupportedException();

    /// <inheritdoc />
    public static ClientConfig CreateDefaultClientConfig() => throw new NotSupportedException();

    /// <inheritdoc />
    public static IAmazonService CreateDefaultServiceClient(AWSCredentials awsCredentials, ClientConfig clientConfig) => throw new NotSupportedException();

    /// <inheritdoc />
    public void Dispose() { }
}
