using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;

namespace EnvelopeKms.Tests.Storage;

/// <summary>What a run of the crash child process printed and how it ended.</summary>
internal sealed record CrashHostRun(int ExitCode, IReadOnlyList<string[]> Lines, string StandardError)
{
    public string Output => string.Join('\n', Lines.Select(l => string.Join(' ', l)));
}

/// <summary>
/// Finds and runs <c>tests/EnvelopeKms.Tests.CrashHost</c>. The test project references it with
/// <c>ReferenceOutputAssembly="false"</c>, so building the tests builds it beside them (same
/// configuration and target framework) without copying it into the test output.
/// </summary>
internal static class CrashHostProcess
{
    private const string ProjectName = "EnvelopeKms.Tests.CrashHost";
    private static readonly Lazy<string> Host = new(LocateOrBuild, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The full path of the built child's dll, built if missing or stale.</summary>
    public static string DllPath => Host.Value;

    public static async Task<CrashHostRun> RunAsync(string storeDirectory, byte[] rootKey, long crashAtStep, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        start.ArgumentList.Add(storeDirectory);
        start.ArgumentList.Add(Convert.ToBase64String(rootKey));
        start.ArgumentList.Add(crashAtStep.ToString(CultureInfo.InvariantCulture));
        // No crash dumps from the runtime; the child kills itself with SIGKILL, which never dumps.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The crash host did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' '))
            .ToList();
        return new CrashHostRun(process.ExitCode, lines, await stderr);
    }

    /// <summary>The repository root: the directory holding <c>EnvelopeKms.sln</c>, found by walking up from the test output.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EnvelopeKms.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No EnvelopeKms.sln above {AppContext.BaseDirectory}.");
    }

    private static string LocateOrBuild()
    {
        var root = RepositoryRoot();
        var projectDirectory = Path.Combine(root, "tests", ProjectName);
        var configuration = typeof(CrashHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var candidates = new List<string>();

        // The same output layout as this test assembly (bin/<Configuration>/<TargetFramework>/), relative to the child's project.
        var testProjectDirectory = Path.Combine(root, "tests", "EnvelopeKms.Tests");
        var relativeOutput = Path.GetRelativePath(testProjectDirectory, AppContext.BaseDirectory);
        if (!relativeOutput.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relativeOutput))
        {
            candidates.Add(Path.Combine(projectDirectory, relativeOutput, ProjectName + ".dll"));
        }

        var targetFramework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        candidates.Add(Path.Combine(projectDirectory, "bin", configuration, targetFramework, ProjectName + ".dll"));

        if (candidates.FirstOrDefault(IsCurrent) is { } found)
        {
            return found;
        }

        // Missing, or built against another EnvelopeKms.dll than the one under test: build it once.
        Build(Path.Combine(projectDirectory, ProjectName + ".csproj"), configuration);
        return candidates.FirstOrDefault(IsCurrent)
            ?? throw new InvalidOperationException(
                $"The crash host was not found (or is stale) after building it; looked at: {string.Join(", ", candidates)}. " +
                $"Build it with: dotnet build tests/{ProjectName} -c {configuration}");
    }

    /// <summary>Whether the dll exists and carries the same EnvelopeKms.dll as the test output.</summary>
    private static bool IsCurrent(string dll)
    {
        if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
        {
            return false;
        }

        var theirs = Path.Combine(Path.GetDirectoryName(dll)!, "EnvelopeKms.dll");
        var ours = Path.Combine(AppContext.BaseDirectory, "EnvelopeKms.dll");
        return File.Exists(theirs) && SHA256.HashData(File.ReadAllBytes(theirs)).AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes(ours)));
    }

    private static void Build(string project, string configuration)
    {
        var start = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "build", project, "-c", configuration, "--nologo", "-v", "quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet build did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("Building the crash host took more than 5 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Building the crash host failed:\n{output.Result}\n{error.Result}");
        }
    }

    /// <summary>The dotnet host running these tests, so the child uses the same runtime.</summary>
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
    }
}
