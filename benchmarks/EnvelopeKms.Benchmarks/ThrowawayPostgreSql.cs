using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EnvelopeKms.Benchmarks;

/// <summary>
/// A throwaway PostgreSQL server for a benchmark process (a small copy of the tests' fixture):
/// <c>initdb</c> into a temporary directory, <c>pg_ctl start</c> on 127.0.0.1 with a free port and the
/// socket inside the cluster directory, trust authentication; as root, run as the <c>postgres</c> user
/// through <c>runuser</c>. Durability settings are PostgreSQL's defaults (fsync on), as in production.
/// </summary>
internal sealed class ThrowawayPostgreSql : IDisposable
{
    private readonly string _directory;
    private readonly string _bin;
    private readonly bool _asPostgres;

    public ThrowawayPostgreSql()
    {
        _bin = FindBinaries() ?? throw new InvalidOperationException("PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb (install postgresql-15).");
        _asPostgres = Environment.UserName == "root";
        _directory = Path.Combine(Path.GetTempPath(), $"envelopekms-bench-pg-{Environment.ProcessId}-{Stopwatch.GetTimestamp()}");
        Directory.CreateDirectory(_directory);
        if (_asPostgres)
        {
            Run("chown", ["-R", "postgres:postgres", _directory], asPostgres: false);
        }

        var data = Path.Combine(_directory, "data");
        Run(Path.Combine(_bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], _asPostgres);
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        Run(Path.Combine(_bin, "pg_ctl"),
            ["-D", data, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "-o",
             $"-c listen_addresses=127.0.0.1 -p {Port.ToString(CultureInfo.InvariantCulture)} -k {_directory} -c max_connections=200", "start"],
            _asPostgres);
    }

    public int Port { get; }

    public string ConnectionString => new Npgsql.NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = "postgres",
        MaxPoolSize = 64,
    }.ConnectionString;

    public void Dispose()
    {
        try
        {
            Run(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-w", "stop", "-m", "fast"], _asPostgres);
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static string? FindBinaries()
        => Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")))
            : null;

    private static void Run(string file, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed: {(error.IsCompleted ? error.Result : "")}");
        }
    }
}
