using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateRandom.</summary>
public sealed class DataPlaneTests
{
    private const string Missing = "11111111-1111-4111-8111-111111111111";
    private static readonly Dictionary<string, string> Context = new() { ["tenant"] = "acme", ["purpose"] = "invoice" };
    private static readonly Dictionary<string, string> OtherContext = new() { ["tenant"] = "acme", ["purpose"] = "receipt" };

    // ---------------------------------------------------------------- Encrypt

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(4095)]
    [InlineData(4096)]
    public async Task Encrypt_accepts_1_to_4096_bytes_and_decrypt_returns_them(int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var plaintext = RandomNumberGenerator.GetBytes(length);

        var encrypted = await km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = plaintext, EncryptionContext = Context }, Kms.Ct);

        Assert.Equal(key.Arn, encrypted.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, encrypted.KeyMaterialId);
        Assert.Equal(EncryptionAlgorithm.SymmetricDefault, encrypted.EncryptionAlgorithm);
        Assert.True(encrypted.CiphertextBlob.Length <= 6144);
        Assert.Equal(plaintext, await km.DecryptBlobAsync(encrypted.CiphertextBlob, Context));
    }

    [Fact]
    public async Task Encrypting_the_same_plaintext_twice_gives_different_ciphertexts()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var first = await km.EncryptBlobAsync(key.KeyId, [1, 2, 3]);
        var second = await km.EncryptBlobAsync(key.KeyId, [1, 2, 3]);

        Assert.NotEqual(first, second);
    }

    /// <summary>The key named does not exist, so a validation error proves the size was checked before anything else.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(4097)]
    [InlineData(6144)]
    public async Task Encrypt_of_0_or_more_than_4096_bytes_is_a_validation_error_before_the_key_is_looked_up(int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => km.EncryptBlobAsync(Missing, new byte[length]));

        Assert.Contains("4096", e.Message, StringComparison.Ordinal);
        var audit = kms.Audit.Events[^1];
        Assert.Equal(KmsOutcome.Failure, audit.Outcome);
        Assert.Null(audit.KeyId);
        Assert.Null(audit.KeyMaterialId);
    }

    [Theory]
    [InlineData(EncryptionAlgorithm.RsaesOaepSha1)]
    [InlineData(EncryptionAlgorithm.RsaesOaepSha256)]
    public async Task Encrypt_with_an_algorithm_other_than_symmetric_default_is_an_invalid_key_usage_error(EncryptionAlgorithm algorithm)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var e = await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 }, EncryptionAlgorithm = algorithm }, Kms.Ct));

        Assert.Equal("InvalidKeyUsageException", e.ErrorCode);
    }

    [Fact]
    public async Task Encrypt_with_an_unknown_algorithm_is_a_validation_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsValidationException>(() => km.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = new byte[] { 1 }, EncryptionAlgorithm = (EncryptionAlgorithm)77 }, Kms.Ct));
    }

    [Fact]
    public async Task An_encryption_context_with_an_empty_key_is_a_validation_error_before_the_key_is_looked_up()
    {
        using var kms = new TestKeyManager();

        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().EncryptBlobAsync(Missing, [1], new Dictionary<string, string> { [""] = "v" }));
    }

    // ---------------------------------------------------------------- Decrypt

    [Theory]
    [InlineData("key id")]
    [InlineData("key ARN")]
    [InlineData("alias name")]
    [InlineData("alias ARN")]
    public async Task Decrypt_with_the_matching_key_named_explicitly_succeeds(string form)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/explicit", key.KeyId);
        var blob = await km.EncryptBlobAsync(key.KeyId, [5, 6], Context);
        var keyId = form switch
        {
            "key id" => key.KeyId,
            "key ARN" => key.Arn,
            "alias name" => "alias/explicit",
            _ => Kms.AliasArn("alias/explicit"),
        };

        using var decrypted = await km.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionContext = Context, KeyId = keyId }, Kms.Ct);

        Assert.Equal([5, 6], decrypted.Plaintext);
        Assert.Equal(key.Arn, decrypted.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, decrypted.KeyMaterialId);
        Assert.Equal(EncryptionAlgorithm.SymmetricDefault, decrypted.EncryptionAlgorithm);
    }

    /// <summary>RELIABILITY row 15.</summary>
    [Theory]
    [InlineData("key id")]
    [InlineData("alias name")]
    public async Task Decrypt_with_a_different_key_named_explicitly_is_an_incorrect_key_error(string form)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var other = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/other", other.KeyId);
        var blob = await km.EncryptBlobAsync(key.KeyId, [5, 6]);

        var e = await Assert.ThrowsAsync<KmsIncorrectKeyException>(() => km.DecryptBlobAsync(blob, keyId: form == "key id" ? other.KeyId : "alias/other"));

        Assert.Equal("IncorrectKeyException", e.ErrorCode);
    }

    [Fact]
    public async Task Decrypt_with_a_key_named_explicitly_that_does_not_exist_is_not_found()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [5]);

        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.DecryptBlobAsync(blob, keyId: Missing));
    }

    [Fact]
    public async Task Decrypt_with_a_wrong_or_missing_encryption_context_is_an_invalid_ciphertext_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [5], Context);

        var wrong = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(blob, OtherContext));
        var missing = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(blob));

        Assert.Equal(wrong.Message, missing.Message);
        Assert.Equal([5], await km.DecryptBlobAsync(blob, new Dictionary<string, string> { ["purpose"] = "invoice", ["tenant"] = "acme" }));
    }

    [Fact]
    public async Task Decrypt_of_a_ciphertext_from_another_key_manager_is_an_invalid_ciphertext_error()
    {
        using var first = new TestKeyManager();
        using var second = new TestKeyManager();
        var key = await first.Api().NewKeyAsync();
        var blob = await first.Api().EncryptBlobAsync(key.KeyId, [5]);

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => second.Api().DecryptBlobAsync(blob));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6145)]
    [InlineData(10000)]
    public async Task Decrypt_of_an_empty_or_over_6144_byte_ciphertext_is_a_validation_error(int length)
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().DecryptBlobAsync(new byte[length]));

        Assert.Contains("6144", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(6144)]
    public async Task Decrypt_of_garbage_within_the_size_limit_is_an_invalid_ciphertext_error(int length)
    {
        using var kms = new TestKeyManager();
        await kms.Api().NewKeyAsync();

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Api().DecryptBlobAsync(RandomNumberGenerator.GetBytes(length)));
    }

    [Theory]
    [InlineData(EncryptionAlgorithm.RsaesOaepSha1)]
    [InlineData(EncryptionAlgorithm.RsaesOaepSha256)]
    public async Task Decrypt_with_an_rsa_algorithm_needs_a_key_id_and_an_rsa_key(EncryptionAlgorithm algorithm)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [5]);

        var noKey = await Assert.ThrowsAsync<KmsValidationException>(() => km.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, EncryptionAlgorithm = algorithm }, Kms.Ct));
        Assert.Contains("KeyId is required", noKey.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => km.DecryptAsync(new DecryptRequest { CiphertextBlob = blob, KeyId = key.KeyId, EncryptionAlgorithm = algorithm }, Kms.Ct));
    }

    [Fact]
    public async Task Disposing_a_decrypt_response_zeroes_the_plaintext()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(key.KeyId, [1, 2, 3, 4]);

        var response = await km.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }, Kms.Ct);
        var plaintext = response.Plaintext;
        Assert.Equal([1, 2, 3, 4], plaintext);
        response.Dispose();

        Assert.All(plaintext, b => Assert.Equal(0, b));
    }

    // ---------------------------------------------------------------- ReEncrypt

    [Fact]
    public async Task Re_encrypt_moves_a_ciphertext_to_another_key_and_context()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var source = await km.NewKeyAsync();
        var destination = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(source.KeyId, Kms.Utf8("move me"), Context);

        var response = await km.ReEncryptAsync(new ReEncryptRequest
        {
            CiphertextBlob = blob,
            SourceEncryptionContext = Context,
            DestinationKeyId = destination.KeyId,
            DestinationEncryptionContext = OtherContext,
        }, Kms.Ct);

        Assert.Equal(source.Arn, response.SourceKeyId);
        Assert.Equal(destination.Arn, response.KeyId);
        Assert.Equal(source.CurrentKeyMaterialId, response.SourceKeyMaterialId);
        Assert.Equal(destination.CurrentKeyMaterialId, response.DestinationKeyMaterialId);
        Assert.Equal(EncryptionAlgorithm.SymmetricDefault, response.SourceEncryptionAlgorithm);
        Assert.Equal(EncryptionAlgorithm.SymmetricDefault, response.DestinationEncryptionAlgorithm);
        Assert.Equal(Kms.Utf8("move me"), await km.DecryptBlobAsync(response.CiphertextBlob, OtherContext));
        Assert.Equal(Kms.Utf8("move me"), await km.DecryptBlobAsync(response.CiphertextBlob, OtherContext, destination.KeyId));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(response.CiphertextBlob, Context));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(response.CiphertextBlob));
        await Assert.ThrowsAsync<KmsIncorrectKeyException>(() => km.DecryptBlobAsync(response.CiphertextBlob, OtherContext, source.KeyId));
    }

    [Fact]
    public async Task Re_encrypt_under_the_same_key_changes_only_the_context()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();
        await km.CreateAliasAsync("alias/same", key.KeyId);
        var blob = await km.EncryptBlobAsync(key.KeyId, [8], Context);

        var response = await km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = Context, SourceKeyId = key.KeyId, DestinationKeyId = "alias/same" }, Kms.Ct);

        Assert.Equal(key.Arn, response.SourceKeyId);
        Assert.Equal(key.Arn, response.KeyId);
        Assert.Equal([8], await km.DecryptBlobAsync(response.CiphertextBlob));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(response.CiphertextBlob, Context));
    }

    [Fact]
    public async Task Re_encrypt_checks_the_source_like_decrypt()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var source = await km.NewKeyAsync();
        var destination = await km.NewKeyAsync();
        var blob = await km.EncryptBlobAsync(source.KeyId, [8], Context);

        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = destination.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsIncorrectKeyException>(() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = Context, SourceKeyId = destination.KeyId, DestinationKeyId = destination.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = Array.Empty<byte>(), DestinationKeyId = destination.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsNotFoundException>(() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = Context, DestinationKeyId = Missing }, Kms.Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, SourceEncryptionContext = Context, DestinationKeyId = destination.KeyId, DestinationEncryptionAlgorithm = EncryptionAlgorithm.RsaesOaepSha256 }, Kms.Ct));
    }

    [Fact]
    public async Task Re_encrypt_to_a_disabled_key_is_a_disabled_error()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var source = await km.NewKeyAsync();
        var destination = await km.NewKeyAsync();
        await km.DisableKeyAsync(new DisableKeyRequest { KeyId = destination.KeyId }, Kms.Ct);
        var blob = await km.EncryptBlobAsync(source.KeyId, [8]);

        await Assert.ThrowsAsync<KmsDisabledException>(() => km.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = destination.KeyId }, Kms.Ct));
    }

    // ---------------------------------------------------------------- GenerateDataKey

    [Theory]
    [InlineData(DataKeySpec.Aes256, 32)]
    [InlineData(DataKeySpec.Aes128, 16)]
    public async Task Generate_data_key_by_key_spec_returns_a_key_of_that_length_and_its_encrypted_copy(DataKeySpec spec, int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        using var response = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = spec, EncryptionContext = Context }, Kms.Ct);

        Assert.Equal(length, response.Plaintext.Length);
        Assert.Equal(key.Arn, response.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, response.KeyMaterialId);
        Assert.Equal(response.Plaintext, await km.DecryptBlobAsync(response.CiphertextBlob, Context));
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(response.CiphertextBlob, OtherContext));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(1024)]
    public async Task Generate_data_key_by_number_of_bytes_accepts_1_to_1024(int numberOfBytes)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        using var response = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, NumberOfBytes = numberOfBytes }, Kms.Ct);

        Assert.Equal(numberOfBytes, response.Plaintext.Length);
        Assert.Equal(response.Plaintext, await km.DecryptBlobAsync(response.CiphertextBlob));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1025)]
    public async Task Generate_data_key_with_number_of_bytes_outside_1_to_1024_is_a_validation_error(int numberOfBytes)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = Missing, NumberOfBytes = numberOfBytes }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = Missing, NumberOfBytes = numberOfBytes }, Kms.Ct));

        Assert.Contains("1024", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_data_key_needs_exactly_one_of_key_spec_and_number_of_bytes()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256, NumberOfBytes = 32 }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = (DataKeySpec)9 }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = key.KeyId }, Kms.Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes128, NumberOfBytes = 16 }, Kms.Ct));
    }

    [Fact]
    public async Task Every_data_key_is_new()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        using var first = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct);
        using var second = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct);

        Assert.NotEqual(first.Plaintext, second.Plaintext);
        Assert.NotEqual(first.CiphertextBlob, second.CiphertextBlob);
    }

    [Fact]
    public async Task Disposing_a_generate_data_key_response_zeroes_the_plaintext_data_key()
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var response = await km.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = DataKeySpec.Aes256 }, Kms.Ct);
        var plaintext = response.Plaintext;
        var copy = plaintext.ToArray();
        Assert.Contains(plaintext, b => b != 0);
        response.Dispose();

        Assert.All(plaintext, b => Assert.Equal(0, b));
        Assert.Equal(copy, await km.DecryptBlobAsync(response.CiphertextBlob));
    }

    [Theory]
    [InlineData(DataKeySpec.Aes256, null, 32)]
    [InlineData(DataKeySpec.Aes128, null, 16)]
    [InlineData(null, 1, 1)]
    [InlineData(null, 1024, 1024)]
    public async Task Generate_data_key_without_plaintext_returns_only_an_encrypted_data_key(DataKeySpec? spec, int? numberOfBytes, int length)
    {
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = await km.NewKeyAsync();

        var response = await km.GenerateDataKeyWithoutPlaintextAsync(new GenerateDataKeyRequest { KeyId = key.KeyId, KeySpec = spec, NumberOfBytes = numberOfBytes, EncryptionContext = Context }, Kms.Ct);

        Assert.Equal(key.Arn, response.KeyId);
        Assert.Equal(key.CurrentKeyMaterialId, response.KeyMaterialId);
        Assert.Equal(length, (await km.DecryptBlobAsync(response.CiphertextBlob, Context)).Length);
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => km.DecryptBlobAsync(response.CiphertextBlob));
    }

    // ---------------------------------------------------------------- GenerateRandom

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(1024)]
    public async Task Generate_random_returns_1_to_1024_bytes(int numberOfBytes)
    {
        using var kms = new TestKeyManager();

        using var response = await kms.Api().GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = numberOfBytes }, Kms.Ct);

        Assert.Equal(numberOfBytes, response.Plaintext.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1025)]
    public async Task Generate_random_outside_1_to_1024_bytes_is_a_validation_error(int numberOfBytes)
    {
        using var kms = new TestKeyManager();

        var e = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Api().GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = numberOfBytes }, Kms.Ct));

        Assert.Contains("1024", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_generate_random_calls_return_different_bytes()
    {
        using var kms = new TestKeyManager();

        using var first = await kms.Api().GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32 }, Kms.Ct);
        using var second = await kms.Api().GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 32 }, Kms.Ct);

        Assert.NotEqual(first.Plaintext, second.Plaintext);
    }

    [Fact]
    public async Task Disposing_a_generate_random_response_zeroes_the_bytes()
    {
        using var kms = new TestKeyManager();

        var response = await kms.Api().GenerateRandomAsync(new GenerateRandomRequest { NumberOfBytes = 64 }, Kms.Ct);
        var bytes = response.Plaintext;
        Assert.Contains(bytes, b => b != 0);
        response.Dispose();

        Assert.All(bytes, b => Assert.Equal(0, b));
    }
}
