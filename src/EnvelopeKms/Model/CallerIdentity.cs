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

    /// <summary>The root principal of an account.</summary>
    public static CallerIdentity AccountRoot(string accountId, string partition = "aws")
        => new($"arn:{partition}:iam::{accountId}:root");

    /// <inheritdoc />
    public override string ToString() => PrincipalArn;
}

/// <summary>Supplies the ambient caller of key-manager operations when a request names none.</summary>
public interface ICallerIdentityProvider
{
    /// <summary>Returns the caller for the current operation.</summary>
    CallerIdentity GetCurrentCaller();
}
