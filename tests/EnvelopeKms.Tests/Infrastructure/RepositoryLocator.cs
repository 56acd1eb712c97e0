namespace EnvelopeKms.Tests.Infrastructure;

/// <summary>
/// Finds the repository root (the directory that holds <c>EnvelopeKms.sln</c>) by walking up from the
/// test assembly, and the shared test vectors beside it (<c>../shared/testvectors</c>), which are never
/// copied into the repository.
/// </summary>
public static class RepositoryLocator
{
    private const string SolutionFileName = "EnvelopeKms.sln";

    /// <summary>An environment variable naming the test-vector folder, overriding <c>../shared/testvectors</c>.</summary>
    public const string VectorsVariable = "ENVELOPEKMS_TESTVECTORS";

    /// <summary>The repository root, or <see langword="null"/> when the tests run outside a checkout.</summary>
    public static string? FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFileName)))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    /// <summary>The repository root; fails the test when it cannot be found.</summary>
    public static string RequireRepositoryRoot()
        => FindRepositoryRoot() ?? throw new InvalidOperationException($"No directory holding {SolutionFileName} was found above {AppContext.BaseDirectory}.");

    /// <summary>
    /// The path of a file under <c>../shared/testvectors</c> (or the folder <see cref="VectorsVariable"/>
    /// names). When the folder is absent the test is
    /// skipped with the reason, except on CI (<c>CI=true</c>), where it fails: CI must run the vectors.
    /// </summary>
    /// <param name="relativePath">The file below <c>testvectors</c>, for example <c>wycheproof/testvectors_v1/aes_gcm_test.json</c>.</param>
    public static string RequireTestVectorFile(string relativePath)
    {
        var root = FindRepositoryRoot();
        var vectors = Environment.GetEnvironmentVariable(VectorsVariable) is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : root is null ? null : Path.GetFullPath(Path.Combine(root, "..", "shared", "testvectors"));
        var file = vectors is null ? null : Path.Combine(vectors, relativePath);
        if (file is not null && File.Exists(file))
        {
            return file;
        }

        var reason = vectors is null
            ? $"the repository root ({SolutionFileName}) was not found above {AppContext.BaseDirectory}"
            : $"the test vector file '{file}' is absent (expected beside the repository in ../shared/testvectors)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"Test vectors are required on CI, but {reason}.");
        }

        Assert.Skip($"Skipped because {reason}.");
        return null!; // Unreachable: Assert.Skip throws.
    }
}
