using System.Security.Cryptography;
using System.Text;
using Amazon.KeyManagementService;
using Sdk = Amazon.KeyManagementService;
using EnvelopeKms.AwsSdk;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.Integrations.Tests.AwsSdk;

/// <summary>
/// Code written against <see cref="IAmazonKeyManagementService"/> runs unchanged on EnvelopeKms: one walk
/// through every operation the AWS SDK knows, checked against the audit trail so that no operation is skipped.
/// </summary>
public sealed class EveryOperationTests : IDisposable
{
    private readonly AwsSdkTestKms _kms = new();
#pragma warning disable CA1859 // Deliberately through the interface: this is code written against the AWS SDK.
    private readonly IAmazonKeyManagementService _client;
#pragma warning restore CA1859

    private static CancellationToken Ct => AwsSdkTestKms.Ct;

    public EveryOperationTests() => _client = new EnvelopeKmsAmazonClient(_kms.East);

    public void Dispose()
    {
        _client.Dispose();
        _kms.Dispose();
    }

    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    private static string Text(MemoryStream stream) => Encoding.UTF8.GetString(stream.ToArray());

    private async Task<string> CreateAsync(Sdk.KeySpec spec, Sdk.KeyUsageType usage)
        => (await _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = spec, KeyUsage = usage }, Ct)).KeyMetadata.KeyId;

    [Fact]
    public async Task Every_operation_of_the_AWS_SDK_client_runs_against_the_key_manager()
    {
        // Key lifecycle.
        var created = await _client.CreateKeyAsync(new Aws.CreateKeyRequest { Description = "orders", Tags = [new Aws.Tag { TagKey = "team", TagValue = "payments" }] }, Ct);
        var key = created.KeyMetadata.KeyId;
        Assert.Equal(Sdk.KeyState.Enabled, created.KeyMetadata.KeyState);
        Assert.Equal(Sdk.KeySpec.SYMMETRIC_DEFAULT, created.KeyMetadata.KeySpec);
        Assert.Equal(Sdk.KeyUsageType.ENCRYPT_DECRYPT, created.KeyMetadata.KeyUsage);
        Assert.Equal(Sdk.OriginType.AWS_KMS, created.KeyMetadata.Origin);
        Assert.Equal(Sdk.KeyManagerType.CUSTOMER, created.KeyMetadata.KeyManager);
        Assert.Equal(["SYMMETRIC_DEFAULT"], created.KeyMetadata.EncryptionAlgorithms);
        Assert.True(created.KeyMetadata.Enabled);
        Assert.Equal(System.Net.HttpStatusCode.OK, created.HttpStatusCode);
        var account = created.KeyMetadata.AWSAccountId;
        await _client.UpdateKeyDescriptionAsync(key, "orders, v2", Ct);
        Assert.Equal("orders, v2", (await _client.DescribeKeyAsync(key, Ct)).KeyMetadata.Description);
        var other = (await _client.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        Assert.Contains((await _client.ListKeysAsync(new Aws.ListKeysRequest(), Ct)).Keys, k => k.KeyId == key);

        // Aliases and tags.
        await _client.CreateAliasAsync("alias/orders", key, Ct);
        await _client.UpdateAliasAsync("alias/orders", other, Ct);
        Assert.Contains((await _client.ListAliasesAsync(new Aws.ListAliasesRequest { KeyId = other }, Ct)).Aliases, a => a.AliasName == "alias/orders");
        await _client.DeleteAliasAsync("alias/orders", Ct);
        await _client.TagResourceAsync(new Aws.TagResourceRequest { KeyId = key, Tags = [new Aws.Tag { TagKey = "env", TagValue = "prod" }] }, Ct);
        var tags = (await _client.ListResourceTagsAsync(new Aws.ListResourceTagsRequest { KeyId = key }, Ct)).Tags;
        Assert.Equal(["env", "team"], tags.Select(t => t.TagKey).Order());
        await _client.UntagResourceAsync(new Aws.UntagResourceRequest { KeyId = key, TagKeys = ["env"] }, Ct);

        // Encryption and data keys.
        var context = new Dictionary<string, string> { ["tenant"] = "42" };
        var encrypted = await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("card 4111"), EncryptionContext = context }, Ct);
        Assert.Equal(Sdk.EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT, encrypted.EncryptionAlgorithm);
        var decrypted = await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = context }, Ct);
        Assert.Equal("card 4111", Text(decrypted.Plaintext));
        Assert.Equal(encrypted.KeyId, decrypted.KeyId);
        var reEncrypted = await _client.ReEncryptAsync(new Aws.ReEncryptRequest
        {
            CiphertextBlob = encrypted.CiphertextBlob,
            SourceEncryptionContext = context,
            DestinationKeyId = other,
        }, Ct);
        Assert.Equal(encrypted.KeyId, reEncrypted.SourceKeyId);
        Assert.Equal("card 4111", Text((await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = reEncrypted.CiphertextBlob, KeyId = other }, Ct)).Plaintext));
        var dataKey = await _client.GenerateDataKeyAsync(new Aws.GenerateDataKeyRequest { KeyId = key, KeySpec = Sdk.DataKeySpec.AES_256 }, Ct);
        Assert.Equal(32, dataKey.Plaintext.Length);
        Assert.Equal(dataKey.Plaintext.ToArray(), (await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = dataKey.CiphertextBlob }, Ct)).Plaintext.ToArray());
        var withoutPlaintext = await _client.GenerateDataKeyWithoutPlaintextAsync(new Aws.GenerateDataKeyWithoutPlaintextRequest { KeyId = key, NumberOfBytes = 16 }, Ct);
        Assert.Equal(16, (await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = withoutPlaintext.CiphertextBlob }, Ct)).Plaintext.Length);
        var pair = await _client.GenerateDataKeyPairAsync(new Aws.GenerateDataKeyPairRequest { KeyId = key, KeyPairSpec = Sdk.DataKeyPairSpec.ECC_NIST_P256 }, Ct);
        using (var ecdsa = ECDsa.Create())
        {
            ecdsa.ImportPkcs8PrivateKey(pair.PrivateKeyPlaintext.ToArray(), out _);
            Assert.Equal(pair.PublicKey.ToArray(), ecdsa.ExportSubjectPublicKeyInfo());
        }

        var pairWithout = await _client.GenerateDataKeyPairWithoutPlaintextAsync(new Aws.GenerateDataKeyPairWithoutPlaintextRequest { KeyId = key, KeyPairSpec = Sdk.DataKeyPairSpec.RSA_2048 }, Ct);
        Assert.Equal(Sdk.DataKeyPairSpec.RSA_2048, pairWithout.KeyPairSpec);
        Assert.Equal(32, (await _client.GenerateRandomAsync(32, Ct)).Plaintext.Length);

        // MACs, signatures, key agreement, ML-KEM.
        var macKey = await CreateAsync(Sdk.KeySpec.HMAC_256, Sdk.KeyUsageType.GENERATE_VERIFY_MAC);
        var mac = await _client.GenerateMacAsync(new Aws.GenerateMacRequest { KeyId = macKey, Message = Bytes("m"), MacAlgorithm = Sdk.MacAlgorithmSpec.HMAC_SHA_256 }, Ct);
        Assert.True((await _client.VerifyMacAsync(new Aws.VerifyMacRequest { KeyId = macKey, Message = Bytes("m"), Mac = mac.Mac, MacAlgorithm = Sdk.MacAlgorithmSpec.HMAC_SHA_256 }, Ct)).MacValid);
        var signingKey = await CreateAsync(Sdk.KeySpec.ECC_NIST_P256, Sdk.KeyUsageType.SIGN_VERIFY);
        var signature = await _client.SignAsync(new Aws.SignRequest { KeyId = signingKey, Message = Bytes("doc"), SigningAlgorithm = Sdk.SigningAlgorithmSpec.ECDSA_SHA_256 }, Ct);
        Assert.True((await _client.VerifyAsync(new Aws.VerifyRequest { KeyId = signingKey, Message = Bytes("doc"), Signature = signature.Signature, SigningAlgorithm = Sdk.SigningAlgorithmSpec.ECDSA_SHA_256 }, Ct)).SignatureValid);
        var publicKey = await _client.GetPublicKeyAsync(new Aws.GetPublicKeyRequest { KeyId = signingKey }, Ct);
        Assert.Equal(["ECDSA_SHA_256"], publicKey.SigningAlgorithms);
        using (var verifier = ECDsa.Create())
        {
            verifier.ImportSubjectPublicKeyInfo(publicKey.PublicKey.ToArray(), out _);
            Assert.True(verifier.VerifyData(Encoding.UTF8.GetBytes("doc"), signature.Signature.ToArray(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }

        var agreementKey = await CreateAsync(Sdk.KeySpec.ECC_NIST_P256, Sdk.KeyUsageType.KEY_AGREEMENT);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var shared = await _client.DeriveSharedSecretAsync(new Aws.DeriveSharedSecretRequest
        {
            KeyId = agreementKey,
            KeyAgreementAlgorithm = Sdk.KeyAgreementAlgorithmSpec.ECDH,
            PublicKey = new MemoryStream(peer.ExportSubjectPublicKeyInfo()),
        }, Ct);
        using (var ours = ECDiffieHellman.Create())
        {
            ours.ImportSubjectPublicKeyInfo((await _client.GetPublicKeyAsync(new Aws.GetPublicKeyRequest { KeyId = agreementKey }, Ct)).PublicKey.ToArray(), out _);
            Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), shared.SharedSecret.ToArray());
            Assert.Equal(Sdk.OriginType.AWS_KMS, shared.KeyOrigin);
        }

        var kemKey = await CreateAsync(Sdk.KeySpec.ML_KEM_768, Sdk.KeyUsageType.ENCAPSULATE_DECAPSULATE);
        var encapsulated = await _client.EncapsulateAsync(new Aws.EncapsulateRequest { KeyId = kemKey, EncapsulationAlgorithm = Sdk.EncapsulationAlgorithmSpec.ML_KEM }, Ct);
        var decapsulated = await _client.DecapsulateAsync(new Aws.DecapsulateRequest
        {
            KeyId = kemKey,
            EncapsulationAlgorithm = Sdk.EncapsulationAlgorithmSpec.ML_KEM,
            SharedSecretCiphertextBlob = encapsulated.SharedSecretCiphertextBlob,
        }, Ct);
        Assert.Equal(encapsulated.SharedSecret.ToArray(), decapsulated.SharedSecret.ToArray());

        // Rotation.
        await _client.EnableKeyRotationAsync(new Aws.EnableKeyRotationRequest { KeyId = key, RotationPeriodInDays = 90 }, Ct);
        var status = await _client.GetKeyRotationStatusAsync(key, Ct);
        Assert.True(status.KeyRotationEnabled);
        Assert.Equal(90, status.RotationPeriodInDays);
        await _client.RotateKeyOnDemandAsync(new Aws.RotateKeyOnDemandRequest { KeyId = key }, Ct);
        var rotations = await _client.ListKeyRotationsAsync(new Aws.ListKeyRotationsRequest { KeyId = key }, Ct);
        Assert.Equal(Sdk.RotationType.ON_DEMAND, Assert.Single(rotations.Rotations).RotationType);
        await _client.DisableKeyRotationAsync(key, Ct);
        Assert.Equal("card 4111", Text((await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = context }, Ct)).Plaintext));

        // Imported key material.
        var external = (await _client.CreateKeyAsync(new Aws.CreateKeyRequest { Origin = Sdk.OriginType.EXTERNAL }, Ct)).KeyMetadata;
        Assert.Equal(Sdk.KeyState.PendingImport, external.KeyState);
        var parameters = await _client.GetParametersForImportAsync(new Aws.GetParametersForImportRequest
        {
            KeyId = external.KeyId,
            WrappingAlgorithm = Sdk.AlgorithmSpec.RSAES_OAEP_SHA_256,
            WrappingKeySpec = Sdk.WrappingKeySpec.RSA_2048,
        }, Ct);
        using (var wrapping = RSA.Create())
        {
            wrapping.ImportSubjectPublicKeyInfo(parameters.PublicKey.ToArray(), out _);
            var material = RandomNumberGenerator.GetBytes(32);
            var imported = await _client.ImportKeyMaterialAsync(new Aws.ImportKeyMaterialRequest
            {
                KeyId = external.KeyId,
                ImportToken = parameters.ImportToken,
                EncryptedKeyMaterial = new MemoryStream(wrapping.Encrypt(material, RSAEncryptionPadding.OaepSHA256)),
                ExpirationModel = Sdk.ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE,
            }, Ct);
            Assert.False(string.IsNullOrEmpty(imported.KeyMaterialId));
        }

        await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = external.KeyId, Plaintext = Bytes("imported") }, Ct);
        await _client.DeleteImportedKeyMaterialAsync(new Aws.DeleteImportedKeyMaterialRequest { KeyId = external.KeyId }, Ct);
        Assert.Equal(Sdk.KeyState.PendingImport, (await _client.DescribeKeyAsync(external.KeyId, Ct)).KeyMetadata.KeyState);

        // Key policies and grants.
        var policy = await _client.GetKeyPolicyAsync(key, "default", Ct);
        Assert.Equal(["default"], (await _client.ListKeyPoliciesAsync(new Aws.ListKeyPoliciesRequest { KeyId = key }, Ct)).PolicyNames);
        await _client.PutKeyPolicyAsync(key, policy.Policy, "default", Ct);
        var grantee = $"arn:aws:iam::{account}:role/worker";
        var retirer = $"arn:aws:iam::{account}:role/retirer";
        var grant = await _client.CreateGrantAsync(new Aws.CreateGrantRequest
        {
            KeyId = key,
            GranteePrincipal = grantee,
            RetiringPrincipal = retirer,
            Operations = ["Decrypt", "Encrypt"],
            Constraints = new Aws.GrantConstraints { EncryptionContextSubset = new Dictionary<string, string> { ["tenant"] = "42" } },
        }, Ct);
        var listed = Assert.Single((await _client.ListGrantsAsync(new Aws.ListGrantsRequest { KeyId = key }, Ct)).Grants);
        Assert.Equal(grant.GrantId, listed.GrantId);
        Assert.Equal(["Decrypt", "Encrypt"], listed.Operations.Order());
        Assert.Equal(grant.GrantId, Assert.Single((await _client.ListRetirableGrantsAsync(retirer, Ct)).Grants).GrantId);
        using (var asRetirer = new EnvelopeKmsAmazonClient(_kms.East, new CallerIdentity(retirer)))
        {
            await asRetirer.RetireGrantAsync(grant.GrantToken, Ct);
        }

        var second = await _client.CreateGrantAsync(new Aws.CreateGrantRequest { KeyId = key, GranteePrincipal = grantee, Operations = ["Encrypt"] }, Ct);
        await _client.RevokeGrantAsync(second.GrantId, key, Ct);
        Assert.Empty((await _client.ListGrantsAsync(new Aws.ListGrantsRequest { KeyId = key }, Ct)).Grants ?? []);

        // Key usage.
        var usage = await _client.GetKeyLastUsageAsync(new Aws.GetKeyLastUsageRequest { KeyId = key }, Ct);
        Assert.NotNull(usage.KeyLastUsage);
        Assert.NotNull(usage.KeyLastUsage.Timestamp);

        // Multi-Region keys.
        var primary = (await _client.CreateKeyAsync(new Aws.CreateKeyRequest { MultiRegion = true }, Ct)).KeyMetadata;
        Assert.StartsWith("mrk-", primary.KeyId, StringComparison.Ordinal);
        Assert.Equal(Sdk.MultiRegionKeyType.PRIMARY, primary.MultiRegionConfiguration.MultiRegionKeyType);
        var replica = await _client.ReplicateKeyAsync(new Aws.ReplicateKeyRequest { KeyId = primary.KeyId, ReplicaRegion = "eu-west-1" }, Ct);
        Assert.Equal(Sdk.MultiRegionKeyType.REPLICA, replica.ReplicaKeyMetadata.MultiRegionConfiguration.MultiRegionKeyType);
        var east = await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = primary.KeyId, Plaintext = Bytes("everywhere") }, Ct);
        using (var west = new EnvelopeKmsAmazonClient(_kms.West))
        {
            Assert.Equal("everywhere", Text((await west.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = east.CiphertextBlob, KeyId = primary.KeyId }, Ct)).Plaintext));
        }

        await _client.UpdatePrimaryRegionAsync(new Aws.UpdatePrimaryRegionRequest { KeyId = primary.KeyId, PrimaryRegion = "eu-west-1" }, Ct);
        Assert.Equal(Sdk.MultiRegionKeyType.REPLICA, (await _client.DescribeKeyAsync(primary.KeyId, Ct)).KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType);

        // Custom key stores (an external key store over the in-process XKS proxy).
        var store = (await _client.CreateCustomKeyStoreAsync(new Aws.CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = "xks",
            CustomKeyStoreType = Sdk.CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyUriEndpoint = AwsSdkTestKms.XksEndpoint,
            XksProxyUriPath = AwsSdkTestKms.XksPath,
            XksProxyConnectivity = Sdk.XksProxyConnectivityType.PUBLIC_ENDPOINT,
            XksProxyAuthenticationCredential = new Aws.XksProxyAuthenticationCredentialType { AccessKeyId = AwsSdkTestKms.XksAccessKeyId, RawSecretAccessKey = AwsSdkTestKms.XksSecret },
        }, Ct)).CustomKeyStoreId;
        await _client.ConnectCustomKeyStoreAsync(new Aws.ConnectCustomKeyStoreRequest { CustomKeyStoreId = store }, Ct);
        var described = Assert.Single((await _client.DescribeCustomKeyStoresAsync(new Aws.DescribeCustomKeyStoresRequest { CustomKeyStoreId = store }, Ct)).CustomKeyStores);
        Assert.Equal(Sdk.ConnectionStateType.CONNECTED, described.ConnectionState);
        Assert.Equal(AwsSdkTestKms.XksAccessKeyId, described.XksProxyConfiguration.AccessKeyId);
        var xksKey = (await _client.CreateKeyAsync(new Aws.CreateKeyRequest
        {
            Origin = Sdk.OriginType.EXTERNAL_KEY_STORE,
            CustomKeyStoreId = store,
            XksKeyId = AwsSdkTestKms.ExternalKeyId,
        }, Ct)).KeyMetadata;
        Assert.Equal(AwsSdkTestKms.ExternalKeyId, xksKey.XksKeyConfiguration.Id);
        var xksCiphertext = await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = xksKey.KeyId, Plaintext = Bytes("held outside") }, Ct);
        Assert.Equal("held outside", Text((await _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = xksCiphertext.CiphertextBlob, KeyId = xksKey.KeyId }, Ct)).Plaintext));
        await _client.DisconnectCustomKeyStoreAsync(new Aws.DisconnectCustomKeyStoreRequest { CustomKeyStoreId = store }, Ct);
        await _client.UpdateCustomKeyStoreAsync(new Aws.UpdateCustomKeyStoreRequest { CustomKeyStoreId = store, NewCustomKeyStoreName = "xks-renamed" }, Ct);
        var empty = (await _client.CreateCustomKeyStoreAsync(new Aws.CreateCustomKeyStoreRequest
        {
            CustomKeyStoreName = "unused",
            CustomKeyStoreType = Sdk.CustomKeyStoreType.EXTERNAL_KEY_STORE,
            XksProxyUriEndpoint = AwsSdkTestKms.XksEndpoint,
            XksProxyUriPath = AwsSdkTestKms.XksOtherPath,
            XksProxyConnectivity = Sdk.XksProxyConnectivityType.PUBLIC_ENDPOINT,
            XksProxyAuthenticationCredential = new Aws.XksProxyAuthenticationCredentialType { AccessKeyId = AwsSdkTestKms.XksAccessKeyId, RawSecretAccessKey = AwsSdkTestKms.XksSecret },
        }, Ct)).CustomKeyStoreId;
        await _client.DeleteCustomKeyStoreAsync(new Aws.DeleteCustomKeyStoreRequest { CustomKeyStoreId = empty }, Ct);

        // Enable, disable, deletion.
        await _client.DisableKeyAsync(other, Ct);
        Assert.Equal(Sdk.KeyState.Disabled, (await _client.DescribeKeyAsync(other, Ct)).KeyMetadata.KeyState);
        await _client.EnableKeyAsync(other, Ct);
        var scheduled = await _client.ScheduleKeyDeletionAsync(other, 7, Ct);
        Assert.Equal(Sdk.KeyState.PendingDeletion, scheduled.KeyState);
        Assert.Equal(7, scheduled.PendingWindowInDays);
        Assert.Equal(other, (await _client.CancelKeyDeletionAsync(other, Ct)).KeyId.Split('/')[^1]);

        // Every operation the SDK's client has was served successfully.
        var operations = typeof(IAmazonKeyManagementService).GetMethods()
            .Where(m => m.Name.EndsWith("Async", StringComparison.Ordinal))
            .Select(m => m.Name[..^"Async".Length])
            .ToHashSet();
        Assert.Equal(56, operations.Count);
        var served = _kms.Audit.Events.Where(e => e.Outcome == KmsOutcome.Success).Select(e => e.EventName).ToHashSet();
        Assert.Empty(operations.Except(served).Order());
    }
}
