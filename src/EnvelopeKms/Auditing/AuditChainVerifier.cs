using System.Globalization;

namespace EnvelopeKms.Auditing;

/// <summary>The result of <see cref="AuditChainVerifier"/>: intact, or the first place where the chain breaks.</summary>
public sealed record AuditChainVerification
{
    /// <summary>Whether every record and the head check out.</summary>
    public required bool IsIntact { get; init; }
    /// <summary>
    /// How many records, from the start of the chain, were verified intact: all of them when intact,
    /// <see cref="FirstBrokenSequence"/> − 1 when the problem is tied to a record, all that were read otherwise.
    /// </summary>
    public required long RecordsChecked { get; init; }
    /// <summary>
    /// The sequence of the first record that was edited, deleted, inserted, reordered or truncated; see <c>docs/audit.md</c>
    /// for what is reported in each case. <see langword="null"/> when intact or when the problem is not tied to a record.
    /// </summary>
    public long? FirstBrokenSequence { get; init; }
    /// <summary>What is wrong, in one sentence.</summary>
    public string? Problem { get; init; }
    /// <summary>The file where the problem was found.</summary>
    public string? File { get; init; }
    /// <summary>The 1-based line of <see cref="File"/> where the problem was found, when it is tied to a line.</summary>
    public int? LineNumber { get; init; }
}

/// <summary>Verifies a trail written by <see cref="JsonLinesAuditSink"/>: sequence, hash chain, file boundaries and head.</summary>
public static class AuditChainVerifier
{
    /// <summary>The files of the trail of <paramref name="path"/> in chain order: the rotated files by counter, then the current file.</summary>
    /// <param name="path">The sink's <see cref="JsonLinesAuditSinkOptions.Path"/>.</param>
    /// <returns>The existing files, oldest first.</returns>
    public static IReadOnlyList<string> ListChainFiles(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var files = AuditChainFiles.Rotated(path).Select(r => r.File).ToList();
        var current = Path.GetFullPath(path);
        if (System.IO.File.Exists(current))
        {
            files.Add(current);
        }

        return files;
    }

    /// <summary>The head file of the trail of <paramref name="path"/>: <c>&lt;path&gt;.head</c>.</summary>
    /// <param name="path">The sink's <see cref="JsonLinesAuditSinkOptions.Path"/>.</param>
    /// <returns>The full path of the head file.</returns>
    public static string GetHeadPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return AuditChainFiles.HeadPath(Path.GetFullPath(path));
    }

    /// <summary>Verifies the whole trail of a sink's path: all its rotated files, the current file and the head.</summary>
    /// <param name="path">The sink's <see cref="JsonLinesAuditSinkOptions.Path"/>.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>The verification.</returns>
    public static Task<AuditChainVerification> VerifyAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return VerifyAsync(ListChainFiles(path), GetHeadPath(path), cancellationToken);
    }

    /// <summary>Verifies the given files, in chain order, as one chain that starts at sequence 1.</summary>
    /// <param name="files">The files, oldest first (see <see cref="ListChainFiles"/>).</param>
    /// <param name="headPath">
    /// The head file to check the end of the chain against, or <see langword="null"/> to skip that check (then the removal of
    /// whole trailing records, and an edit of the very last record, cannot be detected).
    /// </param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>The verification.</returns>
    public static async Task<AuditChainVerification> VerifyAsync(IReadOnlyList<string> files, string? headPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        long checkedCount = 0;
        long sequence = 0;
        var hash = AuditChain.GenesisHash;
        string? lastFile = null;
        var lastLine = 0;

        foreach (var file in files)
        {
            var lineNumber = 0;
            var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (stream.ConfigureAwait(false))
            {
                await foreach (var (line, terminated) in ReadLinesAsync(stream, cancellationToken).ConfigureAwait(false))
                {
                    lineNumber++;
                    var expected = sequence + 1;
                    AuditChainVerification Broken(long at, string problem, string? inFile = null, int? atLine = null) => new()
                    {
                        IsIntact = false,
                        RecordsChecked = at - 1,
                        FirstBrokenSequence = at,
                        Problem = problem,
                        File = inFile ?? file,
                        LineNumber = atLine ?? lineNumber,
                    };

                    if (!terminated)
                    {
                        return Broken(expected, "The file ends with an incomplete line: a torn write or a truncation in the middle of a record.");
                    }

                    if (!AuditChain.TryReadLink(line, out var recordSequence, out var previousHash))
                    {
                        return Broken(expected, line.Length == 0 ? "An empty line where a record was expected." : "The line is not a well-formed audit record.");
                    }

                    if (recordSequence > expected)
                    {
                        return Broken(expected, string.Create(CultureInfo.InvariantCulture,
                            $"Record {recordSequence} follows record {sequence}: records {expected} to {recordSequence - 1} are missing (deleted)."));
                    }

                    if (recordSequence < expected)
                    {
                        return Broken(expected, string.Create(CultureInfo.InvariantCulture,
                            $"Record {recordSequence} where record {expected} was expected: a record was inserted, duplicated or reordered."));
                    }

                    if (!string.Equals(previousHash, hash, StringComparison.Ordinal))
                    {
                        return sequence == 0
                            ? Broken(expected, "The first record's previousHash is not the genesis value (64 zeros): the start of the chain was altered or removed.")
                            : Broken(sequence, string.Create(CultureInfo.InvariantCulture,
                                $"Record {expected}'s previousHash does not match the hash of record {sequence}: record {sequence} (or record {expected}'s previousHash) was altered."),
                                lastFile, lastLine);
                    }

                    sequence = recordSequence;
                    hash = AuditChain.HashLine(line);
                    checkedCount++;
                    lastFile = file;
                    lastLine = lineNumber;
                }
            }
        }

        return headPath is null
            ? Intact(checkedCount)
            : await VerifyHeadAsync(headPath, checkedCount, sequence, hash, lastFile, lastLine, cancellationToken).ConfigureAwait(false);
    }

    private static AuditChainVerification Intact(long count) => new() { IsIntact = true, RecordsChecked = count };

    private static async Task<AuditChainVerification> VerifyHeadAsync(
        string headPath, long checkedCount, long sequence, string hash, string? lastFile, int lastLine, CancellationToken cancellationToken)
    {
        AuditChainVerification Broken(long? at, string problem, string? file, int? line) => new()
        {
            IsIntact = false,
            RecordsChecked = at is { } sequenceAt ? sequenceAt - 1 : checkedCount,
            FirstBrokenSequence = at,
            Problem = problem,
            File = file,
            LineNumber = line,
        };

        if (!System.IO.File.Exists(headPath))
        {
            return sequence == 0
                ? Intact(0)
                : Broken(null, "The head file is missing: the removal of trailing records cannot be ruled out.", headPath, null);
        }

        var content = await System.IO.File.ReadAllBytesAsync(headPath, cancellationToken).ConfigureAwait(false);
        if (content.Length == 0 && sequence == 0)
        {
            return Intact(0);
        }

        if (!AuditChainFiles.TryParseHead(content, out var headSequence, out var headHash))
        {
            return Broken(null, "The head file is not readable.", headPath, null);
        }

        if (headSequence > sequence)
        {
            return Broken(sequence + 1, string.Create(CultureInfo.InvariantCulture,
                $"The trail ends at record {sequence} but the head records {headSequence}: the last {headSequence - sequence} record(s) were removed."), lastFile, null);
        }

        if (headSequence < sequence)
        {
            return Broken(headSequence + 1, string.Create(CultureInfo.InvariantCulture,
                $"The trail goes on to record {sequence} but the head records {headSequence}: records were appended outside the sink (or the sink stopped between a record and its head; reopening the sink repairs a lag of one record)."), lastFile, null);
        }

        if (!string.Equals(headHash, hash, StringComparison.Ordinal))
        {
            return Broken(sequence, string.Create(CultureInfo.InvariantCulture,
                $"The hash of the last record, {sequence}, does not match the head: the last record was altered."), lastFile, lastLine);
        }

        return Intact(checkedCount);
    }

    /// <summary>Splits a stream into lines on <c>\n</c>; the last line is reported unterminated when the stream does not end with <c>\n</c>.</summary>
    internal static async IAsyncEnumerable<(byte[] Line, bool Terminated)> ReadLinesAsync(
        Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var pending = new MemoryStream();
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var start = 0;
            while (start < read)
            {
                var offset = buffer.AsSpan(start, read - start).IndexOf((byte)'\n');
                if (offset < 0)
                {
                    pending.Write(buffer, start, read - start);
                    break;
                }

                var newline = start + offset;
                pending.Write(buffer, start, newline - start);
                yield return (pending.ToArray(), true);
                pending.SetLength(0);
                start = newline + 1;
            }
        }

        if (pending.Length > 0)
        {
            yield return (pending.ToArray(), false);
        }
    }
}
