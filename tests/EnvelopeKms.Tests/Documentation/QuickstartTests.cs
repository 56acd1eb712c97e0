using System.Text.RegularExpressions;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The quickstart sample, run as the README runs it (a child process on a folder), twice on the same folder.</summary>
public sealed partial class QuickstartTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-quickstart-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_quickstart_tells_its_story_on_a_first_run_and_reuses_its_key_on_a_later_run()
    {
        var first = await SampleProcess.RunAsync("EnvelopeKms.Samples.Quickstart", _folder);
        Assert.True(first.ExitCode == 0, $"The first run exited with {first.ExitCode}:\n{first.Output}");
        Assert.Contains("First run: created a development root key file with owner-only permissions", first.Output, StringComparison.Ordinal);
        Assert.Contains("production must supply the root key", first.Output, StringComparison.Ordinal);
        var keyId = CreatedKey().Match(first.Output) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No 'Created key:' line:\n{first.Output}");
        Assert.Contains($"Alias:       alias/quickstart -> {keyId}", first.Output, StringComparison.Ordinal);
        AssertStory(first.Output);

        var rootKeyPath = Path.Combine(_folder, "development-root.key");
        Assert.True(File.Exists(rootKeyPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(rootKeyPath));
        }

        var rootKey = await File.ReadAllBytesAsync(rootKeyPath, TestContext.Current.CancellationToken);
        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.Quickstart", _folder);
        Assert.True(second.ExitCode == 0, $"The second run exited with {second.ExitCode}:\n{second.Output}");
        Assert.DoesNotContain("First run", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Created key:", second.Output, StringComparison.Ordinal);
        Assert.Contains("(from an earlier run)", second.Output, StringComparison.Ordinal);
        Assert.Contains($"Reusing key: {keyId} (alias/quickstart)", second.Output, StringComparison.Ordinal);
        AssertStory(second.Output);
        Assert.Equal(rootKey, await File.ReadAllBytesAsync(rootKeyPath, TestContext.Current.CancellationToken));

        // Only encrypted copies of the file remain.
        var files = Path.Combine(_folder, "files");
        Assert.Equal(["report.txt.datakey", "report.txt.encrypted"], Directory.GetFiles(files).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var encrypted = await File.ReadAllBytesAsync(Path.Combine(files, "report.txt.encrypted"), TestContext.Current.CancellationToken);
        Assert.Equal(-1, encrypted.AsSpan().IndexOf("Quarterly report"u8));
    }

    [Fact]
    public async Task The_quickstart_stops_with_a_clear_error_and_creates_no_new_root_key_when_the_root_key_file_of_its_store_is_gone()
    {
        var first = await SampleProcess.RunAsync("EnvelopeKms.Samples.Quickstart", _folder);
        Assert.True(first.ExitCode == 0, $"The first run exited with {first.ExitCode}:\n{first.Output}");
        var rootKeyPath = Path.Combine(_folder, "development-root.key");
        File.Delete(rootKeyPath);
        var storeMetadata = await File.ReadAllBytesAsync(Path.Combine(_folder, "store", "store.json"), TestContext.Current.CancellationToken);

        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.Quickstart", _folder);

        Assert.True(second.ExitCode == 1, $"The run without its root key exited with {second.ExitCode}:\n{second.Output}");
        Assert.Contains("RootKeyException: The development root key file", second.Output, StringComparison.Ordinal);
        Assert.Contains("is missing but the key store already exists; restore the file.", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("First run", second.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(rootKeyPath), "A new development root key replaced the missing one.");
        Assert.Equal(storeMetadata, await File.ReadAllBytesAsync(Path.Combine(_folder, "store", "store.json"), TestContext.Current.CancellationToken));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static void AssertStory(string output)
    {
        string[] expected =
        [
            "Key store:",
            "Decrypted:   \"db-password: correct horse battery staple\"",
            "Refused:     InvalidCiphertextException: The ciphertext is invalid",
            "Data key:    GenerateDataKey returned a 256-bit key",
            "Zeroed the plaintext data key",
            "bytes, identical to the original",
            "DisableKey:  Disabled",
            "Encrypt:     DisabledException:",
            "EnableKey:   Enabled",
            "Encrypt:     works again",
            "Done.",
        ];
        var position = 0;
        foreach (var line in expected)
        {
            var found = output.IndexOf(line, position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"The quickstart output lacks '{line}' (in this order):\n{output}");
            position = found + line.Length;
        }
    }

    [GeneratedRegex(@"Created key: ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();
}
