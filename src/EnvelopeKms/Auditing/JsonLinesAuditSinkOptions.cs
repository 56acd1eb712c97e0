namespace EnvelopeKms.Auditing;

/// <summary>Options of a <see cref="JsonLinesAuditSink"/>.</summary>
public sealed class JsonLinesAuditSinkOptions
{
    /// <summary>The default <see cref="MaxFileBytes"/>: 100 MiB.</summary>
    public const long DefaultMaxFileBytes = 100L * 1024 * 1024;

    /// <summary>
    /// The path of the current trail file, for example <c>/var/log/kms/audit.jsonl</c>. Rotated files are written next to it
    /// as <c>audit.000001.jsonl</c>, <c>audit.000002.jsonl</c>, ... and the head as <c>audit.jsonl.head</c>.
    /// </summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// The size after which the file is rotated: a record that would take the current file past this size goes into a new file
    /// (a record larger than the limit still goes, alone, into a fresh file). <see langword="null"/> or 0 disables rotation.
    /// </summary>
    public long? MaxFileBytes { get; set; } = DefaultMaxFileBytes;

    /// <summary>
    /// When set (at least 32 bytes), encryption-context values are written as <c>hmac-sha256:&lt;base64&gt;</c> under this key
    /// (see <see cref="AuditFieldHmac"/>); context keys stay readable. Keep the key as secret as the values it hides.
    /// The sink copies the key; it is zeroed when the sink is disposed.
    /// </summary>
#pragma warning disable CA1819 // A key is naturally a byte array; the sink copies it.
    public byte[]? HmacKey { get; set; }
#pragma warning restore CA1819
}
