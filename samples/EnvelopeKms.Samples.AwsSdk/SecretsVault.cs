using System.Security.Cryptography;
using System.Text;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;

namespace VaultApp;

/// <summary>
/// Application code written against the AWS SDK for .NET, as it would run on AWS KMS: it knows nothing
/// of EnvelopeKms. Small secrets are encrypted by KMS directly; documents by envelope encryption with a
/// data key and AES-GCM.
/// </summary>
public sealed class SecretsVault(IAmazonKeyManagementService kms)
{
    /// <summary>Returns the key behind <paramref name="alias"/>, creating both on first use.</summary>
    public async Task<string> EnsureKeyAsync(string alias)
    {
        try
        {
            return (await kms.DescribeKeyAsync(new DescribeKeyRequest { KeyId = alias })).KeyMetadata.KeyId;
        }
        catch (NotFoundException)
        {
            var key = await kms.CreateKeyAsync(new CreateKeyRequest { Description = "secrets vault", Tags = [new Tag { TagKey = "app", TagValue = "vault" }] });
            await kms.CreateAliasAsync(alias, key.KeyMetadata.KeyId);
            return key.KeyMetadata.KeyId;
        }
    }

    public async Task<byte[]> SealSecretAsync(string alias, string name, string value)
    {
        var response = await kms.EncryptAsync(new EncryptRequest
        {
            KeyId = alias,
            Plaintext = new MemoryStream(Encoding.UTF8.GetBytes(value)),
            EncryptionContext = new Dictionary<string, string> { ["secret"] = name },
        });
        return response.CiphertextBlob.ToArray();
    }

    public async Task<string> OpenSecretAsync(string name, byte[] sealedSecret)
    {
        var response = await kms.DecryptAsync(new DecryptRequest
        {
            CiphertextBlob = new MemoryStream(sealedSecret),
            EncryptionContext = new Dictionary<string, string> { ["secret"] = name },
        });
        var plaintext = response.Plaintext.ToArray();
        try
        {
            return Encoding.UTF8.GetString(plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            Clear(response.Plaintext);
        }
    }

    /// <summary>Envelope encryption: [wrapped data key length][wrapped data key][nonce][tag][ciphertext].</summary>
    public async Task<byte[]> SealDocumentAsync(string alias, byte[] document)
    {
        var dataKey = await kms.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = alias, KeySpec = DataKeySpec.AES_256 });
        var key = dataKey.Plaintext.ToArray();
        Clear(dataKey.Plaintext);
        try
        {
            using var aes = new AesGcm(key, 16);
            var wrapped = dataKey.CiphertextBlob.ToArray();
            var output = new byte[4 + wrapped.Length + 12 + 16 + document.Length];
            BitConverter.TryWriteBytes(output, wrapped.Length);
            wrapped.CopyTo(output, 4);
            var nonce = output.AsSpan(4 + wrapped.Length, 12);
            RandomNumberGenerator.Fill(nonce);
            aes.Encrypt(nonce, document, output.AsSpan(4 + wrapped.Length + 28), output.AsSpan(4 + wrapped.Length + 12, 16));
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public async Task<byte[]> OpenDocumentAsync(byte[] sealedDocument)
    {
        var length = BitConverter.ToInt32(sealedDocument, 0);
        var response = await kms.DecryptAsync(new DecryptRequest { CiphertextBlob = new MemoryStream(sealedDocument, 4, length) });
        var key = response.Plaintext.ToArray();
        Clear(response.Plaintext);
        try
        {
            using var aes = new AesGcm(key, 16);
            var body = sealedDocument.AsSpan(4 + length);
            var document = new byte[body.Length - 28];
            aes.Decrypt(body[..12], body[28..], body[12..28], document);
            return document;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Clears a plaintext the SDK returned, where its buffer can be reached.</summary>
    private static void Clear(MemoryStream plaintext)
    {
        if (plaintext.TryGetBuffer(out var buffer))
        {
            CryptographicOperations.ZeroMemory(buffer);
        }

        plaintext.SetLength(0);
    }

    public async Task<IReadOnlyList<string>> AliasesAsync()
    {
        var aliases = new List<string>();
        await foreach (var alias in kms.Paginators.ListAliases(new ListAliasesRequest { Limit = 10 }).Aliases)
        {
            aliases.Add(alias.AliasName);
        }

        return aliases;
    }
}
