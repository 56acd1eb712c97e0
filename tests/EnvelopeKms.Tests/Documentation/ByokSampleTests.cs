using EnvelopeKms.Tests.Interop;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The bring-your-own-key sample, run as the README runs it (a child process on a folder), with openssl and with .NET wrapping.</summary>
public sealed class ByokSampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("envelopekms-byok-").FullName;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_byok_sample_imports_expires_and_re_imports_the_same_material(bool openssl)
    {
        if (openssl)
        {
            OpenSslCommandLine.Require();
        }

        var run = openssl
            ? await SampleProcess.RunAsync("EnvelopeKms.Samples.Byok", _folder)
            : await SampleProcess.RunAsync("EnvelopeKms.Samples.Byok", _folder, "--no-openssl");
        TestContext.Current.TestOutputHelper?.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");
        SampleProcess.AssertInOrder(run.Output,
        [
            "1. Create a key with origin EXTERNAL", "state PendingImport",
            "2. Get the wrapping public key and the import token",
            openssl ? "$ openssl pkeyutl -encrypt" : "RSA.Encrypt(material, RSAEncryptionPadding.OaepSHA256)",
            "4. Import it, expiring in 30 days", "state Enabled",
            "Decrypt: \"payroll 2026\"",
            "6. Let the material expire", "Encrypt refused: KMSInvalidStateException", "State: PendingImport",
            "7. Re-import the same material", "same material True",
            "Decrypt old ciphertext: \"payroll 2026\"",
            "8. Rotate to new imported material", "CURRENT, IMPORTED", "PENDING_ROTATION, IMPORTED", "the imported one True",
            "Decrypt old ciphertext after the rotation: \"payroll 2026\"",
            "Done.",
        ]);
        Assert.False(File.Exists(Path.Combine(_folder, "PlaintextKeyMaterial.bin")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
