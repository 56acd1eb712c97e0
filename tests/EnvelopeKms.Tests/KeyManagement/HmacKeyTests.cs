using System.Security.Cryptography;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Storage;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// HMAC keys (<c>HMAC_224</c> … <c>HMAC_512</c>, usage <c>GENERATE_VERIFY_MAC</c>): <c>GenerateMac</c> and
/// <c>VerifyMac</c> with each key's one algorithm; a wrong MAC is <c>MacValid = false</c> (not an
/// exception, unlike AWS KMS); usages and algorithms are enforced both ways; the material survives a
/// durable store. The HMAC computation itself is checked against every Wycheproof vector in the
/// conformance tests.
/// </summary>
public sealed class HmacKeyTests : IDisposable
{
    private static readonly byte[] Token = "user=42;role=admin;expires=2026-12-01T00:00:00Z"u8.ToArray();
    private readonly TemporaryStoreDirectory _directory = new("hmac");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string, string, int> Specs => new()
    {
        { nameof(KeySpec.Hmac224), nameof(MacAlgorithm.HmacSha224), 28 },
        { nameof(KeySpec.Hmac256), nameof(MacAlgorithm.HmacSha256), 32 },
        { nameof(KeySpec.Hmac384), nameof(MacAlgorithm.HmacSha384), 48 },
        { nameof(KeySpec.Hmac512), nameof(MacAlgorithm.HmacSha512), 64 },
    };

    private static Task<KeyMetadataResponse> CreateAsync(KeyManager kms, KeySpec spec)
        => kms.CreateKeyAsync(new CreateKeyRequest { Description = "tokens", KeySpec = spec, KeyUsage = KeyUsage.GenerateVerifyMac }, Ct);

    [Theory]
    [MemberData(nameof(Specs))]
    public async Task An_hmac_key_makes_macs_of_its_length_that_verify_and_describes_its_algorithm(string specName, string algorithmName, int length)
    {
        var spec = Enum.Parse<KeySpec>(specName);
        var algorithm = Enum.Parse<MacAlgorithm>(algorithmName);
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, spec)).KeyMetadata;
        Assert.Equal(spec, key.KeySpec);
        Assert.Equal(KeyUsage.GenerateVerifyMac, key.KeyUsage);
        Assert.Equal([algorithm], key.MacAlgorithms);
        Assert.Empty(key.EncryptionAlgorithms);

        var made = await kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = Token, MacAlgorithm = algorithm }, Ct);
        Assert.Equal(length, made.Mac.Length);
        Assert.Equal(algorithm, made.MacAlgorithm);
        Assert.Equal(key.Arn, made.KeyId);
        var again = await kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = Token, MacAlgorithm = algorithm }, Ct);
        Assert.Equal(made.Mac, again.Mac); // HMAC is deterministic.

        var verified = await kms.Manager.VerifyMacAsync(new VerifyMacRequest { KeyId = key.KeyId, Message = Token, Mac = made.Mac, MacAlgorithm = algorithm }, Ct);
        Assert.True(verified.MacValid);
        Assert.Equal(key.Arn, verified.KeyId);

        var other = (await CreateAsync(kms.Manager, spec)).KeyMetadata;
        var otherMac = await kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = other.KeyId, Message = Token, MacAlgorithm = algorithm }, Ct);
        Assert.NotEqual(made.Mac, otherMac.Mac);
    }

    [Fact]
    public async Task A_wrong_mac_a_changed_message_or_a_truncated_mac_is_false_not_an_exception()
    {
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, KeySpec.Hmac256)).KeyMetadata;
        var mac = (await kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = Token, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct)).Mac;

        async Task<bool> Verify(byte[] message, byte[] candidate)
            => (await kms.Manager.VerifyMacAsync(new VerifyMacRequest { KeyId = key.KeyId, Message = message, Mac = candidate, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct)).MacValid;

        for (var bit = 0; bit < mac.Length * 8; bit += 7)
        {
            var flipped = (byte[])mac.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(await Verify(Token, flipped));
        }

        Assert.False(await Verify([.. Token, 0], mac));
        Assert.False(await Verify(Token, mac[..16]));
        Assert.False(await Verify(Token, [.. mac, 0]));
        Assert.True(await Verify(Token, mac));
    }

    [Fact]
    public async Task Usages_and_algorithms_are_enforced_both_ways()
    {
        using var kms = new TestKeyManager();
        var hmac = (await CreateAsync(kms.Manager, KeySpec.Hmac384)).KeyMetadata;
        var symmetric = await kms.Manager.CreateKeyAsync("aes", Ct);

        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = hmac.KeyId, Message = Token, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.VerifyMacAsync(new VerifyMacRequest { KeyId = hmac.KeyId, Message = Token, Mac = new byte[64], MacAlgorithm = MacAlgorithm.HmacSha512 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = symmetric.KeyId, Message = Token, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.EncryptAsync(hmac.KeyId, Token, cancellationToken: Ct));
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = hmac.KeyId, KeySpec = DataKeySpec.Aes256 }, Ct));
        var blob = await kms.Manager.EncryptAsync(symmetric.KeyId, Token, cancellationToken: Ct);
        await Assert.ThrowsAsync<KmsInvalidKeyUsageException>(() => kms.Manager.ReEncryptAsync(new ReEncryptRequest { CiphertextBlob = blob, DestinationKeyId = hmac.KeyId }, Ct));
    }

    [Fact]
    public async Task Bad_requests_are_validation_errors_before_any_key_is_used()
    {
        using var kms = new TestKeyManager();
        var key = (await CreateAsync(kms.Manager, KeySpec.Hmac256)).KeyMetadata;
        var events = kms.Audit.Events.Count;

        var noUsage = await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.Hmac256 }, Ct));
        Assert.Contains("GENERATE_VERIFY_MAC", noUsage.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = KeySpec.SymmetricDefault, KeyUsage = KeyUsage.GenerateVerifyMac }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = ReadOnlyMemory<byte>.Empty, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = new byte[4097], MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = key.KeyId, Message = Token, MacAlgorithm = (MacAlgorithm)99 }, Ct));
        await Assert.ThrowsAsync<KmsValidationException>(() => kms.Manager.VerifyMacAsync(new VerifyMacRequest { KeyId = key.KeyId, Message = Token, Mac = ReadOnlyMemory<byte>.Empty, MacAlgorithm = MacAlgorithm.HmacSha256 }, Ct));
        Assert.All(kms.Audit.Events.Skip(events), e => Assert.Equal("ValidationException", e.ErrorCode));
    }

    [Fact]
    public async Task An_hmac_key_in_a_durable_store_makes_the_same_macs_after_a_restart()
    {
        var path = Path.Combine(_directory.Parent, "keys.db");
        var root = new StaticRootKeyProvider(RandomNumberGenerator.GetBytes(32));
        string keyId;
        byte[] mac;
        using (var first = new TestKeyManager(new SqliteKeyStore(path), root))
        {
            keyId = (await CreateAsync(first.Manager, KeySpec.Hmac512)).KeyMetadata.KeyId;
            mac = (await first.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = keyId, Message = Token, MacAlgorithm = MacAlgorithm.HmacSha512 }, Ct)).Mac;
        }

        using var second = new TestKeyManager(new SqliteKeyStore(path), root);
        Assert.True((await second.Manager.VerifyMacAsync(new VerifyMacRequest { KeyId = keyId, Message = Token, Mac = mac, MacAlgorithm = MacAlgorithm.HmacSha512 }, Ct)).MacValid);
        Assert.Equal(mac, (await second.Manager.GenerateMacAsync(new GenerateMacRequest { KeyId = keyId, Message = Token, MacAlgorithm = MacAlgorithm.HmacSha512 }, Ct)).Mac);
    }
}
