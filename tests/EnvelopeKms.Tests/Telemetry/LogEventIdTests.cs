using System.Reflection;
using System.Text.RegularExpressions;
using EnvelopeKms.AspNetCore.KmsEndpoint;
using EnvelopeKms.Storage.PostgreSql;
using EnvelopeKms.Storage.Sqlite;
using EnvelopeKms.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms.Tests.Telemetry;

/// <summary>
/// Log event ids are stable: every <c>[LoggerMessage]</c> in the shipped assemblies has a unique id
/// inside its area's range, a name, and a row in the table of <c>docs/telemetry.md</c>.
/// </summary>
public sealed partial class LogEventIdTests
{
    /// <summary>The areas and their ranges, as documented.</summary>
    private static readonly (string Area, int First, int Last)[] Areas =
    [
        ("audit", 1000, 1999),
        ("key stores and root keys", 2000, 2999),
        ("rotation, purge and maintenance", 3000, 3999),
        ("envelope encryption and the data-key cache", 4000, 4999),
        ("telemetry and lifecycle events", 5000, 5999),
        ("the local KMS endpoint", 6000, 6999),
    ];

    /// <summary>The area of every message, by declaring type and method: a new message must be placed here.</summary>
    private static readonly Dictionary<string, string> AreaOf = new(StringComparer.Ordinal)
    {
        ["Log.AuditSuccess"] = "audit",
        ["Log.AuditFailure"] = "audit",
        ["Log.AuditRecordLost"] = "audit",
        ["Log.AuditFailOpenConfigured"] = "audit",
        ["Log.InMemoryStore"] = "key stores and root keys",
        ["Log.CreatedDevelopmentRootKey"] = "key stores and root keys",
        ["SqliteKeyStoreLog.ChangeWatcherFailed"] = "key stores and root keys",
        ["PostgreSqlKeyStoreLog.ListenFailed"] = "key stores and root keys",
        ["PostgreSqlKeyStoreLog.ReadChangesFailed"] = "key stores and root keys",
        ["PostgreSqlKeyStoreLog.Listening"] = "key stores and root keys",
        ["PostgreSqlKeyStoreLog.HandlerFailed"] = "key stores and root keys",
        ["Log.RotatedKey"] = "rotation, purge and maintenance",
        ["Log.PurgedKey"] = "rotation, purge and maintenance",
        ["Log.UnauthenticRecordNotPurged"] = "rotation, purge and maintenance",
        ["KeyMaintenanceService.LogRound"] = "rotation, purge and maintenance",
        ["KeyMaintenanceService.LogFailure"] = "rotation, purge and maintenance",
        ["MultiRegionLog.ReplicaSyncFailed"] = "rotation, purge and maintenance",
        ["Log.LifecycleSubscriberFailed"] = "telemetry and lifecycle events",
        ["KmsEndpointHandler.LogRequestServed"] = "the local KMS endpoint",
        ["KmsEndpointHandler.LogOperationFailed"] = "the local KMS endpoint",
        ["KmsEndpointHandler.LogAuthenticationFailed"] = "the local KMS endpoint",
        ["KmsEndpointHandler.LogUnexpectedFailure"] = "the local KMS endpoint",
    };

    private static IEnumerable<(string Method, LoggerMessageAttribute Attribute)> Messages()
        => new[] { typeof(KeyManager).Assembly, typeof(SqliteKeyStore).Assembly, typeof(PostgreSqlKeyStore).Assembly, typeof(KmsEndpointOptions).Assembly }
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Method, x.Attribute!));

    [Fact]
    public void Every_log_event_id_is_unique_named_and_inside_its_areas_range()
    {
        var messages = Messages().ToList();
        Assert.Equal(AreaOf.Keys.Order(StringComparer.Ordinal), messages.Select(m => m.Method).Order(StringComparer.Ordinal));
        Assert.Equal(messages.Count, messages.Select(m => m.Attribute.EventId).Distinct().Count());
        Assert.Equal(messages.Count, messages.Select(m => m.Attribute.EventName).Distinct().Count());
        Assert.All(messages, m =>
        {
            Assert.False(string.IsNullOrEmpty(m.Attribute.EventName), $"{m.Method} has no EventName.");
            var area = Areas.Single(a => a.Area == AreaOf[m.Method]);
            Assert.True(m.Attribute.EventId >= area.First && m.Attribute.EventId <= area.Last, $"{m.Method} has id {m.Attribute.EventId}, outside {area.Area} ({area.First}–{area.Last}).");
        });
    }

    [Fact]
    public void Every_log_event_id_is_in_the_table_of_the_telemetry_document()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryLocator.RequireRepositoryRoot(), "docs", "telemetry.md"));
        var rows = TableRow().Matches(text).ToDictionary(m => int.Parse(m.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture), m => m.Groups["name"].Value);
        var messages = Messages().ToList();
        Assert.All(messages, m => Assert.Equal(m.Attribute.EventName, rows.GetValueOrDefault(m.Attribute.EventId)));
        Assert.Equal(messages.Count, rows.Count);
    }

    [GeneratedRegex(@"^\| (?<id>\d{4}) \| `(?<name>\w+)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
