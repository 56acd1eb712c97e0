using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EnvelopeKms.Auditing;

/// <summary>The JSON document of one audit record (one line of a JSON Lines trail). Property order is the declaration order.</summary>
internal sealed class AuditRecordDocument
{
    public required string EventVersion { get; init; }
    public required long Sequence { get; init; }
    public required string PreviousHash { get; init; }
    public required string EventTime { get; init; }
    public required string EventName { get; init; }
    public required string EventType { get; init; }
    public required string RequestId { get; init; }
    public required AuditUserIdentityDocument UserIdentity { get; init; }
    public required string Outcome { get; init; }
    public string? ErrorCode { get; init; }
    public string? KeyId { get; init; }
    public string? KeyMaterialId { get; init; }
    public string? DestinationKeyId { get; init; }
    public string? AliasName { get; init; }
    public SortedDictionary<string, string>? EncryptionContext { get; init; }
    public JsonElement? RequestParameters { get; init; }
    public string? GrantId { get; init; }
    public string? AuthorizationSummary { get; init; }
    public AuditRecipientDocument? Recipient { get; init; }
    public bool? AuditFailOpen { get; init; }
    public long? RecordsLost { get; init; }
}

internal sealed class AuditUserIdentityDocument
{
    public required string Arn { get; init; }
}

internal sealed class AuditRecipientDocument
{
    public string? AttestationDocumentModuleId { get; init; }
    public string? AttestationDocumentEnclaveImageDigest { get; init; }
}

[JsonSourceGenerationOptions(
    WriteIndented = false,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditRecordDocument))]
internal sealed partial class AuditJsonContext : JsonSerializerContext;

/// <summary>The chain arithmetic shared by the sink and the verifier.</summary>
internal static class AuditChain
{
    /// <summary>The format version written in every record.</summary>
    public const string EventVersion = "1.0";

    /// <summary>The <c>previousHash</c> of the first record of a chain: 64 zeros.</summary>
    public static readonly string GenesisHash = new('0', 64);

    /// <summary>Lowercase hex SHA-256 of the exact bytes of a line, without its terminating <c>\n</c>.</summary>
    public static string HashLine(ReadOnlySpan<byte> line)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(line, digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>Serializes one record to its line bytes (no terminator).</summary>
    public static byte[] Serialize(KmsAuditEvent auditEvent, long sequence, string previousHash, byte[]? hmacKey)
    {
        SortedDictionary<string, string>? context = null;
        if (auditEvent.EncryptionContext is { Count: > 0 } ec)
        {
            context = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in ec)
            {
                context[key] = hmacKey is null ? value : AuditFieldHmac.Compute(hmacKey, value);
            }
        }

        var document = new AuditRecordDocument
        {
            EventVersion = EventVersion,
            Sequence = sequence,
            PreviousHash = previousHash,
            EventTime = auditEvent.EventTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            EventName = auditEvent.EventName,
            EventType = auditEvent.EventType,
            RequestId = auditEvent.RequestId,
            UserIdentity = new AuditUserIdentityDocument { Arn = auditEvent.Caller },
            Outcome = auditEvent.Outcome.ToString(),
            ErrorCode = auditEvent.ErrorCode,
            KeyId = auditEvent.KeyId,
            KeyMaterialId = auditEvent.KeyMaterialId,
            DestinationKeyId = auditEvent.DestinationKeyId,
            AliasName = auditEvent.AliasName,
            EncryptionContext = context,
            RequestParameters = auditEvent.RequestParameters is { } parameters && hmacKey is not null ? HmacContexts(parameters, hmacKey, inContext: false) : auditEvent.RequestParameters,
            GrantId = auditEvent.GrantId,
            AuthorizationSummary = auditEvent.AuthorizationSummary,
            Recipient = auditEvent.RecipientModuleId is null && auditEvent.RecipientImageSha384 is null
                ? null
                : new AuditRecipientDocument
                {
                    AttestationDocumentModuleId = auditEvent.RecipientModuleId,
                    AttestationDocumentEnclaveImageDigest = auditEvent.RecipientImageSha384,
                },
            AuditFailOpen = auditEvent.AuditFailOpen ? true : null,
            RecordsLost = auditEvent.RecordsLost > 0 ? auditEvent.RecordsLost : null,
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, AuditJsonContext.Default.AuditRecordDocument);
    }

    /// <summary>
    /// A copy of request parameters whose encryption-context values (those of any object under a property
    /// whose name contains <c>encryptionContext</c>, such as grant constraints or the contexts of
    /// <c>ReEncrypt</c>) are replaced by their HMAC, as the record's own <c>encryptionContext</c> is.
    /// </summary>
    private static JsonElement HmacContexts(JsonElement parameters, byte[] hmacKey, bool inContext)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, parameters, inContext);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();

        void Write(Utf8JsonWriter writer, JsonElement element, bool hmacStrings)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteStartObject();
                    foreach (var property in element.EnumerateObject())
                    {
                        writer.WritePropertyName(property.Name);
                        Write(writer, property.Value, hmacStrings || property.Name.Contains("ncryptionContext", StringComparison.Ordinal));
                    }

                    writer.WriteEndObject();
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in element.EnumerateArray())
                    {
                        Write(writer, item, hmacStrings);
                    }

                    writer.WriteEndArray();
                    break;
                case JsonValueKind.String when hmacStrings:
                    writer.WriteStringValue(AuditFieldHmac.Compute(hmacKey, element.GetString()!));
                    break;
                default:
                    element.WriteTo(writer);
                    break;
            }
        }
    }

    /// <summary>Reads <c>sequence</c> and <c>previousHash</c> of a line; false when the line is not a well-formed record.</summary>
    public static bool TryReadLink(ReadOnlySpan<byte> line, out long sequence, out string previousHash)
    {
        sequence = 0;
        previousHash = string.Empty;
        try
        {
            var reader = new Utf8JsonReader(line);
            using var document = JsonDocument.ParseValue(ref reader);
            if (line.Length == 0 || line[0] != (byte)'{' || reader.BytesConsumed != line.Length)
            {
                return false;
            }

            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("sequence"u8, out var sequenceElement)
                || sequenceElement.ValueKind != JsonValueKind.Number
                || !sequenceElement.TryGetInt64(out sequence)
                || sequence < 1
                || !root.TryGetProperty("previousHash"u8, out var hashElement)
                || hashElement.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            previousHash = hashElement.GetString()!;
            return previousHash.Length == 64 && IsLowerHex(previousHash);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsLowerHex(string value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The UTF-8 bytes of a string.</summary>
    public static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);
}
