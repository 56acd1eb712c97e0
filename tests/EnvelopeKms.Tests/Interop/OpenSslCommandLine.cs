using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Interop;

/// <summary>
/// The <c>openssl</c> command line, an independent implementation to check the library's output against.
/// It is an operating-system tool, not a project component: a test that needs it is skipped with the
/// reason when it is not on PATH, except under CI=true, where it must be there (Debian always has it).
/// </summary>
internal static class OpenSslCommandLine
{
    private static readonly Lazy<string?> Executable = new(Find);

    /// <summary>The path of <c>openssl</c> on PATH, or <see langword="null"/>.</summary>
    public static string? Path => Executable.Value;

    /// <summary>Returns the path of <c>openssl</c>; skips the test (fails it under CI=true) when it is absent.</summary>
    public static string Require()
    {
        if (Path is { } path)
        {
            return path;
        }

        const string Reason = "The openssl command line is not on PATH; the interoperability checks need it.";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(Reason + " Under CI=true it must be installed.");
        }

        Assert.Skip(Reason);
        return null!;
    }

    /// <summary>Runs openssl in <paramref name="workingDirectory"/> and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, params string[] arguments)
        => ChildProcess.RunAsync(Require(), workingDirectory, arguments, TimeSpan.FromMinutes(1));

    private static string? Find()
    {
        var names = OperatingSystem.IsWindows() ? new[] { "openssl.exe" } : ["openssl"];
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in names)
            {
                var candidate = System.IO.Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
