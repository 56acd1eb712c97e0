using System.Security.Cryptography;
using System.Text.RegularExpressions;
using EnvelopeKms.Tests.Interop;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The signing sample, run as the README runs it (a child process on a folder), twice on the same folder.</summary>
public sealed partial class SigningSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-signing-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_signing_sample_signs_a_document_that_verifies_outside_the_library_and_macs_a_token_and_reuses_its_keys_on_a_later_run()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            // Under CI=true the sample's openssl check must run, not be reported as "not run".
            OpenSslCommandLine.Require();
        }

        var first = await SampleProcess.RunAsync("EnvelopeKms.Samples.Signing", _folder);
        var signingKey = CreatedKey().Matches(first.Output) is { Count: 2 } created ? created[0].Groups[1].Value : throw new Xunit.Sdk.XunitException($"Not two 'Created key:' lines:\n{first.Output}");
        var macKey = created[1].Groups[1].Value;
        AssertStory(first, [
            $"Created key: {signingKey}, ECC_NIST_P256, SIGN_VERIFY",
            $"Alias:       alias/signing-documents -> {signingKey}",
        ], [
            $"Created key: {macKey}, HMAC_256, GENERATE_VERIFY_MAC",
            $"Alias:       alias/signing-tokens -> {macKey}",
        ]);
        Assert.Contains("(created on this first run; for demos only)", first.Output, StringComparison.Ordinal);

        // The files a relying party gets: the public key (PEM SPKI), the document and its signature.
        var pem = await File.ReadAllTextAsync(Path.Combine(_folder, "public-key.pem"), TestContext.Current.CancellationToken);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem, StringComparison.Ordinal);
        using (var ecdsa = ECDsa.Create())
        {
            ecdsa.ImportFromPem(pem);
            Assert.Equal(256, ecdsa.KeySize);
            var document = await File.ReadAllBytesAsync(Path.Combine(_folder, "doc.txt"), TestContext.Current.CancellationToken);
            var signature = await File.ReadAllBytesAsync(Path.Combine(_folder, "doc.sig"), TestContext.Current.CancellationToken);
            Assert.True(ecdsa.VerifyData(document, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }

        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.Signing", _folder);
        Assert.DoesNotContain("Created key:", second.Output, StringComparison.Ordinal);
        Assert.Contains("(from an earlier run)", second.Output, StringComparison.Ordinal);
        AssertStory(second, [$"Reusing key: {signingKey} (alias/signing-documents), ECC_NIST_P256, created "], [$"Reusing key: {macKey} (alias/signing-tokens), HMAC_256, created "]);
        // The same key signs again, so the earlier public key still verifies the new signature.
        Assert.Equal(pem, await File.ReadAllTextAsync(Path.Combine(_folder, "public-key.pem"), TestContext.Current.CancellationToken));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private void AssertStory((int ExitCode, string Output) run, string[] signingKeyLines, string[] macKeyLines)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");
        var openSslVerified = OpenSslCommandLine.Path is null ? "openssl:     not run: openssl is not on PATH" : "openssl:     \"Verified OK\" (exit code 0, doc.txt)";
        var openSslRefused = OpenSslCommandLine.Path is null ? "openssl:     not run: openssl is not on PATH" : "openssl:     \"Verification failure\" (exit code 1, doc-tampered.txt)";
        string[] expected =
        [
            $"Key store:            {Path.Combine(_folder, "keys.db")} (SQLite)",
            "1. An ECC_NIST_P256 signing key (SIGN_VERIFY)",
            .. signingKeyLines,
            "2. Sign a document with ECDSA_SHA_256",
            "Document:    doc.txt (",
            "Sign:        ECDSA_SHA_256 -> doc.sig (",
            "Verify:      SignatureValid = True (in the key manager)",
            "3. Export the public key and verify outside the library",
            "GetPublicKey: ECC_NIST_P256, 91-byte SubjectPublicKeyInfo -> public-key.pem (PEM)",
            ".NET ECDsa:  verified (ImportSubjectPublicKeyInfo + VerifyData, SHA-256, DER signature)",
            $"Same check:  (cd {_folder} && openssl dgst -sha256 -verify public-key.pem -signature doc.sig doc.txt)",
            openSslVerified,
            "4. A tampered document fails",
            "Verify:      SignatureValid = False (in the key manager)",
            ".NET ECDsa:  NOT verified",
            openSslRefused,
            "5. An HMAC_256 key (GENERATE_VERIFY_MAC) and a MAC'd token",
            .. macKeyLines,
            "GenerateMac: HMAC_SHA_256 -> ",
            "VerifyMac:   MacValid = True",
            "Tampered:    \"user=alice;role=admin;",
            "VerifyMac:   MacValid = False (a wrong MAC is false, not an exception)",
            "Done.",
        ];
        SampleProcess.AssertInOrder(run.Output, expected);
    }

    [GeneratedRegex(@"Created key: ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();
}
