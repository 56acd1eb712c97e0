using System.Text;
using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Tests.Policies;

/// <summary>Reliability row 55: every malformation is a MalformedPolicyDocument whose message names the position or path.</summary>
public sealed class PolicyParserTests
{
    private const string Valid = """
        {
          "Version": "2012-10-17",
          "Id": "key-policy",
          "Statement": [
            { "Sid": "Root", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": "kms:*", "Resource": "*" },
            { "Sid": "App", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:role/app" }, "Action": ["kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
              "Condition": { "StringEquals": { "kms:EncryptionContext:tenant": "acme" } } }
          ]
        }
        """;

    private static string Statement(string body) => "{\"Version\":\"2012-10-17\",\"Statement\":[{" + body + "}]}";

    private const string Ok = """ "Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*" """;

    private static string Rejected(string json, PolicyDocumentKind kind = PolicyDocumentKind.KeyPolicy)
    {
        var e = Assert.Throws<KmsMalformedPolicyDocumentException>(() => PolicyDocument.Parse(json, kind));
        Assert.Equal(KmsErrorCodes.MalformedPolicyDocument, e.ErrorCode);
        Assert.False(PolicyDocument.TryParse(json, kind, out PolicyDocument? d, out string? error));
        Assert.Null(d);
        Assert.Equal(e.Message, error);
        Assert.True(e.Message.Length < 400, e.Message);
        return e.Message;
    }

    [Fact]
    public void A_valid_policy_parses_with_its_id_version_and_statements()
    {
        PolicyDocument p = PolicyDocument.Parse(Valid);
        Assert.Equal("key-policy", p.Id);
        Assert.Equal("2012-10-17", p.Version);
        Assert.Equal(Valid, p.Text);
        Assert.Equal(2, p.Statements.Count);
        Assert.Equal("App", p.Statements[1].Sid);
        Assert.Equal(1, p.Statements[1].Index);
        Assert.Equal(["kms:Encrypt", "kms:GenerateDataKey*"], p.Statements[1].Actions);
        Assert.Equal(["AWS:arn:aws:iam::111122223333:role/app"], p.Statements[1].Principals);
        Assert.NotNull(p.Statements[1].ConditionJson);
        Assert.Equal(PolicyEffect.Allow, p.Statements[0].Effect);
        Assert.True(PolicyDocument.TryParse(Valid, out PolicyDocument? again, out string? error));
        Assert.NotNull(again);
        Assert.Null(error);
        Assert.Equal(2, PolicyDocument.Parse(Encoding.UTF8.GetBytes(Valid)).Statements.Count);
    }

    [Fact]
    public void A_null_document_is_an_argument_error() => Assert.Throws<ArgumentNullException>(() => PolicyDocument.Parse((string)null!));

    [Fact]
    public void Text_that_is_not_JSON_names_the_line_and_byte_position() =>
        Assert.Contains("not valid JSON at line 1, byte position 0", Rejected("<policy/>"), StringComparison.Ordinal);

    [Fact]
    public void A_syntax_error_on_a_later_line_names_that_line() =>
        Assert.Contains("line 3", Rejected("{\n\"Version\": \"2012-10-17\",\n\"Statement\": [,]}"), StringComparison.Ordinal);

    [Fact]
    public void Trailing_garbage_after_the_document_is_rejected() =>
        Assert.Contains("not valid JSON at line", Rejected(Valid + " x"), StringComparison.Ordinal);

    [Fact]
    public void A_second_document_after_the_first_is_rejected() => Rejected(Valid + Valid);

    [Fact]
    public void A_duplicate_property_name_is_rejected_with_its_position()
    {
        string m = Rejected(Statement(Ok + """, "Effect": "Deny" """));
        Assert.Contains("\"Effect\" appears twice", m, StringComparison.Ordinal);
        Assert.Contains("line 1, byte position", m, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_Version_is_rejected() =>
        Assert.Contains("\"Version\" appears twice", Rejected("""{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}"""), StringComparison.Ordinal);

    [Fact]
    public void Nesting_deeper_than_64_levels_is_rejected()
    {
        string deep = new string('[', 70) + new string(']', 70);
        string m = Rejected(Statement(Ok + $$$""", "Condition": {"StringEquals": {"aws:x": {{{deep}}} }}"""));
        Assert.Contains("deeper than 64", m, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_of_exactly_64_levels_is_not_a_depth_error()
    {
        // 5 levels of policy structure + 59 arrays = 64: the depth is fine, the condition value is not.
        string deep = new string('[', 59) + "\"a\"" + new string(']', 59);
        string m = Rejected(Statement(Ok + $$$""", "Condition": {"StringEquals": {"aws:x": {{{deep}}} }}"""));
        Assert.DoesNotContain("deeper", m, StringComparison.Ordinal);
        Assert.Contains("Statement[0].Condition.StringEquals.aws:x[0]", m, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_longer_than_32_KB_is_rejected()
    {
        string big = Statement(Ok + $$""", "Sid": "{{new string('a', PolicyDocument.MaxLength)}}" """);
        Assert.Contains("more than the limit of 32768", Rejected(big), StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_of_exactly_the_limit_is_accepted()
    {
        string shortDoc = Statement(Ok + """, "Sid": "" """);
        string padded = Statement(Ok + $$""", "Sid": "{{new string('a', PolicyDocument.MaxLength - shortDoc.Length)}}" """);
        Assert.Equal(PolicyDocument.MaxLength, padded.Length);
        Assert.Single(PolicyDocument.Parse(padded).Statements);
    }

    [Theory]
    [InlineData('\u0000')]
    [InlineData('\u0007')]
    [InlineData('\u0100')]
    [InlineData('\u20AC')]
    public void A_character_outside_the_allowed_set_is_rejected_with_its_line_and_column(char c)
    {
        string m = Rejected("{\n  \"Version\": \"2012-10-17\", \"Id\": \"a" + c + "\",\n \"Statement\": []}");
        Assert.Contains($"U+{(int)c:X4}", m, StringComparison.Ordinal);
        Assert.Contains("line 2, column 36", m, StringComparison.Ordinal);
    }

    [Fact]
    public void Latin_1_characters_and_tabs_are_allowed() =>
        Assert.Equal("café\tß", PolicyDocument.Parse(Statement(Ok + """, "Sid": "café\tß" """)).Statements[0].Sid);

    [Fact]
    public void Invalid_UTF_8_is_rejected() => Assert.Contains("UTF-8", Rejected2([0x7B, 0xC3, 0x28, 0x7D]), StringComparison.Ordinal);

    private static string Rejected2(byte[] utf8) => Assert.Throws<KmsMalformedPolicyDocumentException>(() => PolicyDocument.Parse(utf8)).Message;

    [Theory]
    [InlineData("""{"Statement":[]}""", "Version element is missing")]
    [InlineData("""{"Version":"2012-10-18","Statement":[]}""", "at Version")]
    [InlineData("""{"Version":20121017,"Statement":[]}""", "at Version")]
    public void A_wrong_or_missing_version_is_rejected(string json, string expected) =>
        Assert.Contains(expected, Rejected(json), StringComparison.Ordinal);

    [Fact]
    public void The_2008_version_is_accepted_and_reads_policy_variables_literally()
    {
        PolicyDocument p = PolicyDocument.Parse("""{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"arn:aws:kms:*:*:key/${x}"}}""");
        Assert.Equal("2008-10-17", p.Version);
        Assert.Equal(PolicyOutcome.Allowed, p.Evaluate(new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::1:root", "arn:aws:kms:r:1:key/${x}")).Outcome);
    }

    [Fact]
    public void Policy_variables_are_rejected_in_2012_documents() =>
        Assert.Contains("Statement[0].Condition.StringEquals.aws:x", Rejected(Statement(Ok + """, "Condition": {"StringEquals": {"aws:x": "${aws:username}"}}""")), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"Version":"2012-10-17","Statement":"x"}""", "Statement element must be an object or an array")]
    [InlineData("""{"Version":"2012-10-17","Statement":[]}""", "Statement array is empty")]
    [InlineData("""{"Version":"2012-10-17","Statement":["x"]}""", "at Statement[0]")]
    [InlineData("""{"Version":"2012-10-17"}""", "Statement element is missing")]
    [InlineData("""[]""", "not a JSON object")]
    [InlineData("""{"Version":"2012-10-17","Statement":[],"Extra":1}""", "\"Extra\" is not a policy element")]
    public void A_statement_element_that_is_not_an_array_or_object_is_rejected(string json, string expected) =>
        Assert.Contains(expected, Rejected(json), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"Principal":"*","Action":"kms:*","Resource":"*"}""", "no Effect at Statement[1]")]
    [InlineData("""{"Effect":"allow","Principal":"*","Action":"kms:*","Resource":"*"}""", "at Statement[1].Effect")]
    [InlineData("""{"Effect":"Allow","Action":"kms:*","Resource":"*"}""", "has no Principal")]
    [InlineData("""{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"}""", "both Principal and NotPrincipal at Statement[1]")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Resource":"*"}""", "has no Action")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":"kms:*","NotAction":"kms:Encrypt","Resource":"*"}""", "both Action and NotAction")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":"kms:*"}""", "has no Resource")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Extra":1}""", "\"Extra\" is not a statement element at Statement[1]")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}""", "array is empty at Statement[1].Action")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":"Encrypt","Resource":"*"}""", "at Statement[1].Action")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":["kms:Encrypt","k*s:Decrypt"],"Resource":"*"}""", "at Statement[1].Action[1]")]
    [InlineData("""{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"key/1"}""", "at Statement[1].Resource")]
    [InlineData("""{"Sid":"A","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}""", "Sid \"A\" is used by more than one statement at Statement[1].Sid")]
    public void A_statement_missing_or_misusing_an_element_is_rejected_with_its_path(string second, string expected)
    {
        string json = $$"""{"Version":"2012-10-17","Statement":[{"Sid":"A",{{Ok}}},{{second}}]}""";
        string m = Rejected(json);
        Assert.Contains(expected, m, StringComparison.Ordinal);
        Assert.Contains("at Statement[1]", m, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("StringEqualz")]
    [InlineData("stringequals")]
    [InlineData("NullIfExists")]
    [InlineData("ForAnyValue:Null")]
    [InlineData("ForSomeValues:StringEquals")]
    public void An_unknown_condition_operator_is_rejected_naming_it_and_its_path(string op)
    {
        string m = Rejected(Statement(Ok + $$$""", "Condition": {"{{{op}}}": {"aws:x": "1"}}"""));
        Assert.Contains($"\"{op}\" is not known at Statement[0].Condition.{op}", m, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NumericEquals", "abc")]
    [InlineData("NumericLessThan", "1..2")]
    [InlineData("DateLessThan", "yesterday")]
    [InlineData("DateEquals", "2026-13-01T00:00:00Z")]
    [InlineData("Bool", "yes")]
    [InlineData("Null", "maybe")]
    [InlineData("IpAddress", "10.0.0.0/33")]
    [InlineData("NotIpAddress", "10.0.0")]
    [InlineData("BinaryEquals", "not base64!")]
    [InlineData("ArnLike", "arn:aws:iam")]
    public void A_value_that_cannot_be_parsed_for_its_operator_is_rejected(string op, string value)
    {
        string m = Rejected(Statement(Ok + $$$""", "Condition": {"{{{op}}}": {"aws:x": ["ok", "{{{value}}}"]}}"""));
        Assert.Contains($"Statement[0].Condition.{op}.aws:x[", m, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"StringEquals": {"aws:x": {"a": 1}}}""", "Condition.StringEquals.aws:x")]
    [InlineData("""{"StringEquals": {"aws:x": null}}""", "Condition.StringEquals.aws:x")]
    [InlineData("""{"StringEquals": {"aws:x": []}}""", "empty at Statement[0].Condition.StringEquals.aws:x")]
    [InlineData("""{"StringEquals": {}}""", "no condition keys at Statement[0].Condition.StringEquals")]
    [InlineData("""{"StringEquals": "x"}""", "at Statement[0].Condition.StringEquals")]
    [InlineData("""{"StringEquals": {"nocolon": "x"}}""", "Condition.StringEquals.nocolon")]
    [InlineData("""[]""", "at Statement[0].Condition")]
    public void A_malformed_condition_block_is_rejected_with_its_path(string condition, string expected) =>
        Assert.Contains(expected, Rejected(Statement(Ok + $$""", "Condition": {{condition}}""")), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"AWS": "arn:aws:iam::111122223333:role/*"}""", "wildcard")]
    [InlineData("""{"AWS": "arn:aws:iam::*:root"}""", "wildcard")]
    [InlineData("""{"AWS": "1111222233?3"}""", "wildcard")]
    [InlineData("""{"Service": "*.amazonaws.com"}""", "Statement[0].Principal.Service")]
    [InlineData("""{"AWS": ["arn:aws:iam::111122223333:root", "a*"]}""", "Statement[0].Principal.AWS[1]")]
    [InlineData("""{"AWS": "alice"}""", "Statement[0].Principal.AWS")]
    [InlineData("""{"AWS": "arn:aws:iam::12345:user/alice"}""", "Statement[0].Principal.AWS")]
    [InlineData("""{"Federated": "cognito-identity.amazonaws.com"}""", "not supported by this key manager at Statement[0].Principal.Federated")]
    [InlineData("""{"CanonicalUser": "abc"}""", "not supported")]
    [InlineData("""{"Other": "x"}""", "not AWS or Service")]
    [InlineData("""{}""", "empty at Statement[0].Principal")]
    [InlineData("\"arn:aws:iam::111122223333:root\"", "at Statement[0].Principal")]
    public void Wildcard_misuse_or_an_unsupported_principal_is_rejected(string principal, string expected)
    {
        string json = Statement($$""" "Effect":"Allow","Principal":{{principal}},"Action":"kms:*","Resource":"*" """);
        Assert.Contains(expected, Rejected(json), StringComparison.Ordinal);
    }

    [Fact]
    public void An_identity_policy_has_no_principal_and_rejects_one()
    {
        const string identity = """{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}""";
        PolicyDocument p = PolicyDocument.Parse(identity, PolicyDocumentKind.IdentityPolicy);
        Assert.Equal(PolicyOutcome.Allowed, p.Evaluate(new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app")).Outcome);
        Assert.Contains("no Principal", Rejected(identity), StringComparison.Ordinal);
        Assert.Contains("cannot have a Principal", Rejected(Statement(Ok), PolicyDocumentKind.IdentityPolicy), StringComparison.Ordinal);
    }

    [Fact]
    public void Condition_values_may_be_numbers_and_booleans_written_as_JSON_literals()
    {
        PolicyDocument p = PolicyDocument.Parse(Statement(Ok + """, "Condition": {"NumericLessThan": {"kms:RotationPeriodInDays": 365.5}, "Bool": {"aws:SecureTransport": true}, "StringEquals": {"aws:x": 42}}"""));
        var r = new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:root")
            .With("kms:RotationPeriodInDays", ConditionValues.Of(365)).With("aws:SecureTransport", ConditionValues.Of(true)).With("aws:x", "42");
        Assert.Equal(PolicyOutcome.Allowed, p.Evaluate(r).Outcome);
    }
}
