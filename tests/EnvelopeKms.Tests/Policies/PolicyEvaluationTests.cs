using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Tests.Policies;

/// <summary>Reliability row 57, the allocation budget of Evaluate, and explanations.</summary>
public sealed class PolicyEvaluationTests
{
    internal const string FiveStatementKeyPolicy = """
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

    private static readonly PolicyDocument Typical = PolicyDocument.Parse(FiveStatementKeyPolicy);

    internal static TestPolicyRequest AppEncrypt() =>
        new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app").With("kms:EncryptionContext:tenant", "acme");

    [Fact]
    public void Evaluate_allocates_nothing_on_the_allow_path_of_a_typical_policy()
    {
        TestPolicyRequest request = AppEncrypt();
        TestPolicyRequest denied = new("kms:PutKeyPolicy", "arn:aws:iam::111122223333:role/app");
        Assert.Equal(PolicyOutcome.Allowed, Typical.Evaluate(request).Outcome);
        Assert.Equal(PolicyOutcome.Denied, Typical.Evaluate(denied).Outcome);
        for (int i = 0; i < 1000; i++)
        {
            _ = Typical.Evaluate(request);
            _ = Typical.Evaluate(denied);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int allowed = 0;
        for (int i = 0; i < 20_000; i++)
        {
            allowed += Typical.Evaluate(request).Outcome == PolicyOutcome.Allowed ? 1 : 0;
            allowed += Typical.Evaluate(denied).Outcome == PolicyOutcome.Denied ? 1 : 0;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(40_000, allowed);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Evaluate_allocates_nothing_with_typed_and_multi_valued_condition_values()
    {
        PolicyDocument p = PolicyDocument.Parse("""
            {"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{
              "ForAllValues:StringLike":{"kms:EncryptionContextKeys":["t*","purpose"]},"NumericLessThan":{"kms:RotationPeriodInDays":400},
              "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"StringEquals":{"aws:n":"5"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}}}
            """);
        TestPolicyRequest r = new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app")
            .With("kms:EncryptionContextKeys", ConditionValues.Of(["tenant", "purpose"]))
            .With("kms:RotationPeriodInDays", ConditionValues.Of(365))
            .With("aws:CurrentTime", ConditionValues.Of(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero)))
            .With("aws:n", ConditionValues.Of(5))
            .With("aws:PrincipalArn", "arn:aws:iam::111122223333:role/app");
        Assert.Equal(PolicyOutcome.Allowed, p.Evaluate(r).Outcome);
        for (int i = 0; i < 1000; i++)
        {
            _ = p.Evaluate(r);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            _ = p.Evaluate(r);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_deny_statement_wins_over_an_allow()
    {
        PolicyEvaluation e = Typical.Evaluate(new TestPolicyRequest("kms:ScheduleKeyDeletion", "arn:aws:iam::111122223333:role/app"));
        Assert.Equal(PolicyOutcome.Denied, e.Outcome);
        Assert.Equal(4, e.StatementIndex);
        Assert.Equal("OnlyAdminsManage", e.StatementSid);
        Assert.False(e.IsAllowed);
    }

    [Fact]
    public void No_matching_statement_is_not_applicable()
    {
        PolicyEvaluation e = Typical.Evaluate(new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::444455556666:role/app"));
        Assert.Equal(PolicyOutcome.NotApplicable, e.Outcome);
        Assert.Equal(-1, e.StatementIndex);
        Assert.Null(e.StatementSid);
    }

    [Fact]
    public void A_role_of_the_account_without_its_own_statement_is_allowed_only_through_the_account()
    {
        PolicyEvaluation e = Typical.Evaluate(new TestPolicyRequest("kms:Decrypt", "arn:aws:iam::111122223333:role/other"));
        Assert.Equal(PolicyOutcome.AllowedThroughAccount, e.Outcome);
        Assert.Equal("EnableRoot", e.StatementSid);
        Assert.True(e.IsAllowed);
    }

    [Fact]
    public void A_direct_allow_is_preferred_over_an_allow_through_the_account()
    {
        PolicyEvaluation e = Typical.Evaluate(AppEncrypt());
        Assert.Equal(PolicyOutcome.Allowed, e.Outcome);
        Assert.Equal("AppUse", e.StatementSid);
        Assert.Equal(2, e.StatementIndex);
    }

    [Fact]
    public void The_explanation_summary_names_the_deciding_statement()
    {
        PolicyExplanation x = Typical.Explain(new TestPolicyRequest("kms:PutKeyPolicy", "arn:aws:iam::111122223333:role/app"));
        Assert.Equal(PolicyOutcome.Denied, x.Outcome);
        Assert.Contains("statement 4 (Sid \"OnlyAdminsManage\")", x.Summary, StringComparison.Ordinal);
        Assert.Contains("kms:PutKeyPolicy", x.Summary, StringComparison.Ordinal);
        Assert.Contains("Denied", x.Summary, StringComparison.Ordinal);
        Assert.Equal(5, x.Statements.Count);
        Assert.Contains("OnlyAdminsManage", x.ToString(), StringComparison.Ordinal);
        Assert.Contains("implicit deny", Typical.Explain(new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::444455556666:role/x")).Summary, StringComparison.Ordinal);
        Assert.Contains("identity policy must also allow", Typical.Explain(new TestPolicyRequest("kms:Decrypt", "arn:aws:iam::111122223333:role/x")).Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_non_matching_statement_carries_the_failing_element()
    {
        PolicyExplanation x = Typical.Explain(new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app").With("kms:EncryptionContext:tenant", "initech"));
        Assert.Equal(PolicyOutcome.AllowedThroughAccount, x.Outcome);
        StatementExplanation admins = x.Statements[1], app = x.Statements[2], grants = x.Statements[3], deny = x.Statements[4];
        Assert.False(admins.Matched);
        Assert.Contains(admins.Reasons, r => r.StartsWith("Principal does not match", StringComparison.Ordinal) && r.Contains("role/app", StringComparison.Ordinal));
        Assert.False(app.Matched);
        Assert.Contains(app.Reasons, r => r.Contains("Condition StringEquals kms:EncryptionContext:tenant [\"acme\", \"globex\"] is false: the request has [\"initech\"]", StringComparison.Ordinal));
        Assert.False(grants.Matched);
        Assert.Contains(grants.Reasons, r => r.StartsWith("Action does not match: kms:Encrypt", StringComparison.Ordinal));
        Assert.Contains(grants.Reasons, r => r.Contains("kms:GrantIsForAWSResource", StringComparison.Ordinal) && r.Contains("no such key", StringComparison.Ordinal));
        Assert.False(deny.Matched);
        Assert.Contains(deny.Reasons, r => r.StartsWith("Action does not match", StringComparison.Ordinal));
        Assert.True(x.Statements[0].Matched);
        Assert.True(x.Statements[0].MatchedThroughAccount);
        Assert.Equal("EnableRoot", x.Statements[0].Sid);
    }

    [Fact]
    public void NotPrincipal_NotAction_and_NotResource_failures_are_named()
    {
        PolicyDocument p = PolicyDocument.Parse("""
            {"Version":"2012-10-17","Statement":[
              {"Sid":"A","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:*","Resource":"*"},
              {"Sid":"B","Effect":"Allow","Principal":"*","NotAction":"kms:Encrypt","Resource":"*"},
              {"Sid":"C","Effect":"Allow","Principal":"*","Action":"kms:*","NotResource":"arn:aws:kms:*"}]}
            """);
        PolicyExplanation x = p.Explain(new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app", "arn:aws:kms:r:111122223333:key/k"));
        Assert.Equal(PolicyOutcome.NotApplicable, x.Outcome);
        Assert.Contains(x.Statements[0].Reasons, r => r.StartsWith("NotPrincipal does not match", StringComparison.Ordinal));
        Assert.Contains(x.Statements[1].Reasons, r => r.StartsWith("NotAction does not match", StringComparison.Ordinal));
        Assert.Contains(x.Statements[2].Reasons, r => r.StartsWith("NotResource does not match", StringComparison.Ordinal));
    }

    [Fact]
    public void Condition_keys_are_resolved_case_insensitively_with_their_qualifier()
    {
        ConditionKey k = ConditionKey.Parse("KMS:encryptioncontext:Tenant");
        Assert.Equal(ConditionKeyKind.KmsEncryptionContext, k.Kind);
        Assert.Equal("Tenant", k.Qualifier);
        Assert.Equal(k, ConditionKey.Parse("kms:EncryptionContext:tenant"));
        Assert.Equal(ConditionKeyKind.AwsPrincipalTag, ConditionKey.Parse("aws:PrincipalTag/team").Kind);
        Assert.Equal("7", ConditionKey.Parse("kms:RecipientAttestation:PCR7").Qualifier);
        Assert.Equal(ConditionKeyKind.KmsGrantIsForAwsResource, ConditionKey.Parse("kms:grantisforawsresource").Kind);
        ConditionKey other = ConditionKey.Parse("ec2:InstanceType");
        Assert.Equal(ConditionKeyKind.Other, other.Kind);
        Assert.Equal("ec2:InstanceType", other.Name);
        Assert.Null(other.Qualifier);
    }

    [Fact]
    public void Typed_condition_values_are_formatted_and_parsed_for_each_operator()
    {
        Assert.Equal("42", ConditionValues.Of(42)[0]);
        Assert.Equal("true", ConditionValues.Of(true)[0]);
        Assert.Equal("2026-11-29T01:02:03Z", ConditionValues.Of(new DateTimeOffset(2026, 11, 29, 2, 2, 3, TimeSpan.FromHours(1)))[0]);
        Assert.Equal("10.0.0.1", ConditionValues.Of(System.Net.IPAddress.Parse("10.0.0.1"))[0]);
        Assert.False(ConditionValues.Absent.IsPresent);
        Assert.Equal(0, ConditionValues.Absent.Count);
        Assert.True(ConditionValues.Of(Array.Empty<string>()).IsPresent);
        Assert.True(ConditionValues.Of("1700000000").TryGetDateTimeOffset(0, out DateTimeOffset d));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), d);
        Assert.True(ConditionValues.Of("FALSE").TryGetBoolean(0, out bool b));
        Assert.False(b);
        Assert.False(ConditionValues.Of("x").TryGetInt64(0, out _));
    }
}
