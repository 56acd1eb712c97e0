using EnvelopeKms.Storage;
using EnvelopeKms.Storage.Sqlite;

/// <summary>
/// The shared key store named on the command line: <c>--store sqlite:&lt;path&gt;</c>. The one place that
/// knows the store kinds; a <c>postgres:&lt;connection string&gt;</c> kind is one more case in
/// <see cref="Parse"/> and <see cref="Open"/>.
/// </summary>
internal sealed record KeyStoreOption(string Kind, string Target)
{
    /// <summary>Parses <c>kind:target</c>; null when the kind is unknown or the target is empty.</summary>
    public static KeyStoreOption? Parse(string value)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            return null;
        }

        var kind = value[..colon];
        var target = value[(colon + 1)..];
        return kind switch
        {
            "sqlite" => new KeyStoreOption(kind, Path.GetFullPath(target)),
            // "postgres" => new KeyStoreOption(kind, target),
            _ => null,
        };
    }

    /// <summary>The command-line form, passed on to the second instance.</summary>
    public string Argument => $"{Kind}:{Target}";

    /// <summary>What the narrative shows (never a connection string's password).</summary>
    public string Description => Kind switch
    {
        "sqlite" => $"SQLite database {Target}",
        _ => Kind,
    };

    /// <summary>Opens a new store instance: each key-manager instance gets its own.</summary>
    public IKeyStore Open() => Kind switch
    {
        "sqlite" => new SqliteKeyStore(Target),
        // "postgres" => new PostgresKeyStore(Target),
        _ => throw new InvalidOperationException($"Unknown store kind '{Kind}'."),
    };
}
