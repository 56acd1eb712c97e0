using System.Text.RegularExpressions;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The file-encryption sample, run as a child process on a small file, twice on the same folder.</summary>
public sealed partial class FileEncryptionSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-file-encryption-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_file_encryption_sample_round_trips_a_file_shows_its_header_reads_one_segment_and_rejects_a_flipped_byte()
    {
        var first = await SampleProcess.RunAsync("EnvelopeKms.Samples.FileEncryption", "1", _folder);
        Assert.True(first.ExitCode == 0, $"The first run exited with {first.ExitCode}:\n{first.Output}");
        var keyId = CreatedKey().Match(first.Output) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No 'Created key:' line:\n{first.Output}");
        AssertStory(first.Output, keyId);

        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.FileEncryption", "1", _folder);
        Assert.True(second.ExitCode == 0, $"The second run exited with {second.ExitCode}:\n{second.Output}");
        Assert.DoesNotContain("Created key:", second.Output, StringComparison.Ordinal);
        Assert.Contains($"Reusing key: {keyId} (alias/file-encryption)", second.Output, StringComparison.Ordinal);
        AssertStory(second.Output, keyId);

        Assert.Empty(Directory.GetFiles(Path.Combine(_folder, "data")));
    }

    [Fact]
    public async Task The_file_encryption_sample_refuses_a_size_that_is_not_a_number()
    {
        var run = await SampleProcess.RunAsync("EnvelopeKms.Samples.FileEncryption", "lots", _folder);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Usage:", run.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder));
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static void AssertStory(string output, string keyId)
    {
        string[] expected =
        [
            "Wrote:       data/original.bin (",
            "100%",
            "Encrypted:   data/original.bin.ekms (",
            "Format:      magic \"EK\", version 1, suite 2 (segmented stream, key-committing)",
            $"Key id:      {keyId}",
            "Data key:    ",
            "Context:     file=original.bin, purpose=file-encryption-sample",
            "Segments:    16 of ",
            "Stream:      number ",
            "100%",
            ", identical to the original",
            "Segment:     8 of 16: ",
            "identical to bytes ",
            "Flipped:     byte ",
            "Rejected:    InvalidCiphertextException: The envelope is invalid",
            "Done.",
        ];
        var position = 0;
        foreach (var line in expected)
        {
            var found = output.IndexOf(line, position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"The sample's output lacks '{line}' (in this order):\n{output}");
            position = found + line.Length;
        }

        // The encrypted length printed equals the predicted one.
        var encrypted = EncryptedLine().Match(output);
        Assert.True(encrypted.Success, output);
        Assert.Equal(encrypted.Groups[1].Value, encrypted.Groups[2].Value);
    }

    [GeneratedRegex(@"Created key: ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();

    [GeneratedRegex(@"Encrypted:   data/original\.bin\.ekms \(([0-9.,\s]+) bytes; predicted ([0-9.,\s]+)\)")]
    private static partial Regex EncryptedLine();
}
