using System.Text;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>Builds explanations (allocating; never on the <see cref="PolicyDocument.Evaluate"/> path).</summary>
internal static class PolicyExplainer
{
    private const int MaxShown = 5;

    public static StatementExplanation ExplainStatement(CompiledStatement s, PolicyStatement view, PolicyRequest request, out PrincipalMatch result)
    {
        var reasons = new List<string>();
        bool ok = true;
        PrincipalMatch m = s.MatchPrincipal(request);
        string who = request.IsServicePrincipal ? $"service {request.PrincipalArn}" : request.PrincipalArn;
        string element = s.Principals is null ? "Principal" : s.NotPrincipal ? "NotPrincipal" : "Principal";
        if (s.Principals is null)
        {
            reasons.Add("Principal: identity policy, applies to the caller");
        }
        else if (m == PrincipalMatch.None)
        {
            ok = false;
            reasons.Add(s.NotPrincipal
                ? $"NotPrincipal does not match: {who} is listed in {List(view.Principals)}"
                : $"Principal does not match: {who} is not in {List(view.Principals)}");
        }
        else
        {
            reasons.Add(m == PrincipalMatch.ThroughAccount && s.Effect == PolicyEffect.Allow
                ? $"{element} matches through the account {request.PrincipalAccount} (an identity policy must also allow)"
                : $"{element} matches {who}");
        }
        string actionElement = s.NotAction ? "NotAction" : "Action";
        if (s.MatchAction(request))
        {
            reasons.Add($"{actionElement} matches {request.Action}");
        }
        else
        {
            ok = false;
            reasons.Add(s.NotAction
                ? $"NotAction does not match: {request.Action} is in {List(view.Actions)}"
                : $"Action does not match: {request.Action} is not in {List(view.Actions)}");
        }
        string resourceElement = s.NotResource ? "NotResource" : "Resource";
        if (s.MatchResource(request))
        {
            reasons.Add($"{resourceElement} matches {request.Resource}");
        }
        else
        {
            ok = false;
            reasons.Add(s.NotResource
                ? $"NotResource does not match: {request.Resource} is in {List(view.Resources)}"
                : $"Resource does not match: {request.Resource} is not in {List(view.Resources)}");
        }
        foreach (CompiledCondition c in s.Conditions)
        {
            ConditionValues v = c.GetValues(request);
            bool holds = c.Evaluate(in v);
            ok &= holds;
            reasons.Add($"Condition {c.OperatorName} {c.Key.Name} {List(c.Values)} is {(holds ? "true" : "false")}: the request has {Describe(in v)}");
        }
        result = ok ? (s.Effect == PolicyEffect.Deny ? PrincipalMatch.Exact : m) : PrincipalMatch.None;
        return new StatementExplanation(s.Index, s.Sid, s.Effect, ok, ok && result == PrincipalMatch.ThroughAccount, reasons.AsReadOnly());
    }

    public static string Summarize(PolicyEvaluation e, PolicyRequest request)
    {
        string what = $"{request.Action} on {request.Resource} by {(request.IsServicePrincipal ? "service " : "")}{request.PrincipalArn}";
        string by = e.StatementIndex >= 0 ? PolicyExplanation.Describe(e.StatementIndex, e.StatementSid) : "";
        return e.Outcome switch
        {
            PolicyOutcome.Denied => $"Denied: {what} is explicitly denied by {by}.",
            PolicyOutcome.Allowed => $"Allowed: {what} is allowed by {by}.",
            PolicyOutcome.AllowedThroughAccount => $"Allowed through the account: {what} is allowed by {by} only through account {request.PrincipalAccount}; an identity policy must also allow it.",
            _ => $"Not applicable: no statement matches {what} (implicit deny).",
        };
    }

    private static string List(IReadOnlyList<string> items)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < items.Count && i < MaxShown; i++)
        {
            sb.Append(i == 0 ? "" : ", ").Append('"').Append(PolicyParser.Excerpt(items[i])).Append('"');
        }
        if (items.Count > MaxShown)
        {
            sb.Append(", ... ").Append(items.Count - MaxShown).Append(" more");
        }
        return sb.Append(']').ToString();
    }

    private static string Describe(in ConditionValues v)
    {
        if (!v.IsPresent)
        {
            return "no such key";
        }
        if (v.Count == 0)
        {
            return "the key with no values";
        }
        var values = new List<string>();
        for (int i = 0; i < v.Count && i <= MaxShown; i++)
        {
            values.Add(v[i]);
        }
        return List(values);
    }
}
