using EnvelopeKms.KeyManagement;
using EnvelopeKms.Tests.Import;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// Every (operation, key state) pair of <see cref="KeyStateRules.Table"/> against the real key manager:
/// the key is put into the state, the operation is run, and the outcome must be exactly the table's.
/// </summary>
public sealed class KeyStateTableTests
{
    private const string SubjectAlias = "alias/subject";
    private const string HelperAlias = "alias/helper";

    public static TheoryData<KmsOperation, KeyState, KeyStateEffect> EveryPair()
    {
        var data = new TheoryData<KmsOperation, KeyState, KeyStateEffect>();
        foreach (var (operation, state, effect) in KeyStateRules.Table)
        {
            data.Add(operation, state, effect);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public async Task The_key_manager_does_what_the_state_table_says(KmsOperation operation, KeyState state, KeyStateEffect expected)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var scene = await SceneAsync(kms, state, hmac: operation is KmsOperation.GenerateMac or KmsOperation.VerifyMac, signing: operation is KmsOperation.Sign or KmsOperation.Verify or KmsOperation.GetPublicKey, agreement: operation is KmsOperation.DeriveSharedSecret, kem: operation is KmsOperation.Decapsulate or KmsOperation.Encapsulate,
            import: operation is KmsOperation.GetParametersForImport or KmsOperation.ImportKeyMaterial or KmsOperation.DeleteImportedKeyMaterial,
            multiRegion: operation is KmsOperation.ReplicateKey or KmsOperation.UpdatePrimaryRegion, replicated: operation is KmsOperation.UpdatePrimaryRegion);
        using var otherRegion = scene.OtherRegion;
        var before = await kms.Store.GetKeyAsync(scene.Subject.KeyId, Kms.Ct);
        var eventsBefore = kms.Audit.Events.Count;

        var call = Invoke(km, operation, scene);

        switch (expected)
        {
            case KeyStateEffect.Allowed:
                await call();
                Assert.Equal(KmsOutcome.Success, Assert.Single(kms.Audit.Events.Skip(eventsBefore)).Outcome);
                break;
            case KeyStateEffect.Disabled:
                var disabled = await Assert.ThrowsAsync<KmsDisabledException>(call);
                Assert.Equal("DisabledException", disabled.ErrorCode);
                Assert.Equal(before, await kms.Store.GetKeyAsync(scene.Subject.KeyId, Kms.Ct));
                break;
            case KeyStateEffect.InvalidState:
                var invalid = await Assert.ThrowsAsync<KmsInvalidStateException>(call);
                Assert.Equal("KMSInvalidStateException", invalid.ErrorCode);
                Assert.Contains(state.ToKmsName(), invalid.Message, StringComparison.Ordinal);
                Assert.Equal(before, await kms.Store.GetKeyAsync(scene.Subject.KeyId, Kms.Ct));
                break;
            default:
                Assert.Fail($"Unknown effect {expected}.");
                break;
        }
    }

    [Fact]
    public void The_table_has_a_column_for_every_key_state()
    {
        Assert.Equal(Enum.GetValues<KeyState>().Order(), KeyStateRules.States.Order());
    }

    [Fact]
    public void The_table_has_a_row_for_every_operation_on_an_existing_key_and_none_for_the_others()
    {
        KmsOperation[] onNoKey = [KmsOperation.CreateKey, KmsOperation.ListKeys, KmsOperation.ListAliases, KmsOperation.GenerateRandom, KmsOperation.DeleteExpiredKey, KmsOperation.RotateKey, KmsOperation.ListRetirableGrants, KmsOperation.GetUsageReport, KmsOperation.DeleteExpiredKeyMaterial,
            KmsOperation.CreateCustomKeyStore, KmsOperation.ConnectCustomKeyStore, KmsOperation.DisconnectCustomKeyStore, KmsOperation.DescribeCustomKeyStores, KmsOperation.UpdateCustomKeyStore, KmsOperation.DeleteCustomKeyStore];

        Assert.Equal(Enum.GetValues<KmsOperation>().Except(onNoKey).Order(), KeyStateRules.Operations.Order());
        Assert.Equal(KeyStateRules.Operations.Count * KeyStateRules.States.Count, KeyStateRules.Table.Count());
        foreach (var operation in onNoKey)
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => KeyStateRules.GetEffect(operation, KeyState.Enabled));
        }
    }

    [Fact]
    public void The_table_follows_aws_kms_for_the_states_the_api_reaches()
    {
        KmsOperation[] crypto =
        [
            KmsOperation.Encrypt, KmsOperation.Decrypt, KmsOperation.ReEncryptFrom, KmsOperation.ReEncryptTo,
            KmsOperation.GenerateDataKey, KmsOperation.GenerateDataKeyWithoutPlaintext,
            KmsOperation.GenerateDataKeyPair, KmsOperation.GenerateDataKeyPairWithoutPlaintext,
        ];
        foreach (var operation in crypto)
        {
            Assert.Equal(KeyStateEffect.Allowed, KeyStateRules.GetEffect(operation, KeyState.Enabled));
            Assert.Equal(KeyStateEffect.Disabled, KeyStateRules.GetEffect(operation, KeyState.Disabled));
            Assert.Equal(KeyStateEffect.InvalidState, KeyStateRules.GetEffect(operation, KeyState.PendingDeletion));
            Assert.Equal(KeyStateEffect.InvalidState, KeyStateRules.GetEffect(operation, KeyState.PendingImport));
        }

        foreach (var state in KeyStateRules.States)
        {
            Assert.Equal(KeyStateEffect.Allowed, KeyStateRules.GetEffect(KmsOperation.DescribeKey, state));
            Assert.Equal(state is KeyState.PendingDeletion or KeyState.PendingReplicaDeletion ? KeyStateEffect.Allowed : KeyStateEffect.InvalidState, KeyStateRules.GetEffect(KmsOperation.CancelKeyDeletion, state));
        }
    }

    /// <summary>The key under test in the requested state, a ciphertext naming it, and an enabled helper key.</summary>
    private sealed record Scene(KeyMetadata Subject, byte[] SubjectBlob, KeyMetadata Helper, byte[] HelperBlob, string GrantId)
    {
        /// <summary>Import parameters for the subject, fetched before it was put into its state (import scenes only).</summary>
        public GetParametersForImportResponse ImportParameters { get; init; } = null!;

        /// <summary>The second Region of a multi-Region scene (the subject's replica is there when the scene is replicated).</summary>
        public TestKeyManager? OtherRegion { get; init; }
    }

    private const string OtherRegionName = "state-replica";

    private static async Task<Scene> SceneAsync(TestKeyManager kms, KeyState state, bool hmac = false, bool signing = false, bool agreement = false, bool kem = false, bool import = false, bool multiRegion = false, bool replicated = false)
    {
        var km = kms.Api();
        var helper = await km.NewKeyAsync("helper");
        var helperBlob = await km.EncryptBlobAsync(helper.KeyId, Kms.Utf8("helper data"));
        await km.CreateAliasAsync(HelperAlias, helper.KeyId);

        KeyMetadata subject;
        byte[] subjectBlob;
        if (import)
        {
            // An EXTERNAL subject with imported material; in PendingImport, its material was deleted (so that it can be re-imported).
            subject = await km.NewKeyAsync("subject", KeyOrigin.External);
            await km.ImportAsync(subject.KeyId, OperationCatalog.ImportMaterial);
            if (state == KeyState.PendingImport)
            {
                await km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = subject.KeyId }, Kms.Ct);
            }

            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else if (hmac)
        {
            // An HMAC subject (the MAC operations need one); it has no ciphertexts, so it gets a helper ciphertext whose header names it.
            var origin = state == KeyState.PendingImport ? KeyOrigin.External : KeyOrigin.AwsKms;
            subject = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "subject", KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac, Origin = origin }, Kms.Ct)).KeyMetadata;
            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else if (kem)
        {
            // An ML_KEM_768 subject for Decapsulate and Encapsulate, with a helper ciphertext whose header names it.
            var origin = state == KeyState.PendingImport ? KeyOrigin.External : KeyOrigin.AwsKms;
            subject = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "subject", KeySpec = KeySpec.MlKem768, KeyUsage = KeyUsage.EncapsulateDecapsulate, Origin = origin }, Kms.Ct)).KeyMetadata;
            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else if (agreement)
        {
            // An ECC_NIST_P256 KEY_AGREEMENT subject for DeriveSharedSecret, with a helper ciphertext whose header names it.
            var origin = state == KeyState.PendingImport ? KeyOrigin.External : KeyOrigin.AwsKms;
            subject = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "subject", KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.KeyAgreement, Origin = origin }, Kms.Ct)).KeyMetadata;
            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else if (signing)
        {
            // An ECC_NIST_P256 signing subject (Sign, Verify and GetPublicKey need one), with a helper ciphertext whose header names it.
            var origin = state == KeyState.PendingImport ? KeyOrigin.External : KeyOrigin.AwsKms;
            subject = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "subject", KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.SignVerify, Origin = origin }, Kms.Ct)).KeyMetadata;
            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else if (multiRegion)
        {
            // A multi-Region primary subject (EXTERNAL for PendingImport), with a helper ciphertext whose header names it.
            var origin = state == KeyState.PendingImport ? KeyOrigin.External : KeyOrigin.AwsKms;
            subject = (await km.CreateKeyAsync(new CreateKeyRequest { Description = "subject", Origin = origin, MultiRegion = true }, Kms.Ct)).KeyMetadata;
            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else if (state == KeyState.PendingImport)
        {
            // No material, so no real ciphertext: a helper ciphertext whose header names the subject key.
            subject = await km.NewKeyAsync("subject", KeyOrigin.External);
            subjectBlob = Kms.WithHeaderKeyId(helperBlob, subject.KeyId);
        }
        else
        {
            subject = await km.NewKeyAsync("subject");
            subjectBlob = await km.EncryptBlobAsync(subject.KeyId, Kms.Utf8("subject data"));
        }

        GetParametersForImportResponse? importParameters = null;
        if (import)
        {
            importParameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = subject.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct);
        }

        await km.CreateAliasAsync(SubjectAlias, subject.KeyId);
        await km.TagResourceAsync(new TagResourceRequest { KeyId = subject.KeyId, Tags = [new KeyTag("existing", "tag")] }, Kms.Ct);
        var grant = await km.CreateGrantAsync(new CreateGrantRequest { KeyId = subject.KeyId, GranteePrincipal = "arn:aws:iam::111122223333:role/grantee", Operations = [GrantOperation.DescribeKey] }, Kms.Ct);

        TestKeyManager? otherRegion = null;
        if (multiRegion)
        {
            var group = new EnvelopeKms.MultiRegion.KmsRegionGroup();
            group.Join(kms.Manager);
            otherRegion = new TestKeyManager(options: new EnvelopeKmsOptions { Region = OtherRegionName });
            group.Join(otherRegion.Manager);
            if (replicated)
            {
                await km.ReplicateKeyAsync(new ReplicateKeyRequest { KeyId = subject.KeyId, ReplicaRegion = OtherRegionName }, Kms.Ct);
            }
        }

        switch (state)
        {
            case KeyState.Enabled:
            case KeyState.PendingImport:
                break;
            case KeyState.Disabled:
                await km.DisableKeyAsync(new DisableKeyRequest { KeyId = subject.KeyId }, Kms.Ct);
                break;
            case KeyState.PendingDeletion when !replicated: // A primary with a replica would wait in PendingReplicaDeletion: set below instead.
                await km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = subject.KeyId }, Kms.Ct);
                break;
            default:
                await kms.RewriteKeyInStoreAsync(subject.KeyId, record => record with { KeyState = state });
                break;
        }

        Assert.Equal(state, (await km.DescribeAsync(subject.KeyId)).KeyState);
        return new Scene(subject, subjectBlob, helper, helperBlob, grant.GrantId) { ImportParameters = importParameters!, OtherRegion = otherRegion };
    }

    private static Func<Task> Invoke(IKeyManager km, KmsOperation operation, Scene scene)
    {
        var id = scene.Subject.KeyId;
        return operation switch
        {
            KmsOperation.DescribeKey => () => km.DescribeKeyAsync(new DescribeKeyRequest { KeyId = id }, Kms.Ct),
            KmsOperation.ListResourceTags => () => km.ListResourceTagsAsync(new ListResourceTagsRequest { KeyId = id }, Kms.Ct),
            KmsOperation.UpdateKeyDescription => () => km.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = id, Description = "changed" }, Kms.Ct),
            KmsOperation.EnableKey => () => km.EnableKeyAsync(new EnableKeyRequest { KeyId = id }, Kms.Ct),
            KmsOperation.DisableKey => () => km.DisableKeyAsync(new DisableKeyRequest { KeyId = id }, Kms.Ct),
            KmsOperation.ScheduleKeyDeletion => () => km.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = id, PendingWindowInDays = 7 }, Kms.Ct),
            KmsOperation.CancelKeyDeletion => () => km.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = id }, Kms.Ct),
            KmsOperation.CreateAlias => () => km.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/new", TargetKeyId = id }, Kms.Ct),
            KmsOperation.UpdateAlias => () => km.UpdateAliasAsync(new UpdateAliasRequest { AliasName = HelperAlias, TargetKeyId = id }, Kms.Ct),
            KmsOperation.DeleteAlias => () => km.DeleteAliasAsync(new DeleteAliasRequest { AliasName = SubjectAlias }, Kms.Ct),
            KmsOperation.TagResource => () => km.TagResourceAsync(new TagResourceRequest { KeyId = id, Tags = [new KeyTag("new", "tag")] }, Kms.Ct),
            KmsOperation.UntagResource => () => km.UntagResourceAsync(new UntagResourceRequest { KeyId = id, TagKeys = ["existing"] }, Kms.Ct),
            KmsOperation.Encrypt => () => km.EncryptAsync(new EncryptRequest { KeyId = id, Plaintext = new byte[] { 1, 2, 3 } }, Kms.Ct),
            KmsOperation.Decrypt => async () => (await km.DecryptAsync(new DecryptRequest { CiphertextBlob = scene.SubjectBlob }, Kms.Ct)).Dispose(),
            KmsOperation.ReEncryptFrom => () => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = scene.SubjectBlob, DestinationKeyId = scene.Helper.KeyId }, Kms.Ct),
            KmsOperation.ReEncryptTo => () => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = scene.HelperBlob, DestinationKeyId = id }, Kms.Ct),
            KmsOperation.GenerateDataKey => async () => (await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = id, KeySpec = DataKeySpec.Aes256 }, Kms.Ct)).Dispose(),
            KmsOperation.GenerateDataKeyWithoutPlaintext => () => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = id, KeySpec = DataKeySpec.Aes256 }, Kms.Ct),
            KmsOperation.GenerateMac => () => km.GenerateMacAsync(new GenerateMacRequest { KeyId = id, Message = new byte[] { 1, 2, 3 }, MacAlgorithm = MacAlgorithm.HmacSha256 }, Kms.Ct),
            KmsOperation.VerifyMac => () => km.VerifyMacAsync(new VerifyMacRequest { KeyId = id, Message = new byte[] { 1, 2, 3 }, Mac = new byte[32], MacAlgorithm = MacAlgorithm.HmacSha256 }, Kms.Ct),
            KmsOperation.Sign => () => km.SignAsync(new SignRequest { KeyId = id, Message = new byte[] { 1, 2, 3 }, SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Kms.Ct),
            KmsOperation.Verify => () => km.VerifyAsync(new VerifyRequest { KeyId = id, Message = new byte[] { 1, 2, 3 }, Signature = new byte[70], SigningAlgorithm = SigningAlgorithm.EcdsaSha256 }, Kms.Ct),
            KmsOperation.GetPublicKey => () => km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = id }, Kms.Ct),
            KmsOperation.DeriveSharedSecret => () => km.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = id, PublicKey = OperationCatalog.PeerPublicKey }, Kms.Ct),
            KmsOperation.Decapsulate => () => km.DecapsulateAsync(new DecapsulateRequest { KeyId = id, Ciphertext = new byte[1088] }, Kms.Ct),
            KmsOperation.Encapsulate => () => km.EncapsulateAsync(new EncapsulateRequest { KeyId = id }, Kms.Ct),
            KmsOperation.GenerateDataKeyPair => async () => (await km.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = id, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Kms.Ct)).Dispose(),
            KmsOperation.GenerateDataKeyPairWithoutPlaintext => () => km.GenerateDataKeyPairWithoutPlaintextAsync(new GenerateDataKeyPairRequest { KeyId = id, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, Kms.Ct),
            KmsOperation.EnableKeyRotation => () => km.EnableKeyRotationAsync(new EnableKeyRotationRequest { KeyId = id }, Kms.Ct),
            KmsOperation.DisableKeyRotation => () => km.DisableKeyRotationAsync(new DisableKeyRotationRequest { KeyId = id }, Kms.Ct),
            KmsOperation.GetKeyRotationStatus => () => km.GetKeyRotationStatusAsync(new GetKeyRotationStatusRequest { KeyId = id }, Kms.Ct),
            KmsOperation.RotateKeyOnDemand => () => km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = id }, Kms.Ct),
            KmsOperation.ListKeyRotations => () => km.ListKeyRotationsAsync(new ListKeyRotationsRequest { KeyId = id }, Kms.Ct),
            KmsOperation.PutKeyPolicy => () => km.PutKeyPolicyAsync(new PutKeyPolicyRequest { KeyId = id, Policy = KeyManager.DefaultKeyPolicy(Kms.AccountId) }, Kms.Ct),
            KmsOperation.GetKeyPolicy => () => km.GetKeyPolicyAsync(new GetKeyPolicyRequest { KeyId = id }, Kms.Ct),
            KmsOperation.ListKeyPolicies => () => km.ListKeyPoliciesAsync(new ListKeyPoliciesRequest { KeyId = id }, Kms.Ct),
            KmsOperation.CreateGrant => () => km.CreateGrantAsync(new CreateGrantRequest { KeyId = id, GranteePrincipal = "arn:aws:iam::111122223333:role/new", Operations = [GrantOperation.DescribeKey] }, Kms.Ct),
            KmsOperation.ListGrants => () => km.ListGrantsAsync(new ListGrantsRequest { KeyId = id }, Kms.Ct),
            KmsOperation.RetireGrant => () => km.RetireGrantAsync(new RetireGrantRequest { KeyId = id, GrantId = scene.GrantId }, Kms.Ct),
            KmsOperation.RevokeGrant => () => km.RevokeGrantAsync(new RevokeGrantRequest { KeyId = id, GrantId = scene.GrantId }, Kms.Ct),
            KmsOperation.SimulateAuthorization => () => km.SimulateAuthorizationAsync(new SimulateAuthorizationRequest { KeyId = id, Principal = new CallerIdentity("arn:aws:iam::111122223333:role/app"), Operation = KmsOperation.Encrypt }, Kms.Ct),
            KmsOperation.GetKeyLastUsage => () => km.GetKeyLastUsageAsync(new GetKeyLastUsageRequest { KeyId = id }, Kms.Ct),
            KmsOperation.GetParametersForImport => () => km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = id, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct),
            KmsOperation.ImportKeyMaterial => async () =>
            {
                // A token from a key in a usable state, so that the call reaches the subject's state check.
                var token = scene.ImportParameters;
                await km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest { KeyId = id, ImportToken = token.ImportToken, EncryptedKeyMaterial = Import.ImportSupport.Wrap(token.PublicKey, ImportWrappingAlgorithm.RsaesOaepSha256, OperationCatalog.ImportMaterial), ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire }, Kms.Ct);
            },
            KmsOperation.DeleteImportedKeyMaterial => () => km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = id }, Kms.Ct),
            KmsOperation.ReplicateKey => () => km.ReplicateKeyAsync(new ReplicateKeyRequest { KeyId = id, ReplicaRegion = OtherRegionName }, Kms.Ct),
            KmsOperation.UpdatePrimaryRegion => () => km.UpdatePrimaryRegionAsync(new UpdatePrimaryRegionRequest { KeyId = id, PrimaryRegion = OtherRegionName }, Kms.Ct),
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, "No invocation for this operation; add one."),
        };
    }
}
