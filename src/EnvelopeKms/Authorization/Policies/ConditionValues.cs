using System.Globalization;
using System.Net;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>What a <see cref="ConditionValues"/> holds.</summary>
public enum ConditionValueKind
{
    /// <summary>The key is absent from the request.</summary>
    Absent,
    /// <summary>One string.</summary>
    Text,
    /// <summary>Zero or more strings (a multi-valued key).</summary>
    StringList,
    /// <summary>One integer.</summary>
    Number,
    /// <summary>One instant.</summary>
    DateTime,
    /// <summary>One Boolean.</summary>
    Boolean,
    /// <summary>One IP address.</summary>
    IPAddress,
}

/// <summary>
/// The values of one condition key in a request: absent, one string, a list of strings (a multi-valued key such as
/// <c>kms:EncryptionContextKeys</c>), or one typed value (a number, an instant, a Boolean or an IP address) so that the key
/// manager does not have to format them. A typed value compared by a string operator is formatted into a stack buffer
/// (invariant culture; instants as ISO 8601 UTC, Booleans as <c>true</c>/<c>false</c>); a string compared by a numeric,
/// date, Boolean or IP operator is parsed from its span. Values that do not parse do not match.
/// </summary>
public readonly struct ConditionValues
{
    private readonly object? _ref;
    private readonly long _number;
    private readonly ConditionValueKind _kind;

    private ConditionValues(ConditionValueKind kind, object? reference, long number)
    {
        _kind = kind;
        _ref = reference;
        _number = number;
    }

    /// <summary>The key is not in the request.</summary>
    public static ConditionValues Absent => default;

    /// <summary>One string value.</summary>
    public static ConditionValues Of(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(ConditionValueKind.Text, value, 0);
    }

    /// <summary>A multi-valued key; the list is referenced, not copied. An empty list is present but has no values.</summary>
    public static ConditionValues Of(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new(ConditionValueKind.StringList, values, 0);
    }

    /// <summary>One integer value.</summary>
    public static ConditionValues Of(long value) => new(ConditionValueKind.Number, null, value);

    /// <summary>One instant (compared to the second and below, in UTC).</summary>
    public static ConditionValues Of(DateTimeOffset value) => new(ConditionValueKind.DateTime, null, value.UtcTicks);

    /// <summary>One Boolean value.</summary>
    public static ConditionValues Of(bool value) => new(ConditionValueKind.Boolean, null, value ? 1 : 0);

    /// <summary>One IP address.</summary>
    public static ConditionValues Of(IPAddress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(ConditionValueKind.IPAddress, value, 0);
    }

    /// <summary>What this holds.</summary>
    public ConditionValueKind Kind => _kind;

    /// <summary>Whether the key is in the request (an empty list is present).</summary>
    public bool IsPresent => _kind != ConditionValueKind.Absent;

    /// <summary>The number of values: 0 when absent, the list's count for a list, otherwise 1.</summary>
    public int Count => _kind switch
    {
        ConditionValueKind.Absent => 0,
        ConditionValueKind.StringList => ((IReadOnlyList<string>)_ref!).Count,
        _ => 1,
    };

    /// <summary>The value at <paramref name="index"/> as a string (typed values are formatted; this allocates for them).</summary>
    public string this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index));
            }
            return _kind switch
            {
                ConditionValueKind.Text => (string)_ref!,
                ConditionValueKind.StringList => ((IReadOnlyList<string>)_ref!)[index],
                _ => GetChars(index, stackalloc char[64]).ToString(),
            };
        }
    }

    /// <summary>The value as an integer, when it is one (a typed integer or a string that parses as one).</summary>
    public bool TryGetInt64(int index, out long value)
    {
        if (_kind == ConditionValueKind.Number)
        {
            value = _number;
            return true;
        }
        value = 0;
        return IsString && long.TryParse(StringAt(index), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The value as an instant, when it is one (a typed instant, or a string in ISO 8601 or epoch seconds).</summary>
    public bool TryGetDateTimeOffset(int index, out DateTimeOffset value)
    {
        if (TryGetUtcTicks(index, out long ticks))
        {
            value = new DateTimeOffset(ticks, TimeSpan.Zero);
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>The value as a Boolean, when it is one (a typed Boolean or the string true/false in any case).</summary>
    public bool TryGetBoolean(int index, out bool value)
    {
        if (_kind == ConditionValueKind.Boolean)
        {
            value = _number != 0;
            return true;
        }
        value = false;
        return IsString && ConditionParsing.TryParseBool(StringAt(index), out value);
    }

    /// <summary>The value as an IP address, when it is one (a typed address or a string that parses as one).</summary>
    public bool TryGetIPAddress(int index, out IPAddress? value)
    {
        if (_kind == ConditionValueKind.IPAddress)
        {
            value = (IPAddress)_ref!;
            return true;
        }
        value = null;
        return IsString && IPAddress.TryParse(StringAt(index), out value);
    }

    private bool IsString => _kind is ConditionValueKind.Text or ConditionValueKind.StringList;

    private string StringAt(int index) => _kind == ConditionValueKind.Text ? (string)_ref! : ((IReadOnlyList<string>)_ref!)[index];

    /// <summary>The value as characters; typed values are formatted into <paramref name="scratch"/> (at least 64 chars).</summary>
    internal ReadOnlySpan<char> GetChars(int index, Span<char> scratch)
    {
        int written;
        switch (_kind)
        {
            case ConditionValueKind.Text:
                return (string)_ref!;
            case ConditionValueKind.StringList:
                return ((IReadOnlyList<string>)_ref!)[index];
            case ConditionValueKind.Number:
                _number.TryFormat(scratch, out written, default, CultureInfo.InvariantCulture);
                return scratch[..written];
            case ConditionValueKind.DateTime:
                new DateTimeOffset(_number, TimeSpan.Zero).TryFormat(scratch, out written, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                return scratch[..written];
            case ConditionValueKind.Boolean:
                return _number != 0 ? "true" : "false";
            case ConditionValueKind.IPAddress:
                ((IPAddress)_ref!).TryFormat(scratch, out written);
                return scratch[..written];
            default:
                return default;
        }
    }

    internal bool TryGetDecimal(int index, out decimal value)
    {
        if (_kind == ConditionValueKind.Number)
        {
            value = _number;
            return true;
        }
        value = 0;
        return IsString && ConditionParsing.TryParseNumber(StringAt(index), out value);
    }

    internal bool TryGetUtcTicks(int index, out long ticks)
    {
        switch (_kind)
        {
            case ConditionValueKind.DateTime:
                ticks = _number;
                return true;
            case ConditionValueKind.Number:
                return ConditionParsing.TryEpochSecondsToTicks(_number, out ticks);
            case ConditionValueKind.Text:
            case ConditionValueKind.StringList:
                return ConditionParsing.TryParseDate(StringAt(index), out ticks);
            default:
                ticks = 0;
                return false;
        }
    }
}
