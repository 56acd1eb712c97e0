using Amazon.KeyManagementService;
using Amazon.Runtime;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>
/// The KMS operations the endpoint serves, by their <c>X-Amz-Target</c> name (<c>TrentService.&lt;Operation&gt;</c>):
/// each decodes its request body into the AWS SDK's request type, calls the client, and hands back the
/// SDK's response object for encoding.
/// </summary>
internal static class KmsOperations
{
    /// <summary>The target prefix of every KMS operation.</summary>
    public const string TargetPrefix = "TrentService.";

    /// <summary>One operation: its request and response types and how to call it.</summary>
    internal sealed record Operation(string Name, Type RequestType, Type ResponseType,
        Func<IAmazonKeyManagementService, AmazonWebServiceRequest, CancellationToken, Task<AmazonWebServiceResponse>> Invoke);

    private static Operation Op<TRequest, TResponse>(string name, Func<IAmazonKeyManagementService, TRequest, CancellationToken, Task<TResponse>> call)
        where TRequest : AmazonWebServiceRequest
        where TResponse : AmazonWebServiceResponse
        => new(name, typeof(TRequest), typeof(TResponse), async (client, request, ct) => await call(client, (TRequest)request, ct).ConfigureAwait(false));

    /// <summary>Every operation, by name (ordinal, case-sensitive as AWS).</summary>
    public static readonly IReadOnlyDictionary<string, Operation> All = new Operation[]
    {
        Op<Aws.CancelKeyDeletionRequest, Aws.CancelKeyDeletionResponse>("CancelKeyDeletion", (c, r, ct) => c.CancelKeyDeletionAsync(r, ct)),
        Op<Aws.ConnectCustomKeyStoreRequest, Aws.ConnectCustomKeyStoreResponse>("ConnectCustomKeyStore", (c, r, ct) => c.ConnectCustomKeyStoreAsync(r, ct)),
        Op<Aws.CreateAliasRequest, Aws.CreateAliasResponse>("CreateAlias", (c, r, ct) => c.CreateAliasAsync(r, ct)),
        Op<Aws.CreateCustomKeyStoreRequest, Aws.CreateCustomKeyStoreResponse>("CreateCustomKeyStore", (c, r, ct) => c.CreateCustomKeyStoreAsync(r, ct)),
        Op<Aws.CreateGrantRequest, Aws.CreateGrantResponse>("CreateGrant", (c, r, ct) => c.CreateGrantAsync(r, ct)),
        Op<Aws.CreateKeyRequest, Aws.CreateKeyResponse>("CreateKey", (c, r, ct) => c.CreateKeyAsync(r, ct)),
        Op<Aws.DecapsulateRequest, Aws.DecapsulateResponse>("Decapsulate", (c, r, ct) => c.DecapsulateAsync(r, ct)),
        Op<Aws.DecryptRequest, Aws.DecryptResponse>("Decrypt", (c, r, ct) => c.DecryptAsync(r, ct)),
        Op<Aws.DeleteAliasRequest, Aws.DeleteAliasResponse>("DeleteAlias", (c, r, ct) => c.DeleteAliasAsync(r, ct)),
        Op<Aws.DeleteCustomKeyStoreRequest, Aws.DeleteCustomKeyStoreResponse>("DeleteCustomKeyStore", (c, r, ct) => c.DeleteCustomKeyStoreAsync(r, ct)),
        Op<Aws.DeleteImportedKeyMaterialRequest, Aws.DeleteImportedKeyMaterialResponse>("DeleteImportedKeyMaterial", (c, r, ct) => c.DeleteImportedKeyMaterialAsync(r, ct)),
        Op<Aws.DeriveSharedSecretRequest, Aws.DeriveSharedSecretResponse>("DeriveSharedSecret", (c, r, ct) => c.DeriveSharedSecretAsync(r, ct)),
        Op<Aws.DescribeCustomKeyStoresRequest, Aws.DescribeCustomKeyStoresResponse>("DescribeCustomKeyStores", (c, r, ct) => c.DescribeCustomKeyStoresAsync(r, ct)),
        Op<Aws.DescribeKeyRequest, Aws.DescribeKeyResponse>("DescribeKey", (c, r, ct) => c.DescribeKeyAsync(r, ct)),
        Op<Aws.DisableKeyRequest, Aws.DisableKeyResponse>("DisableKey", (c, r, ct) => c.DisableKeyAsync(r, ct)),
        Op<Aws.DisableKeyRotationRequest, Aws.DisableKeyRotationResponse>("DisableKeyRotation", (c, r, ct) => c.DisableKeyRotationAsync(r, ct)),
        Op<Aws.DisconnectCustomKeyStoreRequest, Aws.DisconnectCustomKeyStoreResponse>("DisconnectCustomKeyStore", (c, r, ct) => c.DisconnectCustomKeyStoreAsync(r, ct)),
        Op<Aws.EnableKeyRequest, Aws.EnableKeyResponse>("EnableKey", (c, r, ct) => c.EnableKeyAsync(r, ct)),
        Op<Aws.EnableKeyRotationRequest, Aws.EnableKeyRotationResponse>("EnableKeyRotation", (c, r, ct) => c.EnableKeyRotationAsync(r, ct)),
        Op<Aws.EncapsulateRequest, Aws.EncapsulateResponse>("Encapsulate", (c, r, ct) => c.EncapsulateAsync(r, ct)),
        Op<Aws.EncryptRequest, Aws.EncryptResponse>("Encrypt", (c, r, ct) => c.EncryptAsync(r, ct)),
        Op<Aws.GenerateDataKeyRequest, Aws.GenerateDataKeyResponse>("GenerateDataKey", (c, r, ct) => c.GenerateDataKeyAsync(r, ct)),
        Op<Aws.GenerateDataKeyPairRequest, Aws.GenerateDataKeyPairResponse>("GenerateDataKeyPair", (c, r, ct) => c.GenerateDataKeyPairAsync(r, ct)),
        Op<Aws.GenerateDataKeyPairWithoutPlaintextRequest, Aws.GenerateDataKeyPairWithoutPlaintextResponse>("GenerateDataKeyPairWithoutPlaintext", (c, r, ct) => c.GenerateDataKeyPairWithoutPlaintextAsync(r, ct)),
        Op<Aws.GenerateDataKeyWithoutPlaintextRequest, Aws.GenerateDataKeyWithoutPlaintextResponse>("GenerateDataKeyWithoutPlaintext", (c, r, ct) => c.GenerateDataKeyWithoutPlaintextAsync(r, ct)),
        Op<Aws.GenerateMacRequest, Aws.GenerateMacResponse>("GenerateMac", (c, r, ct) => c.GenerateMacAsync(r, ct)),
        Op<Aws.GenerateRandomRequest, Aws.GenerateRandomResponse>("GenerateRandom", (c, r, ct) => c.GenerateRandomAsync(r, ct)),
        Op<Aws.GetKeyLastUsageRequest, Aws.GetKeyLastUsageResponse>("GetKeyLastUsage", (c, r, ct) => c.GetKeyLastUsageAsync(r, ct)),
        Op<Aws.GetKeyPolicyRequest, Aws.GetKeyPolicyResponse>("GetKeyPolicy", (c, r, ct) => c.GetKeyPolicyAsync(r, ct)),
        Op<Aws.GetKeyRotationStatusRequest, Aws.GetKeyRotationStatusResponse>("GetKeyRotationStatus", (c, r, ct) => c.GetKeyRotationStatusAsync(r, ct)),
        Op<Aws.GetParametersForImportRequest, Aws.GetParametersForImportResponse>("GetParametersForImport", (c, r, ct) => c.GetParametersForImportAsync(r, ct)),
        Op<Aws.GetPublicKeyRequest, Aws.GetPublicKeyResponse>("GetPublicKey", (c, r, ct) => c.GetPublicKeyAsync(r, ct)),
        Op<Aws.ImportKeyMaterialRequest, Aws.ImportKeyMaterialResponse>("ImportKeyMaterial", (c, r, ct) => c.ImportKeyMaterialAsync(r, ct)),
        Op<Aws.ListAliasesRequest, Aws.ListAliasesResponse>("ListAliases", (c, r, ct) => c.ListAliasesAsync(r, ct)),
        Op<Aws.ListGrantsRequest, Aws.ListGrantsResponse>("ListGrants", (c, r, ct) => c.ListGrantsAsync(r, ct)),
        Op<Aws.ListKeyPoliciesRequest, Aws.ListKeyPoliciesResponse>("ListKeyPolicies", (c, r, ct) => c.ListKeyPoliciesAsync(r, ct)),
        Op<Aws.ListKeyRotationsRequest, Aws.ListKeyRotationsResponse>("ListKeyRotations", (c, r, ct) => c.ListKeyRotationsAsync(r, ct)),
        Op<Aws.ListKeysRequest, Aws.ListKeysResponse>("ListKeys", (c, r, ct) => c.ListKeysAsync(r, ct)),
        Op<Aws.ListResourceTagsRequest, Aws.ListResourceTagsResponse>("ListResourceTags", (c, r, ct) => c.ListResourceTagsAsync(r, ct)),
        Op<Aws.ListRetirableGrantsRequest, Aws.ListRetirableGrantsResponse>("ListRetirableGrants", (c, r, ct) => c.ListRetirableGrantsAsync(r, ct)),
        Op<Aws.PutKeyPolicyRequest, Aws.PutKeyPolicyResponse>("PutKeyPolicy", (c, r, ct) => c.PutKeyPolicyAsync(r, ct)),
        Op<Aws.ReEncryptRequest, Aws.ReEncryptResponse>("ReEncrypt", (c, r, ct) => c.ReEncryptAsync(r, ct)),
        Op<Aws.ReplicateKeyRequest, Aws.ReplicateKeyResponse>("ReplicateKey", (c, r, ct) => c.ReplicateKeyAsync(r, ct)),
        Op<Aws.RetireGrantRequest, Aws.RetireGrantResponse>("RetireGrant", (c, r, ct) => c.RetireGrantAsync(r, ct)),
        Op<Aws.RevokeGrantRequest, Aws.RevokeGrantResponse>("RevokeGrant", (c, r, ct) => c.RevokeGrantAsync(r, ct)),
        Op<Aws.RotateKeyOnDemandRequest, Aws.RotateKeyOnDemandResponse>("RotateKeyOnDemand", (c, r, ct) => c.RotateKeyOnDemandAsync(r, ct)),
        Op<Aws.ScheduleKeyDeletionRequest, Aws.ScheduleKeyDeletionResponse>("ScheduleKeyDeletion", (c, r, ct) => c.ScheduleKeyDeletionAsync(r, ct)),
        Op<Aws.SignRequest, Aws.SignResponse>("Sign", (c, r, ct) => c.SignAsync(r, ct)),
        Op<Aws.TagResourceRequest, Aws.TagResourceResponse>("TagResource", (c, r, ct) => c.TagResourceAsync(r, ct)),
        Op<Aws.UntagResourceRequest, Aws.UntagResourceResponse>("UntagResource", (c, r, ct) => c.UntagResourceAsync(r, ct)),
        Op<Aws.UpdateAliasRequest, Aws.UpdateAliasResponse>("UpdateAlias", (c, r, ct) => c.UpdateAliasAsync(r, ct)),
        Op<Aws.UpdateCustomKeyStoreRequest, Aws.UpdateCustomKeyStoreResponse>("UpdateCustomKeyStore", (c, r, ct) => c.UpdateCustomKeyStoreAsync(r, ct)),
        Op<Aws.UpdateKeyDescriptionRequest, Aws.UpdateKeyDescriptionResponse>("UpdateKeyDescription", (c, r, ct) => c.UpdateKeyDescriptionAsync(r, ct)),
        Op<Aws.UpdatePrimaryRegionRequest, Aws.UpdatePrimaryRegionResponse>("UpdatePrimaryRegion", (c, r, ct) => c.UpdatePrimaryRegionAsync(r, ct)),
        Op<Aws.VerifyRequest, Aws.VerifyResponse>("Verify", (c, r, ct) => c.VerifyAsync(r, ct)),
        Op<Aws.VerifyMacRequest, Aws.VerifyMacResponse>("VerifyMac", (c, r, ct) => c.VerifyMacAsync(r, ct)),
    }.ToDictionary(o => o.Name, StringComparer.Ordinal);

    /// <summary>Finds the operation an <c>X-Amz-Target</c> header names.</summary>
    public static Operation? FromTarget(string? target)
        => target is not null && target.StartsWith(TargetPrefix, StringComparison.Ordinal)
            && All.TryGetValue(target[TargetPrefix.Length..], out var operation) ? operation : null;
}
