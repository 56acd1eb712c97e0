using System.Net;
using System.Text.Json;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>
/// The uncompiled reference evaluator: walks the JSON of a (valid) document on every call and parses every value again.
/// The benchmark's baseline and the oracle of the property test (compiled == interpreted). Not for production use.
/// </summary>
internal static class PolicyInterpreter
{
    public static PolicyEvaluation Evaluate(JsonElement document, PolicyRequest request, PolicyDocumentKind kind = PolicyDocumentKind.KeyPolicy)
    {
        JsonElement statements = document.GetProperty("Statement");
        var list = new List<JsonElement>();
        if (statements.ValueKind == JsonValueKind.Array)
        {
            list.AddRange(statements.EnumerateArray());
        }
        else
        {
            list.Add(statements);
        }
        int deny = -1, allow = -1, account = -1;
        for (int i = 0; i < list.Count; i++)
        {
            JsonElement s = list[i];
            bool isDeny = s.GetProperty("Effect").GetString() == "Deny";
            int principal = kind == PolicyDocumentKind.IdentityPolicy ? 2 : PrincipalMatch(s, request);
            if (principal == 0 || !ActionMatches(s, request.Action) || !ResourceMatches(s, request.Resource) || !ConditionsHold(s, request))
            {
                continue;
            }
            if (isDeny)
            {
                deny = deny < 0 ? i : deny;
            }
            else if (principal == 2)
            {
                allow = allow < 0 ? i : allow;
            }
            else
            {
                account = account < 0 ? i : account;
            }
        }
        static string? Sid(JsonElement s) => s.TryGetProperty("Sid", out JsonElement sid) ? sid.GetString() : null;
        return deny >= 0 ? new PolicyEvaluation(PolicyOutcome.Denied, deny, Sid(list[deny]))
            : allow >= 0 ? new PolicyEvaluation(PolicyOutcome.Allowed, allow, Sid(list[allow]))
            : account >= 0 ? new PolicyEvaluation(PolicyOutcome.AllowedThroughAccount, account, Sid(list[account]))
            : new PolicyEvaluation(PolicyOutcome.NotApplicable, -1, null);
    }

    private static IEnumerable<string> Strings(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(x => x.GetString()!) : [e.GetString()!];

    private static IEnumerable<string> Scalars(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(Scalar) : [Scalar(e)];

    private static string Scalar(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => e.GetRawText(),
    };

    /// <summary>0 = no match, 1 = through the account, 2 = direct.</summary>
    private static int PrincipalMatch(JsonElement s, PolicyRequest r)
    {
        bool not = s.TryGetProperty("NotPrincipal", out JsonElement p);
        if (!not)
        {
            p = s.GetProperty("Principal");
        }
        int best = 0;
        bool listed = false;
        if (p.ValueKind == JsonValueKind.String)
        {
            best = 2;
            listed = true;
        }
        else
        {
            foreach (JsonProperty type in p.EnumerateObject())
            {
                foreach (string v in Strings(type.Value))
                {
                    int m = type.Name == "Service" ? (r.IsServicePrincipal && v == r.PrincipalArn ? 2 : 0) : AwsMatch(v, r);
                    best = Math.Max(best, m);
                    listed |= m == 2;
                }
            }
        }
        if (not)
        {
            return listed ? 0 : 2;
        }
        return s.GetProperty("Effect").GetString() == "Deny" && best > 0 ? 2 : best;
    }

    private static int AwsMatch(string v, PolicyRequest r)
    {
        if (v == "*")
        {
            return 2;
        }
        if (r.IsServicePrincipal)
        {
            return 0;
        }
        string[] parts = v.Split(':');
        bool bareAccount = v.Length == 12 && v.All(char.IsAsciiDigit);
        bool rootArn = parts.Length == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[3].Length == 0 && parts[5] == "root";
        if (bareAccount || rootArn)
        {
            string account = bareAccount ? v : parts[4];
            if (account != r.PrincipalAccount || r.PrincipalAccount.Length == 0)
            {
                return 0;
            }
            if (rootArn)
            {
                string[] requestParts = r.PrincipalArn.Split(':');
                if (requestParts.Length < 2 || requestParts[0] != "arn" || requestParts[1] != parts[1])
                {
                    return 0;
                }
            }
            return r.IsAccountRoot ? 2 : 1;
        }
        return v == r.PrincipalArn ? 2 : 0;
    }

    private static bool ActionMatches(JsonElement s, string action)
    {
        bool not = s.TryGetProperty("NotAction", out JsonElement a);
        if (!not)
        {
            a = s.GetProperty("Action");
        }
        return Strings(a).Any(p => Wildcard.IsMatch(p, action, ignoreCase: true)) != not;
    }

    private static bool ResourceMatches(JsonElement s, string resource)
    {
        bool not = s.TryGetProperty("NotResource", out JsonElement a);
        if (!not)
        {
            a = s.GetProperty("Resource");
        }
        return Strings(a).Any(p => Wildcard.IsMatch(p, resource, ignoreCase: false)) != not;
    }

    private static bool ConditionsHold(JsonElement s, PolicyRequest r)
    {
        if (!s.TryGetProperty("Condition", out JsonElement block))
        {
            return true;
        }
        foreach (JsonProperty op in block.EnumerateObject())
        {
            _ = ConditionOperator.TryParse(op.Name, out ConditionOperator o);
            foreach (JsonProperty key in op.Value.EnumerateObject())
            {
                ConditionKey k = ConditionKey.Parse(key.Name);
                ConditionValues v = r.GetConditionValues(in k);
                if (!Holds(o, Scalars(key.Value).ToList(), v))
                {
                    return false;
                }
            }
        }
        return true;
    }

    private static bool Holds(ConditionOperator o, List<string> policy, ConditionValues v)
    {
        int n = v.Count;
        if (o.Family == OperatorFamily.Null)
        {
            return policy.Any(p => bool.Parse(p) == (n == 0));
        }
        if (n == 0)
        {
            return o.Set == SetOperator.ForAllValues || o.IfExists || (o.Set == SetOperator.None && o.Negated);
        }
        var satisfied = Enumerable.Range(0, n).Select(i => policy.Any(p => Positive(o, p, v, i)) != o.Negated).ToList();
        return o.Set == SetOperator.ForAllValues || (o.Set == SetOperator.None && o.Negated) ? satisfied.All(x => x) : satisfied.Any(x => x);
    }

    private static bool Positive(ConditionOperator o, string p, ConditionValues v, int i)
    {
        switch (o.Family)
        {
            case OperatorFamily.Numeric:
                _ = ConditionParsing.TryParseNumber(p, out decimal pn);
                return v.TryGetDecimal(i, out decimal rn) && Compare(o.Comparison, rn.CompareTo(pn));
            case OperatorFamily.Date:
                _ = ConditionParsing.TryParseDate(p, out long pt);
                return v.TryGetUtcTicks(i, out long rt) && Compare(o.Comparison, rt.CompareTo(pt));
            case OperatorFamily.Bool:
                return v.TryGetBoolean(i, out bool rb) && rb == bool.Parse(p);
            case OperatorFamily.IpAddress:
                _ = IpRange.TryParse(p, out IpRange? range);
                return v.TryGetIPAddress(i, out IPAddress? ip) && ip is not null && range!.Contains(ip);
            default:
                string s = v[i];
                return o.Family switch
                {
                    OperatorFamily.String or OperatorFamily.Binary => s == p,
                    OperatorFamily.StringIgnoreCase => string.Equals(s, p, StringComparison.OrdinalIgnoreCase),
                    OperatorFamily.StringLike => Wildcard.IsMatch(p, s, ignoreCase: false),
                    _ => ConditionParsing.ArnMatches(p, s),
                };
        }
    }

    private static bool Compare(Comparison c, int sign) => c switch
    {
        Comparison.Equal => sign == 0,
        Comparison.LessThan => sign < 0,
        Comparison.LessThanEquals => sign <= 0,
        Comparison.GreaterThan => sign > 0,
        _ => sign >= 0,
    };
}
