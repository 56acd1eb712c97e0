namespace EnvelopeKms.Packaging.Tests;

/// <summary>The repository checkout these tests were built from.</summary>
public static class RepositoryRoot
{
    /// <summary>The directory holding <c>EnvelopeKms.sln</c>, found by walking up from the test assembly.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "EnvelopeKms.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No EnvelopeKms.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>Every project under <c>src/</c> (<c>src/*/*.csproj</c>): each is a shipped package.</summary>
    public static IReadOnlyList<string> PackableProjects() =>
        Directory.GetDirectories(System.IO.Path.Combine(Path, "src"))
            .SelectMany(d => Directory.GetFiles(d, "*.csproj"))
            .Order(StringComparer.Ordinal)
            .ToList();
}
