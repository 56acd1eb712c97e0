namespace EnvelopeKms.Tests.Documentation;

/// <summary>The AWS SDK sample, run as a user runs it: application code written against IAmazonKeyManagementService, unchanged, on a SQLite store.</summary>
public sealed class AwsSdkSampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("envelopekms-aws-sdk-").FullName;

    [Fact]
    public async Task The_AWS_SDK_sample_runs_code_written_for_AWS_KMS_and_finds_its_key_again_on_a_second_run()
    {
        var first = await SampleProcess.RunAsync("EnvelopeKms.Samples.AwsSdk", _folder);
        TestContext.Current.TestOutputHelper?.WriteLine(first.Output);
        Assert.True(first.ExitCode == 0, $"The sample exited with {first.ExitCode}:\n{first.Output}");
        SampleProcess.AssertInOrder(first.Output,
        [
            "IAmazonKeyManagementService is EnvelopeKmsAmazonClient",
            "1. The vault's key", "alias/vault -> ",
            "2. A secret", "opened: \"correct horse battery staple\"",
            "3. The wrong context is refused", "InvalidCiphertextException: ErrorCode InvalidCiphertextException, HTTP 400",
            "4. A document", "72000 bytes sealed into", "opened intact: True",
            "5. Aliases", "alias/vault",
            "Done.",
        ]);
        Assert.True(File.Exists(Path.Combine(_folder, "keys.db")));

        var second = await SampleProcess.RunAsync("EnvelopeKms.Samples.AwsSdk", _folder);
        Assert.True(second.ExitCode == 0, $"The second run exited with {second.ExitCode}:\n{second.Output}");
        Assert.Equal(KeyLine(first.Output), KeyLine(second.Output));
    }

    private static string KeyLine(string output) => output.Split('\n').Single(l => l.Contains("alias/vault -> ", StringComparison.Ordinal)).Trim();

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
