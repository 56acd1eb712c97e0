using EnvelopeKms.KeyManagement;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>Shared assertions for ciphertext tests.</summary>
internal static class CiphertextAssert
{
    /// <summary>
    /// Asserts that decrypting <paramref name="blob"/> fails with exactly <see cref="KmsInvalidCiphertextException"/>
    /// (no other type, no subclass), with the one homogeneous message and no inner exception.
    /// </summary>
    public static async Task<KmsInvalidCiphertextException> DecryptFailsAsInvalidAsync(IKeyManager manager, ReadOnlyMemory<byte> blob, IReadOnlyDictionary<string, string>? context = null, string? keyId = null)
    {
        var e = await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => manager.DecryptAsync(
            new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context, KeyId = keyId },
            TestContext.Current.CancellationToken));
        AssertHomogeneous(e);
        return e;
    }

    public static void AssertHomogeneous(KmsInvalidCiphertextException e)
    {
        Assert.Equal(SymmetricCiphertext.InvalidMessage, e.Message);
        Assert.Equal("InvalidCiphertextException", e.ErrorCode);
        Assert.Null(e.InnerException);
    }

    /// <summary>Decrypting <paramref name="blob"/> must fail with <see cref="KmsInvalidCiphertextException"/>, or with
    /// <see cref="KmsValidationException"/> when its length is outside 1–6144 bytes.</summary>
    public static async Task DecryptFailsAsInvalidOrOutOfRangeAsync(IKeyManager manager, ReadOnlyMemory<byte> blob, IReadOnlyDictionary<string, string>? context = null)
    {
        if (blob.Length is 0 or > 6144)
        {
            await Assert.ThrowsAsync<KmsValidationException>(() => manager.DecryptAsync(
                new DecryptRequest { CiphertextBlob = blob, EncryptionContext = context },
                TestContext.Current.CancellationToken));
        }
        else
        {
            await DecryptFailsAsInvalidAsync(manager, blob, context);
        }
    }
}

internal static class Bytes
{
    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}

/// <summary>A test key manager with one enabled symmetric key.</summary>
internal sealed class KeyFixture : IDisposable
{
    private KeyFixture(TestKeyManager kms, string keyId)
    {
        Kms = kms;
        KeyId = keyId;
    }

    public TestKeyManager Kms { get; }

    public KeyManager Manager => Kms.Manager;

    public string KeyId { get; }

    public static async Task<KeyFixture> CreateAsync(TestKeyManager? kms = null)
    {
        kms ??= new TestKeyManager();
        var key = await kms.Manager.CreateKeyAsync("ciphertext tests", TestContext.Current.CancellationToken);
        return new KeyFixture(kms, key.KeyId);
    }

    public Task<byte[]> EncryptAsync(ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? context = null)
        => Manager.EncryptAsync(KeyId, plaintext, context, TestContext.Current.CancellationToken);

    public Task<byte[]> DecryptAsync(ReadOnlyMemory<byte> blob, IReadOnlyDictionary<string, string>? context = null)
        => Manager.DecryptAsync(blob, context, TestContext.Current.CancellationToken);

    public void Dispose() => Kms.Dispose();
}
