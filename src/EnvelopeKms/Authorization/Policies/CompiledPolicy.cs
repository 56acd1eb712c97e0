using System.Net;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>How a principal element matched the caller.</summary>
internal enum PrincipalMatch { None, ThroughAccount, Exact }

/// <summary>The principals of a Principal or NotPrincipal element, classified at compile time.</summary>
internal sealed class PrincipalSet
{
    public bool Wildcard { get; init; }
    public string[] Accounts { get; init; } = [];
    public (string Partition, string Account)[] RootArns { get; init; } = [];
    public string[] Arns { get; init; } = [];
    public string[] Services { get; init; } = [];

    private static ReadOnlySpan<char> PartitionOf(string arn)
    {
        if (!arn.StartsWith("arn:", StringComparison.Ordinal))
        {
            return default;
        }
        int colon = arn.AsSpan(4).IndexOf(':');
        return colon < 0 ? default : arn.AsSpan(4, colon);
    }

    private bool AccountListed(PolicyRequest request)
    {
        string account = request.PrincipalAccount;
        if (string.IsNullOrEmpty(account))
        {
            return false;
        }
        foreach (string a in Accounts)
        {
            if (string.Equals(a, account, StringComparison.Ordinal))
            {
                return true;
            }
        }
        if (RootArns.Length > 0)
        {
            ReadOnlySpan<char> partition = PartitionOf(request.PrincipalArn);
            foreach ((string p, string a) in RootArns)
            {
                if (string.Equals(a, account, StringComparison.Ordinal) && partition.SequenceEqual(p))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private bool ExactListed(PolicyRequest request)
    {
        string arn = request.PrincipalArn;
        string[] names = request.IsServicePrincipal ? Services : Arns;
        foreach (string n in names)
        {
            if (string.Equals(n, arn, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Principal: * matches everyone; an account matches its root exactly and its other principals through the account.</summary>
    public PrincipalMatch Match(PolicyRequest request)
    {
        if (Wildcard || ExactListed(request))
        {
            return PrincipalMatch.Exact;
        }
        if (!request.IsServicePrincipal && AccountListed(request))
        {
            return request.IsAccountRoot ? PrincipalMatch.Exact : PrincipalMatch.ThroughAccount;
        }
        return PrincipalMatch.None;
    }

    /// <summary>NotPrincipal: whether the caller is excluded (listed). An account excludes only its root principal.</summary>
    public bool Excludes(PolicyRequest request) =>
        Wildcard || ExactListed(request) || (!request.IsServicePrincipal && request.IsAccountRoot && AccountListed(request));
}

/// <summary>Action or resource patterns, classified at compile time.</summary>
internal sealed class PatternSet
{
    private enum Shape : byte { Any, Exact, Prefix, General }

    private readonly (Shape Shape, string Text)[] _patterns;
    private readonly bool _ignoreCase;

    public PatternSet(IReadOnlyList<string> patterns, bool ignoreCase)
    {
        _ignoreCase = ignoreCase;
        _patterns = new (Shape, string)[patterns.Count];
        for (int i = 0; i < patterns.Count; i++)
        {
            string p = patterns[i];
            int first = p.AsSpan().IndexOfAny('*', '?');
            _patterns[i] = p == "*" ? (Shape.Any, p)
                : first < 0 ? (Shape.Exact, p)
                : first == p.Length - 1 && p[first] == '*' ? (Shape.Prefix, p[..^1])
                : (Shape.General, p);
        }
    }

    public bool Matches(string text)
    {
        StringComparison cmp = _ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        foreach ((Shape shape, string p) in _patterns)
        {
            bool hit = shape switch
            {
                Shape.Any => true,
                Shape.Exact => string.Equals(p, text, cmp),
                Shape.Prefix => text.StartsWith(p, cmp),
                _ => Wildcard.IsMatch(p, text, _ignoreCase),
            };
            if (hit)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>One operator and key of a Condition block, with its values pre-parsed for the operator.</summary>
internal sealed class CompiledCondition
{
    public required string OperatorName { get; init; }
    public required ConditionOperator Op { get; init; }
    public required ConditionKey Key { get; init; }
    public required string[] Values { get; init; }
    public decimal[] Numbers { get; init; } = [];
    public long[] Dates { get; init; } = [];
    public bool[] Bools { get; init; } = [];
    public IpRange[] Ranges { get; init; } = [];
    public required string Path { get; init; }

    public ConditionValues GetValues(PolicyRequest request)
    {
        ConditionKey key = Key;
        return request.GetConditionValues(in key);
    }

    public bool Evaluate(in ConditionValues v)
    {
        int n = v.Count;
        if (Op.Family == OperatorFamily.Null)
        {
            bool absent = n == 0;
            foreach (bool expectAbsent in Bools)
            {
                if (expectAbsent == absent)
                {
                    return true;
                }
            }
            return false;
        }
        if (n == 0)
        {
            return Op.Set switch
            {
                SetOperator.ForAllValues => true,
                SetOperator.ForAnyValue => Op.IfExists,
                _ => Op.IfExists || Op.Negated,
            };
        }
        bool all = Op.Set == SetOperator.ForAllValues || (Op.Set == SetOperator.None && Op.Negated);
        for (int i = 0; i < n; i++)
        {
            bool m = AnyPolicyValueMatches(in v, i) != Op.Negated;
            if (all && !m)
            {
                return false;
            }
            if (!all && m)
            {
                return true;
            }
        }
        return all;
    }

    private bool AnyPolicyValueMatches(in ConditionValues v, int index)
    {
        switch (Op.Family)
        {
            case OperatorFamily.Numeric:
                if (!v.TryGetDecimal(index, out decimal d))
                {
                    return false;
                }
                foreach (decimal p in Numbers)
                {
                    if (Compare(d.CompareTo(p)))
                    {
                        return true;
                    }
                }
                return false;
            case OperatorFamily.Date:
                if (!v.TryGetUtcTicks(index, out long t))
                {
                    return false;
                }
                foreach (long p in Dates)
                {
                    if (Compare(t.CompareTo(p)))
                    {
                        return true;
                    }
                }
                return false;
            case OperatorFamily.Bool:
                if (!v.TryGetBoolean(index, out bool b))
                {
                    return false;
                }
                return Array.IndexOf(Bools, b) >= 0;
            case OperatorFamily.IpAddress:
                if (!v.TryGetIPAddress(index, out IPAddress? ip) || ip is null)
                {
                    return false;
                }
                foreach (IpRange r in Ranges)
                {
                    if (r.Contains(ip))
                    {
                        return true;
                    }
                }
                return false;
            default:
                return AnyStringMatches(v.GetChars(index, stackalloc char[64]));
        }
    }

    private bool AnyStringMatches(ReadOnlySpan<char> s)
    {
        foreach (string p in Values)
        {
            bool hit = Op.Family switch
            {
                OperatorFamily.String or OperatorFamily.Binary => s.SequenceEqual(p),
                OperatorFamily.StringIgnoreCase => s.Equals(p, StringComparison.OrdinalIgnoreCase),
                OperatorFamily.StringLike => Wildcard.IsMatch(p, s, ignoreCase: false),
                OperatorFamily.Arn => ConditionParsing.ArnMatches(p, s),
                _ => false,
            };
            if (hit)
            {
                return true;
            }
        }
        return false;
    }

    private bool Compare(int c) => Op.Comparison switch
    {
        Comparison.Equal => c == 0,
        Comparison.LessThan => c < 0,
        Comparison.LessThanEquals => c <= 0,
        Comparison.GreaterThan => c > 0,
        _ => c >= 0,
    };
}

/// <summary>A compiled statement.</summary>
internal sealed class CompiledStatement
{
    public required int Index { get; init; }
    public required string? Sid { get; init; }
    public required PolicyEffect Effect { get; init; }
    public PrincipalSet? Principals { get; init; }
    public bool NotPrincipal { get; init; }
    public required PatternSet Actions { get; init; }
    public bool NotAction { get; init; }
    public required PatternSet Resources { get; init; }
    public bool NotResource { get; init; }
    public required CompiledCondition[] Conditions { get; init; }

    public PrincipalMatch MatchPrincipal(PolicyRequest request)
    {
        if (Principals is null)
        {
            return PrincipalMatch.Exact;
        }
        if (NotPrincipal)
        {
            return Principals.Excludes(request) ? PrincipalMatch.None : PrincipalMatch.Exact;
        }
        return Principals.Match(request);
    }

    public bool MatchAction(PolicyRequest request) => Actions.Matches(request.Action) != NotAction;

    public bool MatchResource(PolicyRequest request) => Resources.Matches(request.Resource) != NotResource;

    public bool MatchConditions(PolicyRequest request)
    {
        foreach (CompiledCondition c in Conditions)
        {
            if (!c.Evaluate(c.GetValues(request)))
            {
                return false;
            }
        }
        return true;
    }

    public PrincipalMatch Match(PolicyRequest request)
    {
        PrincipalMatch m = MatchPrincipal(request);
        if (m == PrincipalMatch.None || !MatchAction(request) || !MatchResource(request) || !MatchConditions(request))
        {
            return PrincipalMatch.None;
        }
        // A Deny that names an account applies to every principal of the account.
        return Effect == PolicyEffect.Deny ? PrincipalMatch.Exact : m;
    }
}
