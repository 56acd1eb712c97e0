using System.Text.RegularExpressions;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The rotation sample, run as the README runs it (a child process on a folder), twice on the same folder.</summary>
public sealed partial class RotationSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-rotation-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_rotation_sample_rotates_on_demand_and_on_schedule_decrypts_every_version_and_re_encrypts_old_data()
    {
        var first = await SampleProcess.RunAsync("EnvelopeKms.Samples.Rotation", _folder);
        TestContext.Current.TestOutputHelper?.WriteLine(first.Output);
        Assert.True(first.ExitCode == 0, $"The sample exited with {first.ExitCode}:\n{first.Output}");

        var (m1, m2, m3) = (Of("Encrypt:     \"invoice #1001\""), Of("Encrypt:     \"invoice #1002\""), Of("Encrypt:     \"invoice #1003\""));
        Assert.Equal(3, new[] { m1, m2, m3 }.Distinct().Count());
        SampleProcess.AssertInOrder(first.Output,
        [
            "1. Create a key and encrypt under its first material",
            "2. Rotate on demand",
            $"RotateKeyOnDemand: material {m2} is current",
            "same key id True",
            "3. Rotate on a schedule (every 90 days)",
            "EnableKeyRotation: every 90 days",
            "Demo clock:  moved 90 days ahead",
            "(the due rotation was applied before this use)",
            "4. Decrypt the old and the new ciphertexts",
            $"Decrypt first   \"invoice #1001\" (material {m1})",
            $"Decrypt second  \"invoice #1002\" (material {m2})",
            $"Decrypt third   \"invoice #1003\" (material {m3})",
            "5. List the key's material versions",
            $"{m1}  ", "(first)    NON_CURRENT",
            $"{m2}  ", "ON_DEMAND  NON_CURRENT",
            $"{m3}  ", "AUTOMATIC  CURRENT",
            "6. Re-encrypt the oldest ciphertext under the current material",
            $"ReEncrypt:   material {m1} -> {m3}, decrypts to \"invoice #1001\"",
            "Done.",
        ]);
        Assert.DoesNotContain("Previous:", first.Output, StringComparison.Ordinal);

        var firstKey = CreatedKey().Match(first.Output).Groups[1].Value;
        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.Rotation", _folder);
        Assert.True(second.ExitCode == 0, $"The second run exited with {second.ExitCode}:\n{second.Output}");
        Assert.Contains($"Previous:    {firstKey} scheduled for deletion in 7 days", second.Output, StringComparison.Ordinal);
        Assert.NotEqual(firstKey, CreatedKey().Match(second.Output).Groups[1].Value);

        string Of(string encryptLine)
        {
            var start = first.Output.IndexOf(encryptLine, StringComparison.Ordinal);
            Assert.True(start >= 0, $"No '{encryptLine}' in:\n{first.Output}");
            return Material().Match(first.Output, start).Groups[1].Value;
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [GeneratedRegex(@"material ([0-9a-f]{12}…)")]
    private static partial Regex Material();

    [GeneratedRegex(@"Created key: ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();
}
