using EnvelopeKms.Auditing;
using EnvelopeKms.Auditing.Usage;

namespace EnvelopeKms.Tests.Auditing.Usage;

/// <summary>Synthetic audit events for the usage tests.</summary>
internal static class UsageTestSupport
{
    public const string KeyA = "1234abcd-12ab-34cd-56ef-1234567890ab";
    public const string KeyB = "2234abcd-12ab-34cd-56ef-1234567890ab";
    public const string KeyC = "3234abcd-12ab-34cd-56ef-1234567890ab";

    public static KmsAuditEvent Event(DateTimeOffset time, KmsOperation operation, string? keyId = KeyA, KmsOutcome outcome = KmsOutcome.Success, string? destinationKeyId = null) => new()
    {
        RequestId = "req",
        EventTime = time,
        Operation = operation,
        Caller = "arn:aws:iam::000000000000:root",
        Outcome = outcome,
        KeyId = keyId,
        DestinationKeyId = destinationKeyId,
        ErrorCode = outcome == KmsOutcome.Success ? null : outcome == KmsOutcome.Denied ? "AccessDeniedException" : "ValidationException",
    };

    /// <summary>The usage rows of a meter as comparable text, one per key and operation.</summary>
    public static string Describe(IEnumerable<KeyOperationUsage> usage)
        => string.Join('\n', usage.Select(u => $"{u.KeyId ?? "-"} {u.Operation} {u.Success}/{u.Failure}/{u.Denied}"));
}
