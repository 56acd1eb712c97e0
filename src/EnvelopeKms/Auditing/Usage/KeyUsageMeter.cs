using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace EnvelopeKms.Auditing.Usage;

/// <summary>The last usage of one key, as a <see cref="KeyUsageMeter"/> saw it.</summary>
public sealed record KeyLastUsage
{
    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }
    /// <summary>The last successful operation on the key (see <c>docs/audit.md</c> for which count), or <see langword="null"/>.</summary>
    public KmsOperation? LastUsedOperation { get; init; }
    /// <summary>When <see cref="LastUsedOperation"/> happened.</summary>
    public DateTimeOffset? LastUsedDate { get; init; }
    /// <summary>The last successful cryptographic operation on the key (Encrypt, Decrypt, GenerateDataKey, Sign, ...), or <see langword="null"/>.</summary>
    public KmsOperation? LastCryptographicOperation { get; init; }
    /// <summary>When <see cref="LastCryptographicOperation"/> happened.</summary>
    public DateTimeOffset? LastCryptographicDate { get; init; }
}

/// <summary>Request counts of one operation on one key (or on no key) over a period, by outcome.</summary>
public sealed record KeyOperationUsage
{
    /// <summary>The key id; <see langword="null"/> for operations on no key (<c>ListKeys</c>, <c>GenerateRandom</c>, ...) and for keys beyond <see cref="KeyUsageMeterOptions.MaxTrackedKeys"/>.</summary>
    public string? KeyId { get; init; }
    /// <summary>The operation.</summary>
    public required KmsOperation Operation { get; init; }
    /// <summary>Successful requests.</summary>
    public long Success { get; init; }
    /// <summary>Failed requests (bad input, wrong key state, ...).</summary>
    public long Failure { get; init; }
    /// <summary>Denied requests.</summary>
    public long Denied { get; init; }
    /// <summary>All requests: <see cref="Success"/> + <see cref="Failure"/> + <see cref="Denied"/>.</summary>
    public long Total => Success + Failure + Denied;
}

/// <summary>What <see cref="KeyUsageMeter.ReplayAsync"/> did.</summary>
public sealed record KeyUsageReplayResult
{
    /// <summary>The trail files read, oldest first.</summary>
    public required IReadOnlyList<string> Files { get; init; }
    /// <summary>The records fed to the meter.</summary>
    public required long RecordsReplayed { get; init; }
    /// <summary>Lines that were not readable records (a torn last line, an unknown operation name, ...), skipped.</summary>
    public required long RecordsSkipped { get; init; }
    /// <summary>The chain verification, when it was asked for (it was intact, or the replay would have thrown).</summary>
    public AuditChainVerification? Verification { get; init; }
}

/// <summary>
/// Counts key-manager requests per key, operation and UTC period (hour or day) by outcome, and keeps each key's last
/// usage and last cryptographic usage. Fed with every <see cref="KmsAuditEvent"/> the key manager writes (the key manager
/// calls <see cref="Record"/> after its audit sink accepted the record); rebuilt after a restart with
/// <see cref="ReplayAsync"/> from a <see cref="JsonLinesAuditSink"/> trail. Without a replay it knows what happened since
/// it was created (<see cref="TrackingStartDate"/>). Thread-safe; <see cref="Record"/> allocates only on the first event of a
/// key, or of a key, operation and period.
/// </summary>
public sealed class KeyUsageMeter
{
    private const string AccountKey = "";
    private static readonly bool[] Cryptographic = OperationFlags(
        KmsOperation.Encrypt, KmsOperation.Decrypt, KmsOperation.ReEncryptFrom, KmsOperation.ReEncryptTo,
        KmsOperation.GenerateDataKey, KmsOperation.GenerateDataKeyWithoutPlaintext, KmsOperation.GenerateMac, KmsOperation.VerifyMac,
        KmsOperation.Sign, KmsOperation.Verify, KmsOperation.DeriveSharedSecret, KmsOperation.Decapsulate, KmsOperation.Encapsulate,
        KmsOperation.GenerateDataKeyPair, KmsOperation.GenerateDataKeyPairWithoutPlaintext);

    /// <summary>Operations that do not move a key's last usage: creation, the service's own work on it, and reading the last usage.</summary>
    private static readonly bool[] NotAUse = OperationFlags(
        KmsOperation.CreateKey, KmsOperation.DeleteExpiredKey, KmsOperation.RotateKey, KmsOperation.GetKeyLastUsage);

    private readonly ConcurrentDictionary<string, KeyEntry> _keys = new(StringComparer.Ordinal);
    private readonly KeyEntry _account = new();
    private readonly TimeProvider _time;
    private readonly long _periodTicks;
    private readonly long _retentionTicks;
    private readonly int _maxTrackedKeys;
    private readonly Lock _pruneGate = new();
    private int _trackedKeys;
    private long _horizonTicks;
    private long _nextPruneTicks;
    private long _trackingStartTicks;

    /// <summary>Creates an empty meter.</summary>
    /// <param name="options">Period, retention and key limit; the defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock the retention window is measured on; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public KeyUsageMeter(KeyUsageMeterOptions? options = null, TimeProvider? timeProvider = null)
    {
        options ??= new KeyUsageMeterOptions();
        options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        Period = options.Period;
        Retention = options.Retention;
        _periodTicks = options.Period == UsagePeriod.Day ? TimeSpan.TicksPerDay : TimeSpan.TicksPerHour;
        _retentionTicks = options.Retention.Ticks;
        _maxTrackedKeys = options.MaxTrackedKeys;
        _keys[AccountKey] = _account;
        var now = _time.GetUtcNow().UtcTicks;
        _trackingStartTicks = now;
        _horizonTicks = Floor(now - _retentionTicks);
        _nextPruneTicks = now + _periodTicks;
    }

    /// <summary>The width of the counting buckets.</summary>
    public UsagePeriod Period { get; }

    /// <summary>How long counts are kept.</summary>
    public TimeSpan Retention { get; }

    /// <summary>
    /// Since when the meter knows what happened: its creation, or the time of the oldest record a replay read. Last usages
    /// before it are unknown (reported as never used).
    /// </summary>
    public DateTimeOffset TrackingStartDate => new(Volatile.Read(ref _trackingStartTicks), TimeSpan.Zero);

    /// <summary>The start of the oldest period whose counts are still kept (now − <see cref="Retention"/>, rounded down to a period).</summary>
    public DateTimeOffset CountsRetainedSince => new(Math.Max(Volatile.Read(ref _horizonTicks), 0), TimeSpan.Zero);

    /// <summary>Whether <paramref name="operation"/> is a cryptographic operation (it updates <see cref="KeyLastUsage.LastCryptographicOperation"/>).</summary>
    public static bool IsCryptographicOperation(KmsOperation operation) => Flag(Cryptographic, operation);

    /// <summary>
    /// Counts one audited request. The request is counted on <see cref="KmsAuditEvent.KeyId"/> (on the account line when
    /// there is none) under its operation, period (of <see cref="KmsAuditEvent.EventTime"/>, UTC) and outcome; a
    /// <c>ReEncrypt</c> that reached its destination key is also counted on that key as <see cref="KmsOperation.ReEncryptTo"/>.
    /// A success updates the key's last usage (see <c>docs/audit.md</c> for the operations that do not count as a use).
    /// </summary>
    /// <param name="auditEvent">The event, as the key manager wrote it.</param>
    public void Record(KmsAuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        var now = _time.GetUtcNow().UtcTicks;
        if (now >= Volatile.Read(ref _nextPruneTicks))
        {
            Prune(now);
        }

        var ticks = auditEvent.EventTime.UtcTicks;
        var period = Floor(ticks);
        var counted = period >= Volatile.Read(ref _horizonTicks);
        var outcome = auditEvent.Outcome;
        var operation = auditEvent.Operation;
        var entry = EntryOf(auditEvent.KeyId);
        if (counted)
        {
            entry.Count(operation, period, outcome);
        }

        var tracked = auditEvent.KeyId is not null && !ReferenceEquals(entry, _account);
        if (tracked)
        {
            entry.Saw(operation, ticks, outcome);
        }

        if (auditEvent.DestinationKeyId is { } destinationId)
        {
            var destination = EntryOf(destinationId);
            if (counted)
            {
                destination.Count(KmsOperation.ReEncryptTo, period, outcome);
            }

            if (!ReferenceEquals(destination, _account))
            {
                destination.Saw(KmsOperation.ReEncryptTo, ticks, outcome);
            }
        }
    }

    /// <summary>The last usage of a key; all fields <see langword="null"/> when the meter never saw it used.</summary>
    /// <param name="keyId">The key id (not an alias or ARN).</param>
    public KeyLastUsage GetLastUsage(string keyId)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (keyId.Length == 0 || !_keys.TryGetValue(keyId, out var entry))
        {
            return new KeyLastUsage { KeyId = keyId };
        }

        lock (entry.Gate)
        {
            return new KeyLastUsage
            {
                KeyId = keyId,
                LastUsedOperation = entry.LastTicks == 0 ? null : entry.LastOperation,
                LastUsedDate = entry.LastTicks == 0 ? null : new DateTimeOffset(entry.LastTicks, TimeSpan.Zero),
                LastCryptographicOperation = entry.LastCryptoTicks == 0 ? null : entry.LastCryptoOperation,
                LastCryptographicDate = entry.LastCryptoTicks == 0 ? null : new DateTimeOffset(entry.LastCryptoTicks, TimeSpan.Zero),
            };
        }
    }

    /// <summary>
    /// The request counts per key and operation over [<paramref name="from"/>, <paramref name="to"/>): a period bucket counts
    /// when its start is in the range, so counts over adjacent ranges add up. Ordered by key id (account line first), then operation.
    /// </summary>
    /// <param name="from">The start (inclusive).</param>
    /// <param name="to">The end (exclusive).</param>
    public IReadOnlyList<KeyOperationUsage> GetUsage(DateTimeOffset from, DateTimeOffset to)
    {
        var totals = new Dictionary<(string KeyId, KmsOperation Operation), long[]>();
        foreach (var (keyId, operation, _, success, failure, denied) in Buckets(from, to))
        {
            if (!totals.TryGetValue((keyId ?? AccountKey, operation), out var sum))
            {
                totals[(keyId ?? AccountKey, operation)] = sum = new long[3];
            }

            sum[0] += success;
            sum[1] += failure;
            sum[2] += denied;
        }

        return [.. totals
            .OrderBy(t => t.Key.KeyId, StringComparer.Ordinal).ThenBy(t => t.Key.Operation)
            .Select(t => new KeyOperationUsage
            {
                KeyId = t.Key.KeyId.Length == 0 ? null : t.Key.KeyId,
                Operation = t.Key.Operation,
                Success = t.Value[0],
                Failure = t.Value[1],
                Denied = t.Value[2],
            })];
    }

    /// <summary>
    /// Rebuilds counts and last usages from the trail of a <see cref="JsonLinesAuditSink"/> (its rotated files, then the
    /// current file). Replay into a meter before the key manager that feeds it starts, or events are counted twice.
    /// Records outside the retention window update last usages only. Unreadable lines are skipped and counted.
    /// </summary>
    /// <param name="path">The sink's <see cref="JsonLinesAuditSinkOptions.Path"/>.</param>
    /// <param name="verifyChain">Verify the hash chain first (<see cref="AuditChainVerifier.VerifyAsync(string, CancellationToken)"/>) and refuse a broken trail.</param>
    /// <param name="cancellationToken">Cancels the replay (what was read stays counted).</param>
    /// <exception cref="KmsStorageIntegrityException"><paramref name="verifyChain"/> is set and the chain does not verify; nothing was replayed.</exception>
    public async Task<KeyUsageReplayResult> ReplayAsync(string path, bool verifyChain = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AuditChainVerification? verification = null;
        if (verifyChain)
        {
            verification = await AuditChainVerifier.VerifyAsync(path, cancellationToken).ConfigureAwait(false);
            if (!verification.IsIntact)
            {
                throw new KmsStorageIntegrityException(string.Create(CultureInfo.InvariantCulture,
                    $"The audit trail does not verify, so it was not replayed: {verification.Problem} (record {verification.FirstBrokenSequence?.ToString(CultureInfo.InvariantCulture) ?? "-"})."));
            }
        }

        var files = AuditChainVerifier.ListChainFiles(path);
        long replayed = 0;
        long skipped = 0;
        var oldest = long.MaxValue;
        foreach (var file in files)
        {
            var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (stream.ConfigureAwait(false))
            {
                await foreach (var (line, terminated) in AuditChainVerifier.ReadLinesAsync(stream, cancellationToken).ConfigureAwait(false))
                {
                    if (!terminated || !TryParse(line, out var auditEvent))
                    {
                        skipped++;
                        continue;
                    }

                    Record(auditEvent);
                    oldest = Math.Min(oldest, auditEvent.EventTime.UtcTicks);
                    replayed++;
                }
            }
        }

        if (oldest != long.MaxValue)
        {
            MoveTrackingStartBackTo(oldest);
        }

        return new KeyUsageReplayResult { Files = files, RecordsReplayed = replayed, RecordsSkipped = skipped, Verification = verification };
    }

    /// <summary>The count buckets whose start is in [from, to).</summary>
    internal IEnumerable<(string? KeyId, KmsOperation Operation, long PeriodTicks, long Success, long Failure, long Denied)> Buckets(DateTimeOffset from, DateTimeOffset to)
    {
        var fromTicks = from.UtcTicks;
        var toTicks = to.UtcTicks;
        foreach (var (keyId, entry) in _keys)
        {
            foreach (var (bucket, counter) in entry.Buckets)
            {
                if (bucket.PeriodTicks >= fromTicks && bucket.PeriodTicks < toTicks)
                {
                    yield return (keyId.Length == 0 ? null : keyId, bucket.Operation, bucket.PeriodTicks,
                        Interlocked.Read(ref counter.Success), Interlocked.Read(ref counter.Failure), Interlocked.Read(ref counter.Denied));
                }
            }
        }
    }

    /// <summary>The lifecycle the meter saw of every tracked key: first event, creation, deletion scheduled (and not cancelled), purge.</summary>
    internal IEnumerable<(string KeyId, DateTimeOffset FirstSeen, DateTimeOffset? Created, DateTimeOffset? DeletionScheduled, DateTimeOffset? Purged)> Lifecycles()
    {
        foreach (var (keyId, entry) in _keys)
        {
            if (keyId.Length == 0)
            {
                continue;
            }

            long firstSeen, created, deletionScheduled, purged;
            lock (entry.Gate)
            {
                (firstSeen, created, deletionScheduled, purged) = (entry.FirstSeenTicks, entry.CreatedTicks, entry.DeletionScheduledTicks, entry.PurgedTicks);
            }

            static DateTimeOffset? At(long ticks) => ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
            yield return (keyId, new DateTimeOffset(firstSeen, TimeSpan.Zero), At(created), At(deletionScheduled), At(purged));
        }
    }

    private KeyEntry EntryOf(string? keyId)
    {
        if (keyId is null || keyId.Length == 0)
        {
            return _account;
        }

        if (_keys.TryGetValue(keyId, out var entry))
        {
            return entry;
        }

        if (Interlocked.Increment(ref _trackedKeys) > _maxTrackedKeys)
        {
            Interlocked.Decrement(ref _trackedKeys);
            return _account;
        }

        var created = new KeyEntry();
        if (_keys.TryAdd(keyId, created))
        {
            return created;
        }

        Interlocked.Decrement(ref _trackedKeys);
        return _keys[keyId];
    }

    private void MoveTrackingStartBackTo(long ticks)
    {
        var current = Volatile.Read(ref _trackingStartTicks);
        while (ticks < current)
        {
            var seen = Interlocked.CompareExchange(ref _trackingStartTicks, ticks, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void Prune(long now)
    {
        if (!_pruneGate.TryEnter())
        {
            return;
        }

        try
        {
            var horizon = Floor(now - _retentionTicks);
            Volatile.Write(ref _horizonTicks, horizon);
            Volatile.Write(ref _nextPruneTicks, now + _periodTicks);
            foreach (var (_, entry) in _keys)
            {
                foreach (var (bucket, _) in entry.Buckets)
                {
                    if (bucket.PeriodTicks < horizon)
                    {
                        entry.Buckets.TryRemove(bucket, out _);
                    }
                }
            }
        }
        finally
        {
            _pruneGate.Exit();
        }
    }

    private long Floor(long ticks) => ticks - (((ticks % _periodTicks) + _periodTicks) % _periodTicks);

    private static bool Flag(bool[] flags, KmsOperation operation) => (uint)operation < (uint)flags.Length && flags[(int)operation];

    private static bool[] OperationFlags(params KmsOperation[] operations)
    {
        var max = 0;
        foreach (var value in Enum.GetValues<KmsOperation>())
        {
            max = Math.Max(max, (int)value);
        }

        var flags = new bool[max + 1];
        foreach (var operation in operations)
        {
            flags[(int)operation] = true;
        }

        return flags;
    }

    private static bool TryParse(byte[] line, out KmsAuditEvent auditEvent)
    {
        auditEvent = null!;
        AuditRecordDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(line, AuditJsonContext.Default.AuditRecordDocument);
        }
        catch (JsonException)
        {
            return false;
        }

        if (document is null
            || !AuditEventNames.TryParse(document.EventName, out var operation)
            || !Enum.TryParse<KmsOutcome>(document.Outcome, ignoreCase: false, out var outcome) || !Enum.IsDefined(outcome)
            || !DateTimeOffset.TryParseExact(document.EventTime, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var eventTime))
        {
            return false;
        }

        auditEvent = new KmsAuditEvent
        {
            RequestId = document.RequestId,
            EventTime = eventTime,
            Operation = operation,
            Caller = document.UserIdentity.Arn,
            Outcome = outcome,
            KeyId = document.KeyId,
            KeyMaterialId = document.KeyMaterialId,
            DestinationKeyId = document.DestinationKeyId,
            AliasName = document.AliasName,
            ErrorCode = document.ErrorCode,
        };
        return true;
    }

    private readonly record struct BucketKey(KmsOperation Operation, long PeriodTicks);

    private sealed class Counter
    {
        public long Success;
        public long Failure;
        public long Denied;
    }

    private sealed class KeyEntry
    {
        public readonly ConcurrentDictionary<BucketKey, Counter> Buckets = new();
        public readonly Lock Gate = new();
        public long LastTicks;
        public KmsOperation LastOperation;
        public long LastCryptoTicks;
        public KmsOperation LastCryptoOperation;
        public long FirstSeenTicks;
        public long CreatedTicks;
        public long DeletionScheduledTicks;
        public long PurgedTicks;

        public void Count(KmsOperation operation, long period, KmsOutcome outcome)
        {
            var counter = Buckets.GetOrAdd(new BucketKey(operation, period), static _ => new Counter());
            switch (outcome)
            {
                case KmsOutcome.Success:
                    Interlocked.Increment(ref counter.Success);
                    break;
                case KmsOutcome.Denied:
                    Interlocked.Increment(ref counter.Denied);
                    break;
                default:
                    Interlocked.Increment(ref counter.Failure);
                    break;
            }
        }

        public void Saw(KmsOperation operation, long ticks, KmsOutcome outcome)
        {
            lock (Gate)
            {
                if (FirstSeenTicks == 0 || ticks < FirstSeenTicks)
                {
                    FirstSeenTicks = ticks;
                }

                if (outcome != KmsOutcome.Success)
                {
                    return;
                }

                switch (operation)
                {
                    case KmsOperation.CreateKey:
                        CreatedTicks = ticks;
                        break;
                    case KmsOperation.ScheduleKeyDeletion:
                        DeletionScheduledTicks = ticks;
                        break;
                    case KmsOperation.CancelKeyDeletion when ticks >= DeletionScheduledTicks:
                        DeletionScheduledTicks = 0;
                        break;
                    case KmsOperation.DeleteExpiredKey:
                        PurgedTicks = ticks;
                        break;
                }

                if (Flag(NotAUse, operation))
                {
                    return;
                }

                if (ticks >= LastTicks)
                {
                    LastTicks = ticks;
                    LastOperation = operation;
                }

                if (Flag(Cryptographic, operation) && ticks >= LastCryptoTicks)
                {
                    LastCryptoTicks = ticks;
                    LastCryptoOperation = operation;
                }
            }
        }
    }
}
