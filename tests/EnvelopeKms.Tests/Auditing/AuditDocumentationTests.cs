using System.Text.Json;
using System.Text.RegularExpressions;
using EnvelopeKms.Auditing;
using EnvelopeKms.Tests.Documentation;
using EnvelopeKms.Tests.Storage;
using static EnvelopeKms.Tests.Auditing.AuditTestSupport;

namespace EnvelopeKms.Tests.Auditing;

/// <summary>The worked example of docs/audit.md is what the sink writes: the lines, the hash that links them and the head.</summary>
public sealed partial class AuditDocumentationTests : IDisposable
{
    private const string Document = "docs/audit.md";

    private readonly TemporaryStoreDirectory _directory = new("audit-docs");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [GeneratedRegex("```jsonl\\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonLinesBlock();

    [GeneratedRegex("```text\\n(?<head>[0-9]{19} [0-9a-f]{64})\\n```")]
    private static partial Regex HeadBlock();

    [GeneratedRegex("SHA-256 of line 1 is `(?<hash>[0-9a-f]{64})`")]
    private static partial Regex LineOneHash();

    [Fact]
    public async Task The_example_trail_in_the_docs_is_exactly_what_the_sink_writes()
    {
        var path = Path.Combine(_directory.Parent, "audit.jsonl");
        var sink = new JsonLinesAuditSink(new JsonLinesAuditSinkOptions { Path = path });
        await using (sink)
        {
            await sink.WriteAsync(new KmsAuditEvent
            {
                RequestId = "c0a8f3e2-5b1d-4c0e-9f57-000000000001",
                EventTime = new DateTimeOffset(2026, 11, 29, 3, 0, 0, TimeSpan.Zero),
                Operation = KmsOperation.GenerateDataKey,
                Caller = "arn:aws:iam::111122223333:role/app",
                Outcome = KmsOutcome.Success,
                KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab",
                KeyMaterialId = "3f1c0d2e5a6b7c8d9e0f1a2b3c4d5e6f",
                EncryptionContext = new Dictionary<string, string> { ["tenant"] = "acme" },
                RequestParameters = JsonDocument.Parse("{\"keyId\":\"alias/app\",\"keySpec\":\"AES_256\"}").RootElement,
                AuthorizationSummary = "Allowed by key policy statement 'Enable IAM User Permissions'.",
            }, Ct);
            await sink.WriteAsync(new KmsAuditEvent
            {
                RequestId = "c0a8f3e2-5b1d-4c0e-9f57-000000000002",
                EventTime = new DateTimeOffset(2026, 11, 29, 3, 0, 1, TimeSpan.Zero),
                Operation = KmsOperation.Decrypt,
                Caller = "arn:aws:iam::111122223333:role/intruder",
                Outcome = KmsOutcome.Denied,
                ErrorCode = "AccessDeniedException",
                KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab",
                EncryptionContext = new Dictionary<string, string> { ["tenant"] = "acme" },
                AuthorizationSummary = "No statement allows kms:Decrypt.",
            }, Ct);
        }

        var document = RepositoryFiles.ReadText(Document);
        var block = JsonLinesBlock().Match(document);
        Assert.True(block.Success, $"{Document} must show the example trail in a ```jsonl block.");
        Assert.Equal(block.Groups["body"].Value, (await File.ReadAllTextAsync(path, Ct)).ReplaceLineEndings("\n"));

        var lines = ReadLines(path);
        var hash = LineOneHash().Match(document);
        Assert.True(hash.Success, $"{Document} must state the SHA-256 of line 1.");
        Assert.Equal(Sha256Hex(lines[0]), hash.Groups["hash"].Value);
        Assert.Equal(hash.Groups["hash"].Value, Parse(lines[1]).GetProperty("previousHash").GetString());

        var head = HeadBlock().Match(document);
        Assert.True(head.Success, $"{Document} must show the example head file.");
        Assert.Equal(head.Groups["head"].Value + "\n", await File.ReadAllTextAsync(AuditChainVerifier.GetHeadPath(path), Ct));
    }
}
