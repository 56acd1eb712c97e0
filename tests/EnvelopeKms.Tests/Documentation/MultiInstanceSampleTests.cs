using System.Globalization;
using System.Text.RegularExpressions;
using EnvelopeKms.Tests.Storage.PostgreSql;
using Npgsql;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The multi-instance sample: two key-manager instances in two processes on one SQLite database.</summary>
public sealed partial class MultiInstanceSampleTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-multi-instance-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Two_instances_on_one_sqlite_database_share_a_key_and_the_change_feed_evicts_the_second_ones_cached_data_key()
    {
        var databasePath = Path.Combine(_folder, "keys.db");
        var run = await SampleProcess.RunAsync(
            "EnvelopeKms.Samples.MultiInstance", "--store", "sqlite:" + databasePath, "--root-key", Path.Combine(_folder, "development-root.key"));

        AssertNarrative(run, $"Key store:            SQLite database {databasePath} (both instances; change feed polled every 200 ms)");
        Assert.True(File.Exists(databasePath));
    }

    [Theory]
    [InlineData("--store", "mysql:server=db")]
    [InlineData("--store", "sqlite:")]
    [InlineData("--store", "postgres:")]
    [InlineData("--store", "postgres:no connection string")]
    [InlineData("--store", "postgres:Hots=localhost")]
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

    /// <summary>
    /// Checks the story the sample tells, in order, whatever the store: B is refused at once after A's
    /// DisableKey, and B's cached data key is evicted by the store's change feed (never by its age).
    /// Returns the key id and the notification delay B measured.
    /// </summary>
    internal static (string KeyId, TimeSpan NotificationDelay) AssertNarrative((int ExitCode, string Output) run, string storeLine)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");
        var keyId = CreatedKey().Match(run.Output) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No 'CreateKey:' line:\n{run.Output}");
        string[] expected =
        [
            storeLine,
            "[A] Encrypt:     \"shared secret from instance A\" -> ",
            "[A] Started:     process ",
            "[B] KeyManager opened on the shared store (change feed ",
            "[B] Decrypt:     \"shared secret from instance A\" (A's ciphertext, B's KeyManager)",
            "[B] Envelopes:   2 encrypted with 1 data key from GenerateDataKey, cached (1 cache hit)",
            "[A] DisableKey:  Disabled",
            "[B] DescribeKey: Disabled (read from the store)",
            $"[B] Encrypt:     DisabledException: arn:aws:kms:local:000000000000:key/{keyId} is disabled.",
            $"[B] Change feed: the store reported the change to key {keyId} ",
            " ms after A's DisableKey returned;",
            "the cached data key was evicted (1 evicted, 0 cached)",
            $"[B] Envelope:    DisabledException: arn:aws:kms:local:000000000000:key/{keyId} is disabled. (no cached data key: GenerateDataKey was refused)",
            "[A] EnableKey:   Enabled",
            "[B] Encrypt:     works again",
            "[B] Envelope:    works again",
            "[A] Instance B exited with 0.",
            "[A] ScheduleKeyDeletion: PendingDeletion",
            "Done.",
        ];
        SampleProcess.AssertInOrder(run.Output, expected);

        Assert.DoesNotContain("MaxDataKeyAge", run.Output, StringComparison.Ordinal);
        var delay = TimeSpan.FromMilliseconds(double.Parse(ReportedDelay().Match(run.Output).Groups[1].Value, CultureInfo.InvariantCulture));
        // B gives up after 10 s; the delay itself depends on the machine's load, so only its range is checked here.
        Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        return (keyId, delay);
    }

    [GeneratedRegex(@"CreateKey:   ([0-9a-f-]{36})")]
    private static partial Regex CreatedKey();

    [GeneratedRegex(@"Change feed: the store reported the change to key \S+ (\d+) ms after")]
    private static partial Regex ReportedDelay();
}

/// <summary>The multi-instance sample on a throwaway PostgreSQL server (skipped without PostgreSQL, except under CI=true).</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class MultiInstanceSamplePostgreSqlTests(PostgreSqlServer server) : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "envelopekms-multi-instance-pg-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Two_instances_on_one_postgresql_database_share_a_key_and_listen_notify_evicts_the_second_ones_cached_data_key()
    {
        var database = await server.CreateDatabaseAsync();
        // Trust authentication ignores the password: it is there to show that the sample never prints it.
        var connectionString = server.ConnectionString(database) + ";Password=never-printed-7f3a";

        var run = await SampleProcess.RunAsync(
            "EnvelopeKms.Samples.MultiInstance", "--store", "postgres:" + connectionString, "--root-key", Path.Combine(_folder, "development-root.key"));

        var (keyId, _) = MultiInstanceSampleTests.AssertNarrative(
            run, $"Key store:            PostgreSQL database {database} on 127.0.0.1:{server.Port} (both instances; change feed announced by LISTEN/NOTIFY)");
        // The story ran on that database: the key is there, scheduled for deletion by A's last step.
        var document = (string?)await PostgreSqlServer.ScalarAsync(connectionString, $"SELECT document FROM envelopekms.keys WHERE key_id = '{keyId}'");
        Assert.NotNull(document);
        Assert.Contains("PendingDeletion", document, StringComparison.Ordinal);
        Assert.DoesNotContain("never-printed-7f3a", run.Output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
