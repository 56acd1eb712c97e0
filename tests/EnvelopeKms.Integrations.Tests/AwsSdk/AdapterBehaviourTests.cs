using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using EnvelopeKms.AwsSdk;
using EnvelopeKms.Storage;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.DependencyInjection;
using Sdk = Amazon.KeyManagementService;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.Integrations.Tests.AwsSdk;

/// <summary>How the adapter answers: AWS's exception types and codes, pagination markers, callers, DI, and round trips.</summary>
public sealed class AdapterBehaviourTests : IDisposable
{
    private readonly AwsSdkTestKms _kms = new();
    private readonly EnvelopeKmsAmazonClient _client;

    private static CancellationToken Ct => AwsSdkTestKms.Ct;

    public AdapterBehaviourTests() => _client = new EnvelopeKmsAmazonClient(_kms.East);

    public void Dispose() => _kms.Dispose();

    private async Task<string> KeyAsync() => (await _client.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;

    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    private static void AssertAws<T>(T exception, string code, HttpStatusCode status)
        where T : AmazonServiceException
    {
        Assert.Equal(code, exception.ErrorCode);
        Assert.Equal(status, exception.StatusCode);
        Assert.IsAssignableFrom<KmsException>(exception.InnerException);
    }

    [Fact]
    public async Task An_unknown_key_is_the_SDKs_NotFoundException_with_status_400()
    {
        var e = await Assert.ThrowsAsync<Aws.NotFoundException>(() => _client.DescribeKeyAsync("1234abcd-12ab-34cd-56ef-1234567890ab", Ct));
        AssertAws(e, "NotFoundException", HttpStatusCode.BadRequest);
        Assert.Equal(ErrorType.Sender, e.ErrorType);
    }

    [Fact]
    public async Task A_disabled_key_an_invalid_state_and_a_corrupt_ciphertext_are_the_SDKs_typed_exceptions()
    {
        var key = await KeyAsync();
        var ciphertext = (await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x") }, Ct)).CiphertextBlob.ToArray();
        await _client.DisableKeyAsync(key, Ct);
        AssertAws(await Assert.ThrowsAsync<Aws.DisabledException>(() => _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x") }, Ct)),
            "DisabledException", HttpStatusCode.BadRequest);
        await _client.ScheduleKeyDeletionAsync(key, 7, Ct);
        AssertAws(await Assert.ThrowsAsync<Aws.KMSInvalidStateException>(() => _client.EnableKeyAsync(key, Ct)), "KMSInvalidStateException", HttpStatusCode.BadRequest);
        await _client.CancelKeyDeletionAsync(key, Ct);
        await _client.EnableKeyAsync(key, Ct);
        ciphertext[^1] ^= 1;
        AssertAws(await Assert.ThrowsAsync<Aws.InvalidCiphertextException>(() => _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = new MemoryStream(ciphertext) }, Ct)),
            "InvalidCiphertextException", HttpStatusCode.BadRequest);
        await _client.CreateAliasAsync("alias/once", key, Ct);
        AssertAws(await Assert.ThrowsAsync<Aws.AlreadyExistsException>(() => _client.CreateAliasAsync("alias/once", key, Ct)), "AlreadyExistsException", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Bad_input_is_a_ValidationException_that_names_the_parameter_before_any_call()
    {
        var unknownSpec = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(
            () => _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = new Sdk.KeySpec("RSA_1024") }, Ct));
        AssertAws(unknownSpec, "ValidationException", HttpStatusCode.BadRequest);
        Assert.Contains("keySpec", unknownSpec.Message, StringComparison.Ordinal);
        var noKey = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => _client.EncryptAsync(new Aws.EncryptRequest { Plaintext = Bytes("x") }, Ct));
        AssertAws(noKey, "ValidationException", HttpStatusCode.BadRequest);
        Assert.Contains("keyId", noKey.Message, StringComparison.Ordinal);
        var noPlaintext = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => _client.EncryptAsync(new Aws.EncryptRequest { KeyId = "alias/any" }, Ct));
        Assert.Contains("plaintext", noPlaintext.Message, StringComparison.Ordinal);
        AssertAws(await Assert.ThrowsAsync<Aws.UnsupportedOperationException>(() => _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = Sdk.KeySpec.SM2, KeyUsage = Sdk.KeyUsageType.SIGN_VERIFY }, Ct)),
            "UnsupportedOperationException", HttpStatusCode.BadRequest);
        Assert.Empty((await _client.ListKeysAsync(new Aws.ListKeysRequest(), Ct)).Keys);
    }

    [Fact]
    public async Task What_is_not_served_is_an_UnsupportedOperationException_that_names_it_never_silently_ignored()
    {
        var key = await KeyAsync();
        var ciphertext = (await _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x") }, Ct)).CiphertextBlob;
        var modifiers = await Assert.ThrowsAsync<Aws.UnsupportedOperationException>(() => _client.DecryptAsync(new Aws.DecryptRequest
        {
            CiphertextBlob = ciphertext,
            DryRun = true,
            DryRunModifiers = ["IGNORE_CIPHERTEXT"],
        }, Ct));
        Assert.Contains("IGNORE_CIPHERTEXT", modifiers.Message, StringComparison.Ordinal);
        var service = await Assert.ThrowsAsync<Aws.UnsupportedOperationException>(() => _client.CreateGrantAsync(new Aws.CreateGrantRequest
        {
            KeyId = key,
            GranteeServicePrincipal = "rds.amazonaws.com",
            Operations = ["Decrypt"],
        }, Ct));
        Assert.Contains("GranteeServicePrincipal", service.Message, StringComparison.Ordinal);
        var random = await Assert.ThrowsAsync<Aws.UnsupportedOperationException>(() => _client.GenerateRandomAsync(new Aws.GenerateRandomRequest { NumberOfBytes = 8, CustomKeyStoreId = "cks-1234567890abcdef0" }, Ct));
        Assert.Contains("CustomKeyStoreId", random.Message, StringComparison.Ordinal);
        Assert.Empty((await _client.ListGrantsAsync(new Aws.ListGrantsRequest { KeyId = key }, Ct)).Grants ?? []);
    }

    [Fact]
    public async Task A_plaintext_in_a_response_can_be_cleared_in_place()
    {
        var key = await KeyAsync();
        var dataKey = await _client.GenerateDataKeyAsync(new Aws.GenerateDataKeyRequest { KeyId = key, KeySpec = Sdk.DataKeySpec.AES_256 }, Ct);
        Assert.True(dataKey.Plaintext.TryGetBuffer(out var buffer));
        Assert.Equal(32, buffer.Count);
        CryptographicOperations.ZeroMemory(buffer);
        Assert.All(dataKey.Plaintext.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task A_dry_run_is_the_DryRunOperationException_with_status_412()
    {
        var key = await KeyAsync();
        var e = await Assert.ThrowsAsync<Aws.DryRunOperationException>(() => _client.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("x"), DryRun = true }, Ct));
        AssertAws(e, "DryRunOperationException", HttpStatusCode.PreconditionFailed);
    }

    [Fact]
    public async Task A_signature_or_MAC_that_does_not_verify_is_an_exception_as_in_KMS_not_a_false_result()
    {
        var signing = (await _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = Sdk.KeySpec.ECC_NIST_P256, KeyUsage = Sdk.KeyUsageType.SIGN_VERIFY }, Ct)).KeyMetadata.KeyId;
        var signature = (await _client.SignAsync(new Aws.SignRequest { KeyId = signing, Message = Bytes("a"), SigningAlgorithm = Sdk.SigningAlgorithmSpec.ECDSA_SHA_256 }, Ct)).Signature;
        var invalid = await Assert.ThrowsAsync<Aws.KMSInvalidSignatureException>(() => _client.VerifyAsync(new Aws.VerifyRequest
        {
            KeyId = signing,
            Message = Bytes("b"),
            Signature = signature,
            SigningAlgorithm = Sdk.SigningAlgorithmSpec.ECDSA_SHA_256,
        }, Ct));
        Assert.Equal("KMSInvalidSignatureException", invalid.ErrorCode);
        var macKey = (await _client.CreateKeyAsync(new Aws.CreateKeyRequest { KeySpec = Sdk.KeySpec.HMAC_384, KeyUsage = Sdk.KeyUsageType.GENERATE_VERIFY_MAC }, Ct)).KeyMetadata.KeyId;
        var mac = (await _client.GenerateMacAsync(new Aws.GenerateMacRequest { KeyId = macKey, Message = Bytes("a"), MacAlgorithm = Sdk.MacAlgorithmSpec.HMAC_SHA_384 }, Ct)).Mac;
        var invalidMac = await Assert.ThrowsAsync<Aws.KMSInvalidMacException>(() => _client.VerifyMacAsync(new Aws.VerifyMacRequest
        {
            KeyId = macKey,
            Message = Bytes("b"),
            Mac = mac,
            MacAlgorithm = Sdk.MacAlgorithmSpec.HMAC_SHA_384,
        }, Ct));
        Assert.Equal("KMSInvalidMacException", invalidMac.ErrorCode);
    }

    [Fact]
    public async Task Pages_follow_NextMarker_until_a_page_is_not_truncated_and_a_foreign_marker_is_InvalidMarkerException()
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            keys.Add(await KeyAsync());
        }

        var seen = new List<string>();
        string? marker = null;
        var pages = 0;
        do
        {
            var page = await _client.ListKeysAsync(new Aws.ListKeysRequest { Limit = 2, Marker = marker }, Ct);
            pages++;
            Assert.True(page.Keys.Count <= 2);
            seen.AddRange(page.Keys.Select(k => k.KeyId));
            Assert.Equal(page.NextMarker is not null, page.Truncated);
            marker = page.NextMarker;
        }
        while (marker is not null);
        Assert.Equal(3, pages);
        Assert.Equal(keys.Order(), seen.Order());
        AssertAws(await Assert.ThrowsAsync<Aws.InvalidMarkerException>(() => _client.ListKeysAsync(new Aws.ListKeysRequest { Marker = "not-a-marker" }, Ct)),
            "InvalidMarkerException", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_SDK_paginators_walk_every_page_once()
    {
        var keys = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            keys.Add(await KeyAsync());
        }

        var paginator = _client.Paginators.ListKeys(new Aws.ListKeysRequest { Limit = 2 });
        var listed = new List<string>();
        await foreach (var entry in paginator.Keys.WithCancellation(Ct))
        {
            listed.Add(entry.KeyId);
        }

        Assert.Equal(keys.Order(), listed.Order());
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in paginator.Responses.WithCancellation(Ct))
            {
            }
        });
        var responses = 0;
        await foreach (var page in _client.Paginators.ListKeys(new Aws.ListKeysRequest { Limit = 2 }).Responses.WithCancellation(Ct))
        {
            responses++;
        }

        Assert.Equal(3, responses);
    }

    [Fact]
    public async Task The_caller_of_the_client_is_the_principal_key_policies_decide_on()
    {
        var key = await KeyAsync();
        var account = (await _client.DescribeKeyAsync(key, Ct)).KeyMetadata.AWSAccountId;
        var app = $"arn:aws:iam::{account}:role/app";
        var policy = $$"""
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{{account}}:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"App","Effect":"Allow","Principal":{"AWS":"{{app}}"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}
            """;
        await _client.PutKeyPolicyAsync(key, policy, "default", Ct);
        using var asApp = new EnvelopeKmsAmazonClient(_kms.East, new CallerIdentity(app));
        using var asOther = new EnvelopeKmsAmazonClient(_kms.East, new CallerIdentity($"arn:aws:iam::{account}:role/other"));
        await asApp.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("ok") }, Ct);
        var denied = await Assert.ThrowsAsync<AmazonKeyManagementServiceException>(() => asOther.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = Bytes("no") }, Ct));
        AssertAws(denied, "AccessDeniedException", HttpStatusCode.BadRequest);
        Assert.Contains(_kms.Audit.Events, e => e.Outcome == KmsOutcome.Denied && e.Caller == $"arn:aws:iam::{account}:role/other");
    }

    [Fact]
    public async Task AddEnvelopeKmsAwsSdk_serves_IAmazonKeyManagementService_from_the_registered_key_manager()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEnvelopeKms(b => b
            .UseKeyStore(_ => new InMemoryKeyStore())
            .ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
        services.AddEnvelopeKmsAwsSdk();
        await using var provider = services.BuildServiceProvider();
        var kms = provider.GetRequiredService<IAmazonKeyManagementService>();
        Assert.IsType<EnvelopeKmsAmazonClient>(kms);
        var key = (await kms.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        var sealedBox = await OrdersVault.SealAsync(kms, key, "4111 1111 1111 1111", Ct);
        Assert.Equal("4111 1111 1111 1111", await OrdersVault.OpenAsync(kms, sealedBox, Ct));
        Assert.Same(provider.GetRequiredService<IKeyManager>(), provider.GetRequiredService<IKeyManager>());
    }

    [Fact]
    public void Every_SDK_exception_type_is_produced_for_its_own_error_code_and_every_EnvelopeKms_code_keeps_its_code()
    {
        var sdkTypes = typeof(AmazonKeyManagementServiceException).Assembly.GetTypes()
            .Where(t => t.IsPublic && t.IsSubclassOf(typeof(AmazonKeyManagementServiceException)))
            .ToList();
        Assert.True(sdkTypes.Count >= 45, $"only {sdkTypes.Count} SDK exception types found");
        foreach (var type in sdkTypes)
        {
            var exception = AwsErrors.Create(type.Name, "m");
            Assert.IsType(type, exception);
            Assert.Equal(type.Name, exception.ErrorCode);
        }

        foreach (var code in typeof(KmsErrorCodes).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!))
        {
            var exception = AwsErrors.Create(code, "m");
            Assert.Equal(code, exception.ErrorCode);
            Assert.Equal(AwsErrors.StatusCodeOf(code), exception.StatusCode);
        }

        Assert.Equal(HttpStatusCode.InternalServerError, AwsErrors.StatusCodeOf("KMSInternalException"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, AwsErrors.StatusCodeOf("DependencyTimeoutException"));
        Assert.Equal(HttpStatusCode.Conflict, AwsErrors.StatusCodeOf("ConflictException"));
    }

    [Fact]
    public async Task Any_plaintext_and_encryption_context_round_trips_through_the_adapter_and_reads_in_the_key_manager()
    {
        var key = await KeyAsync();
        var contexts = Gen.Elements("a", "tenant", "table", "ünï", "k/1")
            .SelectMany(k => Gen.Elements("1", "x", "value with spaces").Select(v => (k, v)))
            .ListOf()
            .Select(pairs => pairs.DistinctBy(p => p.k).ToDictionary(p => p.k, p => p.v));
        var cases = ArbMap.Default.GeneratorFor<byte[]>().Where(b => b.Length is > 0 and <= 4096)
            .SelectMany(plaintext => contexts.Select(context => (plaintext, context)));
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var encrypted = _client.EncryptAsync(new Aws.EncryptRequest
            {
                KeyId = key,
                Plaintext = new MemoryStream(c.plaintext),
                EncryptionContext = c.context,
            }, Ct).GetAwaiter().GetResult();
            var viaSdk = _client.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob, EncryptionContext = c.context }, Ct).GetAwaiter().GetResult();
            using var direct = _kms.East.DecryptAsync(new DecryptRequest { CiphertextBlob = encrypted.CiphertextBlob.ToArray(), EncryptionContext = c.context }, Ct).GetAwaiter().GetResult();
            return viaSdk.Plaintext.ToArray().SequenceEqual(c.plaintext) && direct.Plaintext.SequenceEqual(c.plaintext);
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>Application code written against the AWS SDK (envelope encryption with a data key), used unchanged.</summary>
    private static class OrdersVault
    {
        public static async Task<byte[]> SealAsync(IAmazonKeyManagementService kms, string keyId, string secret, CancellationToken ct)
        {
            var dataKey = await kms.GenerateDataKeyAsync(new Aws.GenerateDataKeyRequest { KeyId = keyId, KeySpec = Sdk.DataKeySpec.AES_256 }, ct);
            var key = dataKey.Plaintext.ToArray();
            try
            {
                using var aes = new AesGcm(key, 16);
                var nonce = RandomNumberGenerator.GetBytes(12);
                var plaintext = Encoding.UTF8.GetBytes(secret);
                var ciphertext = new byte[plaintext.Length];
                var tag = new byte[16];
                aes.Encrypt(nonce, plaintext, ciphertext, tag);
                var wrapped = dataKey.CiphertextBlob.ToArray();
                return [.. BitConverter.GetBytes(wrapped.Length), .. wrapped, .. nonce, .. tag, .. ciphertext];
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }

        public static async Task<string> OpenAsync(IAmazonKeyManagementService kms, byte[] box, CancellationToken ct)
        {
            var length = BitConverter.ToInt32(box, 0);
            var wrapped = box.AsSpan(4, length).ToArray();
            var rest = box.AsMemory(4 + length);
            var key = (await kms.DecryptAsync(new Aws.DecryptRequest { CiphertextBlob = new MemoryStream(wrapped) }, ct)).Plaintext.ToArray();
            try
            {
                using var aes = new AesGcm(key, 16);
                var plaintext = new byte[rest.Length - 28];
                aes.Decrypt(rest.Span[..12], rest.Span[28..], rest.Span[12..28], plaintext);
                return Encoding.UTF8.GetString(plaintext);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }
}
