using EnvelopeKms.Auditing;
using EnvelopeKms.Tests.Storage;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static EnvelopeKms.Tests.Auditing.AuditTestSupport;

namespace EnvelopeKms.Tests.Auditing;

public sealed class AuditChainProperties
{
    [Property(MaxTest = 40)]
    public bool An_untouched_chain_verifies_and_any_single_byte_change_is_detected_at_or_just_before_its_record(
        PositiveInt count, NonNegativeInt position, byte xor, NonNegativeInt maxFileBytes, string?[] contextValues)
    {
        return CheckAsync().GetAwaiter().GetResult();

        async Task<bool> CheckAsync()
        {
            using var directory = new TemporaryStoreDirectory("audit-property");
            var path = Path.Combine(directory.Parent, "audit.jsonl");
            var records = 1 + (count.Get % 12);
            var options = new JsonLinesAuditSinkOptions { Path = path, MaxFileBytes = maxFileBytes.Get % 3 == 0 ? 0 : 400 + maxFileBytes.Get % 2000 };
            var sink = new JsonLinesAuditSink(options);
            await using (sink)
            {
                for (var i = 0; i < records; i++)
                {
                    var value = contextValues is { Length: > 0 } ? contextValues[i % contextValues.Length] ?? "" : $"v{i}";
                    await sink.WriteAsync(Event(i, new Dictionary<string, string> { ["k"] = value }), CancellationToken.None);
                }
            }

            var intact = await AuditChainVerifier.VerifyAsync(path, CancellationToken.None);
            if (!intact.IsIntact || intact.RecordsChecked != records)
            {
                return false;
            }

            // Flip one byte somewhere in the chain's files and find which record it was in.
            var files = AuditChainVerifier.ListChainFiles(path);
            var offset = position.Get % files.Sum(f => new FileInfo(f).Length);
            long firstSequence = 1;
            foreach (var file in files)
            {
                var bytes = await File.ReadAllBytesAsync(file, CancellationToken.None);
                if (offset >= bytes.Length)
                {
                    offset -= bytes.Length;
                    firstSequence += ReadLines(file).Count;
                    continue;
                }

                var record = firstSequence + bytes.AsSpan(0, (int)offset).Count((byte)'\n');
                bytes[offset] ^= xor == 0 ? (byte)1 : xor;
                await File.WriteAllBytesAsync(file, bytes, CancellationToken.None);
                var broken = await AuditChainVerifier.VerifyAsync(path, CancellationToken.None);
                return !broken.IsIntact
                    && broken.FirstBrokenSequence is { } at
                    && (at == record || at == record - 1);
            }

            return false;
        }
    }
}
