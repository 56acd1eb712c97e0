using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>The tests that need a real PostgreSQL server share one throwaway server (see <see cref="PostgreSqlServer"/>).</summary>
[CollectionDefinition(Name)]
public sealed class PostgreSqlServerGroup : ICollectionFixture<PostgreSqlServer>
{
    public const string Name = "PostgreSQL server";
}

/// <summary>
/// A throwaway PostgreSQL server for the tests of one run: <c>initdb</c> into a temporary directory,
/// <c>pg_ctl start</c> on 127.0.0.1 with a free port and the socket directory inside the cluster
/// directory, trust authentication on loopback, no fsync (the data is thrown away); stopped with
/// <c>pg_ctl stop -m fast</c> and deleted afterwards. As root, the directory is given to the
/// <c>postgres</c> user and the binaries run through <c>runuser -u postgres --</c> (PostgreSQL refuses
/// to run as root). Without the binaries (<c>/usr/lib/postgresql/*/bin</c>) the tests are skipped
/// with the reason, except under <c>CI=true</c>, where they fail.
/// </summary>
public sealed class PostgreSqlServer : IAsyncLifetime
{
    private string? _directory;
    private string? _bin;
    private bool _asPostgresUser;
    private int _databases;

    /// <summary>Why the server is not running, or <see langword="null"/> when it is.</summary>
    public string? UnavailableReason { get; private set; }

    public int Port { get; private set; }

    /// <summary>A database created at start, for tests that isolate themselves by schema.</summary>
    public const string SharedDatabase = "kms_tests";

    /// <summary>The connection string of the <c>postgres</c> database (administration).</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public string ConnectionString(string database, string? applicationName = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            Timeout = 5,
            CommandTimeout = 30,
            MaxPoolSize = 20,
        };
        if (applicationName is not null)
        {
            builder.ApplicationName = applicationName;
        }

        return builder.ConnectionString;
    }

    /// <summary>Skips the calling test when the server is not running (fails it under <c>CI=true</c>).</summary>
    public void Require()
    {
        if (UnavailableReason is null)
        {
            return;
        }

        if (IsCi)
        {
            Assert.Fail($"CI=true requires the PostgreSQL tests to run, but: {UnavailableReason}");
        }

        Assert.Skip(UnavailableReason);
    }

    /// <summary>Creates a fresh, empty database and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        Require();
        var name = $"test_{Interlocked.Increment(ref _databases)}_{Environment.ProcessId}";
        await ExecuteAsync(AdminConnectionString, $"CREATE DATABASE {name} TEMPLATE template0");
        return name;
    }

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchemaName() => $"s_{Guid.NewGuid():N}";

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async ValueTask InitializeAsync()
    {
        _bin = FindBinaries();
        if (_bin is null)
        {
            UnavailableReason = "PostgreSQL is not installed: no initdb and pg_ctl in /usr/lib/postgresql/*/bin or $ENVELOPEKMS_POSTGRES_BIN (install postgresql-15, or run .ci/run, which installs it).";
            return;
        }

        _asPostgresUser = Environment.UserName == "root" || (OperatingSystem.IsLinux() && GetEffectiveUserIsRoot());
        _directory = Path.Combine(Path.GetTempPath(), $"envelopekms-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
        var data = Path.Combine(_directory, "data");
        if (_asPostgresUser)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", _directory], asPostgres: false);
        }

        await RunAsync(Path.Combine(_bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], asPostgres: _asPostgresUser);

        // A free port can be taken between probing and binding: try a few.
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            Port = FreePort();
            try
            {
                await RunAsync(
                    Path.Combine(_bin, "pg_ctl"),
                    ["-D", data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "-o",
                     $"-c listen_addresses=127.0.0.1 -p {Port.ToString(CultureInfo.InvariantCulture)} -k {_directory} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", "start"],
                    asPostgres: _asPostgresUser);
                await ExecuteAsync(AdminConnectionString, $"CREATE DATABASE {SharedDatabase} TEMPLATE template0");
                return;
            }
            catch (InvalidOperationException e)
            {
                last = e;
            }
        }

        throw new InvalidOperationException($"PostgreSQL did not start: {last?.Message}\n{ReadLog()}", last);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_directory is null || _bin is null)
        {
            return;
        }

        try
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-w", "-t", "60", "stop", "-m", "fast"], asPostgres: _asPostgresUser);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    /// <summary>Ends every connection to <paramref name="database"/> except this one (a crash of the store's sessions).</summary>
    public Task TerminateConnectionsAsync(string database, string? applicationName = null)
        => ExecuteAsync(
            AdminConnectionString,
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            + (applicationName is null ? "" : $" AND application_name = '{applicationName}'"));

    private string ReadLog()
    {
        try
        {
            return _directory is null ? "" : File.ReadAllText(Path.Combine(_directory, "server.log"));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The directory of <c>initdb</c> and <c>pg_ctl</c>: <c>ENVELOPEKMS_POSTGRES_BIN</c> when set, else the newest <c>/usr/lib/postgresql/*/bin</c>.</summary>
    internal static string? FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("ENVELOPEKMS_POSTGRES_BIN") is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "initdb")) && File.Exists(Path.Combine(configured, "pg_ctl")) ? configured : null;
        }

        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.EnumerateDirectories(root)
            .Select(version => Path.Combine(version, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
            .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
            .FirstOrDefault();
    }

    private static bool GetEffectiveUserIsRoot()
    {
        try
        {
            return File.ReadLines("/proc/self/status").Any(line => line.StartsWith("Uid:", StringComparison.Ordinal) && line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0");
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        // pg_ctl start leaves the server running with our pipes inherited: read until exit, not until EOF.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            var stderr = error.IsCompleted ? await error : "";
            var stdout = output.IsCompleted ? await output : "";
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr} {stdout}");
        }
    }
}
