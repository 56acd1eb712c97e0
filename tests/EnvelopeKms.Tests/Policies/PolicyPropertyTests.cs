using System.Text.Json;
using System.Text.RegularExpressions;
using EnvelopeKms.Authorization.Policies;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Policies;

/// <summary>Laws of policy evaluation over random policies and requests (FsCheck picks the seeds of small-alphabet generators).</summary>
public sealed class PolicyPropertyTests
{
    private static Random Rng(int a, int b, int c) => new(HashCode.Combine(a, b * 7919, c * 104729));

    private static PolicyEvaluation Evaluate(IEnumerable<string> statements, PolicyRequest r) => PolicyDocument.Parse(PolicyGenerator.Document(statements)).Evaluate(r);

    [Property(MaxTest = 400)]
    public bool The_compiled_evaluator_agrees_with_the_interpreter_and_the_explanation(int a, int b, int c)
    {
        Random rng = Rng(a, b, c);
        string text = PolicyGenerator.Document(PolicyGenerator.Statements(rng, 1 + rng.Next(5)));
        PolicyDocument policy = PolicyDocument.Parse(text);
        using JsonDocument json = JsonDocument.Parse(text);
        for (int i = 0; i < 8; i++)
        {
            TestPolicyRequest r = PolicyGenerator.Request(rng);
            PolicyEvaluation compiled = policy.Evaluate(r);
            PolicyExplanation explanation = policy.Explain(r);
            if (compiled != PolicyInterpreter.Evaluate(json.RootElement, r) || compiled != explanation.Evaluation
                || !explanation.Statements.Any(s => s.Matched) != (compiled.Outcome == PolicyOutcome.NotApplicable))
            {
                throw new InvalidOperationException($"{text}\n{r}\ncompiled {compiled}, interpreted {PolicyInterpreter.Evaluate(json.RootElement, r)}\n{explanation}");
            }
        }
        return true;
    }

    [Property(MaxTest = 300)]
    public bool Statement_order_never_changes_the_outcome(int a, int b, int c)
    {
        Random rng = Rng(a, b, c);
        List<string> statements = PolicyGenerator.Statements(rng, 2 + rng.Next(4));
        List<string> shuffled = [.. statements.OrderBy(_ => rng.Next())];
        for (int i = 0; i < 8; i++)
        {
            TestPolicyRequest r = PolicyGenerator.Request(rng);
            if (Evaluate(statements, r).Outcome != Evaluate(shuffled, r).Outcome)
            {
                return false;
            }
        }
        return true;
    }

    [Property(MaxTest = 300)]
    public bool Adding_a_deny_statement_never_grants(int a, int b, int c)
    {
        Random rng = Rng(a, b, c);
        List<string> statements = PolicyGenerator.Statements(rng, 1 + rng.Next(4));
        List<string> withDeny = [.. statements];
        withDeny.Insert(rng.Next(withDeny.Count + 1), PolicyGenerator.Statement(rng, PolicyEffect.Deny, null));
        for (int i = 0; i < 8; i++)
        {
            TestPolicyRequest r = PolicyGenerator.Request(rng);
            PolicyEvaluation before = Evaluate(statements, r), after = Evaluate(withDeny, r);
            bool ok = after.Outcome == before.Outcome || after.Outcome == PolicyOutcome.Denied;
            if (!ok || (!before.IsAllowed && after.IsAllowed))
            {
                return false;
            }
        }
        return true;
    }

    [Property(MaxTest = 300)]
    public bool Adding_an_allow_statement_never_takes_an_allow_away_or_lifts_a_deny(int a, int b, int c)
    {
        Random rng = Rng(a, b, c);
        List<string> statements = PolicyGenerator.Statements(rng, 1 + rng.Next(4));
        List<string> withAllow = [.. statements];
        withAllow.Insert(rng.Next(withAllow.Count + 1), PolicyGenerator.Statement(rng, PolicyEffect.Allow, null));
        for (int i = 0; i < 8; i++)
        {
            TestPolicyRequest r = PolicyGenerator.Request(rng);
            PolicyEvaluation before = Evaluate(statements, r), after = Evaluate(withAllow, r);
            if ((before.IsAllowed && !after.IsAllowed) || (before.Outcome == PolicyOutcome.Denied) != (after.Outcome == PolicyOutcome.Denied)
                || (before.Outcome == PolicyOutcome.Allowed && after.Outcome != PolicyOutcome.Allowed))
            {
                return false;
            }
        }
        return true;
    }

    private static readonly char[] PatternAlphabet = ['a', 'b', '*', '?', 'A'];
    private static readonly char[] TextAlphabet = ['a', 'b', 'A', '*'];

    private static string Word(Random rng, char[] alphabet, int max) => new([.. Enumerable.Range(0, rng.Next(max + 1)).Select(_ => alphabet[rng.Next(alphabet.Length)])]);

    private static bool Reference(string pattern, string text, bool ignoreCase)
    {
        string regex = "^" + string.Concat(pattern.Select(ch => ch switch { '*' => "[\\s\\S]*", '?' => "[\\s\\S]", _ => Regex.Escape(ch.ToString()) })) + "$";
        return Regex.IsMatch(text, regex, ignoreCase ? RegexOptions.IgnoreCase | RegexOptions.CultureInvariant : RegexOptions.None);
    }

    [Property(MaxTest = 500)]
    public bool Wildcard_matching_agrees_with_a_regular_expression_reference(int a, int b, int c)
    {
        Random rng = Rng(a, b, c);
        for (int i = 0; i < 20; i++)
        {
            string pattern = Word(rng, PatternAlphabet, 6), text = Word(rng, TextAlphabet, 7);
            bool ignoreCase = rng.Next(2) == 0;
            if (Wildcard.IsMatch(pattern, text, ignoreCase) != Reference(pattern, text, ignoreCase))
            {
                throw new InvalidOperationException($"pattern {pattern} text {text} ignoreCase {ignoreCase}");
            }
        }
        return true;
    }

    [Property(MaxTest = 200)]
    public Property Wildcard_matching_of_generated_strings_agrees_with_the_reference() =>
        Prop.ForAll(
            Gen.Elements('a', 'b', '*', '?').ArrayOf().Select(cs => new string(cs)).ToArbitrary(),
            Gen.Elements('a', 'b').ArrayOf().Select(cs => new string(cs)).ToArbitrary(),
            (pattern, text) => Wildcard.IsMatch(pattern, text, ignoreCase: false) == Reference(pattern, text, ignoreCase: false));
}
