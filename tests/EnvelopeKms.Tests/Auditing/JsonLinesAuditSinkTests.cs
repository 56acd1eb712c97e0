using System.Text;
using EnvelopeKms.Auditing;
using EnvelopeKms.Tests.Storage;
using static EnvelopeKms.Tests.Auditing.AuditTestSupport;

namespace EnvelopeKms.Tests.Auditing;

public sealed class JsonLinesAuditSinkTests : IDisposable
{
    private readonly TemporaryStoreDirectory _directory = new("audit");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string TrailPath => Path.Combine(_directory.Parent, "audit.jsonl");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Each_record_is_one_CloudTrail_shaped_JSON_line_with_every_field()
    {
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath });
        await using (sink)
        {
            await sink.WriteAsync(new KmsAuditEvent
            {
                RequestId = "req-1",
                EventTime = new DateTimeOffset(2026, 11, 29, 4, 5, 6, TimeSpan.FromHours(1)),
                Operation = KmsOperation.ReEncryptFrom,
                Caller = "arn:aws:iam::111122223333:user/alice",
                Outcome = KmsOutcome.Failure,
                ErrorCode = "KMSInvalidStateException",
                KeyId = "key-1",
                KeyMaterialId = "material-1",
                DestinationKeyId = "key-2",
                AliasName = "alias/app",
                EncryptionContext = new Dictionary<string, string> { ["z"] = "last", ["a"] = "first" },
                AuthorizationSummary = "allowed by grant g-1",
                RecipientModuleId = "i-0123-enc0123",
                RecipientImageSha384 = new string('a', 96),
            }, Ct);
        }

        var text = await File.ReadAllTextAsync(TrailPath, Ct);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = ReadLines(TrailPath);
        var record = Assert.Single(lines);
        Assert.Equal(
            "{\"eventVersion\":\"1.0\",\"sequence\":1,\"previousHash\":\"" + new string('0', 64) + "\"," +
            "\"eventTime\":\"2026-11-29T03:05:06.0000000Z\",\"eventName\":\"ReEncrypt\",\"eventType\":\"AwsApiCall\",\"requestId\":\"req-1\"," +
            "\"userIdentity\":{\"arn\":\"arn:aws:iam::111122223333:user/alice\"},\"outcome\":\"Failure\"," +
            "\"errorCode\":\"KMSInvalidStateException\",\"keyId\":\"key-1\",\"keyMaterialId\":\"material-1\"," +
            "\"destinationKeyId\":\"key-2\",\"aliasName\":\"alias/app\",\"encryptionContext\":{\"a\":\"first\",\"z\":\"last\"}," +
            "\"authorizationSummary\":\"allowed by grant g-1\",\"recipient\":{\"attestationDocumentModuleId\":\"i-0123-enc0123\"," +
            "\"attestationDocumentEnclaveImageDigest\":\"" + new string('a', 96) + "\"}}",
            Text(record));
    }

    [Fact]
    public async Task Absent_optional_fields_are_left_out_of_the_record()
    {
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath });
        await using (sink)
        {
            await sink.WriteAsync(new KmsAuditEvent
            {
                RequestId = "r",
                EventTime = Epoch,
                Operation = KmsOperation.ListKeys,
                Caller = "arn:aws:iam::111122223333:root",
                Outcome = KmsOutcome.Success,
            }, Ct);
        }

        var record = Parse(Assert.Single(ReadLines(TrailPath)));
        var names = record.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["eventVersion", "sequence", "previousHash", "eventTime", "eventName", "eventType", "requestId", "userIdentity", "outcome"], names);
    }

    [Fact]
    public async Task Records_round_trip_with_sequences_from_one_and_each_previousHash_the_SHA256_of_the_previous_line()
    {
        await WriteEventsAsync(new JsonLinesAuditSinkOptions { Path = TrailPath }, 0, 12, Ct);

        var lines = ReadLines(TrailPath);
        Assert.Equal(12, lines.Count);
        var previous = new string('0', 64);
        for (var i = 0; i < lines.Count; i++)
        {
            var record = Parse(lines[i]);
            Assert.Equal(i + 1, record.GetProperty("sequence").GetInt64());
            Assert.Equal(previous, record.GetProperty("previousHash").GetString());
            Assert.Equal($"req-{i:D6}", record.GetProperty("requestId").GetString());
            Assert.Equal(Event(i).EventName, record.GetProperty("eventName").GetString());
            Assert.Equal(Event(i).Outcome.ToString(), record.GetProperty("outcome").GetString());
            Assert.Equal($"test-{i}", record.GetProperty("encryptionContext").GetProperty("purpose").GetString());
            previous = Sha256Hex(lines[i]);
        }

        var head = await File.ReadAllTextAsync(AuditChainVerifier.GetHeadPath(TrailPath), Ct);
        Assert.Equal($"{12:D19} {previous}\n", head);
        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(12, verification.RecordsChecked);
    }

    [Fact]
    public async Task Reopening_the_trail_continues_the_chain()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath };
        await WriteEventsAsync(options, 0, 3, Ct);
        await WriteEventsAsync(options, 3, 2, Ct);
        await WriteEventsAsync(options, 5, 1, Ct);

        var lines = ReadLines(TrailPath);
        Assert.Equal([1L, 2, 3, 4, 5, 6], lines.Select(l => Parse(l).GetProperty("sequence").GetInt64()));
        Assert.Equal(Sha256Hex(lines[2]), Parse(lines[3]).GetProperty("previousHash").GetString());
        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(6, verification.RecordsChecked);
    }

    [Fact]
    public async Task Rotation_renames_full_files_with_a_counter_and_the_chain_continues_across_them()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 1500 };
        await WriteEventsAsync(options, 0, 10, Ct);
        await WriteEventsAsync(options, 10, 10, Ct); // Reopened after rotations.

        var files = AuditChainVerifier.ListChainFiles(TrailPath);
        Assert.True(files.Count >= 4, $"expected several files, got {files.Count}");
        Assert.Equal(Path.GetFullPath(TrailPath), files[^1]);
        for (var i = 0; i < files.Count - 1; i++)
        {
            Assert.Equal(Path.Combine(_directory.Parent, $"audit.{i + 1:D6}.jsonl"), files[i]);
        }

        var all = new List<byte[]>();
        foreach (var file in files)
        {
            Assert.True(new FileInfo(file).Length <= 1500, $"{file} is larger than MaxFileBytes");
            var lines = ReadLines(file);
            Assert.NotEmpty(lines);
            if (all.Count > 0)
            {
                Assert.Equal(Sha256Hex(all[^1]), Parse(lines[0]).GetProperty("previousHash").GetString());
            }

            all.AddRange(lines);
        }

        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), all.Select(l => Parse(l).GetProperty("sequence").GetInt64()));
        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(20, verification.RecordsChecked);
    }

    [Fact]
    public async Task A_record_larger_than_MaxFileBytes_goes_alone_into_a_fresh_file()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 100 };
        await WriteEventsAsync(options, 0, 3, Ct);

        var files = AuditChainVerifier.ListChainFiles(TrailPath);
        Assert.Equal(3, files.Count);
        Assert.All(files, f => Assert.Single(ReadLines(f)));
        Assert.True((await AuditChainVerifier.VerifyAsync(TrailPath, Ct)).IsIntact);
    }

    [Fact]
    public async Task A_sink_continues_from_the_newest_rotated_file_when_the_current_file_is_missing()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 1500 };
        await WriteEventsAsync(options, 0, 10, Ct);

        // A crash between the rename of a rotation and the first record of the new file.
        var rotated = AuditChainVerifier.ListChainFiles(TrailPath);
        File.Move(TrailPath, Path.Combine(_directory.Parent, $"audit.{rotated.Count:D6}.jsonl"));
        await WriteEventsAsync(options, 10, 2, Ct);

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(12, verification.RecordsChecked);
    }

    [Fact]
    public async Task A_trail_whose_last_line_is_torn_is_refused_rather_than_forked()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath };
        await WriteEventsAsync(options, 0, 3, Ct);
        var lines = ReadLines(TrailPath);
        var torn = lines[2][..(lines[2].Length / 2)];
        await File.WriteAllBytesAsync(TrailPath, [.. lines[0], (byte)'\n', .. lines[1], (byte)'\n', .. torn], Ct);
        var before = await File.ReadAllBytesAsync(TrailPath, Ct);

        var sink = new JsonLinesAuditSink(options);
        await using (sink)
        {
            var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => sink.WriteAsync(Event(3), Ct).AsTask());
            Assert.Contains("torn", error.Message, StringComparison.Ordinal);
            // Every later write is refused too, and nothing is appended.
            await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => sink.WriteAsync(Event(4), Ct).AsTask());
        }

        Assert.Equal(before, await File.ReadAllBytesAsync(TrailPath, Ct));
    }

    [Fact]
    public async Task A_trail_whose_last_line_is_not_a_record_is_refused()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath };
        await WriteEventsAsync(options, 0, 2, Ct);
        await File.AppendAllTextAsync(TrailPath, "not json\n", Ct);

        var sink = new JsonLinesAuditSink(options);
        await using (sink)
        {
            var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => sink.WriteAsync(Event(2), Ct).AsTask());
            Assert.Contains("not a well-formed audit record", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_trail_shorter_than_its_head_is_refused()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath };
        await WriteEventsAsync(options, 0, 5, Ct);
        WriteLines(TrailPath, ReadLines(TrailPath).Take(3));

        var sink = new JsonLinesAuditSink(options);
        await using (sink)
        {
            var error = await Assert.ThrowsAsync<KmsStorageIntegrityException>(() => sink.WriteAsync(Event(5), Ct).AsTask());
            Assert.Contains("head", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_head_one_record_behind_after_a_crash_is_repaired_on_open()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath };
        await WriteEventsAsync(options, 0, 4, Ct);
        var lines = ReadLines(TrailPath);
        var headPath = AuditChainVerifier.GetHeadPath(TrailPath);
        await File.WriteAllTextAsync(headPath, $"{3:D19} {Sha256Hex(lines[2])}\n", Ct);
        Assert.False((await AuditChainVerifier.VerifyAsync(TrailPath, Ct)).IsIntact);

        await WriteEventsAsync(options, 4, 1, Ct);

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(5, verification.RecordsChecked);
    }

    [Fact]
    public async Task Many_parallel_writes_give_one_valid_chain()
    {
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = 8 * 1024 });
        await using (sink)
        {
            await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct },
                async (i, ct) => await sink.WriteAsync(Event(i), ct));
        }

        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(200, verification.RecordsChecked);
        var ids = AuditChainVerifier.ListChainFiles(TrailPath).SelectMany(ReadLines)
            .Select(l => Parse(l).GetProperty("requestId").GetString()).ToHashSet();
        Assert.Equal(200, ids.Count);
    }

    [Fact]
    public async Task A_second_sink_on_the_same_path_is_refused_while_the_first_is_open()
    {
        var options = new JsonLinesAuditSinkOptions { Path = TrailPath };
        var first = new JsonLinesAuditSink(options);
        await using (first)
        {
            await first.WriteAsync(Event(0), Ct);
            var second = new JsonLinesAuditSink(options);
            await using (second)
            {
                var error = await Assert.ThrowsAsync<IOException>(() => second.WriteAsync(Event(1), Ct).AsTask());
                Assert.Contains("in use by another sink", error.Message, StringComparison.Ordinal);
            }

            await first.WriteAsync(Event(2), Ct);
        }

        await WriteEventsAsync(options, 3, 1, Ct); // Free again once the first is disposed.
        var verification = await AuditChainVerifier.VerifyAsync(TrailPath, Ct);
        Assert.True(verification.IsIntact, verification.Problem);
        Assert.Equal(3, verification.RecordsChecked);
    }

    [Fact]
    public async Task A_cancelled_write_writes_nothing()
    {
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath });
        await using (sink)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sink.WriteAsync(Event(0), new CancellationToken(canceled: true)).AsTask());
            await sink.WriteAsync(Event(1), Ct);
        }

        var record = Parse(Assert.Single(ReadLines(TrailPath)));
        Assert.Equal(1, record.GetProperty("sequence").GetInt64());
        Assert.Equal("req-000001", record.GetProperty("requestId").GetString());
    }

    [Fact]
    public async Task A_disposed_sink_refuses_writes()
    {
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath });
        await sink.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => sink.WriteAsync(Event(0), Ct).AsTask());
    }

    [Fact]
    public void Options_without_a_path_or_with_a_short_HMAC_key_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new JsonLinesAuditSink(new JsonLinesAuditSinkOptions()));
        Assert.Throws<ArgumentException>(() => new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath, HmacKey = new byte[31] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath, MaxFileBytes = -1 }));
    }

    [Fact]
    public async Task In_HMAC_mode_context_values_never_appear_and_equal_values_give_equal_HMACs()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath, HmacKey = key });
        await using (sink)
        {
            await sink.WriteAsync(Event(0, new Dictionary<string, string> { ["tenant"] = "acme-confidential", ["file"] = "payroll-2026.xlsx" }), Ct);
            await sink.WriteAsync(Event(1, new Dictionary<string, string> { ["tenant"] = "acme-confidential" }), Ct);
            await sink.WriteAsync(Event(2, new Dictionary<string, string> { ["tenant"] = "globex" }), Ct);
        }

        var text = await File.ReadAllTextAsync(TrailPath, Ct);
        Assert.DoesNotContain("acme-confidential", text, StringComparison.Ordinal);
        Assert.DoesNotContain("payroll", text, StringComparison.Ordinal);
        Assert.DoesNotContain("globex", text, StringComparison.Ordinal);
        Assert.Contains("\"tenant\":", text, StringComparison.Ordinal); // Keys stay readable.

        var tenants = ReadLines(TrailPath).Select(l => Parse(l).GetProperty("encryptionContext").GetProperty("tenant").GetString()).ToArray();
        Assert.All(tenants, t => Assert.StartsWith("hmac-sha256:", t, StringComparison.Ordinal));
        Assert.Equal(tenants[0], tenants[1]);
        Assert.NotEqual(tenants[0], tenants[2]);
        Assert.Equal(AuditFieldHmac.Compute(key, "acme-confidential"), tenants[0]);
        Assert.Equal("hmac-sha256:" + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("acme-confidential"))), tenants[0]);
        Assert.NotEqual(AuditFieldHmac.Compute(new byte[32], "acme-confidential"), tenants[0]);
        Assert.True((await AuditChainVerifier.VerifyAsync(TrailPath, Ct)).IsIntact);
    }

    [Fact]
    public async Task The_sink_keeps_its_own_copy_of_the_HMAC_key()
    {
        var key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var expected = AuditFieldHmac.Compute(key, "v");
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = TrailPath, HmacKey = key });
        Array.Clear(key);
        await using (sink)
        {
            await sink.WriteAsync(Event(0, new Dictionary<string, string> { ["k"] = "v" }), Ct);
        }

        Assert.Equal(expected, Parse(ReadLines(TrailPath)[0]).GetProperty("encryptionContext").GetProperty("k").GetString());
    }
}
