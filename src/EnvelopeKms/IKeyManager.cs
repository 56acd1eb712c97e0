namespace EnvelopeKms;

/// <summary>
/// An in-process key management service with the operations, names, limits and error codes of
/// AWS KMS. Every operation runs the same pipeline: validate the input, resolve the key, authorize
/// the caller, check the key's state, execute, and write one audit event with the outcome.
/// </summary>
/// <remarks>Implementations are safe for concurrent use.</remarks>
public interface IKeyManager
{
    /// <summary>Creates a KMS key (<c>CreateKey</c>).</summary>
    Task<KeyMetadataResponse> CreateKeyAsync(CreateKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a key's metadata (<c>DescribeKey</c>); accepts aliases.</summary>
    Task<KeyMetadataResponse> DescribeKeyAsync(DescribeKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists the keys of the store, a page at a time, in key-id order (<c>ListKeys</c>).</summary>
    Task<ListKeysResponse> ListKeysAsync(ListKeysRequest request, CancellationToken cancellationToken = default);

    /// <summary>Replaces a key's description (<c>UpdateKeyDescription</c>).</summary>
    Task UpdateKeyDescriptionAsync(UpdateKeyDescriptionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Sets a key's state to Enabled (<c>EnableKey</c>).</summary>
    Task EnableKeyAsync(EnableKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Sets a key's state to Disabled (<c>DisableKey</c>).</summary>
    Task DisableKeyAsync(DisableKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Schedules a key for deletion after a 7–30 day waiting period (<c>ScheduleKeyDeletion</c>).</summary>
    Task<ScheduleKeyDeletionResponse> ScheduleKeyDeletionAsync(ScheduleKeyDeletionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Cancels a scheduled deletion; the key returns to Disabled (<c>CancelKeyDeletion</c>).</summary>
    Task<CancelKeyDeletionResponse> CancelKeyDeletionAsync(CancelKeyDeletionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Creates an alias for a key (<c>CreateAlias</c>).</summary>
    Task CreateAliasAsync(CreateAliasRequest request, CancellationToken cancellationToken = default);

    /// <summary>Points an alias at another key (<c>UpdateAlias</c>).</summary>
    Task UpdateAliasAsync(UpdateAliasRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes an alias (<c>DeleteAlias</c>).</summary>
    Task DeleteAliasAsync(DeleteAliasRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists aliases, a page at a time, in alias-name order (<c>ListAliases</c>).</summary>
    Task<ListAliasesResponse> ListAliasesAsync(ListAliasesRequest request, CancellationToken cancellationToken = default);

    /// <summary>Adds or overwrites tags on a key (<c>TagResource</c>).</summary>
    Task TagResourceAsync(TagResourceRequest request, CancellationToken cancellationToken = default);

    /// <summary>Removes tags from a key (<c>UntagResource</c>).</summary>
    Task UntagResourceAsync(UntagResourceRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists a key's tags (<c>ListResourceTags</c>).</summary>
    Task<ListResourceTagsResponse> ListResourceTagsAsync(ListResourceTagsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Encrypts up to 4096 bytes under a key (<c>Encrypt</c>).</summary>
    Task<EncryptResponse> EncryptAsync(EncryptRequest request, CancellationToken cancellationToken = default);

    /// <summary>Decrypts a ciphertext; the key is read from the ciphertext (<c>Decrypt</c>).</summary>
    Task<DecryptResponse> DecryptAsync(DecryptRequest request, CancellationToken cancellationToken = default);

    /// <summary>Decrypts and re-encrypts under another key or context without returning plaintext (<c>ReEncrypt</c>).</summary>
    Task<ReEncryptResponse> ReEncryptAsync(ReEncryptRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a new data key in plaintext and encrypted under a key (<c>GenerateDataKey</c>).</summary>
    Task<GenerateDataKeyResponse> GenerateDataKeyAsync(GenerateDataKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a new data key encrypted under a key only (<c>GenerateDataKeyWithoutPlaintext</c>).</summary>
    Task<GenerateDataKeyWithoutPlaintextResponse> GenerateDataKeyWithoutPlaintextAsync(GenerateDataKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns a new asymmetric data key pair: the public key, the private key in plaintext, and the private key
    /// encrypted under a symmetric key (<c>GenerateDataKeyPair</c>).
    /// </summary>
    Task<GenerateDataKeyPairResponse> GenerateDataKeyPairAsync(GenerateDataKeyPairRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a new asymmetric data key pair: the public key and the encrypted private key only (<c>GenerateDataKeyPairWithoutPlaintext</c>).</summary>
    Task<GenerateDataKeyPairWithoutPlaintextResponse> GenerateDataKeyPairWithoutPlaintextAsync(GenerateDataKeyPairRequest request, CancellationToken cancellationToken = default);

    /// <summary>Computes the HMAC of a message with an HMAC key (<c>GenerateMac</c>).</summary>
    Task<GenerateMacResponse> GenerateMacAsync(GenerateMacRequest request, CancellationToken cancellationToken = default);

    /// <summary>Verifies an HMAC with an HMAC key (<c>VerifyMac</c>); a wrong MAC is <c>MacValid = false</c>, not an exception.</summary>
    Task<VerifyMacResponse> VerifyMacAsync(VerifyMacRequest request, CancellationToken cancellationToken = default);

    /// <summary>Signs a message or digest with an asymmetric signing key (<c>Sign</c>).</summary>
    Task<SignResponse> SignAsync(SignRequest request, CancellationToken cancellationToken = default);

    /// <summary>Verifies a signature with an asymmetric signing key (<c>Verify</c>); a wrong signature is <c>SignatureValid = false</c>, not an exception.</summary>
    Task<VerifyResponse> VerifyAsync(VerifyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns the public key of an asymmetric key as a DER SubjectPublicKeyInfo (<c>GetPublicKey</c>).</summary>
    Task<GetPublicKeyResponse> GetPublicKeyAsync(GetPublicKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Derives the raw ECDH shared secret of a <c>KEY_AGREEMENT</c> key and a peer's public key (<c>DeriveSharedSecret</c>).</summary>
    Task<DeriveSharedSecretResponse> DeriveSharedSecretAsync(DeriveSharedSecretRequest request, CancellationToken cancellationToken = default);

    /// <summary>Recovers the 32-byte shared secret of an ML-KEM ciphertext with an <c>ENCAPSULATE_DECAPSULATE</c> key (<c>Decapsulate</c>; implicit rejection).</summary>
    Task<DecapsulateResponse> DecapsulateAsync(DecapsulateRequest request, CancellationToken cancellationToken = default);

    /// <summary>Encapsulates a fresh shared secret to an ML-KEM key's public key (<c>Encapsulate</c>); callers can do the same with the key from <c>GetPublicKey</c>.</summary>
    Task<EncapsulateResponse> EncapsulateAsync(EncapsulateRequest request, CancellationToken cancellationToken = default);

    /// <summary>Turns on automatic rotation of a symmetric encryption key every 90–2560 days, 365 by default (<c>EnableKeyRotation</c>).</summary>
    Task EnableKeyRotationAsync(EnableKeyRotationRequest request, CancellationToken cancellationToken = default);

    /// <summary>Turns off automatic rotation (<c>DisableKeyRotation</c>); material made so far stays.</summary>
    Task DisableKeyRotationAsync(DisableKeyRotationRequest request, CancellationToken cancellationToken = default);

    /// <summary>Whether a key rotates automatically, its period and next rotation date (<c>GetKeyRotationStatus</c>).</summary>
    Task<GetKeyRotationStatusResponse> GetKeyRotationStatusAsync(GetKeyRotationStatusRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a one-time RSA wrapping public key and import token (valid 24 hours) for importing material into an <c>EXTERNAL</c> key (<c>GetParametersForImport</c>).</summary>
    Task<GetParametersForImportResponse> GetParametersForImportAsync(GetParametersForImportRequest request, CancellationToken cancellationToken = default);

    /// <summary>Imports wrapped key material into an <c>EXTERNAL</c> key, or re-imports the same material (<c>ImportKeyMaterial</c>); a key in <c>PendingImport</c> becomes <c>Enabled</c>.</summary>
    Task<ImportKeyMaterialResponse> ImportKeyMaterialAsync(ImportKeyMaterialRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes imported key material; the key becomes <c>PendingImport</c> until the same material is imported again (<c>DeleteImportedKeyMaterial</c>).</summary>
    Task<DeleteImportedKeyMaterialResponse> DeleteImportedKeyMaterialAsync(DeleteImportedKeyMaterialRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every imported key material whose <c>ValidTo</c> passed, making their keys <c>PendingImport</c>;
    /// returns how many keys changed. Expiry is also applied before a key's next use: this is for hosts that
    /// want it on time on keys nobody uses.
    /// </summary>
    Task<int> ExpireImportedKeyMaterialAsync(CancellationToken cancellationToken = default);

    /// <summary>Rotates a symmetric encryption key now, at most 25 times per key (<c>RotateKeyOnDemand</c>); the automatic schedule is unchanged.</summary>
    Task<RotateKeyOnDemandResponse> RotateKeyOnDemandAsync(RotateKeyOnDemandRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists a key's material versions, oldest first, a page at a time (<c>ListKeyRotations</c>).</summary>
    Task<ListKeyRotationsResponse> ListKeyRotationsAsync(ListKeyRotationsRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies every scheduled rotation that is due and returns how many keys rotated. A due rotation is
    /// also applied before the key's next use, so calling this is optional: it is for hosts that want
    /// rotations to happen on time on keys nobody uses.
    /// </summary>
    Task<int> RotateDueKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>Returns cryptographically secure random bytes (<c>GenerateRandom</c>).</summary>
    Task<GenerateRandomResponse> GenerateRandomAsync(GenerateRandomRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Purges every key whose deletion waiting period has passed, with its material and aliases,
    /// and returns how many were purged. Keys past their deletion date are also purged lazily when
    /// an operation touches them, so calling this is optional.
    /// </summary>
    Task<int> PurgeExpiredKeysAsync(CancellationToken cancellationToken = default);

    /// <summary>Replaces a key's policy (<c>PutKeyPolicy</c>); a malformed policy, or one that would lock the caller out, is refused and the previous one stays.</summary>
    Task PutKeyPolicyAsync(PutKeyPolicyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Returns a key's policy (<c>GetKeyPolicy</c>).</summary>
    Task<GetKeyPolicyResponse> GetKeyPolicyAsync(GetKeyPolicyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists the names of a key's policies, that is <c>default</c> (<c>ListKeyPolicies</c>).</summary>
    Task<ListKeyPoliciesResponse> ListKeyPoliciesAsync(ListKeyPoliciesRequest request, CancellationToken cancellationToken = default);

    /// <summary>Gives a principal permission to use a key (<c>CreateGrant</c>).</summary>
    Task<CreateGrantResponse> CreateGrantAsync(CreateGrantRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists a key's grants (<c>ListGrants</c>).</summary>
    Task<ListGrantsResponse> ListGrantsAsync(ListGrantsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists the grants a principal may retire (<c>ListRetirableGrants</c>).</summary>
    Task<ListGrantsResponse> ListRetirableGrantsAsync(ListRetirableGrantsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes a grant as its retiring principal, grantee or issuing account (<c>RetireGrant</c>).</summary>
    Task RetireGrantAsync(RetireGrantRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes a grant as a key administrator (<c>RevokeGrant</c>).</summary>
    Task RevokeGrantAsync(RevokeGrantRequest request, CancellationToken cancellationToken = default);

    /// <summary>Explains how a request by a principal would be authorized on a key, without running it (EnvelopeKms's simulate call).</summary>
    Task<Authorization.AuthorizationExplanation> SimulateAuthorizationAsync(SimulateAuthorizationRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// The last operation and the last cryptographic operation on a key, with their times (EnvelopeKms's <c>GetKeyLastUsage</c>;
    /// needs <c>kms:GetKeyLastUsage</c>; accepts aliases; allowed in every key state, like <c>DescribeKey</c>). Known since
    /// the key manager's usage meter started, or since the oldest record of the audit trail it was replayed from.
    /// </summary>
    Task<GetKeyLastUsageResponse> GetKeyLastUsageAsync(GetKeyLastUsageRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// The request counts per key and operation over a period and what they, and the keys, would cost on AWS KMS
    /// (EnvelopeKms's <c>GetUsageReport</c>; on no key; needs <c>kms:GetUsageReport</c>). See <c>docs/audit.md</c>.
    /// </summary>
    Task<Auditing.Usage.KeyUsageReport> GetUsageReportAsync(GetUsageReportRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Copies a multi-Region primary key into another Region of the key manager's <see cref="MultiRegion.KmsRegionGroup"/>
    /// (<c>ReplicateKey</c>): the replica shares the key id, key material, spec, usage, origin and rotation, and has its
    /// own policy, description, tags, aliases and state. See <c>docs/multi-region.md</c>.
    /// </summary>
    Task<ReplicateKeyResponse> ReplicateKeyAsync(ReplicateKeyRequest request, CancellationToken cancellationToken = default);

    /// <summary>Makes the replica in another Region the primary key of a multi-Region key, and this primary key a replica (<c>UpdatePrimaryRegion</c>).</summary>
    Task UpdatePrimaryRegionAsync(UpdatePrimaryRegionRequest request, CancellationToken cancellationToken = default);
    /// <summary>Creates a custom key store, disconnected, over a registered HSM cluster or external key store proxy (<c>CreateCustomKeyStore</c>; IAM policy only). See <c>docs/custom-key-stores.md</c>.</summary>
    Task<CreateCustomKeyStoreResponse> CreateCustomKeyStoreAsync(CreateCustomKeyStoreRequest request, CancellationToken cancellationToken = default);

    /// <summary>Connects a custom key store; a failed attempt leaves it <c>FAILED</c> with a connection error code (<c>ConnectCustomKeyStore</c>).</summary>
    Task<ConnectCustomKeyStoreResponse> ConnectCustomKeyStoreAsync(ConnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default);

    /// <summary>Disconnects a custom key store; its keys become <c>Unavailable</c> (<c>DisconnectCustomKeyStore</c>).</summary>
    Task DisconnectCustomKeyStoreAsync(DisconnectCustomKeyStoreRequest request, CancellationToken cancellationToken = default);

    /// <summary>Describes one custom key store by id or name, or every one a page at a time (<c>DescribeCustomKeyStores</c>).</summary>
    Task<DescribeCustomKeyStoresResponse> DescribeCustomKeyStoresAsync(DescribeCustomKeyStoresRequest request, CancellationToken cancellationToken = default);

    /// <summary>Renames a custom key store, or (disconnected) changes its cluster, password or proxy settings (<c>UpdateCustomKeyStore</c>).</summary>
    Task UpdateCustomKeyStoreAsync(UpdateCustomKeyStoreRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes a disconnected custom key store that holds no KMS keys (<c>DeleteCustomKeyStore</c>).</summary>
    Task DeleteCustomKeyStoreAsync(DeleteCustomKeyStoreRequest request, CancellationToken cancellationToken = default);
}
