using EnvelopeKms.MultiRegion;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.MultiRegion;

/// <summary>Key managers for several Regions in one <see cref="KmsRegionGroup"/>, each with its own store and root key.</summary>
internal sealed class Regions : IDisposable
{
    public const string East = "us-east-1";
    public const string West = "us-west-2";
    public const string Europe = "eu-west-1";

    private readonly Dictionary<string, TestKeyManager> _members = new(StringComparer.Ordinal);

    public Regions(params string[] names) : this(stores: null, names)
    {
    }

    public Regions(IReadOnlyDictionary<string, IKeyStore>? stores, params string[] names)
    {
        for (var i = 0; i < names.Length; i++)
        {
            var store = stores?.GetValueOrDefault(names[i]);
            var kms = new TestKeyManager(
                store: store,
                rootKeyProvider: new StaticRootKeyProvider(Enumerable.Repeat((byte)(i + 11), 32).ToArray()),
                options: new EnvelopeKmsOptions { Region = names[i] });
            Group.Join(kms.Manager);
            _members[names[i]] = kms;
        }
    }

    public KmsRegionGroup Group { get; } = new();

    public TestKeyManager this[string region] => _members[region];

    public IKeyManager Api(string region) => _members[region].Manager;

    public static string ArnIn(string region, string keyId) => $"arn:aws:kms:{region}:000000000000:key/{keyId}";

    public void Dispose()
    {
        foreach (var member in _members.Values)
        {
            member.Dispose();
        }
    }
}

/// <summary>A key store whose key writes can be made to fail, for the fault-injection tests.</summary>
internal sealed class FaultyKeyStore() : DelegatingKeyStore(new InMemoryKeyStore())
{
    public Func<KeyRecord, bool>? FailInsert { get; set; }

    public Func<KeyRecord, bool>? FailUpdate { get; set; }

    public bool FailDelete { get; set; }

    public override ValueTask DeleteKeyAsync(string keyId, long expectedVersion, CancellationToken cancellationToken)
        => FailDelete
            ? throw new KmsStorageUnavailableException("Injected: the store could not be reached.")
            : base.DeleteKeyAsync(keyId, expectedVersion, cancellationToken);

    public override ValueTask<KeyRecord> InsertKeyAsync(KeyRecord key, CancellationToken cancellationToken)
        => FailInsert?.Invoke(key) == true
            ? throw new KmsStorageUnavailableException("Injected: the store could not be reached.")
            : base.InsertKeyAsync(key, cancellationToken);

    public override ValueTask<KeyRecord> UpdateKeyAsync(KeyRecord key, CancellationToken cancellationToken)
        => FailUpdate?.Invoke(key) == true
            ? throw new KmsStorageUnavailableException("Injected: the store could not be reached.")
            : base.UpdateKeyAsync(key, cancellationToken);
}
