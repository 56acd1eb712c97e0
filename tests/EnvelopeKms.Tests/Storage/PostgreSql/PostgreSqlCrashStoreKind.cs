using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using EnvelopeKms.Storage;
using EnvelopeKms.Storage.PostgreSql;
using Npgsql;

namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>
/// PostgreSQL as a crash-child store: each "directory" of the shared checks is a schema of its own in
/// the throwaway server's shared database (named after the directory's last part, behind a prefix of
/// this instance), and the child connects with that schema as its <c>Search Path</c> and as its
/// <c>Application Name</c>, so that the checks can tell its sessions apart.
/// </summary>
/// <remarks>
/// The counterparts of the SQLite file checks: right after the kill the server must end the child's
/// sessions (and so roll back the transaction it was in; a <c>COMMIT</c> already sent is applied first),
/// and the checks wait for that, so that the state they read is final. After a read: the schema is
/// current, there is at most one metadata row, the key rows are the listed keys, the change feed holds
/// exactly one row per committed write (<c>last_change</c> = row count = highest sequence number), and
/// <c>amcheck</c> finds every B-tree index and table page of the schema sound.
/// </remarks>
internal sealed partial class PostgreSqlCrashStoreKind(PostgreSqlServer server) : CrashStoreKind
{
    private const string CheckerName = "crash-check";

    private readonly string _prefix = $"c{RandomNumberGenerator.GetHexString(8, lowercase: true)}_";
    private readonly Lazy<bool> _amcheck = new(() => InstallAmcheck(server), LazyThreadSafetyMode.ExecutionAndPublication);

    private string Database => server.ConnectionString(PostgreSqlServer.SharedDatabase, CheckerName);

    /// <summary>The schema that stands for <paramref name="directory"/>.</summary>
    public string SchemaOf(string directory) => _prefix + NotAllowed().Replace(Path.GetFileName(directory).ToLowerInvariant(), "_");

    public override string HostArgument(string directory)
    {
        var schema = SchemaOf(directory);
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString(PostgreSqlServer.SharedDatabase, applicationName: schema)) { SearchPath = schema };
        return "postgres:" + builder.ConnectionString;
    }

    public override IKeyStore Open(string directory)
        => new PostgreSqlKeyStore(Database, new PostgreSqlKeyStoreOptions { SchemaName = SchemaOf(directory) }, loggerFactory: null);

    /// <summary>Copies the schema table by table (columns, keys, indexes and rows), whatever state the kill left it in.</summary>
    public override void Copy(string directory, string destination)
    {
        var (from, to) = (SchemaOf(directory), SchemaOf(destination));
        using var connection = Connect();
        if (!SchemaExists(connection, from))
        {
            return;
        }

        using var transaction = connection.BeginTransaction();
        Execute(connection, $"CREATE SCHEMA {to}");
        foreach (var table in Tables(connection, from))
        {
            Execute(connection, $"CREATE TABLE {to}.{table} (LIKE {from}.{table} INCLUDING ALL)");
            Execute(connection, $"INSERT INTO {to}.{table} SELECT * FROM {from}.{table}");
        }

        transaction.Commit();
    }

    /// <summary>The server ends the killed child's sessions (rolling back an open transaction) before anything is read.</summary>
    public override void CheckFilesAfterCrash(string directory, string? crashStep)
    {
        var schema = SchemaOf(directory);
        using var connection = Connect();
        var clock = Stopwatch.StartNew();
        long sessions;
        while ((sessions = (long)Scalar(connection, $"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{schema}'")!) > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{sessions} sessions of the killed child are still open after {clock.Elapsed}.");
            Thread.Sleep(5);
        }

        Assert.Equal(0L, Scalar(connection, "SELECT count(*) FROM pg_prepared_xacts"));
    }

    public override void CheckFilesAfterRead(string directory, IReadOnlyList<KeyRecord> keys)
    {
        var schema = SchemaOf(directory);
        using var connection = Connect();
        Assert.True(SchemaExists(connection, schema), $"Reading the store did not create its schema {schema}.");
        Assert.Equal((long)PostgreSqlKeyStore.CurrentSchemaVersion, Scalar(connection, $"SELECT version FROM {schema}.schema_version WHERE id = 1"));
        Assert.Equal(1L, Scalar(connection, $"SELECT count(*) FROM {schema}.schema_version"));
        Assert.InRange((long)Scalar(connection, $"SELECT count(*) FROM {schema}.metadata")!, 0, 1);
        Assert.Equal((long)keys.Count, Scalar(connection, $"SELECT count(*) FROM {schema}.keys"));

        // The change feed is exactly the committed writes: one row per sequence number, none lost, none extra.
        var last = (long)Scalar(connection, $"SELECT last_change FROM {schema}.store_state WHERE id = 1")!;
        Assert.Equal(last, Scalar(connection, $"SELECT count(*) FROM {schema}.changes"));
        Assert.Equal(last, Scalar(connection, $"SELECT coalesce(max(seq), 0) FROM {schema}.changes"));
        CheckEngineIntegrity(connection, schema);
    }

    public override void AssertNoStore(string directory)
    {
        using var connection = Connect();
        Assert.False(SchemaExists(connection, SchemaOf(directory)), $"The schema {SchemaOf(directory)} exists already.");
    }

    public override void CheckInitializedOnce(string directory)
    {
        var schema = SchemaOf(directory);
        using var connection = Connect();
        Assert.Equal(1L, Scalar(connection, $"SELECT count(*) FROM {schema}.metadata"));
        Assert.Equal(1L, Scalar(connection, $"SELECT count(*) FROM {schema}.schema_version"));
        Assert.Equal((long)PostgreSqlKeyStore.CurrentSchemaVersion, Scalar(connection, $"SELECT version FROM {schema}.schema_version WHERE id = 1"));
        Assert.Equal(1L, Scalar(connection, $"SELECT count(*) FROM {schema}.store_state"));
        Assert.Equal(
            "aliases,changes,custom_key_stores,grants,keys,metadata,schema_version,store_state",
            Scalar(connection, $"SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = '{schema}'"));
        CheckEngineIntegrity(connection, schema);
    }

    /// <summary>Drops every schema this instance made.</summary>
    public void DropAll()
    {
        if (server.UnavailableReason is not null)
        {
            return;
        }

        using var connection = Connect();
        var schemas = new List<string>();
        using (var command = new NpgsqlCommand($"SELECT nspname FROM pg_namespace WHERE starts_with(nspname, '{_prefix}')", connection))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                schemas.Add(reader.GetString(0));
            }
        }

        foreach (var schema in schemas)
        {
            Execute(connection, $"DROP SCHEMA {schema} CASCADE");
        }
    }

    /// <summary>
    /// PostgreSQL's counterpart of <c>PRAGMA integrity_check</c>: <c>amcheck</c> verifies every B-tree
    /// index of the schema against its table (<c>bt_index_check</c> with <c>heapallindexed</c>) and every
    /// table page (<c>verify_heapam</c>). Skipped when the server lacks the contrib module.
    /// </summary>
    private void CheckEngineIntegrity(NpgsqlConnection connection, string schema)
    {
        if (!_amcheck.Value)
        {
            return;
        }

        Execute(connection, $"""
            SELECT bt_index_check(c.oid, true) FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
            WHERE n.nspname = '{schema}' AND a.amname = 'btree'
            """);
        Assert.Equal(0L, Scalar(connection, $"""
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, verify_heapam(c.oid)
            WHERE n.nspname = '{schema}' AND c.relkind = 'r'
            """));
    }

    private static bool InstallAmcheck(PostgreSqlServer server)
    {
        using var connection = new NpgsqlConnection(server.ConnectionString(PostgreSqlServer.SharedDatabase, CheckerName));
        connection.Open();
        if ((long)Scalar(connection, "SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")! == 0)
        {
            TestContext.Current.TestOutputHelper?.WriteLine("The server has no amcheck module: index and heap checks skipped.");
            return false;
        }

        try
        {
            Execute(connection, "CREATE EXTENSION IF NOT EXISTS amcheck");
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateObject)
        {
            // Another test class installed it at the same moment.
        }

        return true;
    }

    private NpgsqlConnection Connect()
    {
        var connection = new NpgsqlConnection(Database);
        connection.Open();
        return connection;
    }

    private static bool SchemaExists(NpgsqlConnection connection, string schema)
        => (long)Scalar(connection, $"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'")! == 1;

    private static List<string> Tables(NpgsqlConnection connection, string schema)
    {
        var tables = new List<string>();
        using var command = new NpgsqlCommand($"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}' AND table_type = 'BASE TABLE' ORDER BY table_name", connection);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static object? Scalar(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    [GeneratedRegex("[^a-z0-9_]")]
    private static partial Regex NotAllowed();
}
