namespace EnvelopeKms.Tests.Documentation;

/// <summary>Files of the repository, found from the folder that holds <c>EnvelopeKms.sln</c>.</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The repository root: the nearest folder above the test binaries that holds <c>EnvelopeKms.sln</c>.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The full path of a file given relative to the repository root with '/' separators.</summary>
    public static string PathOf(string relativePath)
        => Path.Combine([Root, .. relativePath.Split('/')]);

    /// <summary>Reads a repository file as text with '\n' line ends.</summary>
    public static string ReadText(string relativePath)
        => File.ReadAllText(PathOf(relativePath)).ReplaceLineEndings("\n");

    /// <summary>
    /// Removes the common leading spaces of the non-blank lines and any trailing whitespace, so that
    /// code indented in a test method compares equal to the same code at column 0 in Markdown.
    /// </summary>
    public static IReadOnlyList<string> Dedent(IEnumerable<string> lines)
    {
        var list = lines.Select(l => l.TrimEnd()).ToList();
        var indent = list.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart(' ').Length).DefaultIfEmpty(0).Min();
        return [.. list.Select(l => l.Length == 0 ? l : l[indent..])];
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EnvelopeKms.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds EnvelopeKms.sln.");
    }
}
