using EnvelopeKms.Tests.Import;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// A key manager with one enabled key (with an alias, a tag and a ciphertext under a context) and a
/// second key, and a way to call every <see cref="IKeyManager"/> operation on them by name, as any caller.
/// </summary>
internal sealed class OperationCatalog : IDisposable
{
    public const string Alias = "alias/main";
    public const string OtherAlias = "alias/other";

    public static readonly IReadOnlyDictionary<string, string> Context = new Dictionary<string, string> { ["tenant"] = "acme", ["table"] = "orders" };

    /// <summary>Every operation of <see cref="IKeyManager"/> (the purge aside) and the audit operation it records.</summary>
    public static readonly IReadOnlyDictionary<string, KmsOperation> Operations = new Dictionary<string, KmsOperation>
    {
        ["CreateKey"] = KmsOperation.CreateKey,
        ["DescribeKey"] = KmsOperation.DescribeKey,
        ["ListKeys"] = KmsOperation.ListKeys,
        ["UpdateKeyDescription"] = KmsOperation.UpdateKeyDescription,
        ["EnableKey"] = KmsOperation.EnableKey,
        ["DisableKey"] = KmsOperation.DisableKey,
        ["ScheduleKeyDeletion"] = KmsOperation.ScheduleKeyDeletion,
        ["CancelKeyDeletion"] = KmsOperation.CancelKeyDeletion,
        ["CreateAlias"] = KmsOperation.CreateAlias,
        ["UpdateAlias"] = KmsOperation.UpdateAlias,
        ["DeleteAlias"] = KmsOperation.DeleteAlias,
        ["ListAliases"] = KmsOperation.ListAliases,
        ["TagResource"] = KmsOperation.TagResource,
        ["UntagResource"] = KmsOperation.UntagResource,
        ["ListResourceTags"] = KmsOperation.ListResourceTags,
        ["Encrypt"] = KmsOperation.Encrypt,
        ["Decrypt"] = KmsOperation.Decrypt,
        ["ReEncrypt"] = KmsOperation.ReEncryptFrom,
        ["GenerateDataKey"] = KmsOperation.GenerateDataKey,
        ["GenerateDataKeyWithoutPlaintext"] = KmsOperation.GenerateDataKeyWithoutPlaintext,
        ["GenerateRandom"] = KmsOperation.GenerateRandom,
        ["GenerateMac"] = KmsOperation.GenerateMac,
        ["VerifyMac"] = KmsOperation.VerifyMac,
        ["Sign"] = KmsOperation.Sign,
        ["Verify"] = KmsOperation.Verify,
        ["GetPublicKey"] = KmsOperation.GetPublicKey,
        ["DeriveSharedSecret"] = KmsOperation.DeriveSharedSecret,
        ["Decapsulate"] = KmsOperation.Decapsulate,
        ["Encapsulate"] = KmsOperation.Encapsulate,
        ["GenerateDataKeyPair"] = KmsOperation.GenerateDataKeyPair,
        ["GenerateDataKeyPairWithoutPlaintext"] = KmsOperation.GenerateDataKeyPairWithoutPlaintext,
        ["EnableKeyRotation"] = KmsOperation.EnableKeyRotation,
        ["DisableKeyRotation"] = KmsOperation.DisableKeyRotation,
        ["GetKeyRotationStatus"] = KmsOperation.GetKeyRotationStatus,
        ["RotateKeyOnDemand"] = KmsOperation.RotateKeyOnDemand,
        ["ListKeyRotations"] = KmsOperation.ListKeyRotations,
        ["PutKeyPolicy"] = KmsOperation.PutKeyPolicy,
        ["GetKeyPolicy"] = KmsOperation.GetKeyPolicy,
        ["ListKeyPolicies"] = KmsOperation.ListKeyPolicies,
        ["CreateGrant"] = KmsOperation.CreateGrant,
        ["ListGrants"] = KmsOperation.ListGrants,
        ["ListRetirableGrants"] = KmsOperation.ListRetirableGrants,
        ["RetireGrant"] = KmsOperation.RetireGrant,
        ["RevokeGrant"] = KmsOperation.RevokeGrant,
        ["SimulateAuthorization"] = KmsOperation.SimulateAuthorization,
        ["GetKeyLastUsage"] = KmsOperation.GetKeyLastUsage,
        ["GetUsageReport"] = KmsOperation.GetUsageReport,
        ["GetParametersForImport"] = KmsOperation.GetParametersForImport,
        ["ImportKeyMaterial"] = KmsOperation.ImportKeyMaterial,
        ["DeleteImportedKeyMaterial"] = KmsOperation.DeleteImportedKeyMaterial,
        ["ReplicateKey"] = KmsOperation.ReplicateKey,
        ["UpdatePrimaryRegion"] = KmsOperation.UpdatePrimaryRegion,
        ["CreateCustomKeyStore"] = KmsOperation.CreateCustomKeyStore,
        ["ConnectCustomKeyStore"] = KmsOperation.ConnectCustomKeyStore,
        ["DisconnectCustomKeyStore"] = KmsOperation.DisconnectCustomKeyStore,
        ["DescribeCustomKeyStores"] = KmsOperation.DescribeCustomKeyStores,
        ["UpdateCustomKeyStore"] = KmsOperation.UpdateCustomKeyStore,
        ["DeleteCustomKeyStore"] = KmsOperation.DeleteCustomKeyStore,
    };

    /// <summary>The grantee of the catalog's grant.</summary>
    public const string Grantee = "arn:aws:iam::111122223333:role/grantee";

    /// <summary>Operations that use key material and so record a key-material id.</summary>
    public static readonly IReadOnlySet<string> CryptoOperations = new HashSet<string>
    {
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "RotateKeyOnDemand",
        "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    };

    /// <summary>Operations that name the main key and so record its key id.</summary>
    public static readonly IReadOnlySet<string> KeyOperations = new HashSet<string>(Operations.Keys.Except(["CreateKey", "ListKeys", "ListAliases", "GenerateRandom", "ListRetirableGrants", "GetUsageReport", "CreateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore", "DeleteCustomKeyStore"]));

    /// <summary>The custom key store operations (on no key; IAM policy only).</summary>
    public static readonly IReadOnlyList<string> CustomKeyStoreOperations =
        ["CreateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore", "DescribeCustomKeyStores", "UpdateCustomKeyStore", "DeleteCustomKeyStore"];

    /// <summary>A disconnected HSM key store (Connect, Update and Delete run on it).</summary>
    public string DisconnectedStoreId { get; private init; } = null!;

    /// <summary>A connected external key store (Disconnect runs on it).</summary>
    public string ConnectedStoreId { get; private init; } = null!;

    private OperationCatalog(TestKeyManager kms, KeyMetadata key, KeyMetadata other, byte[] blob, KeyMetadata macKey, KeyMetadata signingKey)
    {
        Kms = kms;
        MacKey = macKey;
        SigningKey = signingKey;
        Key = key;
        Other = other;
        Blob = blob;
    }

    public TestKeyManager Kms { get; }

    public IKeyManager Api => Kms.Api();

    public KeyMetadata Key { get; }

    public KeyMetadata Other { get; }

    /// <summary>The HMAC_256 key the MAC operations run on.</summary>
    public KeyMetadata MacKey { get; }

    /// <summary>The key an operation of the catalog names: the HMAC key for the MAC operations, the main key otherwise.</summary>
    /// <summary>The ECC_NIST_P256 key the signing operations run on.</summary>
    public KeyMetadata SigningKey { get; }

    /// <summary>Operations that run on <see cref="SigningKey"/>.</summary>
    public static readonly IReadOnlySet<string> SigningOperations = new HashSet<string> { "Sign", "Verify", "GetPublicKey" };

    /// <summary>The ECC_NIST_P256 KEY_AGREEMENT key DeriveSharedSecret runs on.</summary>
    public KeyMetadata AgreementKey { get; private init; } = null!;

    /// <summary>The ML_KEM_768 key Decapsulate and Encapsulate run on.</summary>
    public KeyMetadata KemKey { get; private init; } = null!;

    /// <summary>Operations that run on <see cref="KemKey"/>.</summary>
    public static readonly IReadOnlySet<string> KemOperations = new HashSet<string> { "Decapsulate", "Encapsulate" };

    /// <summary>A P-256 peer public key (SPKI) for DeriveSharedSecret.</summary>
    public static readonly byte[] PeerPublicKey = CreatePeerPublicKey();

    private static byte[] CreatePeerPublicKey()
    {
        using var peer = System.Security.Cryptography.ECDiffieHellman.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return peer.ExportSubjectPublicKeyInfo();
    }

    /// <summary>An EXTERNAL key in PendingImport that GetParametersForImport and ImportKeyMaterial run on.</summary>
    public KeyMetadata ImportKey { get; private init; } = null!;

    /// <summary>An EXTERNAL key with imported material that DeleteImportedKeyMaterial runs on.</summary>
    public KeyMetadata ImportedKey { get; private init; } = null!;

    /// <summary>An import token for <see cref="ImportKey"/> and material wrapped to its public key.</summary>
    public (byte[] Token, byte[] EncryptedMaterial) ImportParameters { get; private init; }

    /// <summary>The second Region of the catalog's region group, where <see cref="ReplicatedKey"/> has its replica.</summary>
    public const string ReplicaRegion = "catalog-replica";

    /// <summary>The key manager of <see cref="ReplicaRegion"/>.</summary>
    public TestKeyManager? OtherRegion { get; private init; }

    /// <summary>A multi-Region primary key without replicas, which ReplicateKey runs on.</summary>
    public KeyMetadata MultiRegionKey { get; private init; } = null!;

    /// <summary>A multi-Region primary key with a replica in <see cref="ReplicaRegion"/>, which UpdatePrimaryRegion runs on.</summary>
    public KeyMetadata ReplicatedKey { get; private init; } = null!;

    /// <summary>The key an operation of the catalog names: the HMAC key for the MAC operations, the signing key for the signing ones, the main key otherwise.</summary>
    public KeyMetadata KeyFor(string operation)
        => operation == "ReplicateKey" ? MultiRegionKey
        : operation == "UpdatePrimaryRegion" ? ReplicatedKey
        : operation is "GetParametersForImport" or "ImportKeyMaterial" ? ImportKey
        : operation == "DeleteImportedKeyMaterial" ? ImportedKey
        : operation is "GenerateMac" or "VerifyMac" ? MacKey
        : SigningOperations.Contains(operation) ? SigningKey
        : operation == "DeriveSharedSecret" ? AgreementKey
        : KemOperations.Contains(operation) ? KemKey
        : Key;

    public byte[] Blob { get; }

    /// <summary>A grant on the main key for <see cref="Grantee"/> (Decrypt and RetireGrant), retirable by the root principal.</summary>
    public string GrantId { get; private init; } = null!;

    /// <summary>The 256-bit material the catalog imports.</summary>
    public static readonly byte[] ImportMaterial = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    public static TheoryData<string> OperationNames => [.. Operations.Keys];

    public static async Task<OperationCatalog> CreateAsync(TestKeyManager? kms = null)
    {
        kms ??= new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("main");
        var other = await km.NewKeyAsync("other");
        await km.CreateAliasAsync(Alias, key.KeyId);
        await km.CreateAliasAsync(OtherAlias, other.KeyId);
        await km.TagResourceAsync(new TagResourceRequest { KeyId = key.KeyId, Tags = [new KeyTag("existing", "tag")] }, KeyManagement.Kms.Ct);
        var blob = await km.EncryptBlobAsync(key.KeyId, KeyManagement.Kms.Utf8("catalog secret"), Context);
        var macKey = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "mac", KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac }, KeyManagement.Kms.Ct)).KeyMetadata;
        var signingKey = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "signing", KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify }, KeyManagement.Kms.Ct)).KeyMetadata;
        var agreementKey = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "agreement", KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.KeyAgreement }, KeyManagement.Kms.Ct)).KeyMetadata;
        var kemKey = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "kem", KeySpec = KeySpec.MlKem768, KeyUsage = KeyUsage.EncapsulateDecapsulate }, KeyManagement.Kms.Ct)).KeyMetadata;
        var grant = await km.CreateGrantAsync(new CreateGrantRequest { KeyId = key.KeyId, GranteePrincipal = Grantee, RetiringPrincipal = KeyManagement.Kms.RootArn, Operations = [GrantOperation.Decrypt, GrantOperation.RetireGrant] }, KeyManagement.Kms.Ct);
        var importKey = await km.NewKeyAsync("import", KeyOrigin.External);
        var importParameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = importKey.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, KeyManagement.Kms.Ct);
        var importedKey = await km.NewKeyAsync("imported", KeyOrigin.External);
        await km.ImportAsync(importedKey.KeyId, ImportMaterial);
        var group = new EnvelopeKms.MultiRegion.KmsRegionGroup();
        group.Join(kms.Manager);
        var otherRegion = new TestKeyManager(
            rootKeyProvider: new EnvelopeKms.Protection.StaticRootKeyProvider(Enumerable.Repeat((byte)7, 32).ToArray()),
            options: new EnvelopeKmsOptions { Region = ReplicaRegion, AccountId = kms.Manager.Ids.AccountId, Partition = kms.Manager.Ids.Partition });
        group.Join(otherRegion.Manager);
        var multiRegionKey = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "multi-region", MultiRegion = true }, KeyManagement.Kms.Ct)).KeyMetadata;
        var replicatedKey = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "replicated", MultiRegion = true }, KeyManagement.Kms.Ct)).KeyMetadata;
        await km.ReplicateKeyAsync(new ReplicateKeyRequest { KeyId = replicatedKey.KeyId, ReplicaRegion = ReplicaRegion }, KeyManagement.Kms.Ct);
        var stores = new CustomKeyStores.CustomKeyStoreFixture(kms);
        kms.Manager.CustomKeyStoreBackends.AddCloudHsmCluster("cluster-catalog0002", context => stores.Hsm.Connect(context.Credential));
        var disconnectedStore = await stores.CreateHsmStoreAsync("catalog-disconnected", connect: false);
        var connectedStore = await stores.CreateXksStoreAsync("catalog-connected");
        return new OperationCatalog(kms, key, other, blob, macKey, signingKey)
        {
            OtherRegion = otherRegion,
            MultiRegionKey = multiRegionKey,
            ReplicatedKey = replicatedKey,
            DisconnectedStoreId = disconnectedStore,
            ConnectedStoreId = connectedStore,
            AgreementKey = agreementKey,
            KemKey = kemKey,
            GrantId = grant.GrantId,
            ImportKey = importKey,
            ImportedKey = importedKey,
            ImportParameters = (importParameters.ImportToken, Import.ImportSupport.Wrap(importParameters.PublicKey, ImportWrappingAlgorithm.RsaesOaepSha256, ImportMaterial)),
        };
    }

    /// <summary>Runs a successful call of <paramref name="operation"/> on the main key (ScheduleKeyDeletion before CancelKeyDeletion is the caller's business).</summary>
    public Task InvokeAsync(string operation, CallerIdentity? caller = null)
    {
        var km = Api;
        var ct = KeyManagement.Kms.Ct;
        var id = Key.KeyId;
        return operation switch
        {
            "CreateKey" => km.CreateKeyAsync(new CreateKeyRequest { Caller = caller, Description = "new" }, ct),
            "DescribeKey" => km.DescribeKeyAsync(new DescribeKeyRequest { Caller = caller, KeyId = id }, ct),
            "ListKeys" => km.ListKeysAsync(new ListKeysRequest { Caller = caller }, ct),
            "UpdateKeyDescription" => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { Caller = caller, KeyId = id, Description = "changed" }, ct),
            "EnableKey" => km.EnableKeyAsync(new EnableKeyRequest { Caller = caller, KeyId = id }, ct),
            "DisableKey" => km.DisableKeyAsync(new DisableKeyRequest { Caller = caller, KeyId = id }, ct),
            "ScheduleKeyDeletion" => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { Caller = caller, KeyId = id }, ct),
            "CancelKeyDeletion" => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { Caller = caller, KeyId = id }, ct),
            "CreateAlias" => km.CreateAliasAsync(new CreateAliasRequest { Caller = caller, AliasName = "alias/new", TargetKeyId = id }, ct),
            "UpdateAlias" => km.UpdateAliasAsync(new UpdateAliasRequest { Caller = caller, AliasName = OtherAlias, TargetKeyId = id }, ct),
            "DeleteAlias" => km.DeleteAliasAsync(new DeleteAliasRequest { Caller = caller, AliasName = Alias }, ct),
            "ListAliases" => km.ListAliasesAsync(new ListAliasesRequest { Caller = caller }, ct),
            "TagResource" => km.TagResourceAsync(new TagResourceRequest { Caller = caller, KeyId = id, Tags = [new KeyTag("new", "tag")] }, ct),
            "UntagResource" => km.UntagResourceAsync(new UntagResourceRequest { Caller = caller, KeyId = id, TagKeys = ["existing"] }, ct),
            "ListResourceTags" => km.ListResourceTagsAsync(new ListResourceTagsRequest { Caller = caller, KeyId = id }, ct),
            "Encrypt" => km.EncryptAsync(new EncryptRequest { Caller = caller, KeyId = id, Plaintext = new byte[] { 1, 2, 3 }, EncryptionContext = Context }, ct),
            "Decrypt" => DisposeAsync(km.DecryptAsync(new DecryptRequest { Caller = caller, CiphertextBlob = Blob, EncryptionContext = Context }, ct)),
            "ReEncrypt" => km.ReEncryptAsync(new ReEncryptRequest { Caller = caller, CiphertextBlob = Blob, SourceEncryptionContext = Context, DestinationKeyId = Other.KeyId, DestinationEncryptionContext = Context }, ct),
            "GenerateDataKey" => DisposeAsync(km.GenerateDataKeyAsync(new GenerateDataKeyRequest { Caller = caller, KeyId = id, KeySpec = DataKeySpec.Aes256, EncryptionContext = Context }, ct)),
            "GenerateDataKeyWithoutPlaintext" => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { Caller = caller, KeyId = id, KeySpec = DataKeySpec.Aes256, EncryptionContext = Context }, ct),
            "GenerateRandom" => DisposeAsync(km.GenerateRandomAsync(new GenerateRandomRequest { Caller = caller, NumberOfBytes = 16 }, ct)),
            "GenerateMac" => km.GenerateMacAsync(new GenerateMacRequest { Caller = caller, KeyId = MacKey.KeyId, Message = new byte[] { 1, 2, 3 }, MacAlgorithm = MacAlgorithm.HmacSha256 }, ct),
            "VerifyMac" => km.VerifyMacAsync(new VerifyMacRequest { Caller = caller, KeyId = MacKey.KeyId, Message = new byte[] { 1, 2, 3 }, Mac = new byte[32], MacAlgorithm = MacAlgorithm.HmacSha256 }, ct),
            "Sign" => km.SignAsync(new SignRequest { Caller = caller, KeyId = SigningKey.KeyId, Message = new byte[] { 1, 2, 3 }, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, ct),
            "Verify" => km.VerifyAsync(new VerifyRequest { Caller = caller, KeyId = SigningKey.KeyId, Message = new byte[] { 1, 2, 3 }, Signature = new byte[70], SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, ct),
            "GetPublicKey" => km.GetPublicKeyAsync(new GetPublicKeyRequest { Caller = caller, KeyId = SigningKey.KeyId }, ct),
            "DeriveSharedSecret" => DisposeAsync(km.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { Caller = caller, KeyId = AgreementKey.KeyId, PublicKey = PeerPublicKey }, ct)),
            "Decapsulate" => DisposeAsync(km.DecapsulateAsync(new DecapsulateRequest { Caller = caller, KeyId = KemKey.KeyId, Ciphertext = new byte[1088] }, ct)),
            "Encapsulate" => DisposeAsync(km.EncapsulateAsync(new EncapsulateRequest { Caller = caller, KeyId = KemKey.KeyId }, ct)),
            "GenerateDataKeyPair" => DisposeAsync(km.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { Caller = caller, KeyId = id, KeyPairSpec = DataKeyPairSpec.EccNistP256, EncryptionContext = Context }, ct)),
            "GenerateDataKeyPairWithoutPlaintext" => km.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { Caller = caller, KeyId = id, KeyPairSpec = DataKeyPairSpec.EccNistP256, EncryptionContext = Context }, ct),
            "EnableKeyRotation" => km.EnableKeyRotationAsync(new EnableKeyRotationRequest { Caller = caller, KeyId = id, RotationPeriodInDays = 90 }, ct),
            "DisableKeyRotation" => km.DisableKeyRotationAsync(new DisableKeyRotationRequest { Caller = caller, KeyId = id }, ct),
            "GetKeyRotationStatus" => km.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { Caller = caller, KeyId = id }, ct),
            "RotateKeyOnDemand" => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { Caller = caller, KeyId = id }, ct),
            "ListKeyRotations" => km.ListKeyRotationsAsync(new ListKeyRotationsRequest { Caller = caller, KeyId = id }, ct),
            "PutKeyPolicy" => km.PutKeyPolicyAsync(new PutKeyPolicyRequest { Caller = caller, KeyId = id, Policy = KeyManager.DefaultKeyPolicy(KeyManagement.Kms.AccountId) }, ct),
            "GetKeyPolicy" => km.GetKeyPolicyAsync(new GetKeyPolicyRequest { Caller = caller, KeyId = id }, ct),
            "ListKeyPolicies" => km.ListKeyPoliciesAsync(new ListKeyPoliciesRequest { Caller = caller, KeyId = id }, ct),
            "CreateGrant" => km.CreateGrantAsync(new CreateGrantRequest { Caller = caller, KeyId = id, GranteePrincipal = "arn:aws:iam::111122223333:role/new", Operations = [GrantOperation.Encrypt] }, ct),
            "ListGrants" => km.ListGrantsAsync(new ListGrantsRequest { Caller = caller, KeyId = id }, ct),
            "ListRetirableGrants" => km.ListRetirableGrantsAsync(new ListRetirableGrantsRequest { Caller = caller, RetiringPrincipal = KeyManagement.Kms.RootArn }, ct),
            "RetireGrant" => km.RetireGrantAsync(new RetireGrantRequest { Caller = caller, KeyId = id, GrantId = GrantId }, ct),
            "RevokeGrant" => km.RevokeGrantAsync(new RevokeGrantRequest { Caller = caller, KeyId = id, GrantId = GrantId }, ct),
            "SimulateAuthorization" => km.SimulateAuthorizationAsync(new SimulateAuthorizationRequest { Caller = caller, KeyId = id, Principal = new CallerIdentity(Grantee), Operation = KmsOperation.Decrypt, EncryptionContext = Context }, ct),
            "GetKeyLastUsage" => km.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { Caller = caller, KeyId = id }, ct),
            "GetUsageReport" => km.GetUsageReportAsync(new GetUsageReportRequest { Caller = caller, From = Kms.Clock.GetUtcNow().AddDays(-1), To = Kms.Clock.GetUtcNow().AddDays(1) }, ct),
            "GetParametersForImport" => km.GetParametersForImportAsync(new GetParametersForImportRequest { Caller = caller, KeyId = ImportKey.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaAesKeyWrapSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, ct),
            "ImportKeyMaterial" => km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest { Caller = caller, KeyId = ImportKey.KeyId, ImportToken = ImportParameters.Token, EncryptedKeyMaterial = ImportParameters.EncryptedMaterial, ValidTo = Kms.Clock.GetUtcNow().AddDays(30), KeyMaterialDescription = "catalog" }, ct),
            "DeleteImportedKeyMaterial" => km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { Caller = caller, KeyId = ImportedKey.KeyId }, ct),
            "ReplicateKey" => km.ReplicateKeyAsync(new ReplicateKeyRequest { Caller = caller, KeyId = MultiRegionKey.KeyId, ReplicaRegion = ReplicaRegion }, ct),
            "UpdatePrimaryRegion" => km.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { Caller = caller, KeyId = ReplicatedKey.KeyId, PrimaryRegion = ReplicaRegion }, ct),
            "CreateCustomKeyStore" => km.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest { Caller = caller, CustomKeyStoreName = "new", CloudHsmClusterId = "cluster-catalog0002", KeyStorePassword = CustomKeyStores.CustomKeyStoreFixture.Password }, ct),
            "ConnectCustomKeyStore" => km.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { Caller = caller, CustomKeyStoreId = DisconnectedStoreId }, ct),
            "DisconnectCustomKeyStore" => km.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { Caller = caller, CustomKeyStoreId = ConnectedStoreId }, ct),
            "DescribeCustomKeyStores" => km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { Caller = caller }, ct),
            "UpdateCustomKeyStore" => km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { Caller = caller, CustomKeyStoreId = DisconnectedStoreId, NewCustomKeyStoreName = "renamed" }, ct),
            "DeleteCustomKeyStore" => km.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { Caller = caller, CustomKeyStoreId = DisconnectedStoreId }, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
    }

    /// <summary>Runs a call of <paramref name="operation"/> that fails, and returns the error code it must fail with.</summary>
    public (Func<Task> Call, string ErrorCode) Failing(string operation)
    {
        var km = Api;
        var ct = KeyManagement.Kms.Ct;
        var id = Key.KeyId;
        const string missing = "11111111-1111-4111-8111-111111111111";
        return operation switch
        {
            "CreateKey" => (() => km.CreateKeyAsync(new CreateKeyRequest { Description = new string('d', 8193) }, ct), "ValidationException"),
            "DescribeKey" => (() => km.DescribeKeyAsync(new DescribeKeyRequest { KeyId = missing }, ct), "NotFoundException"),
            "ListKeys" => (() => km.ListKeysAsync(new ListKeysRequest { Limit = 0 }, ct), "ValidationException"),
            "UpdateKeyDescription" => (() => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = missing, Description = "x" }, ct), "NotFoundException"),
            "EnableKey" => (() => km.EnableKeyAsync(new EnableKeyRequest { KeyId = Alias }, ct), "NotFoundException"),
            "DisableKey" => (() => km.DisableKeyAsync(new DisableKeyRequest { KeyId = "garbage" }, ct), "NotFoundException"),
            "ScheduleKeyDeletion" => (() => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = id, PendingWindowInDays = 6 }, ct), "ValidationException"),
            "CancelKeyDeletion" => (() => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = id }, ct), "KMSInvalidStateException"),
            "CreateAlias" => (() => km.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/aws/x", TargetKeyId = id }, ct), "InvalidAliasNameException"),
            "UpdateAlias" => (() => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/missing", TargetKeyId = id }, ct), "NotFoundException"),
            "DeleteAlias" => (() => km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = "alias/missing" }, ct), "NotFoundException"),
            "ListAliases" => (() => km.ListAliasesAsync(new ListAliasesRequest { Marker = "!!" }, ct), "InvalidMarkerException"),
            "TagResource" => (() => km.TagResourceAsync(new TagResourceRequest { KeyId = id, Tags = [new KeyTag("aws:x", "y")] }, ct), "TagException"),
            "UntagResource" => (() => km.UntagResourceAsync(new UntagResourceRequest { KeyId = missing, TagKeys = ["x"] }, ct), "NotFoundException"),
            "ListResourceTags" => (() => km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = id, Limit = 51 }, ct), "ValidationException"),
            "Encrypt" => (() => km.EncryptAsync(new EncryptRequest { KeyId = id, Plaintext = new byte[4097] }, ct), "ValidationException"),
            "Decrypt" => (() => km.DecryptAsync(new DecryptRequest { CiphertextBlob = Blob }, ct), "InvalidCiphertextException"),
            "ReEncrypt" => (() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = Blob, SourceEncryptionContext = Context, SourceKeyId = Other.KeyId, DestinationKeyId = Other.KeyId }, ct), "IncorrectKeyException"),
            "GenerateDataKey" => (() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = id, KeySpec = DataKeySpec.Aes256, NumberOfBytes = 32 }, ct), "ValidationException"),
            "GenerateDataKeyWithoutPlaintext" => (() => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = id, KeySpec = (DataKeySpec)5 }, ct), "ValidationException"),
            "GenerateRandom" => (() => km.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 1025 }, ct), "ValidationException"),
            "GenerateMac" => (() => km.GenerateMacAsync(new GenerateMacRequest { KeyId = MacKey.KeyId, Message = ReadOnlyMemory<byte>.Empty, MacAlgorithm = MacAlgorithm.HmacSha256 }, ct), "ValidationException"),
            "VerifyMac" => (() => km.VerifyMacAsync(new VerifyMacRequest { KeyId = MacKey.KeyId, Message = new byte[] { 1 }, Mac = new byte[64], MacAlgorithm = MacAlgorithm.HmacSha512 }, ct), "InvalidKeyUsageException"),
            "Sign" => (() => km.SignAsync(new SignRequest { KeyId = SigningKey.KeyId, Message = new byte[] { 1 }, MessageType = MessageType.Digest, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, ct), "ValidationException"),
            "Verify" => (() => km.VerifyAsync(new VerifyRequest { KeyId = SigningKey.KeyId, Message = new byte[] { 1 }, Signature = new byte[70], SigningAlgorithm = SigningAlgorithm.RsassaPssSha256 }, ct), "InvalidKeyUsageException"),
            "GetPublicKey" => (() => km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = id }, ct), "UnsupportedOperationException"),
            "DeriveSharedSecret" => (() => km.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = SigningKey.KeyId, PublicKey = PeerPublicKey }, ct), "InvalidKeyUsageException"),
            "Decapsulate" => (() => km.DecapsulateAsync(new DecapsulateRequest { KeyId = KemKey.KeyId, Ciphertext = new byte[1087] }, ct), "InvalidCiphertextException"),
            "Encapsulate" => (() => km.EncapsulateAsync(new EncapsulateRequest { KeyId = SigningKey.KeyId }, ct), "InvalidKeyUsageException"),
            "GenerateDataKeyPair" => (() => km.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = MacKey.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, ct), "InvalidKeyUsageException"),
            "GenerateDataKeyPairWithoutPlaintext" => (() => km.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = id, KeyPairSpec = (DataKeyPairSpec)99 }, ct), "ValidationException"),
            "EnableKeyRotation" => (() => km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = id, RotationPeriodInDays = 89 }, ct), "ValidationException"),
            "DisableKeyRotation" => (() => km.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = MacKey.KeyId }, ct), "UnsupportedOperationException"),
            "GetKeyRotationStatus" => (() => km.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = Alias }, ct), "NotFoundException"),
            "RotateKeyOnDemand" => (() => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = SigningKey.KeyId }, ct), "UnsupportedOperationException"),
            "ListKeyRotations" => (() => km.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = id, Limit = 1001 }, ct), "ValidationException"),
            "PutKeyPolicy" => (() => km.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = id, Policy = "{ not json" }, ct), "MalformedPolicyDocumentException"),
            "GetKeyPolicy" => (() => km.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = id, PolicyName = "other" }, ct), "ValidationException"),
            "ListKeyPolicies" => (() => km.ListKeyPoliciesAsync(new ListKeyPoliciesRequest { KeyId = id, Limit = 1001 }, ct), "ValidationException"),
            "CreateGrant" => (() => km.CreateGrantAsync(new CreateGrantRequest { KeyId = id, GranteePrincipal = Grantee, Operations = [] }, ct), "ValidationException"),
            "ListGrants" => (() => km.ListGrantsAsync(new ListGrantsRequest { KeyId = id, Limit = 101 }, ct), "ValidationException"),
            "ListRetirableGrants" => (() => km.ListRetirableGrantsAsync(new ListRetirableGrantsRequest { RetiringPrincipal = "nobody" }, ct), "ValidationException"),
            "RetireGrant" => (() => km.RetireGrantAsync(new RetireGrantRequest { GrantToken = "garbage" }, ct), "InvalidGrantTokenException"),
            "RevokeGrant" => (() => km.RevokeGrantAsync(new RevokeGrantRequest { KeyId = id, GrantId = "x" }, ct), "InvalidGrantIdException"),
            "SimulateAuthorization" => (() => km.SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = id, Principal = new CallerIdentity(Grantee), Operation = (KmsOperation)999 }, ct), "ValidationException"),
            "GetKeyLastUsage" => (() => km.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { KeyId = missing }, ct), "NotFoundException"),
            "GetUsageReport" => (() => km.GetUsageReportAsync(new GetUsageReportRequest { From = Kms.Clock.GetUtcNow(), To = Kms.Clock.GetUtcNow() }, ct), "ValidationException"),
            "GetParametersForImport" => (() => km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = id, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, ct), "UnsupportedOperationException"),
            "ImportKeyMaterial" => (() => km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest { KeyId = ImportKey.KeyId, ImportToken = ImportParameters.Token, EncryptedKeyMaterial = ImportParameters.EncryptedMaterial, ValidTo = Kms.Clock.GetUtcNow().AddDays(366) }, ct), "ValidationException"),
            "DeleteImportedKeyMaterial" => (() => km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = id }, ct), "UnsupportedOperationException"),
            "ReplicateKey" => (() => km.ReplicateKeyAsync(new ReplicateKeyRequest { KeyId = MultiRegionKey.KeyId, ReplicaRegion = Kms.Manager.Ids.Region }, ct), "ValidationException"),
            "UpdatePrimaryRegion" => (() => km.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = id, PrimaryRegion = ReplicaRegion }, ct), "UnsupportedOperationException"),
            "CreateCustomKeyStore" => (() => km.CreateCustomKeyStoreAsync(new CreateCustomKeyStoreRequest { CustomKeyStoreName = "", CloudHsmClusterId = "cluster-catalog0002", KeyStorePassword = "1234567" }, ct), "ValidationException"),
            "ConnectCustomKeyStore" => (() => km.ConnectCustomKeyStoreAsync(new ConnectCustomKeyStoreRequest { CustomKeyStoreId = "cks-0123456789abcdef0" }, ct), "CustomKeyStoreNotFoundException"),
            "DisconnectCustomKeyStore" => (() => km.DisconnectCustomKeyStoreAsync(new DisconnectCustomKeyStoreRequest { CustomKeyStoreId = DisconnectedStoreId }, ct), "CustomKeyStoreInvalidStateException"),
            "DescribeCustomKeyStores" => (() => km.DescribeCustomKeyStoresAsync(new DescribeCustomKeyStoresRequest { CustomKeyStoreId = ConnectedStoreId, CustomKeyStoreName = "catalog-connected" }, ct), "ValidationException"),
            "UpdateCustomKeyStore" => (() => km.UpdateCustomKeyStoreAsync(new UpdateCustomKeyStoreRequest { CustomKeyStoreId = DisconnectedStoreId, NewCustomKeyStoreName = "catalog-connected" }, ct), "CustomKeyStoreNameInUseException"),
            "DeleteCustomKeyStore" => (() => km.DeleteCustomKeyStoreAsync(new DeleteCustomKeyStoreRequest { CustomKeyStoreId = ConnectedStoreId }, ct), "CustomKeyStoreInvalidStateException"),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
    }

    /// <summary>Everything the store holds, for "nothing changed" checks.</summary>
    public async Task<string> SnapshotAsync()
    {
        var ct = KeyManagement.Kms.Ct;
        var keys = await Kms.Store.ListKeysAsync(null, int.MaxValue, ct);
        var aliases = await Kms.Store.ListAliasesAsync(null, null, int.MaxValue, ct);
        var grants = new List<string>();
        if (Kms.Store is EnvelopeKms.Storage.IGrantStore grantStore)
        {
            foreach (var key in keys)
            {
                grants.AddRange((await grantStore.ListGrantsAsync(key.KeyId, null, int.MaxValue, ct)).Select(g => $"grant {g.KeyId}/{g.GrantId} v{g.Version}"));
            }
        }

        var customKeyStores = Kms.Store is EnvelopeKms.Storage.ICustomKeyStoreRecordStore records
            ? (await records.ListCustomKeyStoresAsync(ct)).Select(r => $"store {r.CustomKeyStoreId} {r.CustomKeyStoreName} {r.ConnectionState} v{r.Version}")
            : [];
        return string.Join('\n', keys.Select(k => $"{k.KeyId} v{k.Version} {k.KeyState} {k.Description} {k.DeletionDate} {string.Join(',', k.Tags)} {k.Policy?.Length}")
            .Concat(aliases.Select(a => $"{a.AliasName} -> {a.TargetKeyId} v{a.Version}"))
            .Concat(grants)
            .Concat(customKeyStores));
    }

    public void Dispose()
    {
        Kms.Dispose();
        OtherRegion?.Dispose();
    }

    private static async Task DisposeAsync<T>(Task<T> call) where T : IDisposable => (await call).Dispose();
}
