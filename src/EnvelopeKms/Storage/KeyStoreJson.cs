using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace EnvelopeKms.Storage;

/// <summary>
/// The JSON form of key-store records shared by the database stores (SQLite, PostgreSQL) and open to
/// stores written by others: compact, camelCase, enum names as strings, unknown and duplicate members
/// refused, required members enforced. Source-generated, so a store stays trimming- and AOT-safe.
/// </summary>
/// <remarks>
/// A document holds every member of its record, the seal included; a database store keeps the
/// optimistic-concurrency version in its own column and overrides the document's <c>version</c> on read.
/// </remarks>
public static class KeyStoreJson
{
    /// <summary>The JSON contract of a <see cref="Storage.KeyRecord"/>.</summary>
    public static JsonTypeInfo<KeyRecord> KeyRecord => KeyStoreJsonContext.Default.KeyRecord;

    /// <summary>The JSON contract of an <see cref="Storage.AliasRecord"/>.</summary>
    public static JsonTypeInfo<AliasRecord> AliasRecord => KeyStoreJsonContext.Default.AliasRecord;

    /// <summary>The JSON contract of a <see cref="Storage.GrantRecord"/>.</summary>
    public static JsonTypeInfo<GrantRecord> GrantRecord => KeyStoreJsonContext.Default.GrantRecord;

    /// <summary>The contract of <see cref="Storage.CustomKeyStoreRecord"/>.</summary>
    public static JsonTypeInfo<CustomKeyStoreRecord> CustomKeyStoreRecord => KeyStoreJsonContext.Default.CustomKeyStoreRecord;

    /// <summary>The JSON contract of the <see cref="KeyStoreMetadata"/>.</summary>
    public static JsonTypeInfo<KeyStoreMetadata> Metadata => KeyStoreJsonContext.Default.KeyStoreMetadata;
}

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
[JsonSerializable(typeof(GrantRecord))]
[JsonSerializable(typeof(KeyStoreMetadata))]
[JsonSerializable(typeof(CustomKeyStoreRecord))]
internal sealed partial class KeyStoreJsonContext : JsonSerializerContext;
