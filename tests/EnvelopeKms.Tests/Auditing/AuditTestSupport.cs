using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EnvelopeKms.Auditing;

namespace EnvelopeKms.Tests.Auditing;

/// <summary>Events, trails and raw file surgery for the audit tests.</summary>
internal static class AuditTestSupport
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 29, 3, 0, 0, TimeSpan.Zero);

    public static KmsAuditEvent Event(int i, IReadOnlyDictionary<string, string>? context = null) => new()
    {
        RequestId = $"req-{i:D6}",
        EventTime = Epoch.AddSeconds(i),
        Operation = i % 3 == 0 ? KmsOperation.Decrypt : KmsOperation.Encrypt,
        Caller = "arn:aws:iam::111122223333:role/app",
        Outcome = i % 5 == 4 ? KmsOutcome.Denied : KmsOutcome.Success,
        ErrorCode = i % 5 == 4 ? "AccessDeniedException" : null,
        KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab",
        KeyMaterialId = "material-1",
        EncryptionContext = context ?? new Dictionary<string, string> { ["purpose"] = $"test-{i}" },
        AuthorizationSummary = "allowed by key policy statement Enable",
    };

    public static async Task WriteEventsAsync(JsonLinesAuditSinkOptions options, int from, int count, CancellationToken ct)
    {
        var sink = new JsonLinesAuditSink(options);
        await using (sink.ConfigureAwait(false))
        {
            for (var i = from; i < from + count; i++)
            {
                await sink.WriteAsync(Event(i), ct);
            }
        }
    }

    /// <summary>The lines of a file without their terminators (a file ending with <c>\n</c> has no empty last entry).</summary>
    public static List<byte[]> ReadLines(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        }

        if (start < bytes.Length)
        {
            lines.Add(bytes[start..]);
        }

        return lines;
    }

    public static void WriteLines(string file, IEnumerable<byte[]> lines)
    {
        using var stream = new MemoryStream();
        foreach (var line in lines)
        {
            stream.Write(line);
            stream.WriteByte((byte)'\n');
        }

        File.WriteAllBytes(file, stream.ToArray());
    }

    public static string Sha256Hex(byte[] line) => Convert.ToHexStringLower(SHA256.HashData(line));

    public static JsonElement Parse(byte[] line) => JsonDocument.Parse(line).RootElement.Clone();

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(byte[] line) => Encoding.UTF8.GetString(line);
}
