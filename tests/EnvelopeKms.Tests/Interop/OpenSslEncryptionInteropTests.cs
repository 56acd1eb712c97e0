using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Interop;

/// <summary>
/// Data encrypted by <c>openssl pkeyutl</c> with the public key <c>GetPublicKey</c> exports (written as
/// a PEM SubjectPublicKeyInfo) decrypts through the key manager, as a sender without the library
/// would encrypt for an RSA key; a ciphertext with one changed byte is an invalid ciphertext. Skipped
/// when openssl is not on PATH (failed instead under CI=true).
/// </summary>
public sealed class OpenSslEncryptionInteropTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("envelopekms-openssl-oaep-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>Key spec, encryption algorithm, the OAEP digest openssl uses (for both OAEP and MGF1, as KMS does), and a plaintext length at the KMS limit.</summary>
    public static TheoryData<string, string, string, int> Cases => new()
    {
        { nameof(KeySpec.Rsa2048), nameof(EncryptionAlgorithm.RsaesOaepSha256), "sha256", 190 },
        { nameof(KeySpec.Rsa2048), nameof(EncryptionAlgorithm.RsaesOaepSha1), "sha1", 214 },
        { nameof(KeySpec.Rsa3072), nameof(EncryptionAlgorithm.RsaesOaepSha256), "sha256", 318 },
        { nameof(KeySpec.Rsa4096), nameof(EncryptionAlgorithm.RsaesOaepSha256), "sha256", 446 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Data_encrypted_by_openssl_with_the_exported_public_key_decrypts_in_the_key_manager(string specName, string algorithmName, string digest, int length)
    {
        OpenSslCommandLine.Require();
        var spec = Enum.Parse<KeySpec>(specName);
        var algorithm = Enum.Parse<EncryptionAlgorithm>(algorithmName);
        using var kms = new TestKeyManager();
        var key = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = KeyUsage.EncryptDecrypt }, Ct)).KeyMetadata;
        var publicKey = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct)).PublicKey;
        var plaintext = RandomNumberGenerator.GetBytes(length);
        await File.WriteAllTextAsync(Path.Combine(_directory.FullName, "public-key.pem"), PemEncoding.WriteString("PUBLIC KEY", publicKey) + "\n", Ct);
        await File.WriteAllBytesAsync(Path.Combine(_directory.FullName, "plain.bin"), plaintext, Ct);

        var encrypted = await OpenSslCommandLine.RunAsync(
            _directory.FullName,
            "pkeyutl", "-encrypt", "-pubin", "-inkey", "public-key.pem",
            "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", $"rsa_oaep_md:{digest}", "-pkeyopt", $"rsa_mgf1_md:{digest}",
            "-in", "plain.bin", "-out", "cipher.bin");
        Assert.True(encrypted.ExitCode == 0, $"openssl could not encrypt with the exported {spec.ToKmsName()} key (exit code {encrypted.ExitCode}):\n{encrypted.Output}");
        var ciphertext = await File.ReadAllBytesAsync(Path.Combine(_directory.FullName, "cipher.bin"), Ct);

        using (var decrypted = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = ciphertext, KeyId = key.KeyId, EncryptionAlgorithm = algorithm }, Ct))
        {
            Assert.Equal(plaintext, decrypted.Plaintext);
            Assert.Equal(algorithm, decrypted.EncryptionAlgorithm);
        }

        var tampered = (byte[])ciphertext.Clone();
        tampered[tampered.Length / 2] ^= 0x01;
        await Assert.ThrowsAsync<KmsInvalidCiphertextException>(() => kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = tampered, KeyId = key.KeyId, EncryptionAlgorithm = algorithm }, Ct));
    }
}
