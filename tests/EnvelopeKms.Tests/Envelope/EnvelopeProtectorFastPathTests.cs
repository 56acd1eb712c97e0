using EnvelopeKms.Envelope;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// The protector remembers the data key of the last envelope it opened; these tests check that the
/// shortcut never outlives an eviction, an expiry or a different header, and that the automatic
/// backend (libsodium below 32 KiB, the platform's AesGcm above) agrees with both fixed backends.
/// </summary>
public sealed class EnvelopeProtectorFastPathTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_protector_that_just_opened_an_envelope_refuses_it_once_the_key_is_disabled()
    {
        using var f = await EnvelopeFixture.CreateAsync();
        var protector = f.Encryptor.CreateProtector(f.KeyId, new Dictionary<string, string> { ["t"] = "fast" });
        var envelope = protector.Encrypt("secret"u8);
        var buffer = new byte[6];
        Assert.True(protector.TryDecrypt(envelope, buffer, out _));
        Assert.True(protector.TryDecrypt(envelope, buffer, out _));

        await f.Kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = f.KeyId }, Ct);
        Assert.Throws<KmsDisabledException>(() => protector.TryDecrypt(envelope, buffer, out _));

        await f.Kms.Manager.EnableKeyAsync(new EnableKeyRequest { KeyId = f.KeyId }, Ct);
        Assert.True(protector.TryDecrypt(envelope, buffer, out var read));
        Assert.Equal("secret"u8.ToArray(), buffer[..read]);
    }

    [Fact]
    public async Task A_remembered_data_key_is_not_used_past_its_age_limit()
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { MaxDataKeyAge = TimeSpan.FromMinutes(1) });
        var protector = f.Encryptor.CreateProtector(f.KeyId);
        var envelope = protector.Encrypt("x"u8);
        var buffer = new byte[1];
        protector.TryDecrypt(envelope, buffer, out _);
        protector.TryDecrypt(envelope, buffer, out _);
        Assert.Equal(1, f.Encryptor.CacheStatistics.DecryptMisses);

        f.Kms.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(protector.TryDecrypt(envelope, buffer, out _));
        Assert.Equal(2, f.Encryptor.CacheStatistics.DecryptMisses);
    }

    [Fact]
    public async Task The_shortcut_reports_a_small_destination_and_still_rejects_tampering_and_wrong_associated_data()
    {
        using var f = await EnvelopeFixture.CreateAsync();
        var protector = f.Encryptor.CreateProtector(f.KeyId);
        var envelope = new byte[protector.GetCiphertextLength(10)];
        protector.Encrypt(new byte[10], envelope, "aad"u8);
        var buffer = new byte[10];
        Assert.True(protector.TryDecrypt(envelope, buffer, out _, "aad"u8));

        Assert.False(protector.TryDecrypt(envelope, new byte[9], out var written, "aad"u8));
        Assert.Equal(0, written);
        var ex = Assert.Throws<KmsInvalidCiphertextException>(() => protector.TryDecrypt(envelope, buffer, out _, "other"u8));
        envelope[^1] ^= 1;
        var ex2 = Assert.Throws<KmsInvalidCiphertextException>(() => protector.TryDecrypt(envelope, buffer, out _, "aad"u8));
        Assert.Equal(ex.Message, ex2.Message);
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(32 * 1024 - 1)]
    [InlineData(32 * 1024)]
    [InlineData(200_000)]
    public async Task The_automatic_backend_agrees_with_both_fixed_backends_on_each_side_of_its_threshold(int size)
    {
        using var f = await EnvelopeFixture.CreateAsync();
        using var platform = new EnvelopeEncryptor(f.Kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Platform }, f.Kms.Clock);
        using var sodium = new EnvelopeEncryptor(f.Kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Libsodium }, f.Kms.Clock);
        var plaintext = new byte[size];
        new Random(size).NextBytes(plaintext);

        var automaticEnvelope = f.Encryptor.CreateProtector(f.KeyId).Encrypt(plaintext);
        Assert.Equal(plaintext, platform.Decrypt(automaticEnvelope));
        Assert.Equal(plaintext, sodium.Decrypt(automaticEnvelope));
        Assert.Equal(plaintext, f.Encryptor.Decrypt(platform.CreateProtector(f.KeyId).Encrypt(plaintext)));
        Assert.Equal(plaintext, f.Encryptor.Decrypt(sodium.CreateProtector(f.KeyId).Encrypt(plaintext)));
    }
}
