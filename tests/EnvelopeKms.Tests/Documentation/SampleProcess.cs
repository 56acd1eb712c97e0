using System.Diagnostics;

namespace EnvelopeKms.Tests.Documentation;

/// <summary>Runs a built sample program as a child process, the way a user runs it.</summary>
internal static class SampleProcess
{
    /// <summary>
    /// Runs <c>samples/{name}</c>, built beside this test project (same configuration and target
    /// framework), with <c>dotnet</c>, in the temporary folder so nothing lands in the repository.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string name, params string[] arguments)
    {
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var targetFramework = baseDirectory.Name;
        var configuration = baseDirectory.Parent!.Name;
        var assembly = RepositoryFiles.PathOf($"samples/{name}/bin/{configuration}/{targetFramework}/{name}.dll");
        Assert.True(File.Exists(assembly), $"The sample {name} is not built at {assembly}; build the solution first.");

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
