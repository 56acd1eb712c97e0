using System.Collections.Concurrent;
using System.Collections.Immutable;
using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Authorization;

/// <summary>
/// Supplies the identity policies (the IAM policies) attached to a principal. KMS consults them when a
/// key policy delegates to the account (a statement whose principal is the account) and for operations
/// on no key (<c>CreateKey</c>, <c>ListKeys</c>, ...); an explicit Deny in any of them always wins.
/// </summary>
public interface IIdentityPolicyProvider
{
    /// <summary>Returns the identity policies of <paramref name="caller"/> (an empty list when it has none).</summary>
    ValueTask<IReadOnlyList<IdentityPolicy>> GetPoliciesAsync(CallerIdentity caller, CancellationToken cancellationToken);
}

/// <summary>A named identity policy: a policy document without <c>Principal</c>, attached to a principal.</summary>
/// <param name="Name">The policy's name.</param>
/// <param name="Document">The compiled document.</param>
public sealed record IdentityPolicy(string Name, PolicyDocument Document);

/// <summary>Identity policies kept in memory, attached to principal ARNs. Thread-safe.</summary>
public sealed class InMemoryIdentityPolicies : IIdentityPolicyProvider
{
    private readonly ConcurrentDictionary<string, ImmutableSortedDictionary<string, IdentityPolicy>> _policies = new(StringComparer.Ordinal);

    /// <summary>Attaches (or replaces) the policy <paramref name="name"/> of <paramref name="principalArn"/>.</summary>
    /// <exception cref="KmsMalformedPolicyDocumentException">The document is not a valid identity policy.</exception>
    public void Attach(string principalArn, string name, string policyDocument)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(principalArn);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(policyDocument);
        var policy = new IdentityPolicy(name, PolicyDocument.Parse(policyDocument, PolicyDocumentKind.IdentityPolicy));
        _policies.AddOrUpdate(
            principalArn,
            _ => ImmutableSortedDictionary.Create<string, IdentityPolicy>(StringComparer.Ordinal).Add(name, policy),
            (_, existing) => existing.SetItem(name, policy));
    }

    /// <summary>Detaches the policy <paramref name="name"/> of <paramref name="principalArn"/>; returns whether it was attached.</summary>
    public bool Detach(string principalArn, string name)
    {
        ArgumentNullException.ThrowIfNull(principalArn);
        ArgumentNullException.ThrowIfNull(name);
        while (_policies.TryGetValue(principalArn, out var existing))
        {
            if (!existing.ContainsKey(name))
            {
                return false;
            }

            if (_policies.TryUpdate(principalArn, existing.Remove(name), existing))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<IdentityPolicy>> GetPoliciesAsync(CallerIdentity caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return ValueTask.FromResult<IReadOnlyList<IdentityPolicy>>(
            _policies.TryGetValue(caller.PrincipalArn, out var policies) ? [.. policies.Values] : []);
    }
}
