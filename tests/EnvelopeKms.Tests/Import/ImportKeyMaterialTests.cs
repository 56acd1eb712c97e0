using System.Security.Cryptography;
using System.Text.Json;
using EnvelopeKms.Import;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Interop;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.Import;

/// <summary>Imported key material (origin EXTERNAL): parameters, wrapping, tokens, expiry, re-import, deletion.</summary>
public sealed class ImportKeyMaterialTests
{
    private static readonly byte[] Material = RandomNumberGenerator.GetBytes(32);

    public static TheoryData<ImportWrappingAlgorithm, WrappingKeySpec> EveryAlgorithmAndSpec()
    {
        var data = new TheoryData<ImportWrappingAlgorithm, WrappingKeySpec>();
        foreach (var algorithm in Enum.GetValues<ImportWrappingAlgorithm>())
        {
            foreach (var spec in Enum.GetValues<WrappingKeySpec>())
            {
                data.Add(algorithm, spec);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryAlgorithmAndSpec))]
    public async Task Material_wrapped_with_each_algorithm_and_wrapping_key_imports_and_encrypts(ImportWrappingAlgorithm algorithm, WrappingKeySpec spec)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        Assert.Equal(KeyState.PendingImport, key.KeyState);

        var materialId = await km.ImportAsync(key.KeyId, Material, algorithm: algorithm, spec: spec);

        var described = await km.DescribeAsync(key.KeyId);
        Assert.Equal(KeyState.Enabled, described.KeyState);
        Assert.Equal(materialId, described.CurrentKeyMaterialId);
        Assert.Equal(KeyManager.ImportedMaterialId(key.KeyId, Material), materialId);
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("hello"));
        Assert.Equal(Kms.Utf8("hello"), await km.DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task The_public_key_is_an_RSA_key_of_the_requested_size_and_the_parameters_are_valid_24_hours()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa3072 }, Kms.Ct);

        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(parameters.PublicKey, out _);
        Assert.Equal(3072, rsa.KeySize);
        Assert.Equal(kms.Clock.GetUtcNow().AddHours(24), parameters.ParametersValidTo);
        Assert.EndsWith(key.KeyId, parameters.KeyId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_HMAC_key_takes_imported_material_and_computes_the_standard_HMAC()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac256, KeyUsage = KeyUsage.GenerateVerifyMac, Origin = KeyOrigin.External }, Kms.Ct)).KeyMetadata;
        await km.ImportAsync(key.KeyId, Material);

        var mac = await km.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = Kms.Utf8("message"), MacAlgorithm = MacAlgorithm.HmacSha256 }, Kms.Ct);

        Assert.Equal(HMACSHA256.HashData(Material, Kms.Utf8("message")), mac.Mac.ToArray());
    }

    [Fact]
    public async Task Wycheproof_aes_kwp_vectors_unwrap_as_the_file_says()
    {
        var path = RepositoryLocator.RequireTestVectorFile("wycheproof/testvectors_v1/aes_kwp_test.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var failures = new List<string>();
        var count = 0;
        foreach (var group in document.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                count++;
                var id = test.GetProperty("tcId").GetInt32();
                var key = Convert.FromHexString(test.GetProperty("key").GetString()!);
                var msg = Convert.FromHexString(test.GetProperty("msg").GetString()!);
                var ct = Convert.FromHexString(test.GetProperty("ct").GetString()!);
                var valid = test.GetProperty("result").GetString() == "valid";
                try
                {
                    var unwrapped = AesKeyWrapPad.Unwrap(key, ct);
                    if (!valid || !unwrapped.AsSpan().SequenceEqual(msg))
                    {
                        failures.Add($"tcId {id}: unwrapped, expected {(valid ? "the message" : "InvalidCiphertext")}");
                    }
                }
                catch (KmsInvalidCiphertextException)
                {
                    if (valid)
                    {
                        failures.Add($"tcId {id}: valid vector refused");
                    }
                }
            }
        }

        Assert.True(count > 200, $"Only {count} vectors were read.");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_token_is_refused_after_24_hours_for_another_key_when_tampered_and_when_used_twice()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var other = await km.NewKeyAsync("other", KeyOrigin.External);
        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct);
        var wrapped = ImportSupport.Wrap(parameters.PublicKey, ImportWrappingAlgorithm.RsaesOaepSha256, Material);
        ImportKeyMaterialRequest Request(string keyId, byte[] token) => new() { KeyId = keyId, ImportToken = token, EncryptedKeyMaterial = wrapped, ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire };

        await Assert.ThrowsAsync<KmsInvalidImportTokenException>(() => km.ImportKeyMaterialAsync(Request(other.KeyId, parameters.ImportToken), Kms.Ct));
        var tampered = parameters.ImportToken.ToArray();
        tampered[20] ^= 1;
        await Assert.ThrowsAsync<KmsInvalidImportTokenException>(() => km.ImportKeyMaterialAsync(Request(key.KeyId, tampered), Kms.Ct));
        var flippedTail = parameters.ImportToken.ToArray();
        flippedTail[^1] ^= 1;
        await Assert.ThrowsAsync<KmsInvalidImportTokenException>(() => km.ImportKeyMaterialAsync(Request(key.KeyId, flippedTail), Kms.Ct));

        await km.ImportKeyMaterialAsync(Request(key.KeyId, parameters.ImportToken), Kms.Ct);
        var reused = await Assert.ThrowsAsync<KmsInvalidImportTokenException>(() => km.ImportKeyMaterialAsync(Request(key.KeyId, parameters.ImportToken), Kms.Ct));
        Assert.Contains("already used", reused.Message, StringComparison.Ordinal);

        var late = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = other.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha1, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct);
        kms.Clock.Advance(TimeSpan.FromHours(24));
        var lateWrapped = ImportSupport.Wrap(late.PublicKey, ImportWrappingAlgorithm.RsaesOaepSha1, Material);
        var expired = await Assert.ThrowsAsync<KmsExpiredImportTokenException>(() => km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest { KeyId = other.KeyId, ImportToken = late.ImportToken, EncryptedKeyMaterial = lateWrapped, ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire }, Kms.Ct));
        Assert.Equal("ExpiredImportTokenException", expired.ErrorCode);
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(other.KeyId)).KeyState);
    }

    [Fact]
    public async Task Bad_parameters_are_refused_before_any_cryptography()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var now = kms.Clock.GetUtcNow();
        ImportKeyMaterialRequest Request(ExpirationModel? model, DateTimeOffset? validTo) => new() { KeyId = key.KeyId, ImportToken = [1, 2, 3], EncryptedKeyMaterial = [4, 5, 6], ExpirationModel = model, ValidTo = validTo };

        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportKeyMaterialAsync(Request(null, now.AddDays(365).AddSeconds(1)), Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportKeyMaterialAsync(Request(null, null), Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportKeyMaterialAsync(Request(ExpirationModel.KeyMaterialExpires, now), Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.ImportKeyMaterialAsync(Request(ExpirationModel.KeyMaterialDoesNotExpire, now.AddDays(1)), Kms.Ct));
        // A valid request shape reaches the token, which is garbage.
        await Assert.ThrowsAsync<KmsInvalidImportTokenException>(() => km.ImportKeyMaterialAsync(Request(null, now.AddDays(365)), Kms.Ct));
    }

    [Fact]
    public async Task Material_of_the_wrong_length_is_incorrect_key_material_and_a_bad_wrap_is_an_invalid_ciphertext()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, RandomNumberGenerator.GetBytes(16)));
        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, RandomNumberGenerator.GetBytes(33), algorithm: ImportWrappingAlgorithm.RsaAesKeyWrapSha256));

        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaAesKeyWrapSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct);
        var wrapped = ImportSupport.Wrap(parameters.PublicKey, ImportWrappingAlgorithm.RsaAesKeyWrapSha256, Material);
        wrapped[^3] ^= 1;
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest { KeyId = key.KeyId, ImportToken = parameters.ImportToken, EncryptedKeyMaterial = wrapped, ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire }, Kms.Ct));
        // Material wrapped with the other OAEP hash does not unwrap either.
        var sha1 = ImportSupport.Wrap(parameters.PublicKey, ImportWrappingAlgorithm.RsaAesKeyWrapSha1, Material);
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest { KeyId = key.KeyId, ImportToken = parameters.ImportToken, EncryptedKeyMaterial = sha1, ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire }, Kms.Ct));
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);
    }

    [Fact]
    public async Task Expired_material_makes_the_key_PendingImport_and_the_same_material_restores_it()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var materialId = await km.ImportAsync(key.KeyId, Material, validTo: kms.Clock.GetUtcNow().AddDays(10));
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("kept"));

        kms.Clock.Advance(TimeSpan.FromDays(10));
        var refused = await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.EncryptBlobAsync(key.KeyId, Kms.Utf8("x")));
        Assert.Equal("KMSInvalidStateException", refused.ErrorCode);
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);
        var expiry = Assert.Single(kms.Audit.Events, e => e.Operation == KmsOperation.DeleteExpiredKeyMaterial);
        Assert.Equal("DeleteExpiredKeyMaterial", expiry.EventName);
        Assert.Equal("AwsServiceEvent", expiry.EventType);
        Assert.Equal(materialId, expiry.KeyMaterialId);
        Assert.Empty(Assert.Single((await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!.KeyMaterials).WrappedMaterial);

        await Assert.ThrowsAsync<KmsIncorrectKeyMaterialException>(() => km.ImportAsync(key.KeyId, RandomNumberGenerator.GetBytes(32)));
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);

        Assert.Equal(materialId, await km.ImportAsync(key.KeyId, Material, importType: ImportType.ExistingKeyMaterial));
        Assert.Equal(KeyState.Enabled, (await km.DescribeAsync(key.KeyId)).KeyState);
        Assert.Equal(Kms.Utf8("kept"), await km.DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task The_maintenance_pass_announces_material_expiring_within_seven_days_once_then_its_expiry()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var events = new List<EnvelopeKms.Telemetry.KeyLifecycleEvent>();
        using var subscription = kms.Manager.LifecycleEvents.Subscribe(new CollectingObserver(events));
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var validTo = kms.Clock.GetUtcNow().AddDays(10);
        var materialId = await km.ImportAsync(key.KeyId, Material, validTo: validTo);

        await km.ExpireImportedKeyMaterialAsync(Kms.Ct);
        Assert.DoesNotContain(events, e => e.Type == EnvelopeKms.Telemetry.KeyLifecycleEventType.ImportedMaterialExpiring);

        kms.Clock.Advance(TimeSpan.FromDays(4));
        await km.ExpireImportedKeyMaterialAsync(Kms.Ct);
        await km.ExpireImportedKeyMaterialAsync(Kms.Ct);
        var warning = Assert.Single(events, e => e.Type == EnvelopeKms.Telemetry.KeyLifecycleEventType.ImportedMaterialExpiring);
        Assert.Equal(key.KeyId, warning.KeyId);
        Assert.Equal(materialId, warning.KeyMaterialId);
        Assert.Equal(validTo, warning.ValidTo);

        kms.Clock.Advance(TimeSpan.FromDays(7));
        Assert.Equal(1, await km.ExpireImportedKeyMaterialAsync(Kms.Ct));
        Assert.Equal(EnvelopeKms.Telemetry.KeyLifecycleEventType.ImportedMaterialExpired, events[^1].Type);
    }

    private sealed class CollectingObserver(List<EnvelopeKms.Telemetry.KeyLifecycleEvent> events) : IObserver<EnvelopeKms.Telemetry.KeyLifecycleEvent>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(EnvelopeKms.Telemetry.KeyLifecycleEvent value)
        {
            lock (events)
            {
                events.Add(value);
            }
        }
    }

    [Fact]
    public async Task The_maintenance_pass_expires_material_on_keys_nobody_uses()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        await km.ImportAsync(key.KeyId, Material, validTo: kms.Clock.GetUtcNow().AddHours(1));
        Assert.Equal(0, await km.ExpireImportedKeyMaterialAsync(Kms.Ct));

        kms.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await km.ExpireImportedKeyMaterialAsync(Kms.Ct));

        Assert.Equal(KeyState.PendingImport, (await kms.Store.GetKeyAsync(key.KeyId, Kms.Ct))!.KeyState);
        Assert.Equal(0, await km.ExpireImportedKeyMaterialAsync(Kms.Ct));
    }

    [Fact]
    public async Task Deleting_imported_material_makes_the_key_PendingImport_until_it_is_imported_again()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var materialId = await km.ImportAsync(key.KeyId, Material);
        var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("kept"));

        var deleted = await km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = key.KeyId }, Kms.Ct);

        Assert.Equal(materialId, deleted.KeyMaterialId);
        Assert.Equal(KeyState.PendingImport, (await km.DescribeAsync(key.KeyId)).KeyState);
        await Assert.ThrowsAsync<KmsInvalidStateException>(() => km.DecryptBlobAsync(blob));
        await km.ImportAsync(key.KeyId, Material);
        Assert.Equal(Kms.Utf8("kept"), await km.DecryptBlobAsync(blob));
    }

    [Fact]
    public async Task Keys_of_origin_AWS_KMS_and_ML_KEM_keys_take_no_imported_material()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var owned = await km.NewKeyAsync("aws");
        var signing = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.MlKem768, KeyUsage = KeyUsage.EncapsulateDecapsulate, Origin = KeyOrigin.External }, Kms.Ct)).KeyMetadata;
        GetParametersForImportRequest For(string id) => new() { KeyId = id, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 };

        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.GetParametersForImportAsync(For(owned.KeyId), Kms.Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.GetParametersForImportAsync(For(signing.KeyId), Kms.Ct));
        await Assert.ThrowsAsync<KmsUnsupportedOperationException>(() => km.DeleteImportedKeyMaterialAsync(new DeleteImportedKeyMaterialRequest { KeyId = owned.KeyId }, Kms.Ct));
    }

    [Fact]
    public async Task Material_wrapped_by_the_openssl_command_line_as_the_AWS_docs_show_imports()
    {
        OpenSslCommandLine.Require();
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync("byok", KeyOrigin.External);
        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaesOaepSha256, WrappingKeySpec = WrappingKeySpec.Rsa2048 }, Kms.Ct);
        var folder = Directory.CreateTempSubdirectory("byok-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(folder, "WrappingPublicKey.bin"), parameters.PublicKey, Kms.Ct);
            var (exit1, output1) = await OpenSslCommandLine.RunAsync(folder, "rand", "-out", "PlaintextKeyMaterial.bin", "32");
            Assert.True(exit1 == 0, output1);
            var (exit2, output2) = await OpenSslCommandLine.RunAsync(folder, "pkeyutl", "-encrypt", "-in", "PlaintextKeyMaterial.bin", "-out", "EncryptedKeyMaterial.bin",
                "-inkey", "WrappingPublicKey.bin", "-keyform", "DER", "-pubin", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256");
            Assert.True(exit2 == 0, output2);
            var material = await File.ReadAllBytesAsync(Path.Combine(folder, "PlaintextKeyMaterial.bin"), Kms.Ct);

            var response = await km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
            {
                KeyId = key.KeyId,
                ImportToken = parameters.ImportToken,
                EncryptedKeyMaterial = await File.ReadAllBytesAsync(Path.Combine(folder, "EncryptedKeyMaterial.bin"), Kms.Ct),
                ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire,
            }, Kms.Ct);

            Assert.Equal(KeyManager.ImportedMaterialId(key.KeyId, material), response.KeyMaterialId);
            var blob = await km.EncryptBlobAsync(key.KeyId, Kms.Utf8("openssl"));
            Assert.Equal(Kms.Utf8("openssl"), await km.DecryptBlobAsync(blob));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
