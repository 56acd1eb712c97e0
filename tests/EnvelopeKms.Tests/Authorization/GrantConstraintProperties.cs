using EnvelopeKms.Authorization;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Authorization;

/// <summary>Grant constraints against encryption contexts, checked against a plain reference over random small contexts.</summary>
public sealed class GrantConstraintProperties
{
    private static readonly string[] Keys = ["tenant", "Tenant", "TENANT", "table", "region"];
    private static readonly string[] Values = ["acme", "ACME", "orders", "eu"];

    private static Dictionary<string, string> Context(Random rng, int maxPairs)
    {
        var context = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = rng.Next(maxPairs + 1); i > 0; i--)
        {
            var key = Keys[rng.Next(Keys.Length)];
            if (!context.Keys.Any(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)))
            {
                context[key] = Values[rng.Next(Values.Length)];
            }
        }

        return context;
    }

    /// <summary>The reference: a constraint pair is met by a context pair with the same key ignoring case and the same value exactly.</summary>
    private static bool Has(Dictionary<string, string> context, KeyValuePair<string, string> pair)
        => context.Any(c => c.Key.Equals(pair.Key, StringComparison.OrdinalIgnoreCase) && c.Value == pair.Value);

    [Property(MaxTest = 500)]
    public bool Subset_holds_exactly_when_every_constraint_pair_is_in_the_context(int seed)
    {
        var rng = new Random(seed);
        var context = Context(rng, 4);
        var constraint = Context(rng, 3);
        return GrantExplanation.ContextContains(context, constraint) == constraint.All(p => Has(context, p));
    }

    [Property(MaxTest = 500)]
    public bool Equals_holds_exactly_when_the_context_has_the_constraint_pairs_and_no_others(int seed)
    {
        var rng = new Random(seed);
        var context = Context(rng, 3);
        var constraint = rng.Next(3) == 0 ? new Dictionary<string, string>(context) : Context(rng, 3);
        var expected = context.Count == constraint.Count && constraint.All(p => Has(context, p));
        return GrantExplanation.ContextEquals(context, constraint) == expected;
    }

    [Property(MaxTest = 300)]
    public bool A_context_with_more_pairs_never_loses_a_subset_grant(int seed)
    {
        var rng = new Random(seed);
        var context = Context(rng, 3);
        var constraint = Context(rng, 2);
        var larger = new Dictionary<string, string>(context) { ["extra-" + rng.Next(100)] = "x" };
        return !GrantExplanation.ContextContains(context, constraint) || GrantExplanation.ContextContains(larger, constraint);
    }
}
