using EnvelopeKms.Auditing;
using EnvelopeKms.Tests.Storage;
using static EnvelopeKms.Tests.Auditing.AuditTestSupport;

namespace EnvelopeKms.Tests.Auditing;

/// <summary>Each kind of tampering is reported at the sequence and line that docs/audit.md promises.</summary>
public sealed class AuditChainVerifierTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("audit");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string TrailPath => Path.Combine(_directory.Parent, "audit.jsonl");

    public void Dispose() => _directory.Dispose();

    private async Task<List<byte[]>> TenRecordsAsync()
    {
        await WriteEventsAsync(new JsonLinesAuditSinkOptions { Path = TrailPath }, 0, 10, Ct);
        return ReadLines(TrailPath);
    }

    private static byte[] Edit(byte[] line, string from, string to)
    {
        var text = Text(line);
        Assert.Contains(from, text, StringComparison.Ordinal);
        return Utf8(text.Replace(from, to, StringComparison.Ordinal));
    }

    private static void AssertBroken(AuditChainVerification verification, long sequence, int? line, string problemFragment)
    {
        Assert.False(verification.IsIntact);
        Assert.Equal(sequence, verification.FirstBrokenSequence);
        Assert.Equal(line, verification.LineNumber);
        Assert.Contains(problemFragment, verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_untouched_trail_is_intact()
    {
        await TenRecordsAsync();
        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact);
        Assert.Equal(10, verification.RecordsChecked);
        Assert.Null(verification.FirstBrokenSequence);
        Assert.Null(verification.Problem);
    }

    [Fact]
    public async Task A_path_with_no_trail_yet_is_intact_and_empty()
    {
        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact);
        Assert.Equal(0, verification.RecordsChecked);
    }

    [Fact]
    public async Task An_edited_field_is_reported_at_the_edited_record()
    {
        var lines = await TenRecordsAsync();
        lines[3] = Edit(lines[3], "\"outcome\":\"Success\"", "\"outcome\":\"Failure\"");
        WriteLines(TrailPath, lines);

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        AssertBroken(verification, 4, 4, "record 4");
        Assert.Equal(Path.GetFullPath(TrailPath), verification.File);
        Assert.Equal(3, verification.RecordsChecked);
    }

    [Fact]
    public async Task An_edited_previousHash_is_reported_at_the_record_before_it()
    {
        var lines = await TenRecordsAsync();
        lines[5] = Edit(lines[5], Sha256Hex(lines[4]), new string('f', 64));
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 5, 5, "record 6's previousHash");
    }

    [Fact]
    public async Task An_edit_of_the_last_record_is_caught_by_the_head()
    {
        var lines = await TenRecordsAsync();
        lines[9] = Edit(lines[9], "req-000009", "req-999999");
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 10, 10, "last record was altered");
    }

    [Fact]
    public async Task An_edited_sequence_number_is_reported_at_that_record()
    {
        var lines = await TenRecordsAsync();
        lines[5] = Edit(lines[5], "\"sequence\":6,", "\"sequence\":60,");
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 6, 6, "missing");
    }

    [Fact]
    public async Task A_deleted_line_is_reported_at_the_missing_sequence()
    {
        var lines = await TenRecordsAsync();
        lines.RemoveAt(4);
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 5, 5, "records 5 to 5 are missing");
    }

    [Fact]
    public async Task A_deleted_first_line_is_reported_at_sequence_one()
    {
        var lines = await TenRecordsAsync();
        lines.RemoveAt(0);
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 1, 1, "missing");
    }

    [Fact]
    public async Task An_inserted_copy_of_an_earlier_record_is_reported_where_it_was_inserted()
    {
        var lines = await TenRecordsAsync();
        lines.Insert(6, lines[1]); // After record 6: a replay of record 2.
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 7, 7, "inserted, duplicated or reordered");
    }

    [Fact]
    public async Task An_inserted_foreign_line_is_reported_where_it_was_inserted()
    {
        var lines = await TenRecordsAsync();
        lines.Insert(6, Utf8("{\"eventName\":\"Decrypt\"}"));
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 7, 7, "not a well-formed audit record");
    }

    [Fact]
    public async Task An_inserted_forged_record_with_the_right_links_is_reported_at_the_record_it_displaced()
    {
        var lines = await TenRecordsAsync();
        var forged = Edit(lines[6], "req-000006", "req-forged");
        lines.Insert(6, forged); // Claims to be record 7 and links correctly to record 6.
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 8, 8, "inserted, duplicated or reordered");
    }

    [Fact]
    public async Task Two_swapped_lines_are_reported_at_the_first_of_them()
    {
        var lines = await TenRecordsAsync();
        (lines[3], lines[4]) = (lines[4], lines[3]);
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 4, 4, "missing");
    }

    [Fact]
    public async Task A_truncation_in_the_middle_of_the_last_record_is_reported_as_a_torn_line()
    {
        await TenRecordsAsync();
        var bytes = await File.ReadAllBytesAsync(TrailPath, Ct);
        await File.WriteAllBytesAsync(TrailPath, bytes[..^40], Ct);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 10, 10, "incomplete line");
    }

    [Fact]
    public async Task A_missing_final_newline_is_reported_as_a_torn_line()
    {
        await TenRecordsAsync();
        var bytes = await File.ReadAllBytesAsync(TrailPath, Ct);
        await File.WriteAllBytesAsync(TrailPath, bytes[..^1], Ct);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 10, 10, "incomplete line");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public async Task Dropping_the_last_records_is_caught_by_the_head(int dropped)
    {
        var lines = await TenRecordsAsync();
        WriteLines(TrailPath, lines.Take(10 - dropped));

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.False(verification.IsIntact);
        Assert.Equal(11 - dropped, verification.FirstBrokenSequence);
        Assert.Contains($"the last {dropped} record(s) were removed", verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_head_dropping_whole_trailing_records_cannot_be_detected()
    {
        // The documented limit: the hashes alone cannot tell a shorter chain from an older one.
        var lines = await TenRecordsAsync();
        WriteLines(TrailPath, lines.Take(7));

        var verification = await AuditChainVerifier.VerifyAsync(AuditChainVerifier.ListChainFiles(TrailPath), headPath: null, Ct);
        Assert.True(verification.IsIntact);
        Assert.Equal(7, verification.RecordsChecked);
    }

    [Fact]
    public async Task A_deleted_head_file_is_reported()
    {
        await TenRecordsAsync();
        File.Delete(AuditChainVerifier.GetHeadPath(TrailPath));

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.False(verification.IsIntact);
        Assert.Null(verification.FirstBrokenSequence);
        Assert.Contains("head file is missing", verification.Problem, StringComparison.Ordinal);
        Assert.Equal(10, verification.RecordsChecked);
    }

    [Fact]
    public async Task A_record_appended_outside_the_sink_is_caught_by_the_head()
    {
        var lines = await TenRecordsAsync();
        var forged = Utf8($"{{\"eventVersion\":\"1.0\",\"sequence\":11,\"previousHash\":\"{Sha256Hex(lines[9])}\",\"eventName\":\"Decrypt\"}}");
        WriteLines(TrailPath, [.. lines, forged]);

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.False(verification.IsIntact);
        Assert.Equal(11, verification.FirstBrokenSequence);
        Assert.Contains("appended outside the sink", verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_altered_genesis_hash_is_reported_at_sequence_one()
    {
        var lines = await TenRecordsAsync();
        lines[0] = Edit(lines[0], new string('0', 64), new string('1', 64));
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 1, 1, "genesis");
    }

    [Fact]
    public async Task An_empty_line_is_reported()
    {
        var lines = await TenRecordsAsync();
        lines.Insert(2, []);
        WriteLines(TrailPath, lines);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 3, 3, "empty line");
    }

    [Fact]
    public async Task A_deleted_rotated_file_is_reported_at_its_first_sequence()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 1500 };
        await WriteEventsAsync(options, 0, 20, Ct);
        var files = AuditChainVerifier.ListChainFiles(TrailPath);
        Assert.True(files.Count >= 3);
        var firstOfSecond = Parse(ReadLines(files[1])[0]).GetProperty("sequence").GetInt64();
        File.Delete(files[1]);

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.False(verification.IsIntact);
        Assert.Equal(firstOfSecond, verification.FirstBrokenSequence);
        Assert.Equal(files[2], verification.File);
        Assert.Equal(1, verification.LineNumber);
    }

    [Fact]
    public async Task A_deleted_oldest_rotated_file_is_reported_at_sequence_one()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 1500 };
        await WriteEventsAsync(options, 0, 20, Ct);
        File.Delete(AuditChainVerifier.ListChainFiles(TrailPath)[0]);

        AssertBroken(await AuditChainVerifier.VerifyAsync(TrailPath, Ct), 1, 1, "missing");
    }

    [Fact]
    public async Task An_edit_in_a_rotated_file_is_reported_in_that_file()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 1500 };
        await WriteEventsAsync(options, 0, 20, Ct);
        var files = AuditChainVerifier.ListChainFiles(TrailPath);
        var lines = ReadLines(files[0]);
        lines[^1] = Edit(lines[^1], "\"keyMaterialId\":\"material-1\"", "\"keyMaterialId\":\"material-2\"");
        WriteLines(files[0], lines);

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.False(verification.IsIntact);
        Assert.Equal(lines.Count, verification.FirstBrokenSequence);
        Assert.Equal(files[0], verification.File);
        Assert.Equal(lines.Count, verification.LineNumber);
    }

    [Fact]
    public async Task Rotated_files_are_listed_by_counter_not_by_name()
    {
        Directory.CreateDirectory(_directory.Parent);
        foreach (var name in new[] { "audit.1000000.jsonl", "audit.000002.jsonl", "audit.000010.jsonl", "audit.jsonl", "audit.x.jsonl", "other.000001.jsonl", "audit.000003.json" })
        {
            await File.WriteAllTextAsync(Path.Combine(_directory.Parent, name), "", Ct);
        }

        var files = AuditChainVerifier.ListChainFiles(TrailPath).Select(Path.GetFileName);
        Assert.Equal(["audit.000002.jsonl", "audit.000010.jsonl", "audit.1000000.jsonl", "audit.jsonl"], files);
    }
}
