using EnvelopeKms.Envelope;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>A key manager with one symmetric key and an envelope encryptor on the manager's fake clock.</summary>
internal sealed class EnvelopeFixture : IDisposable
{
    private EnvelopeFixture(TestKeyManager kms, string keyId, EnvelopeEncryptor encryptor)
    {
        Kms = kms;
        KeyId = keyId;
        Encryptor = encryptor;
    }

    public TestKeyManager Kms { get; }

    public string KeyId { get; }

    public EnvelopeEncryptor Encryptor { get; }

    public static async Task<EnvelopeFixture> CreateAsync(EnvelopeOptions? options = null)
    {
        var kms = new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("envelope tests", TestContext.Current.CancellationToken);
        return new EnvelopeFixture(kms, key.KeyId, new EnvelopeEncryptor(kms.Manager, options, kms.Clock));
    }

    public void Dispose()
    {
        Encryptor.Dispose();
        Kms.Dispose();
    }
}

/// <summary>Helpers to read and assert on envelopes.</summary>
internal static class EnvelopeAssert
{
    /// <summary>Encrypts into one new array with associated data, through the span overload (the byte[] overload takes none).</summary>
    public static byte[] EncryptToArray(this EnvelopeProtector protector, byte[] plaintext, byte[]? associatedData)
    {
        var envelope = new byte[protector.GetCiphertextLength(plaintext.Length)];
        if (protector.Encrypt(plaintext, envelope, associatedData) != envelope.Length)
        {
            throw new InvalidOperationException("Encrypt did not fill the envelope it sized.");
        }

        return envelope;
    }

    /// <summary>Decrypts into one new array with associated data, through the span overload (the byte[] overload takes none).</summary>
    public static byte[] DecryptToArray(this EnvelopeProtector protector, byte[] envelope, byte[]? associatedData)
    {
        var plaintext = new byte[EnvelopeEncryptor.GetPlaintextLength(envelope)];
        if (protector.Decrypt(envelope, plaintext, associatedData) != plaintext.Length)
        {
            throw new InvalidOperationException("Decrypt did not fill the plaintext it sized.");
        }

        return plaintext;
    }

    /// <summary>The header of a one-shot envelope (its bytes) and its parsed fields.</summary>
    public static (byte[] Header, EnvelopeFormat.Fields Fields) Header(ReadOnlySpan<byte> envelope)
    {
        Assert.True(EnvelopeFormat.TryGetHeaderLength(envelope, out var headerLength, out var suite));
        Assert.Equal(EnvelopeFormat.SuiteOneShot, suite);
        var header = envelope[..headerLength].ToArray();
        return (header, EnvelopeFormat.ReadFields(header));
    }

    /// <summary>The 12-byte nonce of a one-shot envelope.</summary>
    public static byte[] Nonce(ReadOnlySpan<byte> envelope)
    {
        Assert.True(EnvelopeFormat.TryGetHeaderLength(envelope, out var headerLength, out _));
        return envelope.Slice(headerLength, EnvelopeFormat.NonceSize).ToArray();
    }

    /// <summary>Runs <paramref name="action"/> and checks it fails with the one invalid-envelope error.</summary>
    public static void FailsAsInvalid(Action action, string? because = null)
    {
        var e = Assert.Throws<KmsInvalidCiphertextException>(action);
        Assert.True(EnvelopeErrors.InvalidEnvelope == e.Message, $"Unexpected message ({because}): {e.Message}");
    }

    /// <summary>Runs <paramref name="action"/> and checks it fails with the one invalid-envelope error.</summary>
    public static async Task FailsAsInvalidAsync(Func<Task> action, string? because = null)
    {
        var e = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(action);
        Assert.True(EnvelopeErrors.InvalidEnvelope == e.Message, $"Unexpected message ({because}): {e.Message}");
    }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
