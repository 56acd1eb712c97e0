using System.Text;
using EnvelopeKms.Authorization.Policies;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Policies;

/// <summary>Reliability row 55: whatever the input, Parse either succeeds or throws KmsMalformedPolicyDocumentException.</summary>
public sealed class PolicyFuzzTests
{
    private const string Seed = """
        {
          "Version": "2012-10-17",
          "Id": "fuzz",
          "Statement": [
            { "Sid": "Root", "Effect": "Allow", "Principal": { "AWS": "arn:aws:iam::111122223333:root" }, "Action": "kms:*", "Resource": "*" },
            { "Sid": "App", "Effect": "Allow", "Principal": { "AWS": ["arn:aws:iam::111122223333:role/app", "111122223333"], "Service": "svc.amazonaws.com" },
              "Action": ["kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "arn:aws:kms:*:111122223333:key/*",
              "Condition": { "StringEquals": { "kms:EncryptionContext:tenant": ["acme", 7, true] },
                             "ForAllValues:StringLike": { "kms:EncryptionContextKeys": "t*" },
                             "NumericLessThanEquals": { "kms:RotationPeriodInDays": 365 }, "DateLessThan": { "aws:CurrentTime": "2030-01-01T00:00:00Z" },
                             "IpAddress": { "aws:SourceIp": "10.0.0.0/8" }, "Null": { "aws:x": "false" }, "ArnLike": { "aws:PrincipalArn": "arn:aws:iam::*:role/*" } } },
            { "Sid": "Deny", "Effect": "Deny", "NotPrincipal": { "AWS": "arn:aws:iam::111122223333:root" }, "NotAction": "kms:Describe*", "NotResource": "arn:aws:kms:r:1:key/x",
              "Condition": { "BinaryEqualsIfExists": { "aws:b": "QUJD" }, "Bool": { "aws:SecureTransport": false } } }
          ]
        }
        """;

    private const string Inserts = "{}[]\":,\\*?$ 0a\u00ff\u0001";

    private static readonly byte[] SeedBytes = Encoding.UTF8.GetBytes(Seed);

    private static void ParseOnlyThrowsMalformed(byte[] input)
    {
        try
        {
            PolicyDocument p = PolicyDocument.Parse(input);
            var r = new TestPolicyRequest("kms:Encrypt", "arn:aws:iam::111122223333:role/app");
            _ = p.Evaluate(r);
            _ = p.Explain(r).ToString();
        }
        catch (KmsMalformedPolicyDocumentException e)
        {
            Assert.StartsWith("The policy document is malformed: ", e.Message, StringComparison.Ordinal);
        }
        try
        {
            _ = PolicyDocument.Parse(Encoding.Latin1.GetString(input));
        }
        catch (KmsMalformedPolicyDocumentException)
        {
        }
    }

    [Fact]
    public void The_seed_document_is_valid() => Assert.Equal(3, PolicyDocument.Parse(Seed).Statements.Count);

    [Property(MaxTest = 500)]
    public void Arbitrary_bytes_only_ever_raise_malformed_policy_document(byte[] input) => ParseOnlyThrowsMalformed(input ?? []);

    [Property(MaxTest = 300)]
    public Property Arbitrary_json_like_text_only_ever_raises_malformed_policy_document() =>
        Prop.ForAll(Gen.Elements("{", "}", "[", "]", ",", ":", "\"Version\"", "\"2012-10-17\"", "\"Statement\"", "\"Effect\"", "\"Allow\"", "\"Principal\"",
                "\"*\"", "\"Action\"", "\"kms:*\"", "\"Resource\"", "\"Condition\"", "\"StringEquals\"", "\"a:b\"", "1", "true", "null", " ")
            .ArrayOf().Select(parts => string.Concat(parts)).ToArbitrary(),
            text => ParseOnlyThrowsMalformed(Encoding.UTF8.GetBytes(text)));

    [Property(MaxTest = 1000)]
    public void Mutated_valid_policies_only_ever_raise_malformed_policy_document(int a, int b, int c)
    {
        var rng = new Random(HashCode.Combine(a, b * 31337, c * 7));
        byte[] doc = (byte[])SeedBytes.Clone();
        int mutations = 1 + rng.Next(4);
        for (int m = 0; m < mutations; m++)
        {
            int at = rng.Next(doc.Length);
            switch (rng.Next(5))
            {
                case 0: doc[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: doc = doc[..at]; break;
                case 2: doc = [.. doc[..at], (byte)Inserts[rng.Next(Inserts.Length)], .. doc[at..]]; break;
                case 3: doc = [.. doc[..at], .. doc[Math.Min(doc.Length, at + rng.Next(20))..]]; break;
                default:
                    int from = rng.Next(doc.Length), len = rng.Next(Math.Min(40, doc.Length - from) + 1);
                    doc = [.. doc[..at], .. doc.AsSpan(from, len).ToArray(), .. doc[at..]];
                    break;
            }
            if (doc.Length == 0)
            {
                break;
            }
        }
        ParseOnlyThrowsMalformed(doc);
    }

    [Fact]
    public void Every_truncation_of_a_valid_policy_is_rejected_as_malformed()
    {
        for (int i = 0; i < SeedBytes.Length; i++)
        {
            Assert.Throws<KmsMalformedPolicyDocumentException>(() => PolicyDocument.Parse(SeedBytes.AsSpan(0, i)));
        }
    }
}
