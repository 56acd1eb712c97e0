using EnvelopeKms.Envelope;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Envelope;

public sealed class EnvelopeSmokeTests
{
    [Theory]
    [InlineData(AeadBackend.Platform)]
    [InlineData(AeadBackend.Libsodium)]
    public async Task Protector_round_trips_and_the_cached_hot_path_allocates_nothing(AeadBackend backend)
    {
        using var kms = new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("envelope", TestContext.Current.CancellationToken);
        using var encryptor = new EnvelopeEncryptor(kms.Manager, new EnvelopeOptions { Backend = backend }, kms.Clock);
        var protector = encryptor.CreateProtector(key.KeyId, new Dictionary<string, string> { ["tenant"] = "acme" });
        var plaintext = new byte[1024];
        plaintext.AsSpan().Fill(7);
        var envelope = new byte[protector.GetCiphertextLength(plaintext.Length)];
        var decrypted = new byte[plaintext.Length];
        Assert.True(protector.TryEncrypt(plaintext, envelope, out var written));
        Assert.Equal(envelope.Length, written);
        Assert.True(protector.TryDecrypt(envelope, decrypted, out var read));
        Assert.Equal(plaintext, decrypted);
        Assert.Equal(plaintext.Length, read);

        for (var i = 0; i < 100; i++)
        {
            protector.TryEncrypt(plaintext, envelope, out _);
            protector.TryDecrypt(envelope, decrypted, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            protector.TryEncrypt(plaintext, envelope, out _);
            protector.TryDecrypt(envelope, decrypted, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(plaintext, decrypted);

        var stats = encryptor.CacheStatistics;
        Assert.Equal(1, stats.EncryptMisses);
        Assert.Equal(1, stats.DecryptMisses);
    }
}
