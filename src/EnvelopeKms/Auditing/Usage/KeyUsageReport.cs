using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EnvelopeKms.Auditing.Usage;

/// <summary>A key as a <see cref="KeyUsageReport"/> prices it: who manages it and when it was billable.</summary>
public sealed record KeyInventoryItem
{
    /// <summary>The key id.</summary>
    public required string KeyId { get; init; }
    /// <summary>The key ARN, when known.</summary>
    public string? Arn { get; init; }
    /// <summary>Who manages the key: only <see cref="KeyManagerType.Customer"/> keys are charged per month; the requests of <see cref="KeyManagerType.Owned"/> keys are not charged either.</summary>
    public KeyManagerType KeyManager { get; init; } = KeyManagerType.Customer;
    /// <summary>When the key was created: it is billable from the start of that hour.</summary>
    public required DateTimeOffset CreationDate { get; init; }
    /// <summary>
    /// When the key stopped being billable, or <see langword="null"/> while it is: the time its deletion was scheduled (AWS does
    /// not charge for keys pending deletion), or when it was deleted. Billable to the end of that hour.
    /// </summary>
    public DateTimeOffset? BilledUntil { get; init; }
    /// <summary>The number of multi-Region replicas of the key, each priced at <see cref="KmsPriceModel.PricePerReplicaKeyMonth"/> (multi-Region keys arrive with issue 9; 0 until then).</summary>
    public int ReplicaCount { get; init; }
}

/// <summary>One key (or the account line) of a <see cref="KeyUsageReport"/>.</summary>
public sealed record KeyUsageReportEntry
{
    /// <summary>The key id; <see langword="null"/> for the account line: requests on no key (<c>ListKeys</c>, <c>GenerateRandom</c>, ...) and on untracked keys.</summary>
    public string? KeyId { get; init; }
    /// <summary>The key ARN, when known.</summary>
    public string? Arn { get; init; }
    /// <summary>Who manages the key; <see langword="null"/> for the account line and for keys known only from the audit trail.</summary>
    public KeyManagerType? KeyManager { get; init; }
    /// <summary>The months the key was billable in the period, prorated hourly per calendar month (1 = a whole calendar month).</summary>
    public decimal MonthsActive { get; init; }
    /// <summary>The key's multi-Region replicas.</summary>
    public int ReplicaCount { get; init; }
    /// <summary>The charge for the key and its replicas being kept (0 unless a customer managed key).</summary>
    public decimal KeyCharge { get; init; }
    /// <summary>The request counts per operation in the period.</summary>
    public required IReadOnlyList<KeyOperationUsage> Operations { get; init; }
    /// <summary>All requests in the period, whatever their outcome.</summary>
    public long Requests { get; init; }
    /// <summary>The requests the price model charges (before the free tier, which applies to the account).</summary>
    public long BillableRequests { get; init; }
}

/// <summary>One priced line of a <see cref="KeyUsageReport"/>.</summary>
public sealed record KeyUsagePriceLine
{
    /// <summary>What is charged.</summary>
    public required string Item { get; init; }
    /// <summary>How many units.</summary>
    public required decimal Quantity { get; init; }
    /// <summary>The unit ("key-month", "10,000 requests").</summary>
    public required string Unit { get; init; }
    /// <summary>The price of one unit.</summary>
    public required decimal UnitPrice { get; init; }
    /// <summary><see cref="Quantity"/> × <see cref="UnitPrice"/>, unrounded.</summary>
    public required decimal Amount { get; init; }
}

/// <summary>
/// What a workload would cost on AWS KMS over [<see cref="From"/>, <see cref="To"/>): key-months prorated hourly per
/// calendar month, requests counted by a <see cref="KeyUsageMeter"/>, priced with a <see cref="KmsPriceModel"/>.
/// Amounts are exact decimals; renderings round them to cents.
/// </summary>
public sealed record KeyUsageReport
{
    /// <summary>The start of the period (inclusive).</summary>
    public required DateTimeOffset From { get; init; }
    /// <summary>The end of the period (exclusive).</summary>
    public required DateTimeOffset To { get; init; }
    /// <summary>The prices applied.</summary>
    public required KmsPriceModel PriceModel { get; init; }
    /// <summary>Since when the meter knew what happened (see <see cref="KeyUsageMeter.TrackingStartDate"/>).</summary>
    public required DateTimeOffset TrackingStartDate { get; init; }
    /// <summary>The start of the oldest period whose counts the meter still keeps.</summary>
    public required DateTimeOffset CountsRetainedSince { get; init; }
    /// <summary>Whether the request counts cover the whole period: it starts after <see cref="TrackingStartDate"/> and <see cref="CountsRetainedSince"/>.</summary>
    public required bool CountsAreComplete { get; init; }
    /// <summary>The keys (by key id; the account line first when it has requests).</summary>
    public required IReadOnlyList<KeyUsageReportEntry> Keys { get; init; }
    /// <summary>All requests counted in the period.</summary>
    public required long TotalRequests { get; init; }
    /// <summary>The billable requests, before the free tier.</summary>
    public required long BillableRequests { get; init; }
    /// <summary>The billable requests the free tier covered (per calendar month, up to <see cref="KmsPriceModel.FreeRequestsPerMonth"/>).</summary>
    public required long FreeRequests { get; init; }
    /// <summary>The priced lines: customer managed key-months, replica key-months, requests.</summary>
    public required IReadOnlyList<KeyUsagePriceLine> Lines { get; init; }
    /// <summary>The sum of the lines, unrounded.</summary>
    public required decimal Total { get; init; }

    /// <summary>Builds the report of a period from a key inventory and a meter.</summary>
    /// <param name="from">The start (inclusive); counts are taken from the meter's buckets that start in the period.</param>
    /// <param name="to">The end (exclusive), after <paramref name="from"/>.</param>
    /// <param name="keys">The keys to price; keys with requests in the period but not listed appear with no key charge.</param>
    /// <param name="meter">The request counts.</param>
    /// <param name="priceModel">The prices; <see cref="KmsPriceModel.AwsDefault"/> when <see langword="null"/>.</param>
    /// <exception cref="KmsValidationException">The period is empty or the price model is invalid.</exception>
    public static KeyUsageReport Create(DateTimeOffset from, DateTimeOffset to, IEnumerable<KeyInventoryItem> keys, KeyUsageMeter meter, KmsPriceModel? priceModel = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(meter);
        priceModel ??= KmsPriceModel.AwsDefault;
        priceModel.Validate();
        if (to <= from)
        {
            throw new KmsValidationException("The report period is empty: To must be after From.");
        }

        var inventory = new Dictionary<string, KeyInventoryItem>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            inventory[key.KeyId] = key;
        }

        // Requests, per key and per calendar month (for the free tier).
        var operations = new Dictionary<string, Dictionary<KmsOperation, long[]>>(StringComparer.Ordinal);
        var billablePerMonth = new SortedDictionary<long, long>();
        var billablePerKey = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (keyId, operation, periodTicks, success, failure, denied) in meter.Buckets(from, to))
        {
            var id = keyId ?? string.Empty;
            if (!operations.TryGetValue(id, out var perOperation))
            {
                operations[id] = perOperation = [];
            }

            if (!perOperation.TryGetValue(operation, out var sum))
            {
                perOperation[operation] = sum = new long[3];
            }

            sum[0] += success;
            sum[1] += failure;
            sum[2] += denied;

            var owned = keyId is not null && inventory.TryGetValue(keyId, out var item) && item.KeyManager == KeyManagerType.Owned;
            if (!owned && IsBillableOperation(operation))
            {
                var billable = success + (priceModel.ChargeUnsuccessfulRequests ? failure + denied : 0);
                var month = MonthStart(new DateTimeOffset(periodTicks, TimeSpan.Zero)).UtcTicks;
                billablePerMonth[month] = billablePerMonth.GetValueOrDefault(month) + billable;
                billablePerKey[id] = billablePerKey.GetValueOrDefault(id) + billable;
            }
        }

        var entries = new List<KeyUsageReportEntry>();
        decimal keyMonths = 0, replicaKeyMonths = 0;
        foreach (var id in inventory.Keys.Concat(operations.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            inventory.TryGetValue(id, out var item);
            if (item?.KeyManager == KeyManagerType.Owned)
            {
                continue; // EnvelopeKms's own keys, like AWS owned keys: neither listed nor charged.
            }

            var months = item is null ? 0m : MonthsActive(item, from, to);
            if (item is not null && months == 0 && !operations.ContainsKey(id))
            {
                continue; // Not billable in the period and not used: not part of this report.
            }

            var customer = item?.KeyManager == KeyManagerType.Customer;
            var replicas = item?.ReplicaCount ?? 0;
            if (customer)
            {
                keyMonths += months;
                replicaKeyMonths += months * replicas;
            }

            var usage = operations.TryGetValue(id, out var perOperation)
                ? perOperation.OrderBy(o => o.Key).Select(o => new KeyOperationUsage
                {
                    KeyId = id.Length == 0 ? null : id,
                    Operation = o.Key,
                    Success = o.Value[0],
                    Failure = o.Value[1],
                    Denied = o.Value[2],
                }).ToList()
                : [];
            entries.Add(new KeyUsageReportEntry
            {
                KeyId = id.Length == 0 ? null : id,
                Arn = item?.Arn,
                KeyManager = item?.KeyManager,
                MonthsActive = months,
                ReplicaCount = replicas,
                KeyCharge = customer ? months * priceModel.PricePerKeyMonth + months * replicas * priceModel.PricePerReplicaKeyMonth : 0m,
                Operations = usage,
                Requests = usage.Sum(u => u.Total),
                BillableRequests = billablePerKey.GetValueOrDefault(id),
            });
        }

        long billableRequests = 0, freeRequests = 0;
        foreach (var (_, count) in billablePerMonth)
        {
            billableRequests += count;
            freeRequests += Math.Min(count, priceModel.FreeRequestsPerMonth);
        }

        var chargedRequestUnits = (decimal)(billableRequests - freeRequests) / 10_000m;
        List<KeyUsagePriceLine> lines =
        [
            new() { Item = "Customer managed keys", Quantity = keyMonths, Unit = "key-month", UnitPrice = priceModel.PricePerKeyMonth, Amount = keyMonths * priceModel.PricePerKeyMonth },
            new() { Item = "Multi-Region replica keys", Quantity = replicaKeyMonths, Unit = "key-month", UnitPrice = priceModel.PricePerReplicaKeyMonth, Amount = replicaKeyMonths * priceModel.PricePerReplicaKeyMonth },
            new()
            {
                Item = freeRequests > 0 ? string.Create(CultureInfo.InvariantCulture, $"Requests ({freeRequests:N0} free)") : "Requests",
                Quantity = chargedRequestUnits,
                Unit = "10,000 requests",
                UnitPrice = priceModel.PricePerTenThousandRequests,
                Amount = chargedRequestUnits * priceModel.PricePerTenThousandRequests,
            },
        ];

        var trackingStart = meter.TrackingStartDate;
        var retainedSince = meter.CountsRetainedSince;
        return new KeyUsageReport
        {
            From = from,
            To = to,
            PriceModel = priceModel,
            TrackingStartDate = trackingStart,
            CountsRetainedSince = retainedSince,
            CountsAreComplete = from >= trackingStart && from >= retainedSince,
            Keys = entries,
            TotalRequests = entries.Sum(e => e.Requests),
            BillableRequests = billableRequests,
            FreeRequests = freeRequests,
            Lines = lines,
            Total = lines.Sum(l => l.Amount),
        };
    }

    /// <summary>
    /// Whether requests of <paramref name="operation"/> are priced: every operation except the service's own work
    /// (<see cref="KmsOperation.DeleteExpiredKey"/>, automatic <see cref="KmsOperation.RotateKey"/>) and
    /// <see cref="KmsOperation.ReEncryptTo"/> (a <c>ReEncrypt</c> is one request, counted as <see cref="KmsOperation.ReEncryptFrom"/>).
    /// </summary>
    public static bool IsBillableOperation(KmsOperation operation)
        => operation is not (KmsOperation.DeleteExpiredKey or KmsOperation.RotateKey or KmsOperation.ReEncryptTo);

    /// <summary>
    /// The months <paramref name="key"/> was billable in [<paramref name="from"/>, <paramref name="to"/>): for every calendar
    /// month (UTC), the whole hours of the month in which the key was billable (from the start of its creation hour to the
    /// end of the hour it stopped) and that are in the period, over the hours of that month.
    /// </summary>
    public static decimal MonthsActive(KeyInventoryItem key, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(key);
        var start = FloorHour(Max(key.CreationDate, from));
        var end = key.BilledUntil is { } until ? Min(CeilingHour(until), to) : to;
        if (key.CreationDate >= to || end <= start)
        {
            return 0m;
        }

        start = Max(start, FloorHour(from));
        end = Min(end, CeilingHour(to));
        decimal months = 0;
        for (var month = MonthStart(start); month < end; month = month.AddMonths(1))
        {
            var next = month.AddMonths(1);
            var hours = (long)(Min(end, next) - Max(start, month)).TotalHours;
            if (hours > 0)
            {
                months += hours / (decimal)(long)(next - month).TotalHours;
            }
        }

        return months;
    }

    /// <summary>A fixed-width text table: one row per key, then the priced lines and the total (rounded to cents).</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"KMS usage {From.UtcDateTime:yyyy-MM-dd HH:mm} to {To.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        if (!CountsAreComplete)
        {
            text.Append(c, $" (counts incomplete: tracked since {TrackingStartDate.UtcDateTime:yyyy-MM-dd HH:mm}, kept since {CountsRetainedSince.UtcDateTime:yyyy-MM-dd HH:mm})");
        }

        text.AppendLine();
        text.AppendLine(c, $"{"Key",-36}  {"Manager",-8}  {"Months",8}  {"Replicas",8}  {"Requests",12}  {"Billable",12}  Operations");
        foreach (var entry in Keys)
        {
            var operations = string.Join(", ", entry.Operations.Select(o => string.Create(c, $"{o.Operation}={o.Total}")));
            text.AppendLine(c, $"{entry.KeyId ?? "(no key)",-36}  {ManagerName(entry.KeyManager),-8}  {entry.MonthsActive,8:0.0000}  {entry.ReplicaCount,8}  {entry.Requests,12}  {entry.BillableRequests,12}  {operations}");
        }

        text.AppendLine();
        text.AppendLine(c, $"{"Item",-36}  {"Quantity",14}  {"Unit",-16}  {"Unit price",10}  {"Amount",10}");
        foreach (var line in Lines)
        {
            text.AppendLine(c, $"{line.Item,-36}  {line.Quantity,14:0.####}  {line.Unit,-16}  {line.UnitPrice,10:0.00##}  {Math.Round(line.Amount, 2, MidpointRounding.AwayFromZero),10:0.00}");
        }

        text.AppendLine(c, $"{"Total " + PriceModel.Currency,-36}  {string.Empty,14}  {string.Empty,-16}  {string.Empty,10}  {Math.Round(Total, 2, MidpointRounding.AwayFromZero),10:0.00}");
        return text.ToString();
    }

    /// <summary>CSV (RFC 4180, invariant culture, <c>\n</c> line ends): a header, then one row per key and operation (a key without requests has one row with an empty operation).</summary>
    public string ToCsv()
    {
        var c = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("keyId,arn,keyManager,monthsActive,replicaCount,keyCharge,operation,success,failure,denied\n");
        foreach (var entry in Keys)
        {
            var prefix = string.Create(c, $"{Csv(entry.KeyId)},{Csv(entry.Arn)},{ManagerName(entry.KeyManager)},{entry.MonthsActive},{entry.ReplicaCount},{entry.KeyCharge}");
            if (entry.Operations.Count == 0)
            {
                csv.Append(prefix).Append(",,,,\n");
            }

            foreach (var operation in entry.Operations)
            {
                csv.Append(c, $"{prefix},{operation.Operation},{operation.Success},{operation.Failure},{operation.Denied}\n");
            }
        }

        return csv.ToString();
    }

    /// <summary>The priced lines as CSV: <c>item,quantity,unit,unitPrice,amount,currency</c>, then a <c>Total</c> row.</summary>
    public string ToPriceLinesCsv()
    {
        var c = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("item,quantity,unit,unitPrice,amount,currency\n");
        foreach (var line in Lines)
        {
            csv.Append(c, $"{Csv(line.Item)},{line.Quantity},{Csv(line.Unit)},{line.UnitPrice},{line.Amount},{Csv(PriceModel.Currency)}\n");
        }

        csv.Append(c, $"Total,,,,{Total},{Csv(PriceModel.Currency)}\n");
        return csv.ToString();
    }

    /// <summary>The whole report as JSON (camelCase, enums as names, amounts as exact numbers).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, KeyUsageReportJsonContext.Default.KeyUsageReport);

    private static string ManagerName(KeyManagerType? manager) => manager switch
    {
        KeyManagerType.Customer => "CUSTOMER",
        KeyManagerType.Aws => "AWS",
        KeyManagerType.Owned => "OWNED",
        _ => "-",
    };

    private static string Csv(string? value)
        => value is null ? string.Empty
        : value.AsSpan().IndexOfAny(",\"\n\r") < 0 ? value
        : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static DateTimeOffset MonthStart(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    private static DateTimeOffset FloorHour(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerHour, TimeSpan.Zero);
    }

    private static DateTimeOffset CeilingHour(DateTimeOffset time)
    {
        var floor = FloorHour(time);
        return floor.UtcTicks == time.UtcTicks ? floor : floor.AddHours(1);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;
}

[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KeyUsageReport))]
internal sealed partial class KeyUsageReportJsonContext : JsonSerializerContext;
