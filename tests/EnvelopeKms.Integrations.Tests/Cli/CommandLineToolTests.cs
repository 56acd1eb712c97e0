using System.Security.Cryptography;
using EnvelopeKms.Cli;
using EnvelopeKms.Extensions.Configuration;
using Microsoft.Extensions.Configuration;

namespace EnvelopeKms.Integrations.Tests.Cli;

/// <summary>The <c>envelopekms</c> tool, run in-process on a real file store, as an operator would use it.</summary>
public sealed class CommandLineToolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("envelopekms-cli-").FullName;
    private readonly Dictionary<string, string?> _environment = new(StringComparer.Ordinal);

    public CommandLineToolTests()
    {
        _environment["ENVELOPEKMS_ROOT_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _environment["ENVELOPEKMS_STORE"] = "file:" + Path.Combine(_directory, "store");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private async Task<(int Code, string Out, string Err)> RunWithInputAsync(string stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var input = new StringReader(stdin);
        var code = await EnvelopeKmsCli.RunAsync(args, stdout, stderr, input, name => _environment.GetValueOrDefault(name), TestContext.Current.CancellationToken);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => RunWithInputAsync("", args);

    [Fact]
    public async Task An_operator_creates_lists_describes_rotates_disables_enables_and_schedules_a_key_for_deletion()
    {
        var created = await RunAsync("create", "--description", "orders", "--alias", "alias/orders");
        Assert.Equal(0, created.Code);
        var keyId = created.Out.Trim();
        Assert.Matches("^[0-9a-f-]{36}$", keyId);

        var list = await RunAsync("list");
        Assert.Contains(keyId, list.Out, StringComparison.Ordinal);
        Assert.Contains("alias/orders", list.Out, StringComparison.Ordinal);
        Assert.Contains("Enabled", list.Out, StringComparison.Ordinal);

        var describe = await RunAsync("describe", "alias/orders");
        Assert.Contains("orders", describe.Out, StringComparison.Ordinal);
        Assert.Contains("SYMMETRIC_DEFAULT", describe.Out, StringComparison.Ordinal);
        var material = describe.Out.Split('\n').Single(l => l.StartsWith("CurrentKeyMaterialId", StringComparison.Ordinal));

        Assert.Equal(0, (await RunAsync("rotate", "alias/orders")).Code);
        Assert.DoesNotContain(material, (await RunAsync("describe", keyId)).Out, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync("disable", keyId)).Code);
        Assert.Contains("Disabled", (await RunAsync("describe", keyId)).Out, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("enable", keyId)).Code);
        var scheduled = await RunAsync("schedule-deletion", keyId, "--days", "7");
        Assert.Equal(0, scheduled.Code);
        Assert.Contains("will be deleted on", scheduled.Out, StringComparison.Ordinal);
        Assert.Contains("PendingDeletion", (await RunAsync("describe", keyId)).Out, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("cancel-deletion", keyId)).Code);
        Assert.Contains("Disabled", (await RunAsync("describe", keyId)).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_encrypt_and_decrypt_with_progress_and_a_tampered_file_leaves_no_output()
    {
        await RunAsync("create", "--alias", "alias/files");
        var plaintext = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await File.WriteAllBytesAsync(PathOf("report.bin"), plaintext, TestContext.Current.CancellationToken);

        var encrypted = await RunAsync("encrypt", "--key", "alias/files", "--context", "department=finance", PathOf("report.bin"), PathOf("report.bin.kms"));
        Assert.Equal(0, encrypted.Code);
        Assert.Contains("100%", encrypted.Err, StringComparison.Ordinal);
        Assert.NotEqual(plaintext, (await File.ReadAllBytesAsync(PathOf("report.bin.kms"), TestContext.Current.CancellationToken))[..plaintext.Length]);

        var decrypted = await RunAsync("decrypt", PathOf("report.bin.kms"), PathOf("report.out"));
        Assert.Equal(0, decrypted.Code);
        Assert.Equal(plaintext, await File.ReadAllBytesAsync(PathOf("report.out"), TestContext.Current.CancellationToken));

        var bytes = await File.ReadAllBytesAsync(PathOf("report.bin.kms"), TestContext.Current.CancellationToken);
        bytes[bytes.Length / 2] ^= 1;
        await File.WriteAllBytesAsync(PathOf("tampered.kms"), bytes, TestContext.Current.CancellationToken);
        var refused = await RunAsync("decrypt", PathOf("tampered.kms"), PathOf("tampered.out"));
        Assert.Equal(1, refused.Code);
        Assert.Contains("InvalidCiphertextException", refused.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("tampered.out")));
        Assert.Empty(Directory.GetFiles(_directory, "*.partial"));
    }

    [Fact]
    public async Task Key_material_is_imported_from_a_file_into_an_external_key()
    {
        var keyId = (await RunAsync("create", "--origin", "EXTERNAL")).Out.Trim();
        Assert.Contains("PendingImport", (await RunAsync("describe", keyId)).Out, StringComparison.Ordinal);
        await File.WriteAllBytesAsync(PathOf("material.bin"), RandomNumberGenerator.GetBytes(32), TestContext.Current.CancellationToken);

        var imported = await RunAsync("import", keyId, "--material", PathOf("material.bin"), "--valid-to", DateTimeOffset.UtcNow.AddDays(30).ToString("O"));

        Assert.Equal(0, imported.Code);
        Assert.Contains("Enabled", imported.Out, StringComparison.Ordinal);
        Assert.Contains("EXTERNAL", (await RunAsync("describe", keyId)).Out, StringComparison.Ordinal);

        await File.WriteAllBytesAsync(PathOf("too-big.bin"), new byte[447], TestContext.Current.CancellationToken);
        var tooBig = await RunAsync("import", keyId, "--material", PathOf("too-big.bin"));
        Assert.Equal(2, tooBig.Code);
        Assert.Contains("docs/import.md", tooBig.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configuration_value_made_by_the_tool_from_stdin_decrypts_in_the_configuration_provider()
    {
        await RunAsync("create", "--alias", "alias/config");

        var made = await RunWithInputAsync("Host=db;Password=hunter2\n", "config", "encrypt", "--key", "alias/config", "--name", "ConnectionStrings:Orders");

        Assert.Equal(0, made.Code);
        var value = made.Out.Trim();
        Assert.True(EnvelopeKmsConfigurationValues.IsEncrypted(value));
        using var kms = KeyManagerFactory.Create(b => b.PersistKeysToFileSystem(Path.Combine(_directory, "store")).ProtectKeysWithRootKey(_environment["ENVELOPEKMS_ROOT_KEY"]!));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Orders"] = value }).AddEnvelopeKmsDecryption(kms).Build();
        Assert.Equal("Host=db;Password=hunter2", configuration["ConnectionStrings:Orders"]);
    }

    [Fact]
    public async Task An_audit_trail_verifies_and_an_edited_record_is_reported_with_exit_code_3()
    {
        var trail = PathOf("audit.jsonl");
        using (var kms = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().ProtectKeysWithRootKey(_environment["ENVELOPEKMS_ROOT_KEY"]!).AddJsonLinesAuditTrail(trail)))
        {
            var key = await kms.CreateKeyAsync(new CreateKeyRequest(), TestContext.Current.CancellationToken);
            await kms.EncryptAsync(new EncryptRequest { KeyId = key.KeyMetadata.KeyId, Plaintext = new byte[] { 1 } }, TestContext.Current.CancellationToken);
        }

        var intact = await RunAsync("audit", "verify", trail);
        Assert.Equal(0, intact.Code);
        Assert.StartsWith("intact: 2 records", intact.Out, StringComparison.Ordinal);

        var lines = await File.ReadAllLinesAsync(trail, TestContext.Current.CancellationToken);
        lines[0] = lines[0].Replace("CreateKey", "CreateKex", StringComparison.Ordinal);
        await File.WriteAllLinesAsync(trail, lines, TestContext.Current.CancellationToken);
        var broken = await RunAsync("audit", "verify", trail);
        Assert.Equal(3, broken.Code);
        Assert.Contains("BROKEN", broken.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_configuration_and_bad_arguments_are_usage_errors_and_bad_values_are_KMS_errors()
    {
        _environment.Remove("ENVELOPEKMS_STORE");
        var noStore = await RunAsync("list");
        Assert.Equal(2, noStore.Code);
        Assert.Contains("ENVELOPEKMS_STORE", noStore.Err, StringComparison.Ordinal);

        _environment["ENVELOPEKMS_STORE"] = Path.Combine(_directory, "keys.db");
        _environment.Remove("ENVELOPEKMS_ROOT_KEY");
        var noRootKey = await RunAsync("list");
        Assert.Equal(2, noRootKey.Code);
        Assert.Contains("ENVELOPEKMS_ROOT_KEY", noRootKey.Err, StringComparison.Ordinal);

        var unknown = await RunAsync("frobnicate");
        Assert.Equal(2, unknown.Code);
        var missingArgument = await RunAsync("--dev-root-key", PathOf("dev.key"), "describe");
        Assert.Equal(2, missingArgument.Code);

        var badSpec = await RunAsync("--dev-root-key", PathOf("dev.key"), "create", "--key-spec", "AES_999");
        Assert.Equal(1, badSpec.Code);
        Assert.Contains("ValidationException", badSpec.Err, StringComparison.Ordinal);
        var notFound = await RunAsync("--dev-root-key", PathOf("dev.key"), "describe", "alias/missing");
        Assert.Equal(1, notFound.Code);
        Assert.Contains("NotFoundException", notFound.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_directory, "keys.db")));
    }
}
