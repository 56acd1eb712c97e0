using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace EnvelopeKms.Packaging.Tests;

/// <summary>The tests over the packed packages share one pack (it takes minutes) and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class PackedPackagesGroup : ICollectionFixture<PackedPackages>
{
    public const string Name = "Packed packages";
}

/// <summary>One package produced by <c>dotnet pack</c>, with its symbol package.</summary>
public sealed record PackedPackage(string Id, string ProjectPath, string PackagePath, string SymbolPackagePath)
{
    /// <summary>The package's .nuspec.</summary>
    public XDocument ReadNuspec()
    {
        using var zip = ZipFile.OpenRead(PackagePath);
        var entry = zip.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase));
        using var stream = entry.Open();
        return XDocument.Load(stream);
    }

    /// <summary>The package's <c>metadata</c> element's child of that local name (the nuspec namespace varies with the features used).</summary>
    public XElement? Metadata(string name) =>
        ReadNuspec().Root!.Elements().Single(e => e.Name.LocalName == "metadata").Elements().FirstOrDefault(e => e.Name.LocalName == name);

    /// <summary>The entries of the package.</summary>
    public IReadOnlyList<string> Entries() => EntriesOf(PackagePath);

    /// <summary>The entries of the symbol package.</summary>
    public IReadOnlyList<string> SymbolEntries() => EntriesOf(SymbolPackagePath);

    /// <summary>One file of the package or the symbol package.</summary>
    public static byte[] ReadEntry(string zipPath, string entryName)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var entry = zip.GetEntry(entryName) ?? throw new FileNotFoundException($"{entryName} is not in {Path.GetFileName(zipPath)}");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static List<string> EntriesOf(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        return zip.Entries.Select(e => e.FullName).ToList();
    }
}

/// <summary>
/// Packs every project under <c>src/</c> once, as a release would: <c>dotnet pack -c Release</c> into a
/// temporary folder, under a unique prerelease version.
/// <list type="bullet">
/// <item>One invocation over a generated solution of the projects, so MSBuild builds each project once and
/// nothing races.</item>
/// <item><c>--artifacts-path</c> in the same temporary folder keeps every output of the pack, restore's
/// <c>obj/</c> included, apart from the Debug outputs that other test assemblies of <c>dotnet test
/// EnvelopeKms.sln</c> use meanwhile.</item>
/// <item>The unique version keeps the global packages folder from serving a copy from an earlier run; that
/// version's folders are removed from it afterwards, with the temporary folder.</item>
/// </list>
/// </summary>
public sealed class PackedPackages : IAsyncLifetime
{
    /// <summary>Generous: a cold pack of every package on a busy 2-core machine takes several minutes.</summary>
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(25);

    /// <summary>The temporary folder of this run, outside the repository.</summary>
    public string Directory { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "envelopekms-packtest-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)));

    /// <summary>The unique prerelease version every package was packed with.</summary>
    public string Version { get; } = $"0.0.0-packtest.{DateTimeOffset.UtcNow:yyyyMMddHHmmss}.{RandomNumberGenerator.GetInt32(1_000_000):D6}";

    /// <summary>The local folder the packages were packed into: the feed a consumer restores from.</summary>
    public string Feed => System.IO.Path.Combine(Directory, "feed");

    /// <summary>The projects under <c>src/</c>.</summary>
    public IReadOnlyList<string> Projects { get; private set; } = [];

    /// <summary>The packages, one per project.</summary>
    public IReadOnlyList<PackedPackage> Packages { get; private set; } = [];

    /// <summary>What <c>dotnet pack</c> printed.</summary>
    public ProcessResult PackResult { get; private set; } = null!;

    /// <summary>The package of that id.</summary>
    public PackedPackage this[string id] => Packages.SingleOrDefault(p => p.Id == id)
        ?? throw new InvalidOperationException($"No package {id} among {string.Join(", ", Packages.Select(p => p.Id))}.");

    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Feed);
        Projects = RepositoryRoot.PackableProjects();

        // A solution of exactly these projects (.slnx, which the .NET 10 SDK builds like a .sln).
        var solution = System.IO.Path.Combine(Directory, "packages.slnx");
        new XDocument(new XElement("Solution",
            Projects.Select(p => new XElement("Project", new XAttribute("Path", System.IO.Path.GetRelativePath(Directory, p).Replace('\\', '/'))))))
            .Save(solution);

        // Restore inside a `dotnet test` of the whole solution, with other test assemblies running, has
        // failed for every project at once without logging a reason ("RestoreTask returned false but did not
        // log an error"), for about a minute; the same pack passed before and after. So a pack whose restore
        // fails is tried again, with a fresh artifacts folder and a growing pause (up to five attempts over
        // about two minutes); a failure of the build or of the pack itself is not retried.
        for (var attempt = 1; ; attempt++)
        {
            PackResult = await ProcessRunner.DotnetAsync(Directory, PackTimeout, null,
                "pack", solution,
                "-c", "Release",
                "--artifacts-path", System.IO.Path.Combine(Directory, $"artifacts-{attempt}"),
                $"-p:PackageOutputPath={Feed}{System.IO.Path.DirectorySeparatorChar}",
                $"-p:Version={Version}",
                "-nodeReuse:false",
                "--disable-build-servers");
            if (PackResult.ExitCode == 0)
            {
                break;
            }

            var restoreFailed = PackResult.StandardOutput.Contains("Failed to restore", StringComparison.Ordinal)
                || PackResult.StandardOutput.Contains("\"RestoreTask\" task returned false", StringComparison.Ordinal);
            if (!restoreFailed || attempt == 5)
            {
                throw new InvalidOperationException($"dotnet pack failed (attempt {attempt}): " + PackResult.Describe());
            }

            TestContext.Current.SendDiagnosticMessage($"dotnet pack: restore failed on attempt {attempt}; trying again. {PackResult.Describe()}");
            await Task.Delay(TimeSpan.FromSeconds(10 * attempt), TestContext.Current.CancellationToken);
        }

        var packages = new List<PackedPackage>();
        foreach (var project in Projects)
        {
            var id = (await EvaluateAsync(project, "PackageId"))["PackageId"];
            packages.Add(new PackedPackage(id, project,
                System.IO.Path.Combine(Feed, $"{id}.{Version}.nupkg"),
                System.IO.Path.Combine(Feed, $"{id}.{Version}.snupkg")));
        }

        Packages = packages;
    }

    public async ValueTask DisposeAsync()
    {
        // Packages restored or installed from the feed land in the global packages folder under this
        // run's version: remove them, so that runs do not pile up there.
        var locals = await ProcessRunner.DotnetAsync(System.IO.Path.GetTempPath(), TimeSpan.FromMinutes(2), null, "nuget", "locals", "global-packages", "--list");
        var prefix = "global-packages:";
        var line = locals.StandardOutput.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        if (line is not null)
        {
            var globalPackages = line[prefix.Length..].Trim();
            foreach (var id in Packages.Select(p => p.Id))
            {
                var idFolder = System.IO.Path.Combine(globalPackages, id.ToLowerInvariant());
                TryDelete(System.IO.Path.Combine(idFolder, Version.ToLowerInvariant()));
                if (System.IO.Directory.Exists(idFolder) && !System.IO.Directory.EnumerateFileSystemEntries(idFolder).Any())
                {
                    TryDelete(idFolder);
                }
            }
        }

        TryDelete(Directory);
    }

    /// <summary>Properties of a project as MSBuild evaluates them (Release), without building it.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> EvaluateAsync(string project, params string[] properties)
    {
        var arguments = new List<string> { "msbuild", project, "-p:Configuration=Release", "-nodeReuse:false" };
        arguments.AddRange(properties.Select(p => "-getProperty:" + p));
        var result = await ProcessRunner.DotnetAsync(System.IO.Path.GetDirectoryName(project)!, TimeSpan.FromMinutes(3), null, [.. arguments]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("Evaluating the project failed: " + result.Describe());
        }

        // One property prints its bare value; several print {"Properties": {...}}.
        if (properties.Length == 1)
        {
            return new Dictionary<string, string> { [properties[0]] = result.StandardOutput.Trim() };
        }

        using var json = System.Text.Json.JsonDocument.Parse(result.StandardOutput);
        return json.RootElement.GetProperty("Properties").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
    }

    /// <summary>A fresh directory inside this run's temporary folder.</summary>
    public string NewDirectory(string name)
    {
        var path = System.IO.Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (System.IO.Directory.Exists(path))
            {
                System.IO.Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover in the temporary folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The package sources this machine's NuGet uses (its user-level NuGet.Config), and whether one answers.</summary>
public static class Registry
{
    private const string NuGetOrg = "https://api.nuget.org/v3/index.json";

    /// <summary>The remote (http/https) sources of the user-level NuGet.Config, or nuget.org when it names none.</summary>
    public static IReadOnlyList<string> RemoteSources()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var config = Path.Combine(home, ".nuget", "NuGet", "NuGet.Config");
        var sources = new List<string>();
        if (File.Exists(config))
        {
            try
            {
                var document = XDocument.Load(config);
                var disabled = document.Descendants("disabledPackageSources").Elements("add")
                    .Where(e => string.Equals((string?)e.Attribute("value"), "true", StringComparison.OrdinalIgnoreCase))
                    .Select(e => (string?)e.Attribute("key"))
                    .ToHashSet();
                sources.AddRange(document.Descendants("packageSources").Elements("add")
                    .Where(e => !disabled.Contains((string?)e.Attribute("key")))
                    .Select(e => (string?)e.Attribute("value") ?? "")
                    .Where(v => v.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || v.StartsWith("http://", StringComparison.OrdinalIgnoreCase)));
            }
            catch (System.Xml.XmlException)
            {
                // An unreadable user configuration: fall back to nuget.org.
            }
        }

        return sources.Count > 0 ? sources : [NuGetOrg];
    }

    /// <summary>Null when a remote source answers; otherwise why not.</summary>
    public static async Task<string?> UnreachableReasonAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var failures = new StringBuilder();
        foreach (var source in RemoteSources())
        {
            try
            {
                using var response = await http.GetAsync(new Uri(source), HttpCompletionOption.ResponseHeadersRead);
                if (response.IsSuccessStatusCode)
                {
                    return null;
                }

                failures.Append(System.Globalization.CultureInfo.InvariantCulture, $" {source}: HTTP {(int)response.StatusCode};");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                failures.Append(System.Globalization.CultureInfo.InvariantCulture, $" {source}: {e.GetType().Name}: {e.Message};");
            }
        }

        return "No NuGet package source answers, so a fresh project cannot restore the packages' dependencies:" + failures.ToString().TrimEnd(';');
    }

    /// <summary>Skips the calling test when no source answers, except under <c>CI=true</c> (CI has the registry), where it fails.</summary>
    public static async Task RequireAsync()
    {
        var reason = await UnreachableReasonAsync();
        if (reason is null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("CI=true requires the packaging tests to run, but: " + reason);
        }

        Assert.Skip(reason);
    }
}
