using System.Security.Cryptography;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Interop;

/// <summary>
/// Signatures made by the key manager verify with the <c>openssl</c> command line and the public key
/// <c>GetPublicKey</c> exports (written as a PEM SubjectPublicKeyInfo), as a relying party without the
/// library would check them; a tampered signature or message fails there too. Skipped when openssl is
/// not on PATH (failed instead under CI=true).
/// </summary>
public sealed class OpenSslSignatureInteropTests : IDisposable
{
    private static readonly byte[] Message = "invoice 2026-0042: 1,250.00 EUR to ACME GmbH\n"u8.ToArray();
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("envelopekms-openssl-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Delete(recursive: true);

    /// <summary>
    /// Key spec, signing algorithm, and the openssl arguments (before the message) that verify
    /// <c>message.bin</c> against <c>message.sig</c> with <c>public-key.pem</c>.
    /// </summary>
    public static TheoryData<string, string, string[]> Cases => new()
    {
        { nameof(KeySpec.Rsa2048), nameof(SigningAlgorithm.RsassaPssSha256), ["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-sigopt", "rsa_mgf1_md:sha256", "-verify", "public-key.pem", "-signature", "message.sig"] },
        { nameof(KeySpec.Rsa2048), nameof(SigningAlgorithm.RsassaPkcs1V15Sha256), ["dgst", "-sha256", "-verify", "public-key.pem", "-signature", "message.sig"] },
        { nameof(KeySpec.EccNistP256), nameof(SigningAlgorithm.EcdsaSha256), ["dgst", "-sha256", "-verify", "public-key.pem", "-signature", "message.sig"] },
        { nameof(KeySpec.EccNistP384), nameof(SigningAlgorithm.EcdsaSha384), ["dgst", "-sha384", "-verify", "public-key.pem", "-signature", "message.sig"] },
        // Pure Ed25519 signs the message itself: pkeyutl -rawin (OpenSSL 3.0 and later).
        { nameof(KeySpec.EccNistEdwards25519), nameof(SigningAlgorithm.Ed25519Sha512), ["pkeyutl", "-verify", "-pubin", "-inkey", "public-key.pem", "-rawin", "-sigfile", "message.sig", "-in"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_signature_from_the_key_manager_verifies_with_the_openssl_command_line_and_a_tampered_one_does_not(string specName, string algorithmName, string[] verifyArguments)
    {
        OpenSslCommandLine.Require();
        var spec = Enum.Parse<KeySpec>(specName);
        var algorithm = Enum.Parse<SigningAlgorithm>(algorithmName);
        using var kms = new TestKeyManager();
        var key = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest { KeySpec = spec, KeyUsage = KeyUsage.SignVerify }, Ct)).KeyMetadata;
        var signature = (await kms.Manager.SignAsync(new SignRequest { KeyId = key.KeyId, Message = Message, SigningAlgorithm = algorithm }, Ct)).Signature;
        var publicKey = (await kms.Manager.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = key.KeyId }, Ct)).PublicKey;

        await File.WriteAllTextAsync(PathOf("public-key.pem"), PemEncoding.WriteString("PUBLIC KEY", publicKey) + "\n", Ct);
        await File.WriteAllBytesAsync(PathOf("message.bin"), Message, Ct);
        var tamperedMessage = (byte[])Message.Clone();
        tamperedMessage[0] ^= 1;
        await File.WriteAllBytesAsync(PathOf("tampered.bin"), tamperedMessage, Ct);

        await File.WriteAllBytesAsync(PathOf("message.sig"), signature, Ct);
        var verified = await OpenSslCommandLine.RunAsync(_directory.FullName, [.. verifyArguments, "message.bin"]);
        Assert.True(verified.ExitCode == 0, $"openssl did not verify {spec.ToKmsName()} {algorithm.ToKmsName()} (exit code {verified.ExitCode}):\n{verified.Output}");
        Assert.Contains("Verified", verified.Output, StringComparison.OrdinalIgnoreCase);

        var otherMessage = await OpenSslCommandLine.RunAsync(_directory.FullName, [.. verifyArguments, "tampered.bin"]);
        Assert.True(otherMessage.ExitCode != 0, $"openssl verified {algorithm.ToKmsName()} for a tampered message:\n{otherMessage.Output}");

        // A bit flipped in the middle of the signature, and one in its last byte.
        foreach (var index in new[] { signature.Length / 2, signature.Length - 1 })
        {
            var tampered = (byte[])signature.Clone();
            tampered[index] ^= 0x01;
            await File.WriteAllBytesAsync(PathOf("message.sig"), tampered, Ct);
            var refused = await OpenSslCommandLine.RunAsync(_directory.FullName, [.. verifyArguments, "message.bin"]);
            Assert.True(refused.ExitCode != 0, $"openssl verified a {algorithm.ToKmsName()} signature with byte {index} changed:\n{refused.Output}");
        }
    }

    private string PathOf(string name) => Path.Combine(_directory.FullName, name);
}
