namespace EnvelopeKms.Storage;

/// <summary>
/// The stored multi-Region configuration of a multi-Region key: this Region's role, the primary's Region
/// and the replicas' Regions. Each Region's record holds its own copy, kept in step by the
/// <see cref="MultiRegion.KmsRegionGroup"/> (see <c>docs/multi-region.md</c>).
/// </summary>
public sealed record MultiRegionKeyRecord
{
    /// <summary>Whether this Region's key is the primary key or a replica.</summary>
    public required MultiRegionKeyType KeyType { get; init; }

    /// <summary>The Region of the primary key.</summary>
    public required string PrimaryRegion { get; init; }

    /// <summary>The Regions of the replica keys, in ordinal order.</summary>
    public IReadOnlyList<string> ReplicaRegions { get; init; } = [];
}
