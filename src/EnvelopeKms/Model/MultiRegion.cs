namespace EnvelopeKms;

/// <summary>Whether a multi-Region key is the primary key or a replica (KMS's <c>MultiRegionKeyType</c>).</summary>
public enum MultiRegionKeyType
{
    /// <summary><c>PRIMARY</c>: the key shared properties come from; the only one that can be replicated or rotated.</summary>
    Primary = 1,
    /// <summary><c>REPLICA</c>: a copy of the primary key in another Region, with the same key id and key material.</summary>
    Replica,
}

/// <summary>One key of a set of related multi-Region keys: its ARN and Region (KMS's <c>MultiRegionKey</c>).</summary>
/// <param name="Arn">The key ARN; related multi-Region keys differ only in the Region part of it.</param>
/// <param name="Region">The Region the key is in.</param>
public sealed record MultiRegionKey(string Arn, string Region);

/// <summary>The multi-Region configuration of a multi-Region key, as <c>DescribeKey</c> shows it in every Region.</summary>
public sealed class MultiRegionConfiguration
{
    /// <summary>Whether this key is the primary key or a replica.</summary>
    public required MultiRegionKeyType MultiRegionKeyType { get; init; }

    /// <summary>The primary key of the set.</summary>
    public required MultiRegionKey PrimaryKey { get; init; }

    /// <summary>The replica keys of the set, ordered by Region.</summary>
    public required IReadOnlyList<MultiRegionKey> ReplicaKeys { get; init; }
}

/// <summary>Input of <c>ReplicateKey</c>: copies a multi-Region primary key into another Region.</summary>
public sealed class ReplicateKeyRequest : KeyRequest
{
    /// <summary>The Region to create the replica in: another key manager of the same <see cref="MultiRegion.KmsRegionGroup"/>.</summary>
    public required string ReplicaRegion { get; init; }

    /// <summary>The replica's key policy; the default key policy when <see langword="null"/> (a replica does not share its primary's policy).</summary>
    public string? Policy { get; init; }

    /// <summary>Skips the policy lockout safety check for <see cref="Policy"/> (recorded in the audit record).</summary>
    public bool BypassPolicyLockoutSafetyCheck { get; init; }

    /// <summary>The replica's description; empty when <see langword="null"/>.</summary>
    public string? Description { get; init; }

    /// <summary>The replica's tags (a replica does not share its primary's tags).</summary>
    public IReadOnlyList<KeyTag>? Tags { get; init; }
}

/// <summary>Output of <c>ReplicateKey</c>.</summary>
public sealed class ReplicateKeyResponse
{
    /// <summary>The replica key's metadata, as <c>DescribeKey</c> shows it in the replica Region.</summary>
    public required KeyMetadata ReplicaKeyMetadata { get; init; }

    /// <summary>The replica key's policy document.</summary>
    public required string ReplicaPolicy { get; init; }

    /// <summary>The replica key's tags.</summary>
    public required IReadOnlyList<KeyTag> ReplicaTags { get; init; }
}

/// <summary>Input of <c>UpdatePrimaryRegion</c>: makes the replica in <see cref="PrimaryRegion"/> the primary key, and this primary key a replica.</summary>
public sealed class UpdatePrimaryRegionRequest : KeyRequest
{
    /// <summary>The Region of the replica key that becomes the primary key.</summary>
    public required string PrimaryRegion { get; init; }
}
