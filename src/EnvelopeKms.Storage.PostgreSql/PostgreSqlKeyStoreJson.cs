using System.Text.Json.Serialization;

namespace EnvelopeKms.Storage.PostgreSql;

/// <summary>
/// The JSON documents of the <c>document</c> columns (format version 1), source-generated so that
/// the store stays trimming- and AOT-safe. The row's <c>version</c> column, not the document, holds
/// the optimistic-concurrency version.
/// </summary>
[JsonSourceGenerationOptions(
    WriteIndented = false,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    AllowDuplicateProperties = false,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(KeyRecord))]
[JsonSerializable(typeof(AliasRecord))]
[JsonSerializable(typeof(KeyStoreMetadata))]
internal sealed partial class PostgreSqlKeyStoreJsonContext : JsonSerializerContext;
