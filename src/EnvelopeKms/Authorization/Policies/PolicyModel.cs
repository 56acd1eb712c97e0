using System.Text;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>The effect of a statement.</summary>
public enum PolicyEffect
{
    /// <summary>The statement allows what it matches.</summary>
    Allow,
    /// <summary>The statement explicitly denies what it matches; a matching Deny wins over every Allow.</summary>
    Deny,
}

/// <summary>The result of evaluating one policy document for one request.</summary>
public enum PolicyOutcome
{
    /// <summary>No statement matched: the document neither allows nor denies (an implicit deny, unless another policy allows).</summary>
    NotApplicable,
    /// <summary>An Allow statement matched the caller directly (no Deny matched).</summary>
    Allowed,
    /// <summary>
    /// An Allow statement matched only because it names the caller's account (its account id or its <c>:root</c> ARN) and the
    /// caller is another principal of that account: the key policy delegates to the account's identity policies, so the caller
    /// is allowed only if an identity policy allows it too. (No Deny matched and no Allow matched the caller directly.)
    /// </summary>
    AllowedThroughAccount,
    /// <summary>A Deny statement matched (an explicit deny); it wins over every Allow.</summary>
    Denied,
}

/// <summary>What a document is: a key policy names principals; an identity policy applies to the principal it is attached to.</summary>
public enum PolicyDocumentKind
{
    /// <summary>A key (resource) policy: every statement has exactly one of <c>Principal</c>/<c>NotPrincipal</c>.</summary>
    KeyPolicy,
    /// <summary>An identity policy: no statement has <c>Principal</c>/<c>NotPrincipal</c>; every statement applies to the caller.</summary>
    IdentityPolicy,
}

/// <summary>The result of <see cref="PolicyDocument.Evaluate"/>: the outcome and the statement that decided it. Allocation-free.</summary>
public readonly struct PolicyEvaluation : IEquatable<PolicyEvaluation>
{
    internal PolicyEvaluation(PolicyOutcome outcome, int statementIndex, string? statementSid)
    {
        Outcome = outcome;
        StatementIndex = statementIndex;
        StatementSid = statementSid;
    }

    /// <summary>The outcome.</summary>
    public PolicyOutcome Outcome { get; }

    /// <summary>
    /// The deciding statement (zero-based): the first matching Deny if any; else the first Allow that matched the caller directly
    /// (for <see cref="PolicyOutcome.Allowed"/>) or through its account (for <see cref="PolicyOutcome.AllowedThroughAccount"/>);
    /// -1 for <see cref="PolicyOutcome.NotApplicable"/>.
    /// </summary>
    public int StatementIndex { get; }

    /// <summary>The deciding statement's <c>Sid</c>, when it has one.</summary>
    public string? StatementSid { get; }

    /// <summary>Whether the outcome is <see cref="PolicyOutcome.Allowed"/> or <see cref="PolicyOutcome.AllowedThroughAccount"/>.</summary>
    public bool IsAllowed => Outcome is PolicyOutcome.Allowed or PolicyOutcome.AllowedThroughAccount;

    /// <inheritdoc />
    public bool Equals(PolicyEvaluation other) =>
        Outcome == other.Outcome && StatementIndex == other.StatementIndex && string.Equals(StatementSid, other.StatementSid, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PolicyEvaluation other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Outcome, StatementIndex);

    /// <summary>Equality.</summary>
    public static bool operator ==(PolicyEvaluation left, PolicyEvaluation right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(PolicyEvaluation left, PolicyEvaluation right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => StatementIndex < 0 ? Outcome.ToString() : $"{Outcome} by statement {StatementIndex}{(StatementSid is null ? "" : $" ({StatementSid})")}";
}

/// <summary>A read-only view of one statement, for display.</summary>
public sealed class PolicyStatement
{
    internal PolicyStatement(int index, string? sid, PolicyEffect effect, bool isNotPrincipal, IReadOnlyList<string> principals,
        bool isNotAction, IReadOnlyList<string> actions, bool isNotResource, IReadOnlyList<string> resources, string? conditionJson, string text)
    {
        Index = index;
        Sid = sid;
        Effect = effect;
        IsNotPrincipal = isNotPrincipal;
        Principals = principals;
        IsNotAction = isNotAction;
        Actions = actions;
        IsNotResource = isNotResource;
        Resources = resources;
        ConditionJson = conditionJson;
        Text = text;
    }

    /// <summary>The zero-based position in the document.</summary>
    public int Index { get; }

    /// <summary>The statement id, when given.</summary>
    public string? Sid { get; }

    /// <summary>The effect.</summary>
    public PolicyEffect Effect { get; }

    /// <summary>Whether the principals are a <c>NotPrincipal</c> element.</summary>
    public bool IsNotPrincipal { get; }

    /// <summary>The principals as <c>*</c>, <c>AWS:value</c> or <c>Service:value</c>; empty in an identity policy.</summary>
    public IReadOnlyList<string> Principals { get; }

    /// <summary>Whether the actions are a <c>NotAction</c> element.</summary>
    public bool IsNotAction { get; }

    /// <summary>The action patterns as written.</summary>
    public IReadOnlyList<string> Actions { get; }

    /// <summary>Whether the resources are a <c>NotResource</c> element.</summary>
    public bool IsNotResource { get; }

    /// <summary>The resource patterns as written.</summary>
    public IReadOnlyList<string> Resources { get; }

    /// <summary>The <c>Condition</c> element's JSON as written, or <see langword="null"/>.</summary>
    public string? ConditionJson { get; }

    /// <summary>The statement's JSON as written.</summary>
    public string Text { get; }

    /// <inheritdoc />
    public override string ToString() => PolicyExplanation.Describe(Index, Sid);
}

/// <summary>Why one statement matched a request or did not.</summary>
public sealed class StatementExplanation
{
    internal StatementExplanation(int index, string? sid, PolicyEffect effect, bool matched, bool throughAccount, IReadOnlyList<string> reasons)
    {
        Index = index;
        Sid = sid;
        Effect = effect;
        Matched = matched;
        MatchedThroughAccount = throughAccount;
        Reasons = reasons;
    }

    /// <summary>The zero-based position of the statement.</summary>
    public int Index { get; }

    /// <summary>The statement id, when given.</summary>
    public string? Sid { get; }

    /// <summary>The effect.</summary>
    public PolicyEffect Effect { get; }

    /// <summary>Whether every element matched.</summary>
    public bool Matched { get; }

    /// <summary>Whether the principal matched only through the caller's account (delegation to identity policies).</summary>
    public bool MatchedThroughAccount { get; }

    /// <summary>One line per element: what matched, or the element that failed and what the request had.</summary>
    public IReadOnlyList<string> Reasons { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{PolicyExplanation.Describe(Index, Sid)} {Effect}: {(Matched ? "matched" : "did not match")}: {string.Join("; ", Reasons)}";
}

/// <summary>The explanation of an evaluation: the outcome, a one-line summary, and each statement's reasons.</summary>
public sealed class PolicyExplanation
{
    internal PolicyExplanation(PolicyEvaluation evaluation, string summary, IReadOnlyList<StatementExplanation> statements)
    {
        Evaluation = evaluation;
        Summary = summary;
        Statements = statements;
    }

    /// <summary>The outcome (the same as <see cref="PolicyDocument.Evaluate"/>'s).</summary>
    public PolicyOutcome Outcome => Evaluation.Outcome;

    /// <summary>The full evaluation (outcome and deciding statement).</summary>
    public PolicyEvaluation Evaluation { get; }

    /// <summary>One line for audit records and AccessDenied messages; names the deciding statement.</summary>
    public string Summary { get; }

    /// <summary>Each statement, in document order.</summary>
    public IReadOnlyList<StatementExplanation> Statements { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder(Summary);
        foreach (StatementExplanation s in Statements)
        {
            sb.AppendLine().Append("  ").Append(s);
        }
        return sb.ToString();
    }

    internal static string Describe(int index, string? sid) => sid is null or "" ? $"statement {index}" : $"statement {index} (Sid \"{sid}\")";
}

/// <summary>
/// A request as the policy engine sees it. The key manager implements it (one object per request); implementations should
/// answer <see cref="GetConditionValues"/> without allocating (return stored strings or lists, or typed values).
/// </summary>
public abstract class PolicyRequest
{
    /// <summary>The action, for example <c>kms:Encrypt</c> (matched case-insensitively).</summary>
    public abstract string Action { get; }

    /// <summary>The key ARN, or <c>*</c> for operations on no key (<c>CreateKey</c>, <c>ListKeys</c>, ...).</summary>
    public abstract string Resource { get; }

    /// <summary>The caller: an ARN such as <c>arn:aws:iam::111122223333:role/app</c>, or a service principal name such as <c>dynamodb.amazonaws.com</c> when <see cref="IsServicePrincipal"/>.</summary>
    public abstract string PrincipalArn { get; }

    /// <summary>The 12-digit account of the caller (empty for a service principal).</summary>
    public abstract string PrincipalAccount { get; }

    /// <summary>Whether the caller is the account itself (<c>arn:PARTITION:iam::ACCOUNT:root</c>).</summary>
    public virtual bool IsAccountRoot => false;

    /// <summary>Whether the caller is an AWS service principal (then <see cref="PrincipalArn"/> is its name).</summary>
    public virtual bool IsServicePrincipal => false;

    /// <summary>
    /// The values of a condition key in this request; <see cref="ConditionValues.Absent"/> when the request has none.
    /// Keys with a variable part (<see cref="ConditionKey.Qualifier"/>) must be looked up case-insensitively.
    /// </summary>
    public abstract ConditionValues GetConditionValues(in ConditionKey key);
}
