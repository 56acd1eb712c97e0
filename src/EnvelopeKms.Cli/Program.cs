namespace EnvelopeKms.Cli;

/// <summary>The <c>envelopekms</c> tool's entry point.</summary>
internal static class Program
{
    /// <summary>Runs the tool; the exit code is 0 on success, 1 for a KMS or I/O error, 2 for a usage error, 3 for a broken audit chain.</summary>
    /// <param name="args">The command line.</param>
    public static Task<int> Main(string[] args)
        => EnvelopeKmsCli.RunAsync(args, Console.Out, Console.Error, Console.In, Environment.GetEnvironmentVariable);
}
