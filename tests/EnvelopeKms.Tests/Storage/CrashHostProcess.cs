using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.Tests.Storage;

/// <summary>What a run of the crash child process printed (complete lines only) and how it ended.</summary>
internal sealed record CrashHostRun(int ExitCode, IReadOnlyList<string[]> Lines, string StandardError, bool KilledByTest = false)
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

    /// <summary>Runs the crash workload on <paramref name="store"/> (a child store argument), killed by itself at write step <paramref name="crashAtStep"/>.</summary>
    public static async Task<CrashHostRun> RunAsync(string store, byte[] rootKey, long crashAtStep, CancellationToken cancellationToken)
    {
        using var child = CrashHostChild.Start([store, Convert.ToBase64String(rootKey), crashAtStep.ToString(CultureInfo.InvariantCulture)]);
        return await child.WaitForExitAsync(TimeSpan.FromSeconds(60), cancellationToken);
    }

    /// <summary>
    /// Runs the crash workload on <paramref name="store"/> and kills the child (SIGKILL)
    /// <paramref name="delay"/> after it reported the start of its <paramref name="operation"/>-th
    /// writing operation (a <c>begin</c> line), unless it finished first.
    /// </summary>
    public static async Task<CrashHostRun> RunAndKillAsync(string store, byte[] rootKey, int operation, TimeSpan delay, CancellationToken cancellationToken)
    {
        using var child = CrashHostChild.Start([store, Convert.ToBase64String(rootKey), "run"]);
        await child.WaitForLineAsync("begin", TimeSpan.FromSeconds(60), cancellationToken, occurrence: operation);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken);
        }

        child.Kill();
        return await child.WaitForExitAsync(TimeSpan.FromSeconds(60), cancellationToken);
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

        return new[] { "EnvelopeKms.dll", "EnvelopeKms.Storage.Sqlite.dll", "EnvelopeKms.Storage.PostgreSql.dll" }.All(name =>
        {
            var theirs = Path.Combine(Path.GetDirectoryName(dll)!, name);
            var ours = Path.Combine(AppContext.BaseDirectory, name);
            return File.Exists(theirs) && SHA256.HashData(File.ReadAllBytes(theirs)).AsSpan().SequenceEqual(SHA256.HashData(File.ReadAllBytes(ours)));
        });
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
    internal static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
    }
}

/// <summary>
/// A running crash child: its output is read as it comes, so that the test can wait for a line
/// (a start report) and kill the child mid-workload. Disposing kills a child that still runs.
/// </summary>
internal sealed class CrashHostChild : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private readonly Task _pump;
    private readonly Task<string> _stderr;
    private bool _killed;

    private CrashHostChild(Process process)
    {
        _process = process;
        _pump = Task.Run(PumpAsync);
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static CrashHostChild Start(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(CrashHostProcess.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CrashHostProcess.DllPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No crash dumps from the runtime; SIGKILL never dumps.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        return new CrashHostChild(Process.Start(start) ?? throw new InvalidOperationException("The crash host did not start."));
    }

    /// <summary>The complete lines printed so far, split into tokens.</summary>
    public IReadOnlyList<string[]> Lines
    {
        get
        {
            string text;
            lock (_gate)
            {
                text = _output.ToString();
            }

            // A line cut by the kill (no newline yet) does not count.
            var end = text.LastIndexOf('\n');
            return end < 0 ? [] : text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split(' ')).ToList();
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits until the child printed the <paramref name="occurrence"/>-th line starting with <paramref name="prefix"/> and returns it.</summary>
    public async Task<string[]> WaitForLineAsync(string prefix, TimeSpan timeout, CancellationToken cancellationToken, int occurrence = 1)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Lines.Where(l => string.Join(' ', l).StartsWith(prefix, StringComparison.Ordinal)).Skip(occurrence - 1).FirstOrDefault() is { } line)
            {
                return line;
            }

            if (_process.HasExited && _pump.IsCompleted)
            {
                throw new InvalidOperationException($"The crash host exited ({_process.ExitCode}) without printing '{prefix}':\n{string.Join('\n', Lines.Select(l => string.Join(' ', l)))}\n{await _stderr}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"The crash host did not print '{prefix}' within {timeout}.");
            }

            await Task.Delay(1, cancellationToken);
        }
    }

    /// <summary>Kills the child with SIGKILL, if it still runs.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _killed = true;
            }
        }
        catch (InvalidOperationException)
        {
            // It exited on its own meanwhile.
        }
    }

    public async Task<CrashHostRun> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            await _pump.WaitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw;
        }

        return new CrashHostRun(_process.ExitCode, Lines, await _stderr, _killed);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private async Task PumpAsync()
    {
        var buffer = new char[4096];
        int read;
        while ((read = await _process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            lock (_gate)
            {
                _output.Append(buffer, 0, read);
            }
        }
    }
}
