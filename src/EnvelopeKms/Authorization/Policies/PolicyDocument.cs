using System.Text;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>
/// A parsed and compiled policy document: a key policy or an identity policy, in the AWS IAM policy language as AWS KMS
/// evaluates it. Immutable and thread-safe; <see cref="Evaluate"/> allocates nothing.
/// </summary>
/// <remarks>
/// <para><b>Document rules</b> (violations throw <see cref="KmsMalformedPolicyDocumentException"/> naming the JSON path, or
/// the line and byte position for JSON syntax errors):</para>
/// <list type="bullet">
/// <item>At most <see cref="MaxLength"/> characters; only tab, line feed, carriage return and U+0020 to U+00FF (the
/// <c>PutKeyPolicy</c> Policy pattern <c>[\u0009\u000A\u000D\u0020-\u00FF]+</c>). One JSON object, no trailing content,
/// nesting at most 64 levels, no property name twice in one object, no comments.</item>
/// <item><c>Version</c> is required and must be <c>2012-10-17</c> or <c>2008-10-17</c> (both accepted as by KMS). A missing
/// Version is rejected rather than defaulted to 2008-10-17, because the default would silently change how <c>${...}</c> is
/// read. Policy variables are not supported: with 2012-10-17, a <c>${</c> in a Resource or condition value is rejected; with
/// 2008-10-17 it is literal text, as IAM reads it. <c>Id</c> is an optional string. No other top-level elements.</item>
/// <item><c>Statement</c>: an object or a non-empty array of objects. Each has an optional <c>Sid</c> (unique within the
/// document, as IAM requires), <c>Effect</c> (<c>Allow</c> or <c>Deny</c>), exactly one of <c>Principal</c>/<c>NotPrincipal</c>
/// (key policies; identity policies have neither), exactly one of <c>Action</c>/<c>NotAction</c>, exactly one of
/// <c>Resource</c>/<c>NotResource</c> (KMS accepts a statement without them but it never has any effect, so they are required
/// here), and an optional <c>Condition</c>. Element names are case-sensitive.</item>
/// <item>Principals: <c>"*"</c> or an object with <c>AWS</c> (<c>*</c>, a 12-digit account id, <c>arn:PARTITION:iam::ACCOUNT:root</c>,
/// or another principal ARN) and/or <c>Service</c> (a service principal name). Wildcards other than <c>*</c> alone are
/// rejected (IAM does not allow them in resource policies). <c>Federated</c> and <c>CanonicalUser</c> are rejected: this key
/// manager has no such callers, and a Deny that silently never matched would be worse than an error.</item>
/// <item>Actions: <c>*</c> or <c>service:action</c>, with <c>*</c> and <c>?</c> in the action name; matched case-insensitively.
/// Actions of other services are allowed and never match <c>kms:</c> actions. Resources: <c>*</c> or ARNs with <c>*</c>/<c>?</c>,
/// matched case-sensitively.</item>
/// <item>Conditions: the IAM operators (String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null), each
/// but Null with an optional <c>IfExists</c> suffix and a <c>ForAnyValue:</c>/<c>ForAllValues:</c> prefix. Values are strings,
/// numbers or Booleans (or non-empty arrays of them), parsed for their operator when the document is parsed: a value that does
/// not parse (a number, a date in ISO 8601 or epoch seconds, true/false, a CIDR block, base64, an ARN) is an error.</item>
/// </list>
/// <para><b>Evaluation</b> (IAM policy evaluation logic): a statement matches when its principal, action, resource and all its
/// conditions match. Any matching Deny gives <see cref="PolicyOutcome.Denied"/>; otherwise a matching Allow gives
/// <see cref="PolicyOutcome.Allowed"/> or <see cref="PolicyOutcome.AllowedThroughAccount"/>; otherwise
/// <see cref="PolicyOutcome.NotApplicable"/> (an implicit deny). Statement order never matters. See <see cref="Evaluate"/> for the
/// principal and condition rules.</para>
/// </remarks>
public sealed class PolicyDocument
{
    /// <summary>
    /// The longest document accepted, in UTF-16 characters: 32 KB, the AWS KMS key policy limit. (All allowed characters are
    /// U+0009 to U+00FF, so this is also the limit in ISO-8859-1 bytes; in UTF-8, characters U+0080 to U+00FF take two bytes.)
    /// </summary>
    public const int MaxLength = 32768;

    private readonly CompiledStatement[] _compiled;

    private PolicyDocument(string text, PolicyDocumentKind kind, PolicyParser.Result result)
    {
        Text = text;
        Kind = kind;
        Id = result.Id;
        Version = result.Version;
        _compiled = result.Compiled;
        Statements = Array.AsReadOnly(result.Statements);
    }

    /// <summary>The document as given.</summary>
    public string Text { get; }

    /// <summary>The <c>Id</c> element, when given.</summary>
    public string? Id { get; }

    /// <summary>The <c>Version</c> element (<c>2012-10-17</c> or <c>2008-10-17</c>).</summary>
    public string Version { get; }

    /// <summary>Whether this is a key policy or an identity policy.</summary>
    public PolicyDocumentKind Kind { get; }

    /// <summary>The statements, in document order (read-only views for display).</summary>
    public IReadOnlyList<PolicyStatement> Statements { get; }

    /// <summary>Parses and compiles a key policy.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    /// <exception cref="KmsMalformedPolicyDocumentException">The document is not a valid key policy; the message says what and where.</exception>
    public static PolicyDocument Parse(string json) => Parse(json, PolicyDocumentKind.KeyPolicy);

    /// <summary>Parses and compiles a key policy or an identity policy.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is <see langword="null"/>.</exception>
    /// <exception cref="KmsMalformedPolicyDocumentException">The document is not valid; the message says what and where.</exception>
    public static PolicyDocument Parse(string json, PolicyDocumentKind kind)
    {
        ArgumentNullException.ThrowIfNull(json);
        return ParseCore(json, kind);
    }

    /// <summary>Parses and compiles a key policy given as UTF-8.</summary>
    /// <exception cref="KmsMalformedPolicyDocumentException">The bytes are not UTF-8 or not a valid key policy.</exception>
    public static PolicyDocument Parse(ReadOnlySpan<byte> utf8Json) => Parse(utf8Json, PolicyDocumentKind.KeyPolicy);

    /// <summary>Parses and compiles a key policy or an identity policy given as UTF-8.</summary>
    /// <exception cref="KmsMalformedPolicyDocumentException">The bytes are not UTF-8 or not a valid document.</exception>
    public static PolicyDocument Parse(ReadOnlySpan<byte> utf8Json, PolicyDocumentKind kind)
    {
        if (utf8Json.Length > MaxLength * 2)
        {
            throw PolicyParser.Error($"the document has {utf8Json.Length} bytes, more than the limit of {MaxLength} characters", $"byte {(MaxLength * 2) + 1}");
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8Json);
        }
        catch (DecoderFallbackException e)
        {
            throw PolicyParser.Error("the document is not valid UTF-8", $"byte {e.Index}");
        }
        return ParseCore(text, kind);
    }

    /// <summary>Parses and compiles a key policy; returns false with the error message instead of throwing.</summary>
    public static bool TryParse(string json, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PolicyDocument? document, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error) =>
        TryParse(json, PolicyDocumentKind.KeyPolicy, out document, out error);

    /// <summary>Parses and compiles a document; returns false with the error message instead of throwing.</summary>
    public static bool TryParse(string json, PolicyDocumentKind kind, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PolicyDocument? document, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            document = ParseCore(json, kind);
            error = null;
            return true;
        }
        catch (KmsMalformedPolicyDocumentException e)
        {
            document = null;
            error = e.Message;
            return false;
        }
    }

    private static PolicyDocument ParseCore(string json, PolicyDocumentKind kind)
    {
        try
        {
            return new PolicyDocument(json, kind, PolicyParser.Parse(json, kind));
        }
        catch (KmsMalformedPolicyDocumentException)
        {
            throw;
        }
#pragma warning disable CA1031 // The parser's contract: nothing but MalformedPolicyDocument escapes, whatever the input.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            throw new KmsMalformedPolicyDocumentException("The policy document is malformed: it could not be read.", e);
        }
    }

    /// <summary>
    /// Evaluates the document for one request. Allocation-free.
    /// </summary>
    /// <remarks>
    /// <para><b>Principals.</b> <c>*</c> (or <c>AWS: *</c>) matches every caller. A principal ARN or a service name matches that
    /// caller only (case-sensitive). An account (its id or its <c>:root</c> ARN) matches the account's root principal directly; any
    /// other principal of the account matches an Allow only through the account (<see cref="PolicyOutcome.AllowedThroughAccount"/>:
    /// the key manager must then also find an identity policy that allows), and matches a Deny fully. A bare account id matches
    /// any partition; a root ARN only its own. <c>NotPrincipal</c> matches every caller that is not listed, where an account lists
    /// only its root principal (as IAM documents: to exclude a role, list the role, not only its account).</para>
    /// <para><b>Conditions</b> (IAM condition operator reference): AND across operators and keys, OR across the values of one key.
    /// A key that is absent (or present with no values) makes the condition false, except: <c>...IfExists</c> is true;
    /// a negated operator (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals, DateNotEquals, NotIpAddress,
    /// ArnNotEquals, ArnNotLike) is true; <c>ForAllValues:</c> is true; <c>Null</c> with <c>true</c> is true (and with
    /// <c>false</c> is true only when the key is present). Without a set prefix, a positive operator is true when some request
    /// value matches some policy value, and a negated operator is true when no request value matches any policy value.
    /// <c>ForAnyValue:</c> is true when at least one request value satisfies the operator, <c>ForAllValues:</c> when every one does.
    /// String operators are case-sensitive except the IgnoreCase ones; StringLike and the Arn operators (each of the six ARN parts
    /// separately) take <c>*</c> and <c>?</c>; ArnEquals behaves as ArnLike, as IAM documents. A request value that does not parse
    /// for a numeric, date, Boolean or IP operator matches no policy value. BinaryEquals compares the base64 text.</para>
    /// </remarks>
    public PolicyEvaluation Evaluate(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        int allow = -1, throughAccount = -1;
        CompiledStatement[] statements = _compiled;
        for (int i = 0; i < statements.Length; i++)
        {
            CompiledStatement s = statements[i];
            if (s.Effect == PolicyEffect.Allow && allow >= 0)
            {
                continue;
            }
            PrincipalMatch m = s.MatchPrincipal(request);
            if (m == PrincipalMatch.None || (s.Effect == PolicyEffect.Allow && m == PrincipalMatch.ThroughAccount && throughAccount >= 0))
            {
                continue;
            }
            if (!s.MatchAction(request) || !s.MatchResource(request) || !s.MatchConditions(request))
            {
                continue;
            }
            if (s.Effect == PolicyEffect.Deny)
            {
                return new PolicyEvaluation(PolicyOutcome.Denied, i, s.Sid);
            }
            if (m == PrincipalMatch.Exact)
            {
                allow = i;
            }
            else
            {
                throughAccount = i;
            }
        }
        return allow >= 0 ? new PolicyEvaluation(PolicyOutcome.Allowed, allow, statements[allow].Sid)
            : throughAccount >= 0 ? new PolicyEvaluation(PolicyOutcome.AllowedThroughAccount, throughAccount, statements[throughAccount].Sid)
            : new PolicyEvaluation(PolicyOutcome.NotApplicable, -1, null);
    }

    /// <summary>
    /// Evaluates the document like <see cref="Evaluate"/> and explains it: for every statement, whether it matched and, element by
    /// element, why (the failing element and what the request had). Allocates; for audit records and AccessDenied messages.
    /// </summary>
    public PolicyExplanation Explain(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var explained = new StatementExplanation[_compiled.Length];
        int deny = -1, allow = -1, throughAccount = -1;
        for (int i = 0; i < _compiled.Length; i++)
        {
            explained[i] = PolicyExplainer.ExplainStatement(_compiled[i], Statements[i], request, out PrincipalMatch m);
            if (m == PrincipalMatch.None)
            {
                continue;
            }
            if (_compiled[i].Effect == PolicyEffect.Deny)
            {
                deny = deny < 0 ? i : deny;
            }
            else if (m == PrincipalMatch.Exact)
            {
                allow = allow < 0 ? i : allow;
            }
            else
            {
                throughAccount = throughAccount < 0 ? i : throughAccount;
            }
        }
        PolicyEvaluation evaluation = deny >= 0 ? new PolicyEvaluation(PolicyOutcome.Denied, deny, _compiled[deny].Sid)
            : allow >= 0 ? new PolicyEvaluation(PolicyOutcome.Allowed, allow, _compiled[allow].Sid)
            : throughAccount >= 0 ? new PolicyEvaluation(PolicyOutcome.AllowedThroughAccount, throughAccount, _compiled[throughAccount].Sid)
            : new PolicyEvaluation(PolicyOutcome.NotApplicable, -1, null);
        return new PolicyExplanation(evaluation, PolicyExplainer.Summarize(evaluation, request), Array.AsReadOnly(explained));
    }

    /// <inheritdoc />
    public override string ToString() => $"PolicyDocument({Kind}, {_compiled.Length} statements{(Id is null ? "" : $", Id {PolicyParser.Excerpt(Id)}")})";
}
