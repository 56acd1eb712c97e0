namespace EnvelopeKms.Storage;

/// <summary>
/// A key store shared by several key-manager instances (processes or machines) that reports changes
/// made through any of them. The key manager relays each report as its
/// <see cref="KeyManager.KeyChanged"/> event, so that caches of data keys (the envelope encryptor's)
/// drop the entries of a key that another instance disabled, rotated or scheduled for deletion.
/// </summary>
/// <remarks>
/// Reports are best effort and may repeat: a store reports its own instance's writes too, and after it
/// lost track of changes (a dropped notification connection, a gap in its change feed) it reports a
/// reset (<see cref="KeyStoreChangedEventArgs.IsReset"/>) that means "anything may have changed".
/// Handlers run on a background thread and must not block. A store that implements this interface
/// documents how soon a change is reported; state checks never depend on it, because the key manager
/// reads a key's state from the store on every operation.
/// </remarks>
public interface IKeyStoreChangeNotifier
{
    /// <summary>Raised when a key or an alias changed through any instance that shares the store.</summary>
    event EventHandler<KeyStoreChangedEventArgs>? Changed;
}

/// <summary>What changed in a shared key store.</summary>
public sealed class KeyStoreChangedEventArgs : EventArgs
{
    /// <summary>A report that anything may have changed.</summary>
    public static KeyStoreChangedEventArgs Reset { get; } = new(null, null);

    /// <summary>Creates the event data; with both arguments <see langword="null"/> it is a reset.</summary>
    public KeyStoreChangedEventArgs(string? keyId, string? aliasName)
    {
        KeyId = keyId;
        AliasName = aliasName;
    }

    /// <summary>The id of the key that changed, or <see langword="null"/>.</summary>
    public string? KeyId { get; }

    /// <summary>The name of the alias that changed, or <see langword="null"/>.</summary>
    public string? AliasName { get; }

    /// <summary>Whether anything may have changed (neither a key nor an alias is named).</summary>
    public bool IsReset => KeyId is null && AliasName is null;
}
