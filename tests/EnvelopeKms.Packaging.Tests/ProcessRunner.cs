using System.Diagnostics;
using System.Text;

namespace EnvelopeKms.Packaging.Tests;

/// <summary>What a child process did: its command line, exit code, output and duration.</summary>
public sealed record ProcessResult(string CommandLine, string WorkingDirectory, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed, bool TimedOut)
{
    /// <summary>The whole story, for an assertion message: command, exit code and both output streams (their last 12,000 characters each).</summary>
    public string Describe() =>
        $"`{CommandLine}` in {WorkingDirectory} {(TimedOut ? "timed out" : $"exited {ExitCode}")} after {Elapsed.TotalSeconds:F0} s" +
        $"{Environment.NewLine}--- stdout ---{Environment.NewLine}{Tail(StandardOutput)}" +
        $"{Environment.NewLine}--- stderr ---{Environment.NewLine}{Tail(StandardError)}";

    private static string Tail(string text) => text.Length <= 12_000 ? text : "..." + text[^12_000..];
}

/// <summary>Runs the .NET CLI and other programs as a user would, with a timeout, capturing their output.</summary>
public static class ProcessRunner
{
    /// <summary>
    /// The <c>dotnet</c> host: the one the SDK names in <c>DOTNET_HOST_PATH</c> when the tests run under
    /// <c>dotnet test</c>, otherwise the one on <c>PATH</c>.
    /// </summary>
    public static string Dotnet
    {
        get
        {
            var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
        }
    }

    /// <summary>Runs <c>dotnet</c> with the arguments.</summary>
    public static Task<ProcessResult> DotnetAsync(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment, params string[] arguments) =>
        RunAsync(Dotnet, arguments, workingDirectory, timeout, environment, TestContext.Current.CancellationToken);

    /// <summary>
    /// Runs a program to its end or until <paramref name="timeout"/>, when its whole process tree is killed.
    /// The child does not inherit the MSBuild variables of the <c>dotnet test</c> that runs these tests (they
    /// would point a nested build at the outer one's SDK state); <paramref name="environment"/> adds or, with
    /// a null value, removes variables. Cancelling <paramref name="cancellationToken"/> (the test's, by default)
    /// also kills it.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || name.StartsWith("_MSBuild", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(name);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var commandLine = string.Join(' ', new[] { Path.GetFileName(fileName) }.Concat(info.ArgumentList.Select(Quote)));
        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var timedOut = false;
        using (var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            cancellation.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It ended meanwhile.
                }

                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        // The parameterless wait drains the redirected streams.
        process.WaitForExit();
        string output, error;
        lock (stdout)
        {
            output = stdout.ToString();
        }

        lock (stderr)
        {
            error = stderr.ToString();
        }

        return new ProcessResult(commandLine, workingDirectory, timedOut ? -1 : process.ExitCode, output, error, stopwatch.Elapsed, timedOut);
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c == '"' || c == '\'') ? argument : $"'{argument}'";
}
