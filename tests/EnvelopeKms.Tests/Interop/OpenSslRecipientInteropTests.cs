using EnvelopeKms.Tests.Recipients;

namespace EnvelopeKms.Tests.Interop;

/// <summary>
/// A recipient without .NET opens <c>CiphertextForRecipient</c> with <c>openssl cms -decrypt</c> and its
/// private key: the envelope is standard CMS (RFC 5652) with RSAES-OAEP SHA-256 key transport and
/// AES-256-CBC content, as the AWS Nitro Enclaves SDK expects. Skipped when openssl is not on PATH
/// (failed instead under CI=true).
/// </summary>
public sealed class OpenSslRecipientInteropTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("envelopekms-openssl-cms-");
    private readonly AttestationDocuments _documents = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        _documents.Dispose();
        _directory.Delete(recursive: true);
    }

    [Fact]
    public async Task Openssl_cms_opens_CiphertextForRecipient_with_the_recipients_private_key()
    {
        OpenSslCommandLine.Require();
        using var kms = new RecipientKeyManager(_documents);
        var keyId = (await kms.Manager.CreateKeyAsync(new CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        using var response = await kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = keyId, KeySpec = DataKeySpec.Aes256, Recipient = _documents.RecipientInfo() }, Ct);
        using var decrypted = await kms.Manager.DecryptAsync(new DecryptRequest { CiphertextBlob = response.CiphertextBlob }, Ct);

        await File.WriteAllTextAsync(Path.Combine(_directory.FullName, "recipient.pem"), _documents.Recipient.ExportPkcs8PrivateKeyPem() + "\n", Ct);
        await File.WriteAllBytesAsync(Path.Combine(_directory.FullName, "for-recipient.der"), response.CiphertextForRecipient!, Ct);
        var opened = await OpenSslCommandLine.RunAsync(
            _directory.FullName,
            "cms", "-decrypt", "-inform", "DER", "-in", "for-recipient.der", "-inkey", "recipient.pem", "-binary", "-out", "data-key.bin");
        Assert.True(opened.ExitCode == 0, $"openssl cms could not open CiphertextForRecipient (exit code {opened.ExitCode}):\n{opened.Output}");
        Assert.Equal(decrypted.Plaintext, await File.ReadAllBytesAsync(Path.Combine(_directory.FullName, "data-key.bin"), Ct));

        var printed = await OpenSslCommandLine.RunAsync(_directory.FullName, "cms", "-cmsout", "-print", "-inform", "DER", "-in", "for-recipient.der");
        Assert.Contains("aes-256-cbc", printed.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("rsaesOaep", printed.Output, StringComparison.Ordinal);
    }
}
