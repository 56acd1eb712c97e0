using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Tests.Policies;

/// <summary>
/// The IAM condition rules, operator by operator, for a key that is absent, present with no values, single-valued or
/// multi-valued (IAM policy reference: condition operators, IfExists, Null, ForAnyValue/ForAllValues).
/// </summary>
public sealed class ConditionOperatorTests
{
    private static bool Holds(string op, string policyValues, ConditionValues request)
    {
        PolicyDocument p = PolicyDocument.Parse(
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\",\"Condition\":{\""
            + op + "\":{\"aws:k\":" + policyValues + "}}}}");
        var r = new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app").With("aws:k", request);
        PolicyOutcome outcome = p.Evaluate(r).Outcome;
        Assert.Equal(outcome, p.Explain(r).Outcome);
        return outcome == PolicyOutcome.Allowed;
    }

    public static TheoryData<string, string, string, bool> Rules => new()
    {
        // op, policy values, request (absent | empty | a | a,b | n:<long> | b:<bool> | d:<iso>), expected
        { "StringEquals", "\"a\"", "absent", false },
        { "StringEquals", "\"a\"", "empty", false },
        { "StringEquals", "[\"x\",\"a\"]", "a", true },
        { "StringEquals", "\"A\"", "a", false },
        { "StringNotEquals", "\"a\"", "absent", true },
        { "StringNotEquals", "\"a\"", "a", false },
        { "StringNotEquals", "[\"x\",\"y\"]", "a", true },
        { "StringNotEquals", "\"a\"", "a,b", false },
        { "StringEqualsIgnoreCase", "\"A\"", "a", true },
        { "StringNotEqualsIgnoreCase", "\"A\"", "a", false },
        { "StringLike", "\"a*\"", "a", true },
        { "StringLike", "\"?\"", "a,b", true },
        { "StringNotLike", "\"b*\"", "a", true },
        { "StringNotLike", "\"b*\"", "absent", true },
        { "StringEqualsIfExists", "\"x\"", "absent", true },
        { "StringEqualsIfExists", "\"x\"", "a", false },
        { "StringNotEqualsIfExists", "\"a\"", "absent", true },
        { "ForAnyValue:StringEquals", "\"b\"", "a,b", true },
        { "ForAnyValue:StringEquals", "\"b\"", "absent", false },
        { "ForAnyValue:StringEquals", "\"b\"", "empty", false },
        { "ForAnyValue:StringEqualsIfExists", "\"b\"", "absent", true },
        { "ForAllValues:StringEquals", "\"a\"", "a,b", false },
        { "ForAllValues:StringEquals", "[\"a\",\"b\"]", "a,b", true },
        { "ForAllValues:StringEquals", "\"a\"", "absent", true },
        { "ForAllValues:StringEquals", "\"a\"", "empty", true },
        { "ForAllValues:StringNotEquals", "\"c\"", "a,b", true },
        { "ForAllValues:StringNotEquals", "\"b\"", "a,b", false },
        { "ForAnyValue:StringNotEquals", "\"b\"", "a,b", true },
        { "Null", "\"true\"", "absent", true },
        { "Null", "\"true\"", "empty", true },
        { "Null", "\"true\"", "a", false },
        { "Null", "false", "a", true },
        { "Null", "\"false\"", "absent", false },
        { "NumericEquals", "5", "n:5", true },
        { "NumericEquals", "\"5.0\"", "n:5", true },
        { "NumericLessThan", "5", "n:4", true },
        { "NumericLessThan", "5", "n:5", false },
        { "NumericLessThanEquals", "5", "n:5", true },
        { "NumericGreaterThan", "5", "n:6", true },
        { "NumericGreaterThanEquals", "5", "n:4", false },
        { "NumericNotEquals", "5", "n:4", true },
        { "NumericNotEquals", "5", "absent", true },
        { "NumericEquals", "5", "a", false },
        { "NumericLessThanIfExists", "5", "absent", true },
        { "DateGreaterThan", "\"2026-01-01T00:00:00Z\"", "d:2026-06-01T00:00:00Z", true },
        { "DateGreaterThan", "1767225600", "d:2025-06-01T00:00:00Z", false },
        { "DateEquals", "\"2026-01-01T01:00:00+01:00\"", "d:2026-01-01T00:00:00Z", true },
        { "DateNotEquals", "\"2026-01-01\"", "d:2026-01-01T00:00:00Z", false },
        { "DateLessThanEquals", "\"2026-01-01T00:00:00Z\"", "n:1767225600", true },
        { "Bool", "true", "b:true", true },
        { "Bool", "\"false\"", "b:true", false },
        { "Bool", "true", "absent", false },
        { "BoolIfExists", "true", "absent", true },
        { "BinaryEquals", "\"QUJD\"", "QUJD", true },
        { "ArnEquals", "\"arn:aws:iam::*:role/a*\"", "arn:aws:iam::111122223333:role/app", true },
        { "ArnNotLike", "\"arn:aws:iam::*:role/a*\"", "arn:aws:iam::111122223333:role/app", false },
        { "ArnNotEquals", "\"arn:aws:iam::*:role/a*\"", "absent", true },
        { "ArnLike", "\"arn:aws:iam::*:role/a*\"", "not-an-arn", false },
        { "IpAddress", "\"10.0.0.0/8\"", "10.200.0.1", true },
        { "IpAddress", "\"10.0.0.1\"", "10.0.0.1", true },
        { "IpAddress", "\"10.0.0.1/24\"", "10.0.0.77", true },
        { "IpAddress", "\"10.0.0.0/8\"", "11.0.0.1", false },
        { "IpAddress", "\"10.0.0.0/8\"", "2001:db8::1", false },
        { "NotIpAddress", "\"10.0.0.0/8\"", "11.0.0.1", true },
        { "NotIpAddress", "\"10.0.0.0/8\"", "absent", true },
        { "IpAddress", "\"10.0.0.0/8\"", "::ffff:10.1.1.1", true },
    };

    private static ConditionValues Request(string spec) => spec switch
    {
        "absent" => ConditionValues.Absent,
        "empty" => ConditionValues.Of(Array.Empty<string>()),
        _ when spec.StartsWith("n:", StringComparison.Ordinal) => ConditionValues.Of(long.Parse(spec[2..], System.Globalization.CultureInfo.InvariantCulture)),
        _ when spec.StartsWith("b:", StringComparison.Ordinal) => ConditionValues.Of(bool.Parse(spec[2..])),
        _ when spec.StartsWith("d:", StringComparison.Ordinal) => ConditionValues.Of(DateTimeOffset.Parse(spec[2..], System.Globalization.CultureInfo.InvariantCulture)),
        _ when spec.Contains(',', StringComparison.Ordinal) => ConditionValues.Of(spec.Split(',')),
        _ => ConditionValues.Of(spec),
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_condition_operator_follows_the_IAM_rule(string op, string policyValues, string request, bool expected) =>
        Assert.Equal(expected, Holds(op, policyValues, Request(request)));

    [Fact]
    public void An_IP_address_typed_value_is_matched_without_formatting() =>
        Assert.True(Holds("IpAddress", "\"192.0.2.0/24\"", ConditionValues.Of(System.Net.IPAddress.Parse("192.0.2.9"))));

    [Fact]
    public void Operators_across_keys_and_blocks_are_combined_with_AND()
    {
        PolicyDocument p = PolicyDocument.Parse("""
            {"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{
              "StringEquals":{"aws:a":"1","aws:b":"2"},"Bool":{"aws:c":"true"}}}}
            """);
        TestPolicyRequest Make(string a, string b, bool c) => new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::1:root").With("aws:a", a).With("aws:b", b).With("aws:c", ConditionValues.Of(c));
        Assert.Equal(PolicyOutcome.Allowed, p.Evaluate(Make("1", "2", true)).Outcome);
        Assert.Equal(PolicyOutcome.NotApplicable, p.Evaluate(Make("1", "3", true)).Outcome);
        Assert.Equal(PolicyOutcome.NotApplicable, p.Evaluate(Make("1", "2", false)).Outcome);
    }
}
