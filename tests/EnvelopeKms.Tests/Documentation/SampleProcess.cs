using EnvelopeKms.Tests.Infrastructure;

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

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return await ChildProcess.RunAsync(dotnet, Path.GetTempPath(), [assembly, .. arguments], TimeSpan.FromMinutes(2));
    }

    /// <summary>Asserts that the output holds every expected text, in this order.</summary>
    public static void AssertInOrder(string output, IEnumerable<string> expected)
    {
        var position = 0;
        foreach (var line in expected)
        {
            var found = output.IndexOf(line, position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"The sample's output lacks '{line}' (in this order):\n{output}");
            position = found + line.Length;
        }
    }
}
