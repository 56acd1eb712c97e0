using EnvelopeKms.Auditing;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>The audit sample, run as the README runs it (a child process).</summary>
public sealed class AuditSampleTests
{
    [Fact]
    public async Task The_audit_sample_prints_the_trail_verifies_it_catches_an_edited_line_and_prints_the_usage_report()
    {
        var run = await SampleProcess.RunAsync("EnvelopeKms.Samples.Audit");
        TestContext.Current.TestOutputHelper?.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");

        SampleProcess.AssertInOrder(run.Output,
        [
            "1. A workload runs",
            "Decrypt as OrdersApp: \"order #4711: 3 widgets\"",
            "Decrypt as Intruder: AccessDeniedException",
            "Envelope-encrypted 100 rows with one cached data key",
            "GetKeyLastUsage: last used by EnableKey, last cryptographic use GenerateDataKey",
            "Lifecycle events: KeyCreated, KeyRotated, KeyDisabled, KeyEnabled",
            "2. The usage report",
            "Customer managed keys",
            "Requests",
            "Total USD",
            "3. The trail",
            "#1   CreateKey", "#5   Decrypt            Denied   AccessDeniedException", "#6   GenerateDataKey", "#11  GetUsageReport",
            "4. Verify the hash chain",
            "Intact: 11 records",
            "5. An intruder edits one record",
            "BROKEN at record 5",
            "Done.",
        ]);

        // One GenerateDataKey for 100 envelope encryptions: the cached data key is local work, not a KMS request.
        Assert.Single(run.Output.Split('\n'), l => l.Contains("GenerateDataKey    Success", StringComparison.Ordinal));
        Assert.DoesNotContain("order #4711: 3 widgets\"}", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_verify_command_exits_zero_for_an_intact_trail_and_one_for_a_truncated_one()
    {
        var folder = Directory.CreateTempSubdirectory("envelopekms-audit-verify-").FullName;
        try
        {
            var trail = Path.Combine(folder, "audit.jsonl");
            await using (var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = trail }))
            {
                for (var i = 1; i <= 3; i++)
                {
                    await sink.WriteAsync(new KmsAuditEvent { RequestId = $"r{i}", EventTime = DateTimeOffset.UnixEpoch, Operation = KmsOperation.ListKeys, Caller = "arn:aws:iam::000000000000:root", Outcome = KmsOutcome.Success }, TestContext.Current.CancellationToken);
                }
            }

            var intact = await SampleProcess.RunAsync("EnvelopeKms.Samples.Audit", "verify", trail);
            Assert.Equal(0, intact.ExitCode);
            Assert.Contains("Intact: 3 records", intact.Output, StringComparison.Ordinal);

            var lines = await File.ReadAllLinesAsync(trail, TestContext.Current.CancellationToken);
            await File.WriteAllLinesAsync(trail, lines[..2], TestContext.Current.CancellationToken);
            var truncated = await SampleProcess.RunAsync("EnvelopeKms.Samples.Audit", "verify", trail);
            Assert.Equal(1, truncated.ExitCode);
            Assert.Contains("BROKEN", truncated.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
