namespace EnvelopeKms.MultiRegion;

/// <summary>
/// The Regions of one partition and account that can see each other: key managers, one per Region, that
/// joined the group (with the builder verb <c>JoinRegionGroup</c> or <see cref="Join"/>). Multi-Region
/// operations travel through it: <c>ReplicateKey</c> and <c>UpdatePrimaryRegion</c> reach the other
/// Region's key manager, and a rotation of a primary key reaches its replicas. Key material crosses only
/// in memory, wrapped again by the receiving Region's root key before it is stored there; see
/// <c>docs/multi-region.md</c>.
/// </summary>
/// <remarks>
/// A key manager leaves its group when it is disposed: its Region is then unreachable (as in a
/// failover), and its replicas elsewhere keep working on their own. Safe for concurrent use.
/// </remarks>
public sealed class KmsRegionGroup
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, KeyManager> _members = new(StringComparer.Ordinal);
    private string? _partition;
    private string? _accountId;

    /// <summary>The Regions whose key managers are in the group now, in ordinal order.</summary>
    public IReadOnlyList<string> Regions
    {
        get
        {
            lock (_lock)
            {
                return [.. _members.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Adds a key manager: its Region becomes reachable by the other members.</summary>
    /// <exception cref="ArgumentException">
    /// Another key manager serves that Region in this group, the key manager is in a group already, or its
    /// partition or account differs from the group's (multi-Region keys stay in one partition and account).
    /// </exception>
    public void Join(KeyManager keyManager)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        lock (_lock)
        {
            if (keyManager.RegionGroup is not null)
            {
                throw new ArgumentException("The key manager is in a region group already.", nameof(keyManager));
            }

            var ids = keyManager.Ids;
            if (_members.ContainsKey(ids.Region))
            {
                throw new ArgumentException($"Region '{ids.Region}' is served by another key manager of this group.", nameof(keyManager));
            }

            if ((_partition is not null && _partition != ids.Partition) || (_accountId is not null && _accountId != ids.AccountId))
            {
                throw new ArgumentException($"The group serves partition '{_partition}' and account '{_accountId}'; the key manager serves '{ids.Partition}' and '{ids.AccountId}'.", nameof(keyManager));
            }

            _partition = ids.Partition;
            _accountId = ids.AccountId;
            _members[ids.Region] = keyManager;
            keyManager.RegionGroup = this;
        }
    }

    /// <summary>Removes a key manager (done when it is disposed); returns whether it was a member.</summary>
    public bool Leave(KeyManager keyManager)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        lock (_lock)
        {
            if (!ReferenceEquals(keyManager.RegionGroup, this))
            {
                return false;
            }

            keyManager.RegionGroup = null;
            if (_members.TryGetValue(keyManager.Ids.Region, out var member) && ReferenceEquals(member, keyManager))
            {
                _members.Remove(keyManager.Ids.Region);
            }

            return true;
        }
    }

    /// <summary>
    /// Brings every replica up to date with its primary key: missing key materials, the current material and
    /// the rotation schedule, and every Region's view of the set of replicas. Rotations reach replicas when
    /// they happen; this catches up a Region that was unreachable then. Returns how many records changed.
    /// </summary>
    public async Task<int> SynchronizeAsync(CancellationToken cancellationToken = default)
    {
        var changed = 0;
        foreach (var member in Members())
        {
            changed += await member.SynchronizeReplicasAsync(cancellationToken).ConfigureAwait(false);
        }

        return changed;
    }

    /// <summary>The key manager serving <paramref name="region"/>, or <see langword="null"/>.</summary>
    internal KeyManager? Find(string region)
    {
        lock (_lock)
        {
            return _members.GetValueOrDefault(region);
        }
    }

    internal IReadOnlyList<KeyManager> Members()
    {
        lock (_lock)
        {
            return [.. _members.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Value)];
        }
    }
}
