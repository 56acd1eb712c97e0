using EnvelopeKms.Auditing;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using Microsoft.Extensions.Time.Testing;

namespace EnvelopeKms.Tests.Infrastructure;

/// <summary>An audit sink that keeps every event, for assertions.</summary>
public sealed class RecordingAuditSink : IKmsAuditSink
{
    private readonly List<KmsAuditEvent> _events = [];

    public IReadOnlyList<KmsAuditEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>When set, replaces the write: throw, hang or do anything else a failing sink does. Events are not recorded.</summary>
    public Func<KmsAuditEvent, CancellationToken, ValueTask>? Fault { get; set; }

    public ValueTask WriteAsync(KmsAuditEvent auditEvent, CancellationToken cancellationToken)
    {
        if (Fault is { } fault)
        {
            return fault(auditEvent, cancellationToken);
        }

        lock (_events)
        {
            _events.Add(auditEvent);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>A key manager on an in-memory store with a fake clock and a recording audit sink.</summary>
public sealed class TestKeyManager : IDisposable
{
    public TestKeyManager(IKeyStore? store = null, IRootKeyProvider? rootKeyProvider = null, EnvelopeKmsOptions? options = null, EnvelopeKms.Authorization.IKeyAuthorizer? authorizer = null)
    {
        Store = store ?? new InMemoryKeyStore();
        RootKey = rootKeyProvider ?? new StaticRootKeyProvider(new byte[32]);
        Manager = new KeyManager(Store, RootKey, options, Clock, authorizer, auditSink: Audit);
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public RecordingAuditSink Audit { get; } = new();

    public IKeyStore Store { get; }

    public IRootKeyProvider RootKey { get; }

    public KeyManager Manager { get; }

    /// <summary>
    /// Rewrites a stored key record outside the API (to reach states the API cannot), sealed with the
    /// root key as the key manager seals what it writes.
    /// </summary>
    public async Task RewriteKeyInStoreAsync(string keyId, Func<KeyRecord, KeyRecord> change)
        => await Store.RewriteKeyAsync(RootKey, keyId, change);

    public void Dispose() => Manager.Dispose();
}

/// <summary>Writes records into a store outside the API, sealed as the key manager would seal them.</summary>
public static class SealedStoreWrites
{
    public static async Task<KeyRecord> RewriteKeyAsync(this IKeyStore store, IRootKeyProvider rootKeyProvider, string keyId, Func<KeyRecord, KeyRecord> change)
    {
        var metadata = await store.GetMetadataAsync(CancellationToken.None) ?? throw new InvalidOperationException("The store is not initialized.");
        using var rootKey = await rootKeyProvider.GetRootKeyAsync(metadata.RootKeyParameters ?? "", CancellationToken.None);
        var record = await store.GetKeyAsync(keyId, CancellationToken.None) ?? throw new InvalidOperationException($"Key {keyId} is not in the store.");
        return await store.UpdateKeyAsync(RecordSeal.Seal(rootKey, change(record)), CancellationToken.None);
    }
}
