namespace EnvelopeKms.Tests.Documentation;

/// <summary>The policies sample, run as the README runs it (a child process).</summary>
public sealed class PoliciesSampleTests
{
    [Fact]
    public async Task The_policies_sample_allows_and_denies_as_the_seed_policy_says_and_a_grant_opens_decryption_for_a_while()
    {
        var run = await SampleProcess.RunAsync("EnvelopeKms.Samples.Policies");
        TestContext.Current.TestOutputHelper?.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"The sample exited with {run.ExitCode}:\n{run.Output}");

        string[] expected =
        [
            "1. The administrator creates a key with the seed's key policy",
            "2. The application encrypts",
            "Audit: Allowed by key-policy statement 'ApplicationEncryptsOnly'",
            "3. The application decrypts",
            "AccessDeniedException: User: arn:aws:iam::111122223333:role/OrdersApp is not authorized",
            "kms:Decrypt",
            "'ApplicationEncryptsOnly': Action does not match",
            "4. The application encrypts for another table",
            "AccessDeniedException:", "'ApplicationEncryptsOnly': Condition StringEquals kms:EncryptionContext:table",
            "5. Explain without running",
            "DENY kms:Decrypt",
            "6. Dry run",
            "DryRunOperationException",
            "7. The administrator grants the auditor",
            "AccessDeniedException: User: arn:aws:iam::111122223333:role/Auditor is not authorized",
            "CreateGrant: grant",
            "Decrypt as Auditor: \"order #4711: 3 widgets\"",
            "Audit: Allowed by grant",
            "ListGrants: 1 grant, 'quarterly-audit'",
            "8. The audit is over",
            "RetireGrant: done",
            "AccessDeniedException: User: arn:aws:iam::111122223333:role/Auditor is not authorized",
            "9. A policy that would lock the administrator out is refused",
            "MalformedPolicyDocumentException: The new key policy will not allow you to update the key policy",
            "10. Denials in the audit trail",
            "Done.",
        ];
        // The sample wraps long messages: compare with line breaks and indentation folded to single spaces.
        SampleProcess.AssertInOrder(System.Text.RegularExpressions.Regex.Replace(run.Output, @"\s+", " "), expected);

        Assert.DoesNotContain("unexpectedly allowed", run.Output, StringComparison.Ordinal);
    }
}
