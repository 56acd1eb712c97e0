using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

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
        Assert.Contains($"Key store:            {Path.Combine(_folder, "keys.db")} (SQLite)", first.Output, StringComparison.Ordinal);
        Assert.Contains(ReadKeys(Path.Combine(_folder, "keys.db")), k => k.KeyId == keyId && k.Document.Contains("Quickstart demo key", StringComparison.Ordinal));
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
        var storePath = Path.Combine(_folder, "keys.db");
        var keysBefore = ReadKeys(storePath);
        var metadataBefore = ReadMetadata(storePath);

        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.Quickstart", _folder);

        Assert.True(second.ExitCode == 1, $"The run without its root key exited with {second.ExitCode}:\n{second.Output}");
        Assert.Contains("RootKeyException: The development root key file", second.Output, StringComparison.Ordinal);
        Assert.Contains("is missing but the key store already exists; restore the file.", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("First run", second.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(rootKeyPath), "A new development root key replaced the missing one.");
        Assert.Equal(keysBefore, ReadKeys(storePath));
        Assert.Equal(metadataBefore, ReadMetadata(storePath));
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

    /// <summary>Every key row of the quickstart's SQLite database, read directly (not through a store).</summary>
    private static List<(string KeyId, long Version, string Document)> ReadKeys(string databasePath)
    {
        using var connection = OpenReadOnly(databasePath);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key_id, version, document FROM keys ORDER BY key_id";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2)));
        }

        return rows;
    }

    private static string? ReadMetadata(string databasePath)
    {
        using var connection = OpenReadOnly(databasePath);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT document FROM metadata WHERE id = 1";
        return command.ExecuteScalar() as string;
    }

    private static SqliteConnection OpenReadOnly(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    [GeneratedRegex(@"Created key: ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();
}
