using System.Text.RegularExpressions;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The multi-instance sample: two key-manager instances in two processes on one SQLite database.</summary>
public sealed partial class MultiInstanceSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-multi-instance-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Two_instances_on_one_sqlite_database_share_a_key_and_the_second_is_refused_as_soon_as_the_first_disables_it()
    {
        var databasePath = Path.Combine(_folder, "keys.db");
        var run = await SampleProcess.RunAsync(
            "EnvelopeKms.Samples.MultiInstance", "--store", "sqlite:" + databasePath, "--root-key", Path.Combine(_folder, "development-root.key"));

        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");
        var keyId = CreatedKey().Match(run.Output) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No 'CreateKey:' line:\n{run.Output}");
        Assert.True(File.Exists(databasePath));

        // With a change feed the store evicts B's cached data key; without one, its age limit does.
        var hasChangeFeed = typeof(IKeyStoreChangeNotifier).IsAssignableFrom(typeof(SqliteKeyStore));
        string[] envelopeAfterDisable = hasChangeFeed
            ? [$"[B] Change feed: the store reported the change to key {keyId} within ", "the cached data key was evicted ("]
            : ["[B] Envelope:    still encrypts with its cached data key", "the cached data key has expired"];
        string[] expected =
        [
            $"Key store:            SQLite database {databasePath} (both instances)",
            "[A] Encrypt:     \"shared secret from instance A\" -> ",
            "[A] Started:     process ",
            "[B] KeyManager opened on the shared store",
            "[B] Decrypt:     \"shared secret from instance A\" (A's ciphertext, B's KeyManager)",
            "[B] Envelopes:   2 encrypted with 1 data key from GenerateDataKey, cached (1 cache hit)",
            "[A] DisableKey:  Disabled",
            "[B] DescribeKey: Disabled (read from the store)",
            $"[B] Encrypt:     DisabledException: arn:aws:kms:local:000000000000:key/{keyId} is disabled.",
            .. envelopeAfterDisable,
            $"[B] Envelope:    DisabledException: arn:aws:kms:local:000000000000:key/{keyId} is disabled. (no cached data key: GenerateDataKey was refused)",
            "[A] EnableKey:   Enabled",
            "[B] Encrypt:     works again",
            "[B] Envelope:    works again",
            "[A] Instance B exited with 0.",
            "[A] ScheduleKeyDeletion: PendingDeletion",
            "Done.",
        ];
        var position = 0;
        foreach (var line in expected)
        {
            var found = run.Output.IndexOf(line, position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"The sample's output lacks '{line}' (in this order):\n{run.Output}");
            position = found + line.Length;
        }
    }

    [Theory]
    [InlineData("--store", "mysql:server=db")]
    [InlineData("--store", "sqlite:")]
    [InlineData("--stor", "sqlite:keys.db")]
    public async Task The_multi_instance_sample_refuses_an_unknown_store_or_option(string option, string value)
    {
        var run = await SampleProcess.RunAsync("EnvelopeKms.Samples.MultiInstance", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Usage:", run.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [GeneratedRegex(@"CreateKey:   ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();
}
