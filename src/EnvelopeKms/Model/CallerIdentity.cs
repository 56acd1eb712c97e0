namespace EnvelopeKms;

/// <summary>
/// The principal on whose behalf an operation runs, as an IAM-style ARN such as
/// <c>arn:aws:iam::111122223333:root</c> or <c>arn:aws:iam::111122223333:role/app</c>.
/// </summary>
public sealed record CallerIdentity
{
    /// <summary>Creates a caller identity from a principal ARN.</summary>
    /// <exception cref="ArgumentException">The ARN is empty or not of the form <c>arn:partition:iam::account:resource</c>.</exception>
    public CallerIdentity(string principalArn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(principalArn);
        var parts = principalArn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[1].Length == 0 || parts[2] != "iam"
            || parts[4].Length != 12 || !parts[4].All(char.IsAsciiDigit) || parts[5].Length == 0)
        {
            throw new ArgumentException(
                "A caller must be an IAM-style principal ARN such as 'arn:aws:iam::111122223333:role/app'.",
                nameof(principalArn));
        }

        PrincipalArn = principalArn;
        AccountId = parts[4];
        Partition = parts[1];
        IsAccountRoot = parts[3].Length == 0 && parts[5] == "root";
    }

    /// <summary>The principal ARN.</summary>
    public string PrincipalArn { get; }

    /// <summary>The 12-digit account id taken from the ARN.</summary>
    public string AccountId { get; }

    /// <summary>The partition taken from the ARN (<c>aws</c> by default).</summary>
    public string Partition { get; }

    /// <summary>Whether this is the account's root principal: exactly <c>arn:PARTITION:iam::ACCOUNT:root</c>.</summary>
    public bool IsAccountRoot { get; }

    /// <summary>The principal's tags, for <c>aws:PrincipalTag/&lt;key&gt;</c> conditions (keys compare case-insensitively).</summary>
    public IReadOnlyDictionary<string, string> Tags { get => _tags; init => _tags = value ?? EmptyTags; }

    private readonly IReadOnlyDictionary<string, string> _tags = EmptyTags;

    /// <summary>The address the call came from, for <c>aws:SourceIp</c> conditions; <see langword="null"/> for an in-process call.</summary>
    public System.Net.IPAddress? SourceIp { get; init; }

    /// <summary>
    /// The integration the call comes through (for example <c>dataprotection.envelopekms</c>), for
    /// <c>kms:ViaService</c> conditions; <see langword="null"/> for a direct call.
    /// </summary>
    public string? ViaService { get; init; }

    /// <summary>Whether the call came over an encrypted channel, for <c>aws:SecureTransport</c>; <see langword="true"/> for in-process calls.</summary>
    public bool SecureTransport { get; init; } = true;

    /// <summary>The kind of principal, from the ARN: <c>Account</c> (root), <c>User</c>, <c>AssumedRole</c>, <c>FederatedUser</c> or <c>Role</c>, for <c>aws:PrincipalType</c>.</summary>
    public string PrincipalType
    {
        get
        {
            if (IsAccountRoot)
            {
                return "Account";
            }

            var resource = PrincipalArn.AsSpan(PrincipalArn.LastIndexOf(':') + 1);
            return resource.StartsWith("user/") ? "User"
                : resource.StartsWith("assumed-role/") ? "AssumedRole"
                : resource.StartsWith("federated-user/") ? "FederatedUser"
                : "Role";
        }
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyTags =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase).AsReadOnly();

    /// <summary>The root principal of an account.</summary>
    public static CallerIdentity AccountRoot(string accountId, string partition = "aws")
        => new($"arn:{partition}:iam::{accountId}:root");

    /// <inheritdoc />
    public override string ToString() => PrincipalArn;

    /// <inheritdoc />
    public bool Equals(CallerIdentity? other)
        => other is not null && PrincipalArn == other.PrincipalArn && Equals(SourceIp, other.SourceIp)
            && ViaService == other.ViaService && SecureTransport == other.SecureTransport
            && Tags.Count == other.Tags.Count && Tags.All(t => other.Tags.TryGetValue(t.Key, out var v) && v == t.Value);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(PrincipalArn, ViaService);
}

/// <summary>Supplies the ambient caller of key-manager operations when a request names none.</summary>
public interface ICallerIdentityProvider
{
    /// <summary>Returns the caller for the current operation.</summary>
    CallerIdentity GetCurrentCaller();
}
