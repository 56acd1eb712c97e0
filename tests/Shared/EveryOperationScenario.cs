using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.KeyManagementService;
using EnvelopeKms.Auditing;
using Aws = Amazon.KeyManagementService.Model;
using Sdk = Amazon.KeyManagementService;

namespace EnvelopeKms.Tests.Shared;

/// <summary>
/// Where the scenario runs: AWS SDK clients for us-east-1 (as the account root, a grantee and a retiring
/// principal) and for eu-west-1, the names of the in-process XKS proxy registered in us-east-1, and the audit
/// sink of us-east-1. The in-process adapter and the HTTP endpoint each provide one.
/// </summary>
internal sealed class KmsScenarioEnvironment
{
    public required IAmazonKeyManagementService East { get; init; }
    public required Func<IAmazonKeyManagementService> West { get; init; }
    public required CallerIdentity Grantee { get; init; }
    public required Func<IAmazonKeyManagementService> AsGrantee { get; init; }
    public required CallerIdentity Retirer { get; init; }
    public required Func<IAmazonKeyManagementService> AsRetirer { get; init; }
    public required string Account { get; init; }
    public required InMemoryAuditSink Audit { get; init; }
    public required string XksEndpoint { get; init; }
    public required string XksPath { get; init; }
    public required string XksOtherPath { get; init; }
    public required string XksAccessKeyId { get; init; }
    public required string XksSecret { get; init; }
    public required string ExternalKeyId { get; init; }
}

/// <summary>
/// Code written against <see cref="IAmazonKeyManagementService"/>: one walk through every operation the AWS SDK
/// knows, checked against the audit trail so that none is skipped. Shared by the adapter's tests (in process) and
/// the endpoint's tests (the official client over HTTP), so that both layers run the same scenario.
/// </summary>
internal static class EveryOperationScenario
{
    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    private static string Text(MemoryStream stream) => Encoding.UTF8.GetString(stream.ToArray());

    private static async Task<string> CreateAsync(KmsScenarioEnvironment env, Sdk.KeySpec spec, Sdk.KeyUsageType usage, CancellationToken ct)
        => (await env.East.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = spec, KeyUsage = usage }, ct)).KeyMetadata.KeyId;

    public static async Task RunAsync(KmsScenarioEnvironment env, CancellationToken ct)
    {
        // Key lifecycle.
        var created = await env.East.CreateKeyAsync(new Aws.CreateKeyRequest { Description = "orders", Tags = [new Aws.Tag { TagKey = "team", TagValue = "payments" }] }, ct);
        var key = created.KeyMetadata.KeyId;
        Assert.Equal(HttpStatusCode.OK, created.HttpStatusCode);
        Assert.Equal(Sdk.KeyState.Enabled, created.KeyMetadata.KeyState);
        Assert.Equal(Sdk.KeySpec.SYMMETRIC_DEFAULT, created.KeyMetadata.KeySpec);
        Assert.Equal(Sdk.OriginType.AWS_KMS, created.KeyMetadata.Origin);
        Assert.Equal(["SYMMETRIC_DEFAULT"], created.KeyMetadata.EncryptionAlgorithms);
        Assert.Equal(Sdk.KeyUsageType.ENCRYPT_DECRYPT, created.KeyMetadata.KeyUsage);
        Assert.Equal(Sdk.KeyManagerType.CUSTOMER, created.KeyMetadata.KeyManager);
        Assert.True(created.KeyMetadata.Enabled);
        Assert.Equal(env.Account, created.KeyMetadata.AWSAccountId);
        Assert.Equal($"arn:aws:kms:us-east-1:{env.Account}:key/{key}", created.KeyMetadata.Arn);
        Assert.InRange(created.KeyMetadata.CreationDate!.Value, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
        await env.East.UpdateKeyDescriptionAsync(key, "orders, v2", ct);
        Assert.Equal("orders, v2", (await env.East.DescribeKeyAsync(key, ct)).KeyMetadata.Description);
        var other = (await env.East.CreateKeyAsync(new Aws.CreateKeyRequest(), ct)).KeyMetadata.KeyId;
        Assert.Contains((await env.East.ListKeysAsync(new Aws.ListKeysRequest(), ct)).Keys, k => k.KeyId == key);

        // Aliases and tags.
        await env.East.CreateAliasAsync("alias/orders", key, ct);
        Assert.Equal(key, (await env.East.DescribeKeyAsync("alias/orders", ct)).KeyMetadata.KeyId);
        await env.East.UpdateAliasAsync("alias/orders", other, ct);
        Assert.Contains((await env.East.ListAliasesAsync(new Aws.ListAliasesRequest { KeyId = other }, ct)).Aliases, a => a.AliasName == "alias/orders");
        await env.East.DeleteAliasAsync("alias/orders", ct);
        await env.East.TagResourceAsync(new Aws.TagResourceRequest { KeyId = key, Tags = [new Aws.Tag { TagKey = "env", TagValue = "prod" }] }, ct);
        Assert.Equal(["env", "team"], (await env.East.ListResourceTagsAsync(new Aws.ListResourceTagsRequest { KeyId = key }, ct)).Tags.Select(t => t.TagKey).Order());
        await env.East.UntagResourceAsync(new Aws.UntagResourceRequest { KeyId = key, TagKeys = ["env"] }, ct);

        // Encryption and data keys.
        var context = new Dictionary<string, string> { ["tenant"] = "42" };
        var encrypted = await env.East.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("card 4111"), EncryptionContext = context }, ct);
        Assert.Equal(Sdk.EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT, encrypted.EncryptionAlgorithm);
        var decrypted = await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = context }, ct);
        Assert.Equal("card 4111", Text(decrypted.Plaintext));
        Assert.Equal(encrypted.KeyId, decrypted.KeyId);
        var reEncrypted = await env.East.ReEncryptAsync(new Aws.ReEncryptRequest { CiphertextBlob = encrypted.CiphertextBlob, SourceEncryptionContext = context, DestinationKeyId = other }, ct);
        Assert.Equal(encrypted.KeyId, reEncrypted.SourceKeyId);
        Assert.Equal("card 4111", Text((await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = reEncrypted.CiphertextBlob, KeyId = other }, ct)).Plaintext));
        var dataKey = await env.East.GenerateDataKeyAsync(new Aws.GenerateDataKeyRequest { KeyId = key, KeySpec = Sdk.DataKeySpec.AES_256 }, ct);
        Assert.Equal(32, dataKey.Plaintext.Length);
        Assert.Equal(dataKey.Plaintext.ToArray(), (await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = dataKey.CiphertextBlob }, ct)).Plaintext.ToArray());
        var withoutPlaintext = await env.East.GenerateDataKeyWithoutPlaintextAsync(new Aws.GenerateDataKeyWithoutPlaintextRequest { KeyId = key, NumberOfBytes = 16 }, ct);
        Assert.Null(withoutPlaintext.GetType().GetProperty("Plaintext"));
        Assert.Equal(16, (await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = withoutPlaintext.CiphertextBlob }, ct)).Plaintext.Length);
        var pair = await env.East.GenerateDataKeyPairAsync(new Aws.GenerateDataKeyPairRequest { KeyId = key, KeyPairSpec = Sdk.DataKeyPairSpec.ECC_NIST_P256 }, ct);
        using (var ecdsa = ECDsa.Create())
        {
            ecdsa.ImportPkcs8PrivateKey(pair.PrivateKeyPlaintext.ToArray(), out _);
            Assert.Equal(pair.PublicKey.ToArray(), ecdsa.ExportSubjectPublicKeyInfo());
        }

        Assert.Equal(pair.PrivateKeyPlaintext.ToArray(), (await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = pair.PrivateKeyCiphertextBlob }, ct)).Plaintext.ToArray());
        var pairWithout = await env.East.GenerateDataKeyPairWithoutPlaintextAsync(new Aws.GenerateDataKeyPairWithoutPlaintextRequest { KeyId = key, KeyPairSpec = Sdk.DataKeyPairSpec.RSA_2048 }, ct);
        Assert.Equal(Sdk.DataKeyPairSpec.RSA_2048, pairWithout.KeyPairSpec);
        var random = await env.East.GenerateRandomAsync(new Aws.GenerateRandomRequest { NumberOfBytes = 32 }, ct);
        Assert.Equal(32, random.Plaintext.Length);

        // MACs, signatures, key agreement, ML-KEM.
        var macKey = await CreateAsync(env, Sdk.KeySpec.HMAC_256, Sdk.KeyUsageType.GENERATE_VERIFY_MAC, ct);
        var mac = await env.East.GenerateMacAsync(new Aws.GenerateMacRequest { KeyId = macKey, Message = Bytes("m"), MacAlgorithm = Sdk.MacAlgorithmSpec.HMAC_SHA_256 }, ct);
        Assert.True((await env.East.VerifyMacAsync(new Aws.VerifyMacRequest { KeyId = macKey, Message = Bytes("m"), Mac = mac.Mac, MacAlgorithm = Sdk.MacAlgorithmSpec.HMAC_SHA_256 }, ct)).MacValid);
        var signingKey = await CreateAsync(env, Sdk.KeySpec.ECC_NIST_P256, Sdk.KeyUsageType.SIGN_VERIFY, ct);
        var signature = await env.East.SignAsync(new Aws.SignRequest { KeyId = signingKey, Message = Bytes("doc"), SigningAlgorithm = Sdk.SigningAlgorithmSpec.ECDSA_SHA_256 }, ct);
        Assert.True((await env.East.VerifyAsync(new Aws.VerifyRequest { KeyId = signingKey, Message = Bytes("doc"), Signature = signature.Signature, SigningAlgorithm = Sdk.SigningAlgorithmSpec.ECDSA_SHA_256 }, ct)).SignatureValid);
        var publicKey = await env.East.GetPublicKeyAsync(new Aws.GetPublicKeyRequest { KeyId = signingKey }, ct);
        Assert.Equal(["ECDSA_SHA_256"], publicKey.SigningAlgorithms);
        using (var verifier = ECDsa.Create())
        {
            verifier.ImportSubjectPublicKeyInfo(publicKey.PublicKey.ToArray(), out _);
            Assert.True(verifier.VerifyData(Encoding.UTF8.GetBytes("doc"), signature.Signature.ToArray(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }

        var agreementKey = await CreateAsync(env, Sdk.KeySpec.ECC_NIST_P256, Sdk.KeyUsageType.KEY_AGREEMENT, ct);
        using var peer = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var shared = await env.East.DeriveSharedSecretAsync(new Aws.DeriveSharedSecretRequest
        {
            KeyId = agreementKey,
            KeyAgreementAlgorithm = Sdk.KeyAgreementAlgorithmSpec.ECDH,
            PublicKey = new MemoryStream(peer.ExportSubjectPublicKeyInfo()),
        }, ct);
        using (var ours = ECDiffieHellman.Create())
        {
            ours.ImportSubjectPublicKeyInfo((await env.East.GetPublicKeyAsync(new Aws.GetPublicKeyRequest { KeyId = agreementKey }, ct)).PublicKey.ToArray(), out _);
            Assert.Equal(peer.DeriveRawSecretAgreement(ours.PublicKey), shared.SharedSecret.ToArray());
            Assert.Equal(Sdk.OriginType.AWS_KMS, shared.KeyOrigin);
        }

        var kemKey = await CreateAsync(env, Sdk.KeySpec.ML_KEM_768, Sdk.KeyUsageType.ENCAPSULATE_DECAPSULATE, ct);
        var encapsulated = await env.East.EncapsulateAsync(new Aws.EncapsulateRequest { KeyId = kemKey, EncapsulationAlgorithm = Sdk.EncapsulationAlgorithmSpec.ML_KEM }, ct);
        var decapsulated = await env.East.DecapsulateAsync(new Aws.DecapsulateRequest
        {
            KeyId = kemKey,
            EncapsulationAlgorithm = Sdk.EncapsulationAlgorithmSpec.ML_KEM,
            SharedSecretCiphertextBlob = encapsulated.SharedSecretCiphertextBlob,
        }, ct);
        Assert.Equal(encapsulated.SharedSecret.ToArray(), decapsulated.SharedSecret.ToArray());

        // Rotation.
        await env.East.EnableKeyRotationAsync(new Aws.EnableKeyRotationRequest { KeyId = key, RotationPeriodInDays = 90 }, ct);
        var status = await env.East.GetKeyRotationStatusAsync(key, ct);
        Assert.True(status.KeyRotationEnabled);
        Assert.Equal(90, status.RotationPeriodInDays);
        Assert.NotNull(status.NextRotationDate);
        await env.East.RotateKeyOnDemandAsync(new Aws.RotateKeyOnDemandRequest { KeyId = key }, ct);
        var rotation = Assert.Single((await env.East.ListKeyRotationsAsync(new Aws.ListKeyRotationsRequest { KeyId = key }, ct)).Rotations);
        Assert.Equal(Sdk.RotationType.ON_DEMAND, rotation.RotationType);
        Assert.NotNull(rotation.RotationDate);
        await env.East.DisableKeyRotationAsync(key, ct);
        Assert.Equal("card 4111", Text((await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = context }, ct)).Plaintext));

        // Imported key material: the wrapping key from GetParametersForImport wraps the material (RSAES_OAEP_SHA_256).
        var external = (await env.East.CreateKeyAsync(new Aws.CreateKeyRequest { Origin = Sdk.OriginType.EXTERNAL }, ct)).KeyMetadata;
        Assert.Equal(Sdk.KeyState.PendingImport, external.KeyState);
        var parameters = await env.East.GetParametersForImportAsync(new Aws.GetParametersForImportRequest
        {
            KeyId = external.KeyId,
            WrappingAlgorithm = Sdk.AlgorithmSpec.RSAES_OAEP_SHA_256,
            WrappingKeySpec = Sdk.WrappingKeySpec.RSA_2048,
        }, ct);
        Assert.True(parameters.ParametersValidTo > DateTime.UtcNow);
        using (var wrapping = RSA.Create())
        {
            wrapping.ImportSubjectPublicKeyInfo(parameters.PublicKey.ToArray(), out _);
            var material = RandomNumberGenerator.GetBytes(32);
            var imported = await env.East.ImportKeyMaterialAsync(new Aws.ImportKeyMaterialRequest
            {
                KeyId = external.KeyId,
                ImportToken = parameters.ImportToken,
                EncryptedKeyMaterial = new MemoryStream(wrapping.Encrypt(material, RSAEncryptionPadding.OaepSHA256)),
                ExpirationModel = Sdk.ExpirationModelType.KEY_MATERIAL_EXPIRES,
                ValidTo = DateTime.UtcNow.AddDays(30),
            }, ct);
            Assert.False(string.IsNullOrEmpty(imported.KeyMaterialId));
        }

        var importedDescription = (await env.East.DescribeKeyAsync(external.KeyId, ct)).KeyMetadata;
        Assert.Equal(Sdk.KeyState.Enabled, importedDescription.KeyState);
        Assert.InRange(importedDescription.ValidTo!.Value, DateTime.UtcNow.AddDays(29), DateTime.UtcNow.AddDays(31));
        await env.East.EncryptAsync(new Aws.EncryptRequest { KeyId = external.KeyId, Plaintext = Bytes("imported") }, ct);
        await env.East.DeleteImportedKeyMaterialAsync(new Aws.DeleteImportedKeyMaterialRequest { KeyId = external.KeyId }, ct);
        Assert.Equal(Sdk.KeyState.PendingImport, (await env.East.DescribeKeyAsync(external.KeyId, ct)).KeyMetadata.KeyState);

        // Key policies and grants (retired by the retiring principal, through its own access key).
        var policy = await env.East.GetKeyPolicyAsync(key, "default", ct);
        Assert.Contains("\"Version\"", policy.Policy, StringComparison.Ordinal);
        Assert.Equal(["default"], (await env.East.ListKeyPoliciesAsync(new Aws.ListKeyPoliciesRequest { KeyId = key }, ct)).PolicyNames);
        await env.East.PutKeyPolicyAsync(key, policy.Policy, "default", ct);
        var grant = await env.East.CreateGrantAsync(new Aws.CreateGrantRequest
        {
            KeyId = key,
            GranteePrincipal = env.Grantee.PrincipalArn,
            RetiringPrincipal = env.Retirer.PrincipalArn,
            Operations = ["Decrypt", "Encrypt"],
            Constraints = new Aws.GrantConstraints { EncryptionContextSubset = new Dictionary<string, string> { ["tenant"] = "42" } },
        }, ct);
        var listed = Assert.Single((await env.East.ListGrantsAsync(new Aws.ListGrantsRequest { KeyId = key }, ct)).Grants);
        Assert.Equal(grant.GrantId, listed.GrantId);
        Assert.Equal(["Decrypt", "Encrypt"], listed.Operations.Order());
        Assert.Equal("42", listed.Constraints.EncryptionContextSubset["tenant"]);
        Assert.Equal(grant.GrantId, Assert.Single((await env.East.ListRetirableGrantsAsync(env.Retirer.PrincipalArn, ct)).Grants).GrantId);
        using (var grantee = env.AsGrantee())
        {
            Assert.Equal("card 4111", Text((await grantee.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = context }, ct)).Plaintext));
        }

        using (var retirer = env.AsRetirer())
        {
            await retirer.RetireGrantAsync(grant.GrantToken, ct);
        }

        var second = await env.East.CreateGrantAsync(new Aws.CreateGrantRequest { KeyId = key, GranteePrincipal = env.Grantee.PrincipalArn, Operations = ["Encrypt"] }, ct);
        await env.East.RevokeGrantAsync(second.GrantId, key, ct);
        Assert.Empty((await env.East.ListGrantsAsync(new Aws.ListGrantsRequest { KeyId = key }, ct)).Grants ?? []);

        // Key usage.
        var usage = await env.East.GetKeyLastUsageAsync(new Aws.GetKeyLastUsageRequest { KeyId = key }, ct);
        Assert.NotNull(usage.KeyLastUsage?.Timestamp);

        // Multi-Region keys: replicate from the us-east-1 endpoint, decrypt at the eu-west-1 endpoint, move the primary.
        var primary = (await env.East.CreateKeyAsync(new Aws.CreateKeyRequest { MultiRegion = true }, ct)).KeyMetadata;
        Assert.StartsWith("mrk-", primary.KeyId, StringComparison.Ordinal);
        Assert.Equal(Sdk.MultiRegionKeyType.PRIMARY, primary.MultiRegionConfiguration.MultiRegionKeyType);
        var replica = await env.East.ReplicateKeyAsync(new Aws.ReplicateKeyRequest { KeyId = primary.KeyId, ReplicaRegion = "eu-west-1" }, ct);
        Assert.Equal(Sdk.MultiRegionKeyType.REPLICA, replica.ReplicaKeyMetadata.MultiRegionConfiguration.MultiRegionKeyType);
        var east = await env.East.EncryptAsync(new Aws.EncryptRequest { KeyId = primary.KeyId, Plaintext = Bytes("everywhere") }, ct);
        using (var west = env.West())
        {
            Assert.Equal("everywhere", Text((await west.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = east.CiphertextBlob, KeyId = primary.KeyId }, ct)).Plaintext));
        }

        await env.East.UpdatePrimaryRegionAsync(new Aws.UpdatePrimaryRegionRequest { KeyId = primary.KeyId, PrimaryRegion = "eu-west-1" }, ct);
        Assert.Equal(Sdk.MultiRegionKeyType.REPLICA, (await env.East.DescribeKeyAsync(primary.KeyId, ct)).KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType);

        // Custom key stores: an external key store over the in-process XKS proxy.
        var store = (await env.East.CreateCustomKeyStoreAsync(XksStore(env, "xks", env.XksPath), ct)).CustomKeyStoreId;
        await env.East.ConnectCustomKeyStoreAsync(new Aws.ConnectCustomKeyStoreRequest { CustomKeyStoreId = store }, ct);
        var described = Assert.Single((await env.East.DescribeCustomKeyStoresAsync(new Aws.DescribeCustomKeyStoresRequest { CustomKeyStoreId = store }, ct)).CustomKeyStores);
        Assert.Equal(Sdk.ConnectionStateType.CONNECTED, described.ConnectionState);
        Assert.Equal(env.XksAccessKeyId, described.XksProxyConfiguration.AccessKeyId);
        var xksKey = (await env.East.CreateKeyAsync(new Aws.CreateKeyRequest
        {
            Origin = Sdk.OriginType.EXTERNAL_KEY_STORE,
            CustomKeyStoreId = store,
            XksKeyId = env.ExternalKeyId,
        }, ct)).KeyMetadata;
        Assert.Equal(env.ExternalKeyId, xksKey.XksKeyConfiguration.Id);
        var xksCiphertext = await env.East.EncryptAsync(new Aws.EncryptRequest { KeyId = xksKey.KeyId, Plaintext = Bytes("held outside") }, ct);
        Assert.Equal("held outside", Text((await env.East.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = xksCiphertext.CiphertextBlob, KeyId = xksKey.KeyId }, ct)).Plaintext));
        await env.East.DisconnectCustomKeyStoreAsync(new Aws.DisconnectCustomKeyStoreRequest { CustomKeyStoreId = store }, ct);
        await env.East.UpdateCustomKeyStoreAsync(new Aws.UpdateCustomKeyStoreRequest { CustomKeyStoreId = store, NewCustomKeyStoreName = "xks-renamed" }, ct);
        var empty = (await env.East.CreateCustomKeyStoreAsync(XksStore(env, "unused", env.XksOtherPath), ct)).CustomKeyStoreId;
        await env.East.DeleteCustomKeyStoreAsync(new Aws.DeleteCustomKeyStoreRequest { CustomKeyStoreId = empty }, ct);

        // Enable, disable, deletion.
        await env.East.DisableKeyAsync(other, ct);
        Assert.Equal(Sdk.KeyState.Disabled, (await env.East.DescribeKeyAsync(other, ct)).KeyMetadata.KeyState);
        await env.East.EnableKeyAsync(other, ct);
        var scheduled = await env.East.ScheduleKeyDeletionAsync(other, 7, ct);
        Assert.Equal(Sdk.KeyState.PendingDeletion, scheduled.KeyState);
        Assert.Equal(7, scheduled.PendingWindowInDays);
        Assert.InRange(scheduled.DeletionDate!.Value, DateTime.UtcNow.AddDays(6), DateTime.UtcNow.AddDays(8));
        Assert.Equal(other, (await env.East.CancelKeyDeletionAsync(other, ct)).KeyId.Split('/')[^1]);

        // Every operation the SDK's client has was served successfully.
        var operations = typeof(IAmazonKeyManagementService).GetMethods()
            .Where(m => m.Name.EndsWith("Async", StringComparison.Ordinal))
            .Select(m => m.Name[..^"Async".Length])
            .ToHashSet();
        Assert.Equal(56, operations.Count);
        var served = env.Audit.Events.Where(e => e.Outcome == KmsOutcome.Success).Select(e => e.EventName).ToHashSet();
        Assert.Empty(operations.Except(served).Order());
    }

    private static Aws.CreateCustomKeyStoreRequest XksStore(KmsScenarioEnvironment env, string name, string path) => new()
    {
        CustomKeyStoreName = name,
        CustomKeyStoreType = Sdk.CustomKeyStoreType.EXTERNAL_KEY_STORE,
        XksProxyUriEndpoint = env.XksEndpoint,
        XksProxyUriPath = path,
        XksProxyConnectivity = Sdk.XksProxyConnectivityType.PUBLIC_ENDPOINT,
        XksProxyAuthenticationCredential = new Aws.XksProxyAuthenticationCredentialType
        {
            AccessKeyId = env.XksAccessKeyId,
            RawSecretAccessKey = env.XksSecret,
        },
    };
}
