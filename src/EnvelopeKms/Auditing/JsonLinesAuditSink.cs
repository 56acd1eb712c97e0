using System.Security.Cryptography;

namespace EnvelopeKms.Auditing;

/// <summary>
/// An append-only JSON Lines audit trail with a SHA-256 hash chain (see <c>docs/audit.md</c>). Every record carries a 1-based
/// <c>sequence</c> and the <c>previousHash</c>: the lowercase hex SHA-256 of the exact UTF-8 bytes of the previous record's
/// line, without its terminating <c>\n</c> (64 zeros for the first record of the chain). Writes are serialized and each
/// record is flushed to disk before <see cref="WriteAsync"/> completes, then the head file (<c>&lt;path&gt;.head</c>: the last
/// sequence and the hash of its line) is rewritten and flushed, so that truncation of trailing records can be detected.
/// Rotation renames the full file to <c>&lt;name&gt;.&lt;counter&gt;.jsonl</c>; the chain continues in the new file.
/// </summary>
/// <remarks>
/// The trail is opened on the first write: the last line of the existing trail is read to continue the chain; a torn or
/// unparseable last line, or a head that disagrees with the trail, is refused with a <see cref="KmsStorageIntegrityException"/>
/// rather than silently starting a fork. One sink per path: a second one (in this process or another) fails with an
/// <see cref="IOException"/> while the first holds the exclusive lock file <c>&lt;path&gt;.lock</c>.
/// </remarks>
public sealed class JsonLinesAuditSink : IKmsAuditSink, IAsyncDisposable, IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly string _path;
    private readonly string _headPath;
    private readonly long _maxFileBytes;
    private readonly byte[]? _hmacKey;
    private readonly SemaphoreSlim _gate = new(1, 1);

    private FileStream? _lock;
    private FileStream? _stream;
    private FileStream? _head;
    private long _length;
    private long _sequence;
    private string _lastHash = AuditChain.GenesisHash;
    private bool _disposed;

    /// <summary>Creates the sink; the trail is opened (or created) by the first write.</summary>
    /// <param name="options">The options; <see cref="JsonLinesAuditSinkOptions.Path"/> is required.</param>
    public JsonLinesAuditSink(JsonLinesAuditSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new ArgumentException("The audit trail path is required.", nameof(options));
        }

        if (options.MaxFileBytes is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxFileBytes cannot be negative.");
        }

        if (options.HmacKey is { } key)
        {
            if (key.Length < AuditFieldHmac.MinimumKeySizeInBytes)
            {
                throw new ArgumentException($"The audit HMAC key must be at least {AuditFieldHmac.MinimumKeySizeInBytes} bytes.", nameof(options));
            }

            _hmacKey = key.ToArray();
        }

        _path = System.IO.Path.GetFullPath(options.Path);
        _headPath = AuditChainFiles.HeadPath(_path);
        _maxFileBytes = options.MaxFileBytes ?? 0;
    }

    /// <summary>The full path of the current trail file.</summary>
    public string Path => _path;

    /// <inheritdoc />
    public async ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_stream is null)
            {
                Open();
            }

            var line = AuditChain.Serialize(auditEvent, _sequence + 1, _lastHash, _hmacKey);
            if (_maxFileBytes > 0 && _length > 0 && _length + line.Length + 1 > _maxFileBytes)
            {
                Rotate();
            }

            // From here on the write is not cancellable: a half-written record would tear the chain.
            Append(line);
            _sequence++;
            _lastHash = AuditChain.HashLine(line);
            WriteHead();
        }
        catch
        {
            // After any failure the files are closed; the next write reopens the trail and re-reads its end
            // (which repairs a head one record behind, or refuses a torn line).
            CloseFiles();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the files and zeroes the HMAC key.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        DisposeCore();
    }

    /// <summary>Closes the files and zeroes the HMAC key (waiting for a write in progress).</summary>
    public void Dispose()
    {
        _gate.Wait();
        DisposeCore();
    }

    private void DisposeCore()
    {
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            CloseFiles();
            if (_hmacKey is not null)
            {
                CryptographicOperations.ZeroMemory(_hmacKey);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void CloseFiles()
    {
        try
        {
            _stream?.Dispose();
        }
        catch (IOException)
        {
            // Closing after a failed write: the next open re-reads what is on disk.
        }

        try
        {
            _head?.Dispose();
        }
        catch (IOException)
        {
            // As above.
        }

        _lock?.Dispose();
        _stream = null;
        _head = null;
        _lock = null;
    }

    private void Open()
    {
        var directory = System.IO.Path.GetDirectoryName(_path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        if (_lock is null)
        {
            try
            {
                // An exclusive lock file keeps a second sink (in this process or another) from forking the chain.
                _lock = new FileStream(_path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException exception)
            {
                throw new IOException($"The audit trail '{_path}' is in use by another sink (its lock file is held).", exception);
            }
        }

        long sequence = 0;
        var lastHash = AuditChain.GenesisHash;
        var lastPreviousHash = AuditChain.GenesisHash;
        var stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        try
        {
            var source = _path;
            var (line, terminated) = AuditChainFiles.ReadLastLine(stream);
            if (stream.Length == 0)
            {
                // A fresh current file (new trail, or a crash right after a rotation): continue from the newest rotated file.
                var rotated = AuditChainFiles.Rotated(_path);
                if (rotated.Count > 0)
                {
                    source = rotated[^1].File;
                    using var previous = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
                    (line, terminated) = AuditChainFiles.ReadLastLine(previous);
                }
            }

            if (!terminated)
            {
                throw new KmsStorageIntegrityException(
                    $"The audit trail '{source}' ends with a torn (incomplete) record, so the chain cannot be continued safely. " +
                    "Verify it with AuditChainVerifier, keep a copy, and remove the torn last line before writing again.");
            }

            if (line.Length > 0)
            {
                if (!AuditChain.TryReadLink(line, out sequence, out lastPreviousHash))
                {
                    throw new KmsStorageIntegrityException(
                        $"The last record of the audit trail '{source}' is not a well-formed audit record, so the chain cannot be continued safely. " +
                        "Verify it with AuditChainVerifier before writing again.");
                }

                lastHash = AuditChain.HashLine(line);
            }

            var head = new FileStream(_headPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
            try
            {
                CheckHead(head, sequence, lastHash, lastPreviousHash);
            }
            catch
            {
                head.Dispose();
                throw;
            }

            stream.Seek(0, SeekOrigin.End);
            _stream = stream;
            _head = head;
            _length = stream.Length;
            _sequence = sequence;
            _lastHash = lastHash;
            if (!HeadMatches(head, sequence, lastHash))
            {
                WriteHead();
            }
        }
        catch
        {
            if (_stream != stream)
            {
                stream.Dispose();
            }

            throw;
        }
    }

    private void CheckHead(FileStream head, long sequence, string lastHash, string lastPreviousHash)
    {
        if (head.Length == 0)
        {
            // No head yet: a new trail, or a crash between the very first record and its head.
            if (sequence <= 1)
            {
                return;
            }

            throw new KmsStorageIntegrityException(
                $"The audit trail '{_path}' has records but its head file '{_headPath}' is missing or empty, so truncation cannot be ruled out. " +
                "Verify the trail with AuditChainVerifier before writing again.");
        }

        var content = new byte[head.Length];
        head.Position = 0;
        head.ReadExactly(content);
        if (!AuditChainFiles.TryParseHead(content, out var headSequence, out var headHash))
        {
            throw new KmsStorageIntegrityException($"The audit head file '{_headPath}' is not readable. Verify the trail with AuditChainVerifier before writing again.");
        }

        var matches = headSequence == sequence && headHash == lastHash;

        // A crash after a record was flushed but before its head was: the head is exactly one record behind.
        var lagsByOne = headSequence == sequence - 1 && headHash == lastPreviousHash;
        if (!matches && !lagsByOne)
        {
            throw new KmsStorageIntegrityException(
                $"The audit trail '{_path}' ends at record {sequence} but its head records {headSequence} with another hash: records were removed, altered or appended outside the sink. " +
                "Verify the trail with AuditChainVerifier before writing again.");
        }
    }

    private static bool HeadMatches(FileStream head, long sequence, string hash)
    {
        if (head.Length != AuditChainFiles.HeadLength)
        {
            return sequence == 0;
        }

        var content = new byte[head.Length];
        head.Position = 0;
        head.ReadExactly(content);
        return AuditChainFiles.TryParseHead(content, out var headSequence, out var headHash) && headSequence == sequence && headHash == hash;
    }

    private void Rotate()
    {
        _stream!.Dispose();
        _stream = null;
        var rotated = AuditChainFiles.Rotated(_path);
        var next = rotated.Count == 0 ? 1 : rotated[^1].Index + 1;
        File.Move(_path, AuditChainFiles.RotatedPath(_path, next), overwrite: false);
        _stream = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        _length = 0;
    }

    private void Append(byte[] line)
    {
        var stream = _stream!;
        var before = _length;
        try
        {
            stream.Write(line);
            stream.Write(NewLine);
            stream.Flush(flushToDisk: true);
            _length = before + line.Length + 1;
        }
        catch (IOException)
        {
            // Disk full or I/O error: take the partial record back so that the file still ends on a whole record.
            // If that fails too, the next open finds the torn line and refuses to continue.
            try
            {
                stream.SetLength(before);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // Reported by the next open.
            }

            throw;
        }
    }

    private void WriteHead()
    {
        var head = _head!;
        head.Position = 0;
        head.Write(AuditChainFiles.FormatHead(_sequence, _lastHash));
        head.Flush(flushToDisk: true);
    }
}
