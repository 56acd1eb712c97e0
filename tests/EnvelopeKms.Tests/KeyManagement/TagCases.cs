namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>Tag lists that break one AWS KMS tag rule each, and lists exactly at the limits.</summary>
internal static class TagCases
{
    public static IReadOnlyList<KeyTag> Numbered(int count, string prefix = "k")
        => [.. Enumerable.Range(0, count).Select(i => new KeyTag($"{prefix}{i:D2}", $"v{i}"))];

    /// <summary>Invalid tag lists, with the error code AWS KMS gives.</summary>
    public static IReadOnlyList<KeyTag> Invalid(string name) => name switch
    {
        "empty key" => [new KeyTag("", "v")],
        "key of 129 characters" => [new KeyTag(new string('k', 129), "v")],
        "value of 257 characters" => [new KeyTag("k", new string('v', 257))],
        "reserved aws: prefix" => [new KeyTag("aws:owner", "v")],
        "reserved AWS: prefix in upper case" => [new KeyTag("AWS:owner", "v")],
        "key with a forbidden character" => [new KeyTag("a*b", "v")],
        "value with a forbidden character" => [new KeyTag("k", "a;b")],
        "duplicate key" => [new KeyTag("k", "1"), new KeyTag("k", "2")],
        "null value" => [new KeyTag("k", null!)],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static TheoryData<string> InvalidNames =>
    [
        "empty key",
        "key of 129 characters",
        "value of 257 characters",
        "reserved aws: prefix",
        "reserved AWS: prefix in upper case",
        "key with a forbidden character",
        "value with a forbidden character",
        "duplicate key",
        "null value",
    ];

    /// <summary>Tag lists exactly at a limit, which must be accepted.</summary>
    public static IReadOnlyList<KeyTag> AtLimit(string name) => name switch
    {
        "key of 128 characters" => [new KeyTag(new string('k', 128), "v")],
        "value of 256 characters" => [new KeyTag("k", new string('v', 256))],
        "empty value" => [new KeyTag("k", "")],
        "50 tags" => Numbered(50),
        "every allowed character" => [new KeyTag("Key 9_.:/=+-@ é", "Value 9_.:/=+-@ ü")],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static TheoryData<string> AtLimitNames =>
    [
        "key of 128 characters",
        "value of 256 characters",
        "empty value",
        "50 tags",
        "every allowed character",
    ];
}
