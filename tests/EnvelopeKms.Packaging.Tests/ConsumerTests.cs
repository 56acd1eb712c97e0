using System.Security.Cryptography;
using System.Xml.Linq;

namespace EnvelopeKms.Packaging.Tests;

/// <summary>
/// The packed packages as a user gets them: a fresh application outside the repository restores them from
/// the local folder (and their dependencies from the package registry) and runs; the CLI installs as a .NET
/// tool from the same folder and operates a SQLite store. Without the registry these are skipped with the
/// reason, except under <c>CI=true</c>, where they fail.
/// </summary>
[Collection(PackedPackagesGroup.Name)]
public sealed class ConsumerTests(PackedPackages packed, ITestOutputHelper output)
{
    /// <summary>A cold restore and build of a fresh project on a busy 2-core machine takes minutes.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);

    private const string RootKeyVariable = "PACKTEST_ROOT_KEY";

    [Fact(Timeout = 30 * 60 * 1000)]
    public async Task A_fresh_application_restores_the_packages_from_a_local_folder_and_uses_them()
    {
        await Registry.RequireAsync();
        var app = NewIsolatedDirectory("app");
        var references = new List<string>
        {
            "EnvelopeKms",
            "EnvelopeKms.Storage.Sqlite",
            "EnvelopeKms.Extensions.Configuration",
            "EnvelopeKms.AspNetCore.DataProtection",
            "EnvelopeKms.EntityFrameworkCore",
        };
        var withAwsSdk = packed.Packages.Any(p => p.Id == "EnvelopeKms.AwsSdk");
        if (withAwsSdk)
        {
            references.Add("EnvelopeKms.AwsSdk");
        }

        var project = new XElement("Project", new XAttribute("Sdk", "Microsoft.NET.Sdk"),
            new XElement("PropertyGroup",
                new XElement("OutputType", "Exe"),
                new XElement("TargetFramework", "net10.0"),
                new XElement("ImplicitUsings", "enable"),
                new XElement("Nullable", "enable"),
                new XElement("RootNamespace", "PackTest")),
            new XElement("ItemGroup",
                references.Select(id => new XElement("PackageReference", new XAttribute("Include", id), new XAttribute("Version", packed.Version))),
                // The application's own choice of EF Core provider, from the registry.
                new XElement("PackageReference", new XAttribute("Include", "Microsoft.EntityFrameworkCore.Sqlite"), new XAttribute("Version", "10.0.0"))));
        new XDocument(project).Save(Path.Combine(app, "PackTest.csproj"));
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), ConsumerProgram.Source(withAwsSdk), TestContext.Current.CancellationToken);

        var home = packed.NewDirectory("app-data");
        var environment = new Dictionary<string, string?> { [RootKeyVariable] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) };

        var build = await ProcessRunner.DotnetAsync(app, BuildTimeout, environment, "build", "-c", "Release", "-nodeReuse:false");
        output.WriteLine(build.Describe());
        Assert.True(build.ExitCode == 0, build.Describe());

        // Restored from the local folder at this run's version, not from anywhere else.
        var assets = await File.ReadAllTextAsync(Path.Combine(app, "obj", "project.assets.json"), TestContext.Current.CancellationToken);
        foreach (var id in references)
        {
            Assert.Contains($"\"{id}/{packed.Version}\"", assets, StringComparison.Ordinal);
        }

        var dll = Path.Combine(app, "bin", "Release", "net10.0", "PackTest.dll");
        var run = await ProcessRunner.DotnetAsync(app, RunTimeout, environment, dll, home);
        output.WriteLine(run.Describe());
        Assert.True(run.ExitCode == 0, run.Describe());
        foreach (var line in ConsumerProgram.ExpectedLines(withAwsSdk))
        {
            Assert.True(run.StandardOutput.Contains(line, StringComparison.Ordinal), $"missing \"{line}\":\n{run.Describe()}");
        }

        // A second process on the same store and root key finds the key and decrypts what the first wrote.
        var again = await ProcessRunner.DotnetAsync(app, RunTimeout, environment, dll, home);
        Assert.True(again.ExitCode == 0, again.Describe());
        Assert.Contains("second run: decrypted the first run's envelope", again.StandardOutput, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30 * 60 * 1000)]
    public async Task The_cli_installs_as_a_dotnet_tool_from_the_local_folder_and_operates_a_sqlite_store()
    {
        await Registry.RequireAsync();
        var work = NewIsolatedDirectory("tool");
        var tools = Path.Combine(work, "tools");
        // The local folder comes from the directory's nuget.config, mapped to EnvelopeKms's packages
        // (`--add-source` cannot be combined with package source mapping).
        var install = await ProcessRunner.DotnetAsync(work, BuildTimeout, null,
            "tool", "install", "EnvelopeKms.Cli", "--tool-path", tools, "--version", packed.Version);
        output.WriteLine(install.Describe());
        Assert.True(install.ExitCode == 0, install.Describe());

        var envelopekms = Path.Combine(tools, OperatingSystem.IsWindows() ? "envelopekms.exe" : "envelopekms");
        Assert.True(File.Exists(envelopekms), $"no {envelopekms} after: {install.Describe()}");

        var help = await ProcessRunner.RunAsync(envelopekms, ["--help"], work, RunTimeout, null, TestContext.Current.CancellationToken);
        Assert.True(help.ExitCode == 0, help.Describe());
        foreach (var command in new[] { "create", "list", "encrypt", "decrypt", "rotate" })
        {
            Assert.True(help.StandardOutput.Contains(command, StringComparison.Ordinal), $"--help does not list {command}: {help.Describe()}");
        }

        // The store and the root key come from the environment, as docs/cli.md says (never the root key on the command line).
        var store = "sqlite:" + Path.Combine(work, "keys.db");
        var environment = new Dictionary<string, string?>
        {
            ["ENVELOPEKMS_STORE"] = store,
            ["ENVELOPEKMS_ROOT_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };

        var create = await ProcessRunner.RunAsync(envelopekms, ["create", "--description", "packaging test", "--alias", "alias/packtest"], work, RunTimeout, environment, TestContext.Current.CancellationToken);
        Assert.True(create.ExitCode == 0, create.Describe());
        var keyId = create.StandardOutput.Trim();
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", keyId);

        var list = await ProcessRunner.RunAsync(envelopekms, ["list"], work, RunTimeout, environment, TestContext.Current.CancellationToken);
        Assert.True(list.ExitCode == 0, list.Describe());
        Assert.Contains(keyId, list.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("alias/packtest", list.StandardOutput, StringComparison.Ordinal);

        var plaintextPath = Path.Combine(work, "report.txt");
        var plaintext = RandomNumberGenerator.GetBytes(300_000);
        await File.WriteAllBytesAsync(plaintextPath, plaintext, TestContext.Current.CancellationToken);
        var encrypt = await ProcessRunner.RunAsync(envelopekms, ["encrypt", "--key", "alias/packtest", "--context", "app=packtest", plaintextPath, plaintextPath + ".kms"], work, RunTimeout, environment, TestContext.Current.CancellationToken);
        Assert.True(encrypt.ExitCode == 0, encrypt.Describe());
        var decrypt = await ProcessRunner.RunAsync(envelopekms, ["decrypt", plaintextPath + ".kms", plaintextPath + ".out"], work, RunTimeout, environment, TestContext.Current.CancellationToken);
        Assert.True(decrypt.ExitCode == 0, decrypt.Describe());
        Assert.Equal(plaintext, await File.ReadAllBytesAsync(plaintextPath + ".out", TestContext.Current.CancellationToken));

        // Without a root key the tool refuses with a usage error (exit 2), naming what is missing.
        var noRootKey = await ProcessRunner.RunAsync(envelopekms, ["list"], work, RunTimeout, new Dictionary<string, string?> { ["ENVELOPEKMS_STORE"] = store, ["ENVELOPEKMS_ROOT_KEY"] = null }, TestContext.Current.CancellationToken);
        Assert.True(noRootKey.ExitCode == 2, noRootKey.Describe());
    }

    /// <summary>
    /// A directory in this run's temporary folder that nothing above it configures: empty
    /// Directory.Build.props/.targets and Directory.Packages.props stop MSBuild's and NuGet's upward search,
    /// and a nuget.config clears every other source and takes the local folder (for EnvelopeKms's packages
    /// only) and the machine's registry.
    /// </summary>
    private string NewIsolatedDirectory(string name)
    {
        var directory = packed.NewDirectory(name);
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            new XDocument(new XElement("Project")).Save(Path.Combine(directory, file));
        }

        var remotes = Registry.RemoteSources();
        var sources = new XElement("packageSources", new XElement("clear"),
            new XElement("add", new XAttribute("key", "packed"), new XAttribute("value", packed.Feed)),
            remotes.Select((url, i) => new XElement("add", new XAttribute("key", $"registry{i}"), new XAttribute("value", url))));
        var mapping = new XElement("packageSourceMapping",
            new XElement("packageSource", new XAttribute("key", "packed"), new XElement("package", new XAttribute("pattern", "EnvelopeKms.*")), new XElement("package", new XAttribute("pattern", "EnvelopeKms"))),
            remotes.Select((_, i) => new XElement("packageSource", new XAttribute("key", $"registry{i}"), new XElement("package", new XAttribute("pattern", "*")))));
        new XDocument(new XElement("configuration", sources, mapping)).Save(Path.Combine(directory, "nuget.config"));
        return directory;
    }
}
