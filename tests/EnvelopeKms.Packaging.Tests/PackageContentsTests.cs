using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;

namespace EnvelopeKms.Packaging.Tests;

/// <summary>What <c>dotnet pack</c> produces for every project under <c>src/</c>, read from the .nupkg and .snupkg files.</summary>
[Collection(PackedPackagesGroup.Name)]
public sealed class PackageContentsTests(PackedPackages packed, ITestOutputHelper output)
{
    private const string ToolId = "EnvelopeKms.Cli";
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>Hosts whose remotes the SDK's built-in Source Link providers translate into URLs.</summary>
    private static readonly string[] SourceLinkHosts = ["github.com", "gitlab.com", "bitbucket.org", "dev.azure.com", "visualstudio.com"];

    private IEnumerable<PackedPackage> Libraries => packed.Packages.Where(p => p.Id != ToolId);

    [Fact]
    public void Every_project_under_src_becomes_a_package_and_a_symbol_package_and_nothing_else_is_packed()
    {
        Assert.Contains(packed.Packages, p => p.Id == "EnvelopeKms");
        Assert.Contains(packed.Packages, p => p.Id == ToolId);
        foreach (var package in packed.Packages)
        {
            Assert.True(File.Exists(package.PackagePath), $"{package.Id}: no {Path.GetFileName(package.PackagePath)} from {package.ProjectPath}");
            Assert.True(File.Exists(package.SymbolPackagePath), $"{package.Id}: no {Path.GetFileName(package.SymbolPackagePath)}");
        }

        // No sample, test or benchmark project is packable: the feed holds exactly the src/ packages.
        var expected = packed.Packages.SelectMany(p => new[] { p.PackagePath, p.SymbolPackagePath }).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        var actual = Directory.GetFiles(packed.Feed).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, actual);
        output.WriteLine($"Packed {packed.Packages.Count} packages at {packed.Version} in {packed.PackResult.Elapsed.TotalSeconds:F0} s: {string.Join(", ", packed.Packages.Select(p => p.Id))}");
    }

    [Fact]
    public async Task Only_the_projects_under_src_are_packable_and_the_solution_builds_them_all()
    {
        var root = RepositoryRoot.Path;
        var solutionProjects = File.ReadAllLines(Path.Combine(root, "EnvelopeKms.sln"))
            .Where(l => l.StartsWith("Project(", StringComparison.Ordinal))
            .Select(l => l.Split(',')[1].Trim().Trim('"').Replace('\\', '/'))
            .Where(p => p.EndsWith(".csproj", StringComparison.Ordinal))
            .Select(p => Path.GetFullPath(Path.Combine(root, p)))
            .ToList();
        var src = Path.Combine(root, "src") + Path.DirectorySeparatorChar;

        // Every package's project is built (and so tested) by the solution.
        Assert.Equal(packed.Projects.Order(StringComparer.Ordinal), solutionProjects.Where(p => p.StartsWith(src, StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        foreach (var project in solutionProjects)
        {
            var packable = (await PackedPackages.EvaluateAsync(project, "IsPackable"))["IsPackable"];
            var expected = project.StartsWith(src, StringComparison.Ordinal) ? "true" : "false";
            Assert.True(string.Equals(packable, expected, StringComparison.OrdinalIgnoreCase), $"{Path.GetRelativePath(root, project)}: IsPackable is '{packable}', expected {expected}");
        }
    }

    [Fact]
    public void Packing_reports_no_warnings()
    {
        var warnings = (packed.PackResult.StandardOutput + packed.PackResult.StandardError)
            .Split('\n')
            .Where(l => l.Contains(": warning ", StringComparison.OrdinalIgnoreCase))
            .Distinct()
            .ToList();
        Assert.True(warnings.Count == 0, "dotnet pack warned:\n" + string.Join('\n', warnings));
    }

    [Fact]
    public void Every_package_carries_the_readme_the_mit_license_a_description_tags_and_authors()
    {
        var readme = File.ReadAllBytes(Path.Combine(RepositoryRoot.Path, "README.md"));
        foreach (var package in packed.Packages)
        {
            Assert.Equal(package.Id, package.Metadata("id")?.Value);
            Assert.Equal(packed.Version, package.Metadata("version")?.Value);
            Assert.Equal("README.md", package.Metadata("readme")?.Value);
            Assert.Contains("README.md", package.Entries());
            Assert.Equal(readme, PackedPackage.ReadEntry(package.PackagePath, "README.md"));

            var license = package.Metadata("license");
            Assert.NotNull(license);
            Assert.Equal("expression", (string?)license.Attribute("type"));
            Assert.Equal("MIT", license.Value);

            Assert.False(string.IsNullOrWhiteSpace(package.Metadata("description")?.Value), $"{package.Id}: no description");
            Assert.True((package.Metadata("description")?.Value.Length ?? 0) > 40, $"{package.Id}: a placeholder description");
            var tags = package.Metadata("tags")?.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
            Assert.Contains("kms", tags);
            Assert.Equal("EnvelopeKms contributors", package.Metadata("authors")?.Value);
            Assert.False(string.IsNullOrWhiteSpace(package.Metadata("copyright")?.Value), $"{package.Id}: no copyright");
        }
    }

    [Fact]
    public void Every_library_package_has_its_net10_assembly_and_its_xml_documentation()
    {
        foreach (var package in Libraries)
        {
            var entries = package.Entries();
            var dll = $"lib/net10.0/{package.Id}.dll";
            var xml = $"lib/net10.0/{package.Id}.xml";
            Assert.True(entries.Contains(dll), $"{package.Id}: no {dll} in [{string.Join(", ", entries)}]");
            Assert.True(entries.Contains(xml), $"{package.Id}: no {xml} in [{string.Join(", ", entries)}]");

            // No PDB in the package itself: symbols travel in the .snupkg.
            Assert.DoesNotContain(entries, e => e.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase));

            using (var pe = new PEReader(new MemoryStream(PackedPackage.ReadEntry(package.PackagePath, dll))))
            {
                var metadata = pe.GetMetadataReader();
                Assert.Equal(package.Id, metadata.GetString(metadata.GetAssemblyDefinition().Name));
                Assert.Equal(0, (int)(pe.PEHeaders.CorHeader!.Flags & CorFlags.Requires32Bit));
            }

            var documentation = XDocument.Load(new MemoryStream(PackedPackage.ReadEntry(package.PackagePath, xml)));
            Assert.Equal(package.Id, documentation.Root?.Element("assembly")?.Element("name")?.Value);
            var members = documentation.Root?.Element("members")?.Elements("member").ToList() ?? [];
            Assert.True(members.Count > 0, $"{package.Id}: the XML documentation documents nothing");
            Assert.All(members.Where(m => ((string?)m.Attribute("name"))?.StartsWith("T:", StringComparison.Ordinal) == true),
                m => Assert.False(string.IsNullOrWhiteSpace(m.Element("summary")?.Value) && m.Element("inheritdoc") is null, $"{package.Id}: {(string?)m.Attribute("name")} has no summary"));
        }
    }

    [Fact]
    public void The_cli_package_is_a_dotnet_tool_named_envelopekms()
    {
        var tool = packed[ToolId];
        var packageTypes = tool.Metadata("packageTypes")?.Elements().Select(e => (string?)e.Attribute("name")).ToList() ?? [];
        Assert.Equal(["DotnetTool"], packageTypes);

        var entries = tool.Entries();
        Assert.Contains("tools/net10.0/any/EnvelopeKms.Cli.dll", entries);
        Assert.Contains("tools/net10.0/any/EnvelopeKms.Cli.runtimeconfig.json", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal));

        // No XML documentation in a tool: nobody compiles against it.
        Assert.DoesNotContain(entries, e => e.StartsWith("tools/", StringComparison.Ordinal) && e.EndsWith(".xml", StringComparison.Ordinal) && !e.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));

        var settings = XDocument.Load(new MemoryStream(PackedPackage.ReadEntry(tool.PackagePath, "tools/net10.0/any/DotnetToolSettings.xml")));
        var command = Assert.Single(settings.Descendants("Command"));
        Assert.Equal("envelopekms", (string?)command.Attribute("Name"));
        Assert.Equal("EnvelopeKms.Cli.dll", (string?)command.Attribute("EntryPoint"));

        // A tool bundles what it runs: the library assemblies it uses are inside, not package dependencies.
        Assert.Contains("tools/net10.0/any/EnvelopeKms.dll", entries);
        Assert.Contains("tools/net10.0/any/EnvelopeKms.Storage.Sqlite.dll", entries);
        Assert.Empty(tool.Metadata("dependencies")?.Descendants().Where(e => e.Name.LocalName == "dependency") ?? []);
    }

    [Fact]
    public void The_packages_depend_on_each_other_at_the_same_version_as_their_projects_reference_each_other()
    {
        var ours = packed.Packages.Select(p => p.Id).ToHashSet();
        var projectIds = packed.Packages.ToDictionary(p => Path.GetFullPath(p.ProjectPath), p => p.Id);
        foreach (var package in Libraries)
        {
            var groups = package.Metadata("dependencies")?.Elements().Where(e => e.Name.LocalName == "group").ToList() ?? [];
            var group = Assert.Single(groups);
            Assert.Equal("net10.0", (string?)group.Attribute("targetFramework"));
            var dependencies = group.Elements().Where(e => e.Name.LocalName == "dependency")
                .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);

            foreach (var (id, version) in dependencies.Where(d => d.Key.StartsWith("EnvelopeKms", StringComparison.Ordinal)))
            {
                Assert.True(ours.Contains(id), $"{package.Id} depends on {id}, which is not packed");
                Assert.True(version == packed.Version, $"{package.Id} depends on {id} {version}, not {packed.Version}");
            }

            // Every project reference is a package dependency (nothing of ours is bundled into a library).
            var references = XDocument.Load(package.ProjectPath).Descendants("ProjectReference")
                .Select(r => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(package.ProjectPath)!, (string)r.Attribute("Include")!)));
            foreach (var reference in references)
            {
                var id = projectIds[reference];
                Assert.True(dependencies.ContainsKey(id), $"{package.Id} references {id} but does not depend on its package");
            }
        }
    }

    [Fact]
    public async Task Every_symbol_package_holds_the_portable_pdbs_of_its_assemblies_with_every_source_embedded()
    {
        var (remote, commit) = await GitAsync();
        foreach (var package in packed.Packages)
        {
            var symbolEntries = package.SymbolEntries();

            // Every assembly of ours in the package (for the tool: its own and the libraries it bundles) has its PDB in the .snupkg.
            var assemblies = package.Entries()
                .Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && Path.GetFileName(e).StartsWith("EnvelopeKms", StringComparison.Ordinal))
                .ToList();
            var own = package.Id == ToolId ? $"tools/net10.0/any/{package.Id}.dll" : $"lib/net10.0/{package.Id}.dll";
            Assert.Contains(own, assemblies);
            foreach (var assembly in assemblies)
            {
                Assert.True(symbolEntries.Contains(assembly[..^4] + ".pdb"), $"{package.Id}: the .snupkg has no PDB for {assembly}: [{string.Join(", ", symbolEntries)}]");
            }

            foreach (var assembly in assemblies)
            {
                var pdbBytes = PackedPackage.ReadEntry(package.SymbolPackagePath, assembly[..^4] + ".pdb");
                using var pdbProvider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(pdbBytes));
                var pdb = pdbProvider.GetMetadataReader();

                // The PDB is the one the assembly names (its CodeView entry's id).
                using (var pe = new PEReader(new MemoryStream(PackedPackage.ReadEntry(package.PackagePath, assembly))))
                {
                    var codeView = pe.ReadDebugDirectory().Single(d => d.Type == DebugDirectoryEntryType.CodeView);
                    Assert.Equal(pe.ReadCodeViewDebugDirectoryData(codeView).Guid, new BlobContentId(pdb.DebugMetadataHeader!.Id).Guid);
                }

                var embedded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                var documents = new List<string>();
                foreach (var handle in pdb.Documents)
                {
                    var document = pdb.GetDocument(handle);
                    var name = pdb.GetString(document.Name);
                    documents.Add(name);
                    foreach (var cdi in pdb.GetCustomDebugInformation(handle))
                    {
                        var information = pdb.GetCustomDebugInformation(cdi);
                        if (pdb.GetGuid(information.Kind) == EmbeddedSourceKind)
                        {
                            embedded[name] = DecodeEmbeddedSource(pdb.GetBlobBytes(information.Value));
                        }
                    }
                }

                var missing = documents.Where(d => !embedded.ContainsKey(d)).ToList();
                Assert.True(missing.Count == 0, $"{assembly} in {package.Id}: sources not embedded: {string.Join(", ", missing)}");

                // The sources from the repository are embedded byte for byte (paths are /_/... under CI's deterministic build).
                var fromRepository = 0;
                foreach (var (name, source) in embedded)
                {
                    var path = RepositoryPath(name);
                    if (path is not null && File.Exists(path))
                    {
                        fromRepository++;
                        Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(source), $"{assembly}: the embedded {name} differs from {path}");
                    }
                }

                Assert.True(fromRepository > 0, $"{assembly} in {package.Id}: no embedded source is a repository file: {string.Join(", ", documents.Take(5))}");

                var sourceLink = pdb.GetCustomDebugInformation(EntityHandle.ModuleDefinition)
                    .Select(pdb.GetCustomDebugInformation)
                    .Where(i => pdb.GetGuid(i.Kind) == SourceLinkKind)
                    .Select(i => pdb.GetBlobBytes(i.Value))
                    .SingleOrDefault();
                CheckSourceLink(assembly, sourceLink, remote, commit);
            }
        }

        output.WriteLine(remote is null
            ? "The repository has no git remote: the PDBs carry no Source Link (nothing to link to); the embedded sources serve the debugger."
            : $"Remote {remote}, commit {commit}.");
    }

    [Fact]
    public async Task Every_package_names_the_commit_it_was_built_from()
    {
        var (remote, commit) = await GitAsync();
        if (commit is null)
        {
            Assert.Skip("git is not available or this is not a git checkout: nothing to compare the commit with.");
        }

        foreach (var package in packed.Packages)
        {
            var repository = package.Metadata("repository");
            Assert.NotNull(repository);
            Assert.Equal("git", (string?)repository.Attribute("type"));
            Assert.Equal(commit, (string?)repository.Attribute("commit"));
            if (remote is not null && IsSourceLinkHost(remote))
            {
                // PublishRepositoryUrl: the remote's URL is published.
                Assert.False(string.IsNullOrEmpty((string?)repository.Attribute("url")), $"{package.Id}: no repository url for remote {remote}");
            }
        }
    }

    private static void CheckSourceLink(string assembly, byte[]? sourceLink, string? remote, string? commit)
    {
        if (remote is not null && IsSourceLinkHost(remote))
        {
            Assert.True(sourceLink is not null, $"{assembly}: no Source Link although the repository's remote is {remote}");
        }

        if (sourceLink is null)
        {
            // A checkout without a remote on a host Source Link knows (an air-gapped build, a local clone) has
            // nothing to link to; the embedded sources checked above serve the debugger instead.
            return;
        }

        using var json = JsonDocument.Parse(sourceLink);
        var documents = json.RootElement.GetProperty("documents").EnumerateObject().ToList();
        Assert.NotEmpty(documents);
        foreach (var mapping in documents)
        {
            var url = mapping.Value.GetString() ?? "";
            Assert.StartsWith("https://", url, StringComparison.Ordinal);
            if (commit is not null)
            {
                Assert.Contains(commit, url, StringComparison.Ordinal);
            }
        }
    }

    private static bool IsSourceLinkHost(string remote) =>
        SourceLinkHosts.Any(h => remote.Contains(h, StringComparison.OrdinalIgnoreCase));

    /// <summary>The repository's remote (origin first) and HEAD commit; nulls where git or a remote is absent.</summary>
    private static async Task<(string? Remote, string? Commit)> GitAsync()
    {
        try
        {
            var root = RepositoryRoot.Path;
            var head = await ProcessRunner.RunAsync("git", ["rev-parse", "HEAD"], root, TimeSpan.FromMinutes(1), null, TestContext.Current.CancellationToken);
            var commit = head.ExitCode == 0 ? head.StandardOutput.Trim() : null;
            var remotes = await ProcessRunner.RunAsync("git", ["remote"], root, TimeSpan.FromMinutes(1), null, TestContext.Current.CancellationToken);
            var names = remotes.ExitCode == 0 ? remotes.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            string? remote = null;
            var name = names.Contains("origin") ? "origin" : names.FirstOrDefault();
            if (name is not null)
            {
                var url = await ProcessRunner.RunAsync("git", ["remote", "get-url", name], root, TimeSpan.FromMinutes(1), null, TestContext.Current.CancellationToken);
                remote = url.ExitCode == 0 ? url.StandardOutput.Trim() : null;
            }

            return (remote, commit);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (null, null);
        }
    }

    /// <summary>The repository file a PDB document names, if it is one.</summary>
    private static string? RepositoryPath(string documentName)
    {
        var root = RepositoryRoot.Path;
        if (documentName.StartsWith("/_/", StringComparison.Ordinal))
        {
            return Path.Combine(root, documentName[3..]);
        }

        return documentName.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? documentName : null;
    }

    /// <summary>The Portable PDB embedded-source blob: an int32 (0: stored as is; otherwise the uncompressed size of what follows, deflated).</summary>
    private static byte[] DecodeEmbeddedSource(byte[] blob)
    {
        var format = BitConverter.ToInt32(blob, 0);
        if (format == 0)
        {
            return blob[4..];
        }

        using var deflate = new DeflateStream(new MemoryStream(blob, 4, blob.Length - 4), CompressionMode.Decompress);
        var source = new byte[format];
        deflate.ReadExactly(source);
        return source;
    }
}
