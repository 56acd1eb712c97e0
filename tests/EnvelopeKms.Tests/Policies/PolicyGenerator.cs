using System.Text;
using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Tests.Policies;

/// <summary>Random policies and requests from small alphabets, so that statements match often.</summary>
internal static class PolicyGenerator
{
    private static readonly string[] Principals =
    [
        "\"*\"", """{"AWS":"*"}""", """{"AWS":"111122223333"}""", """{"AWS":"arn:aws:iam::111122223333:root"}""",
        """{"AWS":"arn:aws:iam::111122223333:role/a"}""", """{"AWS":["arn:aws:iam::444455556666:role/b","arn:aws:iam::111122223333:role/c"]}""",
        """{"Service":"svc.amazonaws.com"}""", """{"AWS":"444455556666","Service":"svc.amazonaws.com"}""",
    ];

    private static readonly string[] Actions = ["kms:*", "kms:Encrypt", "kms:Decrypt", "kms:Gen*", "kms:?ecrypt", "*", "s3:GetObject", "KMS:generatedatakey", "kms:*Key"];

    private static readonly string[] Resources = ["*", "arn:aws:kms:r:111122223333:key/k1", "arn:aws:kms:r:*:key/*", "arn:aws:kms:r:111122223333:key/k?"];

    private static readonly (string Op, string[] Values)[] Operators =
    [
        ("StringEquals", ["a", "b"]), ("StringNotEquals", ["a", "b"]), ("StringLike", ["a*", "?b"]), ("StringNotLike", ["a*"]),
        ("StringEqualsIgnoreCase", ["A", "b"]), ("StringEqualsIfExists", ["a"]), ("StringNotEqualsIfExists", ["a"]),
        ("ForAnyValue:StringEquals", ["a", "c"]), ("ForAllValues:StringEquals", ["a", "b"]), ("ForAllValues:StringNotEquals", ["c"]),
        ("ForAnyValue:StringNotLike", ["a"]), ("Null", ["true", "false"]), ("Bool", ["true", "false"]), ("NumericLessThan", ["3", "5"]),
        ("NumericEquals", ["3"]), ("NumericGreaterThanEqualsIfExists", ["2"]),
    ];

    private static readonly string[] Keys = ["kms:EncryptionContext:t", "kms:EncryptionContextKeys", "aws:n", "KMS:encryptioncontext:T"];

    public static string Statement(Random rng, PolicyEffect effect, string? sid)
    {
        var sb = new StringBuilder("{");
        if (sid is not null)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\"Sid\":\"{sid}\",");
        }
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\"Effect\":\"{effect}\",");
        sb.Append(rng.Next(5) == 0 ? "\"NotPrincipal\":" : "\"Principal\":").Append(Principals[rng.Next(Principals.Length)]).Append(',');
        sb.Append(rng.Next(5) == 0 ? "\"NotAction\":" : "\"Action\":").Append(List(rng, Actions)).Append(',');
        sb.Append(rng.Next(6) == 0 ? "\"NotResource\":" : "\"Resource\":").Append(List(rng, Resources));
        int conditions = rng.Next(3);
        if (conditions > 0)
        {
            sb.Append(",\"Condition\":{");
            var used = new HashSet<string>();
            for (int i = 0; i < conditions; i++)
            {
                (string op, string[] values) = Operators[rng.Next(Operators.Length)];
                if (!used.Add(op))
                {
                    continue;
                }
                sb.Append(used.Count > 1 ? "," : "").Append(System.Globalization.CultureInfo.InvariantCulture, $"\"{op}\":{{\"{Keys[rng.Next(Keys.Length)]}\":{List(rng, values)}}}");
            }
            sb.Append('}');
        }
        return sb.Append('}').ToString();
    }

    private static string List(Random rng, string[] items)
    {
        int n = 1 + rng.Next(2);
        var chosen = Enumerable.Range(0, n).Select(_ => items[rng.Next(items.Length)]).Distinct().ToList();
        return chosen.Count == 1 && rng.Next(2) == 0 ? $"\"{chosen[0]}\"" : "[" + string.Join(",", chosen.Select(c => $"\"{c}\"")) + "]";
    }

    public static List<string> Statements(Random rng, int count) =>
        Enumerable.Range(0, count).Select(i => Statement(rng, rng.Next(3) == 0 ? PolicyEffect.Deny : PolicyEffect.Allow, rng.Next(2) == 0 ? $"S{i}" : null)).ToList();

    public static string Document(IEnumerable<string> statements) => $$"""{"Version":"2012-10-17","Statement":[{{string.Join(",", statements)}}]}""";

    private static readonly (string Arn, bool Service)[] Callers =
    [
        ("arn:aws:iam::111122223333:root", false), ("arn:aws:iam::111122223333:role/a", false), ("arn:aws:iam::111122223333:role/c", false),
        ("arn:aws:iam::444455556666:role/b", false), ("arn:aws:iam::444455556666:root", false), ("svc.amazonaws.com", true), ("other.amazonaws.com", true),
    ];

    public static TestPolicyRequest Request(Random rng)
    {
        (string arn, bool service) = Callers[rng.Next(Callers.Length)];
        string action = new[] { "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:encrypt", "kms:CreateKey" }[rng.Next(5)];
        string resource = new[] { "arn:aws:kms:r:111122223333:key/k1", "*", "arn:aws:kms:r:444455556666:key/k22" }[rng.Next(3)];
        var r = new TestPolicyRequest(action, arn, resource, service);
        switch (rng.Next(5))
        {
            case 0: break;
            case 1: r.With("kms:EncryptionContext:t", "a"); break;
            case 2: r.With("kms:EncryptionContext:t", "b"); break;
            case 3: r.With("kms:EncryptionContext:t", "ab"); break;
            default: r.With("kms:EncryptionContext:t", ConditionValues.Of(3)); break;
        }
        switch (rng.Next(5))
        {
            case 0: break;
            case 1: r.With("kms:EncryptionContextKeys", ConditionValues.Of(Array.Empty<string>())); break;
            case 2: r.With("kms:EncryptionContextKeys", ConditionValues.Of(["a"])); break;
            case 3: r.With("kms:EncryptionContextKeys", ConditionValues.Of(["a", "b"])); break;
            default: r.With("kms:EncryptionContextKeys", ConditionValues.Of(["c", "A"])); break;
        }
        switch (rng.Next(5))
        {
            case 0: break;
            case 1: r.With("aws:n", "a"); break;
            case 2: r.With("aws:n", ConditionValues.Of(3)); break;
            case 3: r.With("aws:n", ConditionValues.Of(true)); break;
            default: r.With("aws:n", "4.5"); break;
        }
        return r;
    }
}
