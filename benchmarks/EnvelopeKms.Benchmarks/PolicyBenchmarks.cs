using System.Reflection;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using EnvelopeKms.Authorization;
using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// Key policy evaluation: the compiled <see cref="PolicyDocument.Evaluate"/> against the uncompiled reference interpreter
/// (<c>PolicyInterpreter</c>, the baseline: it walks the JSON and parses every value on each call) on the same typical
/// five-statement key policy (root delegation, key administrators, an app role with a <c>kms:EncryptionContext:tenant</c>
/// condition, grants for AWS resources, a NotPrincipal deny of management actions). Allow path: the app role encrypts with
/// its tenant; deny path: the app role tries <c>kms:PutKeyPolicy</c>. Parse: parsing and compiling the document once.
/// The interpreter is internal; it is bound once through reflection to a delegate, so the call itself costs no more than
/// a delegate call.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PolicyBenchmarks
{
    private const string Policy = """
        {
          "Version": "2012-10-17",
          "Id": "typical-key-policy",
          "Statement": [
            { "Sid": "EnableRoot", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": "kms:*", "Resource": "*" },
            { "Sid": "KeyAdministrators", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:role/KeyAdmin" },
              "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
              "Resource": "*" },
            { "Sid": "AppUse", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
              "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
              "Condition": { "StringEquals": { "kms:EncryptionContext:tenant": ["acme", "globex"] } } },
            { "Sid": "Grants", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" },
              "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
              "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } } },
            { "Sid": "OnlyAdminsManage", "Effect": "Deny", "NotPrincipal": { "AWS": ["arn:aws:iam::111122223333:role/KeyAdmin", "arn:aws:iam::111122223333:root"] },
              "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"], "Resource": "*" }
          ]
        }
        """;

    private PolicyDocument _compiled = null!;
    private JsonDocument _json = null!;
    private Func<JsonElement, PolicyRequest, PolicyDocumentKind, PolicyEvaluation> _interpret = null!;
    private BenchmarkRequest _allow = null!;
    private BenchmarkRequest _deny = null!;

    [GlobalSetup]
    public void Setup()
    {
        _compiled = PolicyDocument.Parse(Policy);
        _json = JsonDocument.Parse(Policy);
        MethodInfo method = typeof(PolicyDocument).Assembly.GetType("EnvelopeKms.Authorization.Policies.PolicyInterpreter", throwOnError: true)!
            .GetMethod("Evaluate", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
        _interpret = method.CreateDelegate<Func<JsonElement, PolicyRequest, PolicyDocumentKind, PolicyEvaluation>>();
        _allow = new BenchmarkRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app", "111122223333", "tenant", "acme");
        _deny = new BenchmarkRequest("kms:PutKeyPolicy", "arn:aws:iam::111122223333:role/app", "111122223333", null, null);
        if (_compiled.Evaluate(_allow).Outcome != PolicyOutcome.Allowed || _interpret(_json.RootElement, _allow, PolicyDocumentKind.KeyPolicy).Outcome != PolicyOutcome.Allowed
            || _compiled.Evaluate(_deny).Outcome != PolicyOutcome.Denied || _interpret(_json.RootElement, _deny, PolicyDocumentKind.KeyPolicy).Outcome != PolicyOutcome.Denied)
        {
            throw new InvalidOperationException("The benchmark requests do not give the expected outcomes.");
        }
    }

    private KeyPolicyAuthorizer _authorizer = null!;
    private AuthorizationRequest _authorizationRequest = null!;

    [GlobalSetup(Target = nameof(AuthorizeAllow))]
    public void SetupAuthorizer()
    {
        Setup();
        _authorizer = new KeyPolicyAuthorizer("111122223333");
        _authorizationRequest = new AuthorizationRequest
        {
            Caller = new CallerIdentity("arn:aws:iam::111122223333:role/app"),
            Operation = KmsOperation.Encrypt,
            KeyArn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            KeyPolicy = _compiled,
            EncryptionContext = new Dictionary<string, string> { ["tenant"] = "acme" },
            RequestTime = DateTimeOffset.UnixEpoch,
        };
        if (!_authorizer.AuthorizeAsync(_authorizationRequest, CancellationToken.None).AsTask().GetAwaiter().GetResult().IsAllowed)
        {
            throw new InvalidOperationException("The authorizer does not allow the benchmark request.");
        }
    }

    /// <summary>The key manager's whole authorization of an allowed Encrypt: the request adapter, the compiled key policy and the decision.</summary>
    [Benchmark(Description = "KeyPolicyAuthorizer, allow path")]
    [BenchmarkCategory("Allow")]
    public bool AuthorizeAllow()
    {
        var decision = _authorizer.AuthorizeAsync(_authorizationRequest, CancellationToken.None);
        return decision.IsCompletedSuccessfully ? decision.Result.IsAllowed : decision.AsTask().GetAwaiter().GetResult().IsAllowed;
    }

    [GlobalCleanup]
    public void Cleanup() => _json.Dispose();

    [Benchmark(Baseline = true, Description = "Interpreter, allow path")]
    [BenchmarkCategory("Allow")]
    public PolicyOutcome InterpretAllow() => _interpret(_json.RootElement, _allow, PolicyDocumentKind.KeyPolicy).Outcome;

    [Benchmark(Description = "Compiled, allow path")]
    [BenchmarkCategory("Allow")]
    public PolicyOutcome EvaluateAllow() => _compiled.Evaluate(_allow).Outcome;

    [Benchmark(Baseline = true, Description = "Interpreter, deny path")]
    [BenchmarkCategory("Deny")]
    public PolicyOutcome InterpretDeny() => _interpret(_json.RootElement, _deny, PolicyDocumentKind.KeyPolicy).Outcome;

    [Benchmark(Description = "Compiled, deny path")]
    [BenchmarkCategory("Deny")]
    public PolicyOutcome EvaluateDeny() => _compiled.Evaluate(_deny).Outcome;

    [Benchmark(Description = "Parse and compile")]
    [BenchmarkCategory("Parse")]
    public int Parse() => PolicyDocument.Parse(Policy).Statements.Count;

    /// <summary>A request with one encryption-context pair, looked up without allocating.</summary>
    private sealed class BenchmarkRequest(string action, string principal, string account, string? contextKey, string? contextValue) : PolicyRequest
    {
        public override string Action => action;
        public override string Resource => "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        public override string PrincipalArn => principal;
        public override string PrincipalAccount => account;

        public override ConditionValues GetConditionValues(in ConditionKey key) =>
            key.Kind == ConditionKeyKind.KmsEncryptionContext && contextKey is not null && string.Equals(key.Qualifier, contextKey, StringComparison.OrdinalIgnoreCase)
                ? ConditionValues.Of(contextValue!)
                : ConditionValues.Absent;
    }
}
