using System.Reflection;
using System.Text;
using System.Text.Json;
using EnvelopeKms.Auditing;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.KeyManagement;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Tests.Auditing;

/// <summary>
/// Issue 8, items 1 and 6: every operation leaves one CloudTrail-shaped record with its request
/// parameters, and no record or log line holds plaintext, data keys or key material.
/// </summary>
public sealed class AuditTrailContentTests
{
    [Theory]
    [MemberData(nameof(OperationCatalog.OperationNames), MemberType = typeof(OperationCatalog))]
    public async Task Every_operation_writes_one_record_named_as_CloudTrail_names_it_with_its_request_parameters(string operation)
    {
        using var catalog = await OperationCatalog.CreateAsync();
        await AuditFailClosedTests.PrepareAsync(catalog, operation);
        var before = catalog.Kms.Audit.Events.Count;

        await catalog.InvokeAsync(operation);

        var record = Assert.Single(catalog.Kms.Audit.Events.Skip(before));
        Assert.Equal(operation, record.EventName);
        Assert.Equal("AwsApiCall", record.EventType);
        Assert.Equal(KmsOutcome.Success, record.Outcome);
        var parameters = ParametersOf(record);
        foreach (var name in ExpectedParameters(operation))
        {
            Assert.True(parameters.ContainsKey(name), $"{operation} should record '{name}'; it recorded {string.Join(", ", parameters.Keys)}.");
        }

        foreach (var name in parameters.Keys)
        {
            Assert.DoesNotContain(name, (string[])["plaintext", "ciphertextBlob", "message", "mac", "signature", "publicKey", "ciphertext", "grantTokens", "grantToken", "caller", "recipient", "encryptionContext"]);
        }
    }

    [Fact]
    public async Task Request_parameters_use_the_AWS_KMS_names_and_values()
    {
        using var catalog = await OperationCatalog.CreateAsync();
        var km = catalog.Api;
        await km.CreateGrantAsync(new CreateGrantRequest
        {
            KeyId = catalog.Key.KeyId,
            GranteePrincipal = "arn:aws:iam::000000000000:role/reader",
            Operations = [GrantOperation.Decrypt, GrantOperation.Encrypt],
            Constraints = new GrantConstraints { EncryptionContextSubset = new Dictionary<string, string> { ["tenant"] = "acme" } },
            Name = "reader",
        }, Kms.Ct);
        var grant = JsonSerializer.Serialize(catalog.Kms.Audit.Events[^1].RequestParameters);
        using (var generated = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = OperationCatalog.Alias, KeySpec = DataKeySpec.Aes128 }, Kms.Ct))
        {
            _ = generated;
        }

        var dataKey = JsonSerializer.Serialize(catalog.Kms.Audit.Events[^1].RequestParameters);
        await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Rsa2048, KeyUsage = KeyUsage.SignVerify, Tags = [new KeyTag("team", "payments")] }, Kms.Ct);
        var created = JsonSerializer.Serialize(catalog.Kms.Audit.Events[^1].RequestParameters);

        Assert.Equal("{\"keyId\":\"" + catalog.Key.KeyId + "\",\"granteePrincipal\":\"arn:aws:iam::000000000000:role/reader\",\"operations\":[\"Decrypt\",\"Encrypt\"]," +
            "\"constraints\":{\"encryptionContextSubset\":{\"tenant\":\"acme\"}},\"name\":\"reader\"}", grant);
        Assert.Equal("{\"keyId\":\"alias/main\",\"keySpec\":\"AES_128\"}", dataKey);
        Assert.Equal("{\"keySpec\":\"RSA_2048\",\"keyUsage\":\"SIGN_VERIFY\",\"origin\":\"AWS_KMS\",\"tags\":[{\"tagKey\":\"team\",\"tagValue\":\"payments\"}]}", created);
    }

    [Fact]
    public void Every_request_type_is_recorded_and_no_binary_or_token_parameter_is()
    {
        var requestTypes = typeof(KmsRequest).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(KmsRequest)) && !t.IsAbstract).ToList();
        Assert.NotEmpty(requestTypes);
        foreach (var type in requestTypes)
        {
            Assert.True(AuditParametersJsonContext.Default.GetTypeInfo(type) is not null, $"{type.Name} is missing from AuditParametersJsonContext, so its parameters would not be recorded.");
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var type2 = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (type2 == typeof(ReadOnlyMemory<byte>) || type2 == typeof(byte[]) || property.Name.Contains("GrantToken", StringComparison.Ordinal) || property.Name == "Recipient")
                {
                    Assert.False(AuditRequestParameters.IsRecorded(property.PropertyType, property.Name), $"{type.Name}.{property.Name} must never be recorded.");
                }
            }
        }
    }

    [Fact]
    public async Task No_record_or_log_line_holds_plaintext_data_keys_random_bytes_shared_secrets_or_key_material()
    {
        var trail = Path.Combine(Directory.CreateTempSubdirectory("envelopekms-scan-").FullName, "audit.jsonl");
        var logs = new ListLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var jsonSink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = trail });
        var secrets = new List<byte[]>();
        var plaintext = Encoding.UTF8.GetBytes("The plaintext that must never be logged: 4f1e9c");
        using (var manager = new KeyManager(new InMemoryKeyStore(), new EnvelopeKms.Protection.StaticRootKeyProvider(new byte[32]),
            auditSink: new CompositeAuditSink(new LoggerAuditSink(loggerFactory), jsonSink), loggerFactory: loggerFactory))
        {
            var km = manager.Api();
            var ct = Kms.Ct;
            var key = (await km.CreateKeyAsync(new CreateKeyRequest(), ct)).KeyMetadata;
            var rsa = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Rsa2048, KeyUsage = KeyUsage.EncryptDecrypt }, ct)).KeyMetadata;
            var agreement = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.EccNistP256, KeyUsage = KeyUsage.KeyAgreement }, ct)).KeyMetadata;
            var kem = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlKem768, KeyUsage = KeyUsage.EncapsulateDecapsulate }, ct)).KeyMetadata;
            var mac = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac }, ct)).KeyMetadata;
            var context = new Dictionary<string, string> { ["purpose"] = "scan" };

            var blob = (await km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = plaintext, EncryptionContext = context }, ct)).CiphertextBlob;
            using (var decrypted = await km.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context }, ct))
            {
                Assert.Equal(plaintext, decrypted.Plaintext);
            }

            var rsaBlob = (await km.EncryptAsync(new EncryptRequest { KeyId = rsa.KeyId, Plaintext = plaintext, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, ct)).CiphertextBlob;
            using (var decrypted = await km.DecryptAsync(new DecryptRequest { KeyId = rsa.KeyId, CiphertextBlob = rsaBlob, EncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, ct))
            {
                Assert.Equal(plaintext, decrypted.Plaintext);
            }

            await km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = context, DestinationKeyId = key.KeyId }, ct);
            using (var dataKey = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = context }, ct))
            {
                secrets.Add([.. dataKey.Plaintext]);
            }

            using (var pair = await km.GenerateDataKeyPairAsync(new GenerateDataKeyPairRequest { KeyId = key.KeyId, KeyPairSpec = DataKeyPairSpec.EccNistP256 }, ct))
            {
                secrets.Add([.. pair.PrivateKeyPlaintext]);
            }

            using (var random = await km.GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32 }, ct))
            {
                secrets.Add([.. random.Plaintext]);
            }

            using (var shared = await km.DeriveSharedSecretAsync(new DeriveSharedSecretRequest { KeyId = agreement.KeyId, PublicKey = OperationCatalog.PeerPublicKey }, ct))
            {
                secrets.Add([.. shared.SharedSecret]);
            }

            using (var encapsulated = await km.EncapsulateAsync(new EncapsulateRequest { KeyId = kem.KeyId }, ct))
            {
                secrets.Add([.. encapsulated.SharedSecret]);
                using var decapsulated = await km.DecapsulateAsync(new DecapsulateRequest { KeyId = kem.KeyId, Ciphertext = encapsulated.Ciphertext }, ct);
                Assert.Equal(encapsulated.SharedSecret, decapsulated.SharedSecret);
            }

            await km.GenerateMacAsync(new GenerateMacRequest { KeyId = mac.KeyId, Message = plaintext, MacAlgorithm = MacAlgorithm.HmacSha256 }, ct);
            await km.RotateKeyOnDemandAsync(new RotateKeyOnDemandRequest { KeyId = key.KeyId }, ct);
            await km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = plaintext }, ct);
            var grant = await km.CreateGrantAsync(new CreateGrantRequest { KeyId = key.KeyId, GranteePrincipal = "arn:aws:iam::000000000000:role/app", Operations = [GrantOperation.Decrypt] }, ct);
            secrets.Add(Encoding.UTF8.GetBytes(grant.GrantToken));
            await km.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId, GrantTokens = [grant.GrantToken] }, ct);
            await km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[4097] }, ct).ContinueWith(static _ => { }, ct, TaskContinuationOptions.None, TaskScheduler.Default);

            secrets.Add(plaintext);
            secrets.AddRange(manager.UnwrappedMaterialsForTests.Select(m => m.ToArray()));
            Assert.True(manager.UnwrappedMaterialsForTests.Count >= 6, "The scan must cover the key materials the workload used.");
            await jsonSink.DisposeAsync();
        }

        var outputs = new List<string>(await File.ReadAllLinesAsync(trail, Kms.Ct));
        outputs.AddRange(logs.Messages);
        Assert.True(outputs.Count > 20);
        foreach (var secret in secrets)
        {
            var forms = new[]
            {
                Convert.ToBase64String(secret), Convert.ToHexStringLower(secret), Convert.ToHexString(secret),
                Encoding.UTF8.GetString(secret), Convert.ToBase64String(secret).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            }.Where(f => f.Length >= 16).Select(f => f.Length > 24 ? f[..24] : f);
            foreach (var form in forms)
            {
                Assert.DoesNotContain(outputs, line => line.Contains(form, StringComparison.Ordinal));
            }
        }
    }

    private static Dictionary<string, JsonElement> ParametersOf(KmsAuditEvent record)
        => record.RequestParameters is { } parameters
            ? parameters.EnumerateObject().ToDictionary(p => p.Name, p => p.Value)
            : [];

    private static string[] ExpectedParameters(string operation) => operation switch
    {
        "CreateKey" => ["description", "keySpec", "keyUsage", "origin"],
        "ListKeys" or "ListAliases" or "GenerateRandom" => operation == "GenerateRandom" ? ["numberOfBytes"] : [],
        "ListRetirableGrants" => ["retiringPrincipal"],
        "CreateAlias" or "UpdateAlias" => ["aliasName", "targetKeyId"],
        "DeleteAlias" => ["aliasName"],
        "Decrypt" or "ReEncrypt" => operation == "ReEncrypt" ? ["destinationKeyId", "sourceEncryptionContext", "destinationEncryptionContext"] : ["encryptionAlgorithm"],
        "Encrypt" => ["keyId", "encryptionAlgorithm"],
        "GenerateDataKey" or "GenerateDataKeyWithoutPlaintext" => ["keyId", "keySpec"],
        "GenerateDataKeyPair" or "GenerateDataKeyPairWithoutPlaintext" => ["keyId", "keyPairSpec"],
        "GenerateMac" or "VerifyMac" => ["keyId", "macAlgorithm"],
        "Sign" or "Verify" => ["keyId", "signingAlgorithm", "messageType"],
        "CreateGrant" => ["keyId", "granteePrincipal", "operations"],
        "RetireGrant" or "RevokeGrant" => ["keyId", "grantId"],
        "EnableKeyRotation" => ["keyId", "rotationPeriodInDays"],
        "UpdateKeyDescription" => ["keyId", "description"],
        "TagResource" => ["keyId", "tags"],
        "UntagResource" => ["keyId", "tagKeys"],
        "PutKeyPolicy" => ["keyId", "policy"],
        "SimulateAuthorization" => ["keyId", "operation"],
        "GetUsageReport" => ["from", "to"],
        "GetParametersForImport" => ["keyId", "wrappingAlgorithm", "wrappingKeySpec"],
        "ImportKeyMaterial" => ["keyId", "validTo", "keyMaterialDescription"],
        "ReplicateKey" => ["keyId", "replicaRegion"],
        "UpdatePrimaryRegion" => ["keyId", "primaryRegion"],
        "CreateCustomKeyStore" => ["customKeyStoreName", "customKeyStoreType", "cloudHsmClusterId"],
        "ConnectCustomKeyStore" or "DisconnectCustomKeyStore" or "DeleteCustomKeyStore" => ["customKeyStoreId"],
        "UpdateCustomKeyStore" => ["customKeyStoreId", "newCustomKeyStoreName"],
        "DescribeCustomKeyStores" => [],
        _ => ["keyId"],
    };
}
