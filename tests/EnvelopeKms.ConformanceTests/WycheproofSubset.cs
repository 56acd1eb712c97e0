namespace EnvelopeKms.ConformanceTests;

/// <summary>
/// Like <see cref="Wycheproof.Run"/>, for files where some cases test a feature the primitive does not
/// offer (an OAEP label, a hash pair KMS lacks): those cases are not run but counted, and the test asserts
/// both counts exactly, so the exclusion cannot grow silently.
/// </summary>
public static class WycheproofSubset
{
    public static (int Passed, int Excluded) Run(string fileName, Func<WycheproofCase, bool> exclude, Func<WycheproofCase, bool> check)
    {
        var cases = Wycheproof.Load(fileName);
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
