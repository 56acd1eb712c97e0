namespace EnvelopeKms;

/// <summary>Short forms of the most used <see cref="IKeyManager"/> calls.</summary>
public static class KeyManagerExtensions
{
    /// <summary>Creates a symmetric key with an optional description.</summary>
    public static async Task<KeyMetadata> CreateKeyAsync(this IKeyManager keyManager, string? description = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        var response = await keyManager.CreateKeyAsync(new CreateKeyRequest { Description = description }, cancellationToken).ConfigureAwait(false);
        return response.KeyMetadata;
    }

    /// <summary>Returns a key's metadata.</summary>
    public static async Task<KeyMetadata> DescribeKeyAsync(this IKeyManager keyManager, string keyId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        var response = await keyManager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = keyId }, cancellationToken).ConfigureAwait(false);
        return response.KeyMetadata;
    }

    /// <summary>Encrypts a plaintext and returns the ciphertext blob.</summary>
    public static async Task<byte[]> EncryptAsync(this IKeyManager keyManager, string keyId, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? encryptionContext = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        var response = await keyManager.EncryptAsync(new EncryptRequest { KeyId = keyId, Plaintext = plaintext, EncryptionContext = encryptionContext }, cancellationToken).ConfigureAwait(false);
        return response.CiphertextBlob;
    }

    /// <summary>Decrypts a ciphertext blob and returns the plaintext, which the caller should zero after use.</summary>
    public static async Task<byte[]> DecryptAsync(this IKeyManager keyManager, ReadOnlyMemory<byte> ciphertextBlob, IReadOnlyDictionary<string, string>? encryptionContext = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        var response = await keyManager.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertextBlob, EncryptionContext = encryptionContext }, cancellationToken).ConfigureAwait(false);
        return response.Plaintext;
    }
}
