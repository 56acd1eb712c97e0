using System.Text.Json.Serialization;

namespace EnvelopeKms.Storage;

/// <summary>The on-disk document of one key (format version 1).</summary>
internal sealed class KeyFile
{
    public int FormatVersion { get; set; }
    public KeyRecord? Key { get; set; }
}

/// <summary>The on-disk document of one alias (format version 1).</summary>
internal sealed class AliasFile
{
    public int FormatVersion { get; set; }
    public AliasRecord? Alias { get; set; }
}

/// <summary>The on-disk document of one grant (format version 1).</summary>
internal sealed class GrantFile
{
    public int FormatVersion { get; set; }
    public GrantRecord? Grant { get; set; }
}

/// <summary>The on-disk document of one custom key store (format version 1).</summary>
internal sealed class CustomKeyStoreFile
{
    public int FormatVersion { get; set; }
    public CustomKeyStoreRecord? CustomKeyStore { get; set; }
}

/// <summary>The on-disk document of the store metadata (format version 1).</summary>
internal sealed class MetadataFile
{
    public int FormatVersion { get; set; }
    public KeyStoreMetadata? Metadata { get; set; }
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    AllowDuplicateProperties = false,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(KeyFile))]
[JsonSerializable(typeof(AliasFile))]
[JsonSerializable(typeof(GrantFile))]
[JsonSerializable(typeof(MetadataFile))]
[JsonSerializable(typeof(CustomKeyStoreFile))]
internal sealed partial class FileSystemKeyStoreJsonContext : JsonSerializerContext;
