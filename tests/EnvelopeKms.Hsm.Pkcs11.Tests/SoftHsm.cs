using System.Diagnostics;
using System.Runtime.InteropServices;
using EnvelopeKms.Hsm.Pkcs11;

namespace EnvelopeKms.Hsm.Pkcs11.Tests;

/// <summary>The tests that need SoftHSM2 share one throwaway token directory (see <see cref="SoftHsm"/>) and run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class SoftHsmGroup : ICollectionFixture<SoftHsm>
{
    public const string Name = "SoftHSM2";
}

/// <summary>
/// SoftHSM2, a real PKCS#11 module, with throwaway tokens: a configuration file whose token directory is a
/// temporary directory, pointed at by <c>SOFTHSM2_CONF</c> (read by the module when it is first loaded), and
/// tokens made with <c>softhsm2-util --init-token</c>. Without the module or the tool the tests are skipped
/// with the reason, except under <c>CI=true</c>, where they fail.
/// </summary>
public sealed partial class SoftHsm : IAsyncLifetime
{
    public const string UserPin = "4711-user-pin";
    public const string SoPin = "9876-so-pin";

    /// <summary>Used by the key store backend tests.</summary>
    public const string KeysToken = "envelopekms-keys";

    /// <summary>Used by the root key tests.</summary>
    public const string RootToken = "envelopekms-root";

    /// <summary>Only ever given wrong PINs while nothing else is logged in to it.</summary>
    public const string PinToken = "envelopekms-pin";

    private string? _directory;

    public string? UnavailableReason { get; private set; }

    public string ModulePath { get; private set; } = "";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the calling test when SoftHSM2 is not available (fails it under <c>CI=true</c>).</summary>
    public void Require()
    {
        if (UnavailableReason is null)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"CI=true requires the SoftHSM2 tests to run, but: {UnavailableReason}");
        }

        Assert.Skip(UnavailableReason);
    }

    public Pkcs11HsmOptions Options(string token = KeysToken, string pin = UserPin, int maxSessions = 8) => new()
    {
        ModulePath = ModulePath,
        TokenLabel = token,
        UserPin = Pkcs11PinSource.FromValue(pin),
        MaxSessions = maxSessions,
        SessionWaitTimeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask InitializeAsync()
    {
        ModulePath = FindModule() ?? "";
        if (ModulePath.Length == 0)
        {
            UnavailableReason = "SoftHSM2 is not installed: no libsofthsm2.so in /usr/lib/softhsm or /usr/lib/*-linux-gnu/softhsm, or $ENVELOPEKMS_PKCS11_MODULE (install the Debian package softhsm2, or run .ci/run, which installs it).";
            return;
        }

        if (!ToolExists("softhsm2-util"))
        {
            UnavailableReason = "softhsm2-util is not on PATH (install the Debian package softhsm2).";
            return;
        }

        _directory = Path.Combine(Path.GetTempPath(), $"envelopekms-softhsm-{Guid.NewGuid():N}");
        var tokens = Path.Combine(_directory, "tokens");
        Directory.CreateDirectory(tokens);
        var config = Path.Combine(_directory, "softhsm2.conf");
        await File.WriteAllTextAsync(config, $"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n");
        // The module reads SOFTHSM2_CONF with getenv when it is loaded (C_Initialize), which happens after this.
        // Environment.SetEnvironmentVariable only changes .NET's copy of the environment on Unix, so set the C one too.
        Environment.SetEnvironmentVariable("SOFTHSM2_CONF", config);
        if (NativeMethods.setenv("SOFTHSM2_CONF", config, 1) != 0)
        {
            UnavailableReason = "setenv(SOFTHSM2_CONF) failed.";
            return;
        }
        foreach (var label in new[] { KeysToken, RootToken, PinToken })
        {
            await RunAsync("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", SoPin, "--pin", UserPin], config);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort.
            }
        }

        return ValueTask.CompletedTask;
    }

    internal static string? FindModule()
    {
        if (Environment.GetEnvironmentVariable("ENVELOPEKMS_PKCS11_MODULE") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        var candidates = new List<string> { "/usr/lib/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so" };
        if (Directory.Exists("/usr/lib"))
        {
            candidates.AddRange(Directory.EnumerateDirectories("/usr/lib", "*-linux-gnu").Select(d => Path.Combine(d, "softhsm", "libsofthsm2.so")));
        }

        return candidates.FirstOrDefault(File.Exists);
    }

    private static bool ToolExists(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, name)));

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, string config)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["SOFTHSM2_CONF"] = config;
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments[0]} exited with {process.ExitCode}: {await error} {await output}");
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int setenv(string name, string value, int overwrite);
    }
}
