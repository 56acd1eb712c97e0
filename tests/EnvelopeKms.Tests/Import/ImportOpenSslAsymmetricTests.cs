using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;
using EnvelopeKms.Tests.Interop;
using EnvelopeKms.Tests.KeyManagement;

namespace EnvelopeKms.Tests.Import;

/// <summary>An asymmetric private key prepared and wrapped with the openssl command line, step by step as the AWS documentation shows.</summary>
public sealed class ImportOpenSslAsymmetricTests
{
    [Theory]
    [InlineData(KeySpec.Rsa2048, "RSA", "rsa_keygen_bits:2048")]
    [InlineData(KeySpec.EccNistP256, "EC", "ec_paramgen_curve:P-256")]
    public async Task A_private_key_made_and_wrapped_with_RSA_AES_KEY_WRAP_SHA_256_by_openssl_imports_and_signs(KeySpec spec, string algorithm, string option)
    {
        OpenSslCommandLine.Require();
        using var kms = new TestKeyManager();
        var km = kms.Api();
        var key = (await km.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = KeyUsage.SignVerify, Origin = KeyOrigin.External }, Kms.Ct)).KeyMetadata;
        var parameters = await km.GetParametersForImportAsync(new GetParametersForImportRequest { KeyId = key.KeyId, WrappingAlgorithm = ImportWrappingAlgorithm.RsaAesKeyWrapSha256, WrappingKeySpec = WrappingKeySpec.Rsa4096 }, Kms.Ct);
        var folder = Directory.CreateTempSubdirectory("byok-asym-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(folder, "WrappingPublicKey.bin"), parameters.PublicKey, Kms.Ct);
            // 1. The key pair, and its private key as unencrypted DER PKCS#8.
            await RunAsync(folder, "genpkey", "-algorithm", algorithm, "-pkeyopt", option, "-out", "PrivateKey.pem");
            await RunAsync(folder, "pkcs8", "-topk8", "-outform", "der", "-nocrypt", "-in", "PrivateKey.pem", "-out", "PrivateKey.der");
            await RunAsync(folder, "pkey", "-in", "PrivateKey.pem", "-pubout", "-outform", "der", "-out", "PublicKey.der");
            // 2. An ephemeral AES-256 key wraps the private key (AES key wrap with padding, RFC 5649: -id-aes256-wrap-pad, IV A65959A6).
            await RunAsync(folder, "rand", "-out", "aes-key.bin", "32");
            var aesKeyHex = Convert.ToHexStringLower(await File.ReadAllBytesAsync(Path.Combine(folder, "aes-key.bin"), Kms.Ct));
            await RunAsync(folder, "enc", "-id-aes256-wrap-pad", "-K", aesKeyHex, "-iv", "A65959A6", "-in", "PrivateKey.der", "-out", "key-material-wrapped.bin");
            // 3. The wrapping public key encrypts the AES key with RSA-OAEP-SHA-256.
            await RunAsync(folder, "pkeyutl", "-encrypt", "-in", "aes-key.bin", "-out", "aes-key-wrapped.bin",
                "-inkey", "WrappingPublicKey.bin", "-keyform", "DER", "-pubin", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256");
            // 4. EncryptedKeyMaterial = wrapped AES key ‖ wrapped private key.
            byte[] encrypted = [.. await File.ReadAllBytesAsync(Path.Combine(folder, "aes-key-wrapped.bin"), Kms.Ct), .. await File.ReadAllBytesAsync(Path.Combine(folder, "key-material-wrapped.bin"), Kms.Ct)];

            await km.ImportKeyMaterialAsync(new ImportKeyMaterialRequest
            {
                KeyId = key.KeyId,
                ImportToken = parameters.ImportToken,
                EncryptedKeyMaterial = encrypted,
                ExpirationModel = ExpirationModel.KeyMaterialDoesNotExpire,
            }, Kms.Ct);

            var publicKey = await File.ReadAllBytesAsync(Path.Combine(folder, "PublicKey.der"), Kms.Ct);
            Assert.Equal(publicKey, (await km.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Kms.Ct)).PublicKey);
            var signingAlgorithm = spec == KeySpec.Rsa2048 ? SigningAlgorithm.RsassaPssSha256 : SigningAlgorithm.EcdsaSha256;
            var signature = await km.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Kms.Utf8("openssl"), SigningAlgorithm = signingAlgorithm }, Kms.Ct);
            // openssl checks the signature with the public key it made.
            await File.WriteAllBytesAsync(Path.Combine(folder, "message.bin"), Kms.Utf8("openssl"), Kms.Ct);
            await File.WriteAllBytesAsync(Path.Combine(folder, "signature.bin"), signature.Signature, Kms.Ct);
            string[] pss = spec == KeySpec.Rsa2048 ? ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"] : [];
            await RunAsync(folder, ["dgst", "-sha256", "-verify", "PublicKey.der", "-keyform", "DER", .. pss, "-signature", "signature.bin", "message.bin"]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task RunAsync(string folder, params string[] arguments)
    {
        var (exit, output) = await OpenSslCommandLine.RunAsync(folder, arguments);
        Assert.True(exit == 0, $"openssl {arguments[0]}: {output}");
    }
}
