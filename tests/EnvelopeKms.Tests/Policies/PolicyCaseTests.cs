using System.Text.Json;
using EnvelopeKms.Authorization.Policies;

namespace EnvelopeKms.Tests.Policies;

/// <summary>
/// Table-driven cases after the AWS KMS documentation's key-policy patterns (default key policy, key administrators and users,
/// grants for AWS resources, encryption-context conditions, kms:ViaService, aws:PrincipalArn, explicit denies). Each case file
/// under Policies/Cases holds one policy and requests with their expected outcome; the compiled evaluator, the reference
/// interpreter and the explanation must all give it.
/// </summary>
public sealed class PolicyCaseTests
{
    private static string CasesDirectory => Path.Combine(AppContext.BaseDirectory, "Policies", "Cases");

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string file in Directory.GetFiles(CasesDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (JsonElement r in doc.RootElement.GetProperty("requests").EnumerateArray())
            {
                data.Add(Path.GetFileName(file), r.GetProperty("name").GetString()!);
            }
        }
        return data;
    }

    [Fact]
    public void Every_case_file_has_requests_and_there_are_enough_cases() => Assert.True(Cases().Count >= 50, $"only {Cases().Count} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_documented_key_policy_pattern_gives_the_expected_outcome(string file, string name)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(CasesDirectory, file)));
        string policyText = doc.RootElement.GetProperty("policy").GetRawText();
        JsonElement request = doc.RootElement.GetProperty("requests").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        var expected = Enum.Parse<PolicyOutcome>(request.GetProperty("expect").GetString()!);
        TestPolicyRequest r = TestPolicyRequest.FromJson(request);

        PolicyDocument policy = PolicyDocument.Parse(policyText);
        PolicyEvaluation compiled = policy.Evaluate(r);
        PolicyExplanation explanation = policy.Explain(r);
        using JsonDocument json = JsonDocument.Parse(policyText);
        PolicyEvaluation interpreted = PolicyInterpreter.Evaluate(json.RootElement, r);

        Assert.True(expected == compiled.Outcome, $"{name}: expected {expected}, got {compiled}\n{explanation}");
        Assert.Equal(compiled, interpreted);
        Assert.Equal(compiled, explanation.Evaluation);
        if (request.TryGetProperty("sid", out JsonElement sid))
        {
            Assert.Equal(sid.GetString(), compiled.StatementSid);
            Assert.Contains(sid.GetString()!, explanation.Summary, StringComparison.Ordinal);
        }
        if (expected == PolicyOutcome.NotApplicable)
        {
            Assert.Equal(-1, compiled.StatementIndex);
        }
    }
}
