using EnvelopeKms.Tests.Documentation;

namespace EnvelopeKms.Tests.MultiRegion;

/// <summary>The multi-Region sample, run as a user runs it (a child process on a folder): replicate, fail over, change the primary Region.</summary>
public sealed class MultiRegionSampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("envelopekms-multi-region-").FullName;

    [Fact]
    public async Task The_multi_region_sample_decrypts_in_the_other_Region_after_a_failover()
    {
        var run = await SampleProcess.RunAsync("EnvelopeKms.Samples.MultiRegion", _folder);
        TestContext.Current.TestOutputHelper?.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");
        SampleProcess.AssertInOrder(run.Output,
        [
            "Regions in the group: eu-west-1, us-east-1",
            "1. Create a multi-Region key in us-east-1", ":key/mrk-", "PRIMARY", "primary us-east-1; replicas []",
            "2. Replicate it to eu-west-1", "arn:aws:kms:eu-west-1:", "REPLICA", "orders (disaster recovery copy)", "primary us-east-1; replicas [eu-west-1]",
            "PRIMARY", "replicas [eu-west-1]",
            "3. Encrypt in us-east-1",
            "4. Rotate in us-east-1",
            "5. Fail over", "Regions in the group: eu-west-1", "Decrypt in eu-west-1: \"order 1042: 3 crates\"",
            "Rotate in eu-west-1 refused: UnsupportedOperationException",
            "6. us-east-1 is back", "PRIMARY", "primary eu-west-1; replicas [us-east-1]", "REPLICA", "primary eu-west-1; replicas [us-east-1]",
            "7. Rotate from the new primary", "Decrypt in us-east-1 what eu-west-1 encrypted during the outage: \"order 1043: 1 crate\"",
            "Done.",
        ]);
        Assert.True(Directory.Exists(Path.Combine(_folder, "us-east-1")));
        Assert.True(Directory.Exists(Path.Combine(_folder, "eu-west-1")));
    }

    [Fact]
    public async Task The_readme_multi_region_example_decrypts_in_the_other_Region()
    {
#pragma warning disable xUnit1051 // The README shows the calls without test cancellation tokens.
        // The code of README.md's "Multi-Region keys" section.
        var group = new EnvelopeKms.MultiRegion.KmsRegionGroup();
        using var east = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.Region = "us-east-1").JoinRegionGroup(group));
        using var west = KeyManagerFactory.Create(b => b.UseInMemoryKeyStore().Configure(o => o.Region = "eu-west-1").JoinRegionGroup(group));
        var key = (await east.CreateKeyAsync(new CreateKeyRequest { MultiRegion = true })).KeyMetadata; // mrk-..., PRIMARY
        await east.ReplicateKeyAsync(new ReplicateKeyRequest { KeyId = key.KeyId, ReplicaRegion = "eu-west-1" });
        var blob = (await east.EncryptAsync(new EncryptRequest { KeyId = key.KeyId, Plaintext = "order 1042"u8.ToArray() })).CiphertextBlob;
        using var plain = await west.DecryptAsync(new DecryptRequest { CiphertextBlob = blob }); // same key id and material in eu-west-1
#pragma warning restore xUnit1051

        Assert.Equal("order 1042"u8.ToArray(), plain.Plaintext);
        Assert.Contains("var group = new KmsRegionGroup();", RepositoryFiles.ReadText("README.md"), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
