using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.KeyManagement;

/// <summary>
/// RELIABILITY row 50: a cancellation token fired in the middle of an operation leaves no partial
/// write — the operation either completed (and was audited as a success) or had no effect (and was
/// audited as a failure).
/// </summary>
public sealed class CancellationTests
{
    public static TheoryData<string, int> MutationsAndCancelPoints()
    {
        var data = new TheoryData<string, int>();
        foreach (var operation in new[] { "CreateKey", "DisableKey", "ScheduleKeyDeletion", "CreateAlias", "TagResource", "UpdateKeyDescription" })
        {
            for (var call = 1; call <= 4; call++)
            {
                data.Add(operation, call);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MutationsAndCancelPoints))]
    public async Task A_mutation_cancelled_at_any_store_call_either_completes_or_changes_nothing(string operation, int cancelAtCall)
    {
        var inner = new InMemoryKeyStore();
        var store = new CancellingKeyStore(inner);
        using var kms = new TestKeyManager(store);
        var key = await kms.Api().NewKeyAsync("before");
        var keysBefore = await inner.ListKeysAsync(null, 100, Kms.Ct);
        var aliasesBefore = await inner.ListAliasesAsync(null, null, 100, Kms.Ct);
        var eventsBefore = kms.Audit.Events.Count;

        using var cts = new CancellationTokenSource();
        store.CancelAt(cts, cancelAtCall);
        var completed = true;
        try
        {
            await Run(kms.Api(), operation, key.KeyId, cts.Token);
        }
        catch (OperationCanceledException)
        {
            completed = false;
        }

        store.CancelAt(null, 0);
        var keysAfter = await inner.ListKeysAsync(null, 100, Kms.Ct);
        var aliasesAfter = await inner.ListAliasesAsync(null, null, 100, Kms.Ct);
        var events = kms.Audit.Events.Skip(eventsBefore).ToList();
        var audited = Assert.Single(events);
        if (completed)
        {
            Assert.Equal(KmsOutcome.Success, audited.Outcome);
            Assert.True(keysAfter.Count != keysBefore.Count || aliasesAfter.Count != aliasesBefore.Count
                || !keysAfter.Select(k => k.Version).SequenceEqual(keysBefore.Select(k => k.Version)),
                "A completed mutation must have changed the store.");
        }
        else
        {
            Assert.Equal(KmsOutcome.Failure, audited.Outcome);
            Assert.Equal(keysBefore, keysAfter);
            Assert.Equal(aliasesBefore, aliasesAfter);
        }

        // Whatever happened, the original key is intact and usable unless the operation disabled or scheduled it.
        var described = await kms.Api().DescribeAsync(key.KeyId);
        if (described.KeyState == KeyState.Enabled)
        {
            var blob = await kms.Api().EncryptBlobAsync(key.KeyId, Kms.Utf8("still works"));
            Assert.Equal(Kms.Utf8("still works"), await kms.Api().DecryptBlobAsync(blob));
        }
    }

    private static Task Run(IKeyManager kms, string operation, string keyId, CancellationToken token) => operation switch
    {
        "CreateKey" => kms.CreateKeyAsync(new CreateKeyRequest { Description = "cancelled?" }, token),
        "DisableKey" => kms.DisableKeyAsync(new DisableKeyRequest { KeyId = keyId }, token),
        "ScheduleKeyDeletion" => kms.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = keyId, PendingWindowInDays = 7 }, token),
        "CreateAlias" => kms.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/cancel", TargetKeyId = keyId }, token),
        "TagResource" => kms.TagResourceAsync(new TagResourceRequest { KeyId = keyId, Tags = [new KeyTag("k", "v")] }, token),
        "UpdateKeyDescription" => kms.UpdateKeyDescriptionAsync(new UpdateKeyDescriptionRequest { KeyId = keyId, Description = "after" }, token),
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>Fires a cancellation token when the Nth store call starts, then lets the call observe it as real stores do.</summary>
    private sealed class CancellingKeyStore(IKeyStore inner) : IKeyStore
    {
        private CancellationTokenSource? _source;
        private int _cancelAt;
        private int _calls;

        public void CancelAt(CancellationTokenSource? source, int call)
        {
            _source = source;
            _cancelAt = call;
            _calls = 0;
        }

        private CancellationToken Enter(CancellationToken token)
        {
            if (_source is not null && ++_calls == _cancelAt)
            {
                _source.Cancel();
            }

            token.ThrowIfCancellationRequested();
            return token;
        }

        public ValueTask<KeyStoreMetadata?> GetMetadataAsync(CancellationToken cancellationToken) => inner.GetMetadataAsync(Enter(cancellationToken));

        public ValueTask<KeyStoreMetadata> InitializeMetadataAsync(KeyStoreMetadata metadata, CancellationToken cancellationToken) => inner.InitializeMetadataAsync(metadata, Enter(cancellationToken));

        public ValueTask<KeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) => inner.GetKeyAsync(keyId, Enter(cancellationToken));

        public ValueTask<IReadOnlyList<KeyRecord>> ListKeysAsync(string? afterKeyId, int limit, CancellationToken cancellationToken) => inner.ListKeysAsync(afterKeyId, limit, Enter(cancellationToken));

        public ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken) => inner.InsertKeyAsync(key, Enter(cancellationToken));

        public ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken) => inner.UpdateKeyAsync(key, Enter(cancellationToken));

        public ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken) => inner.DeleteKeyAsync(keyId, expectedVersion, Enter(cancellationToken));

        public ValueTask<AliasRecord?> GetAliasAsync(string aliasName, CancellationToken cancellationToken) => inner.GetAliasAsync(aliasName, Enter(cancellationToken));

        public ValueTask<IReadOnlyList<AliasRecord>> ListAliasesAsync(string? targetKeyId, string? afterAliasName, int limit, CancellationToken cancellationToken) => inner.ListAliasesAsync(targetKeyId, afterAliasName, limit, Enter(cancellationToken));

        public ValueTask<AliasRecord> InsertAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => inner.InsertAliasAsync(alias, Enter(cancellationToken));

        public ValueTask<AliasRecord> UpdateAliasAsync(AliasRecord alias, CancellationToken cancellationToken) => inner.UpdateAliasAsync(alias, Enter(cancellationToken));

        public ValueTask DeleteAliasAsync(string aliasName, long expectedVersion, CancellationToken cancellationToken) => inner.DeleteAliasAsync(aliasName, expectedVersion, Enter(cancellationToken));
    }
}
