using System.Text.Json;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.ConformanceTests;

/// <summary>One Wycheproof test case with its group: the raw JSON of both, read by the test that knows the schema.</summary>
public sealed record WycheproofCase(JsonElement Group, JsonElement Test)
{
    public int TcId => Test.GetProperty("tcId").GetInt32();

    /// <summary><c>valid</c>, <c>invalid</c> or <c>acceptable</c>.</summary>
    public string Result => Test.GetProperty("result").GetString()!;

    public string Comment => Test.TryGetProperty("comment", out var c) ? c.GetString() ?? "" : "";

    public IReadOnlyList<string> Flags => Test.TryGetProperty("flags", out var f) ? [.. f.EnumerateArray().Select(x => x.GetString()!)] : [];

    public byte[] Hex(string name) => Convert.FromHexString(Test.GetProperty(name).GetString()!);

    public byte[] GroupHex(string name) => Convert.FromHexString(Group.GetProperty(name).GetString()!);

    public string GroupString(string name) => Group.GetProperty(name).GetString()!;

    public override string ToString() => $"tcId {TcId} ({Result}: {Comment})";
}

/// <summary>
/// Reads a Wycheproof vector file from <c>../shared/testvectors/wycheproof/testvectors_v1</c> (skipped
/// with the reason when absent; a failure under <c>CI=true</c>) and runs each case, counting outcomes, so
/// that a test can assert the exact number of vectors that passed per file and a silent filter is caught.
/// </summary>
public static class Wycheproof
{
    public static IReadOnlyList<WycheproofCase> Load(string fileName)
    {
        var path = RepositoryLocator.RequireTestVectorFile($"wycheproof/testvectors_v1/{fileName}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement.Clone();
        var declared = root.GetProperty("numberOfTests").GetInt32();
        var cases = new List<WycheproofCase>();
        foreach (var group in root.GetProperty("testGroups").EnumerateArray())
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                cases.Add(new WycheproofCase(group, test));
            }
        }

        Assert.True(declared == cases.Count, $"{fileName} declares {declared} tests but holds {cases.Count}.");
        return cases;
    }

    /// <summary>
    /// Runs <paramref name="check"/> on every case of a file: it returns whether the library accepted
    /// the case (a valid result, a verified signature, a decryption). Valid cases must be accepted,
    /// invalid ones rejected; acceptable ones may go either way. Returns the number of cases whose
    /// outcome matched, and fails listing every mismatch.
    /// </summary>
    public static int Run(string fileName, Func<WycheproofCase, bool> check)
    {
        var (passed, excluded) = RunSubset(fileName, static _ => false, check);
        Assert.Equal(0, excluded);
        return passed;
    }

    /// <summary>
    /// Like <see cref="Run"/>, for files where some cases test a feature the library does not offer (an
    /// OAEP label, a hash pair KMS lacks): those cases are not run but counted, and the test asserts both
    /// counts exactly, so the exclusion cannot grow silently.
    /// </summary>
    public static (int Passed, int Excluded) RunSubset(string fileName, Func<WycheproofCase, bool> exclude, Func<WycheproofCase, bool> check)
    {
        var cases = Load(fileName);
        var mismatches = new List<string>();
        int passed = 0, excluded = 0;
        foreach (var @case in cases)
        {
            if (exclude(@case))
            {
                excluded++;
                continue;
            }

            bool accepted;
            try
            {
                accepted = check(@case);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                mismatches.Add($"{@case}: threw {e.GetType().Name}: {e.Message}");
                continue;
            }

            if (@case.Result == "acceptable" || accepted == (@case.Result == "valid"))
            {
                passed++;
            }
            else
            {
                mismatches.Add($"{@case}: {(accepted ? "accepted" : "rejected")}");
            }
        }

        Assert.True(mismatches.Count == 0, $"{fileName}: {mismatches.Count} of {cases.Count} cases disagree:\n" + string.Join("\n", mismatches.Take(40)));
        return (passed, excluded);
    }
}
