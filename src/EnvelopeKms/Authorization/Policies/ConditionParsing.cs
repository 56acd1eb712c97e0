using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace EnvelopeKms.Authorization.Policies;

/// <summary>The families of condition operators.</summary>
internal enum OperatorFamily { String, StringIgnoreCase, StringLike, Numeric, Date, Bool, Binary, IpAddress, Arn, Null }

/// <summary>How a request value is compared with a policy value.</summary>
internal enum Comparison { Equal, LessThan, LessThanEquals, GreaterThan, GreaterThanEquals }

/// <summary>The set qualifier of a condition operator.</summary>
internal enum SetOperator { None, ForAnyValue, ForAllValues }

/// <summary>A condition operator as written, split into its parts.</summary>
internal readonly record struct ConditionOperator(OperatorFamily Family, Comparison Comparison, bool Negated, bool IfExists, SetOperator Set)
{
    private static readonly Dictionary<string, (OperatorFamily, Comparison, bool)> Bases = new(StringComparer.Ordinal)
    {
        ["StringEquals"] = (OperatorFamily.String, Comparison.Equal, false),
        ["StringNotEquals"] = (OperatorFamily.String, Comparison.Equal, true),
        ["StringEqualsIgnoreCase"] = (OperatorFamily.StringIgnoreCase, Comparison.Equal, false),
        ["StringNotEqualsIgnoreCase"] = (OperatorFamily.StringIgnoreCase, Comparison.Equal, true),
        ["StringLike"] = (OperatorFamily.StringLike, Comparison.Equal, false),
        ["StringNotLike"] = (OperatorFamily.StringLike, Comparison.Equal, true),
        ["NumericEquals"] = (OperatorFamily.Numeric, Comparison.Equal, false),
        ["NumericNotEquals"] = (OperatorFamily.Numeric, Comparison.Equal, true),
        ["NumericLessThan"] = (OperatorFamily.Numeric, Comparison.LessThan, false),
        ["NumericLessThanEquals"] = (OperatorFamily.Numeric, Comparison.LessThanEquals, false),
        ["NumericGreaterThan"] = (OperatorFamily.Numeric, Comparison.GreaterThan, false),
        ["NumericGreaterThanEquals"] = (OperatorFamily.Numeric, Comparison.GreaterThanEquals, false),
        ["DateEquals"] = (OperatorFamily.Date, Comparison.Equal, false),
        ["DateNotEquals"] = (OperatorFamily.Date, Comparison.Equal, true),
        ["DateLessThan"] = (OperatorFamily.Date, Comparison.LessThan, false),
        ["DateLessThanEquals"] = (OperatorFamily.Date, Comparison.LessThanEquals, false),
        ["DateGreaterThan"] = (OperatorFamily.Date, Comparison.GreaterThan, false),
        ["DateGreaterThanEquals"] = (OperatorFamily.Date, Comparison.GreaterThanEquals, false),
        ["Bool"] = (OperatorFamily.Bool, Comparison.Equal, false),
        ["BinaryEquals"] = (OperatorFamily.Binary, Comparison.Equal, false),
        ["IpAddress"] = (OperatorFamily.IpAddress, Comparison.Equal, false),
        ["NotIpAddress"] = (OperatorFamily.IpAddress, Comparison.Equal, true),
        ["ArnEquals"] = (OperatorFamily.Arn, Comparison.Equal, false),
        ["ArnLike"] = (OperatorFamily.Arn, Comparison.Equal, false),
        ["ArnNotEquals"] = (OperatorFamily.Arn, Comparison.Equal, true),
        ["ArnNotLike"] = (OperatorFamily.Arn, Comparison.Equal, true),
        ["Null"] = (OperatorFamily.Null, Comparison.Equal, false),
    };

    /// <summary>Splits an operator name (case-sensitive, as IAM writes them); false when it is not one.</summary>
    public static bool TryParse(string name, out ConditionOperator op)
    {
        op = default;
        ReadOnlySpan<char> s = name;
        SetOperator set = SetOperator.None;
        if (s.StartsWith("ForAnyValue:", StringComparison.Ordinal))
        {
            set = SetOperator.ForAnyValue;
            s = s["ForAnyValue:".Length..];
        }
        else if (s.StartsWith("ForAllValues:", StringComparison.Ordinal))
        {
            set = SetOperator.ForAllValues;
            s = s["ForAllValues:".Length..];
        }
        bool ifExists = false;
        if (s.EndsWith("IfExists", StringComparison.Ordinal))
        {
            ifExists = true;
            s = s[..^"IfExists".Length];
        }
        if (!Bases.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(s, out var b))
        {
            return false;
        }
        if (b.Item1 == OperatorFamily.Null && (ifExists || set != SetOperator.None))
        {
            return false;
        }
        op = new ConditionOperator(b.Item1, b.Item2, b.Item3, ifExists, set);
        return true;
    }
}

/// <summary>An IP range from a CIDR block (or a single address), with the host bits cleared.</summary>
internal sealed class IpRange
{
    private readonly byte[] _network;
    private readonly int _prefix;

    private IpRange(byte[] network, int prefix)
    {
        _network = network;
        _prefix = prefix;
    }

    public AddressFamily Family => _network.Length == 4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    public static bool TryParse(string text, out IpRange? range)
    {
        range = null;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        int slash = s.IndexOf('/');
        ReadOnlySpan<char> addressText = slash < 0 ? s : s[..slash];
        bool v6 = addressText.Contains(':');
        if ((!v6 && addressText.Count('.') != 3) || !IPAddress.TryParse(addressText, out IPAddress? address)
            || (address.AddressFamily == AddressFamily.InterNetworkV6) != v6 || (v6 && address.ScopeId != 0))
        {
            return false;
        }
        byte[] bytes = address.GetAddressBytes();
        int max = bytes.Length * 8;
        int prefix = max;
        if (slash >= 0)
        {
            ReadOnlySpan<char> p = s[(slash + 1)..];
            if (p.IsEmpty || p.Length > 3 || p.IndexOfAnyExceptInRange('0', '9') >= 0
                || !int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max)
            {
                return false;
            }
        }
        Mask(bytes, prefix);
        range = new IpRange(bytes, prefix);
        return true;
    }

    private static void Mask(Span<byte> bytes, int prefix)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            int bits = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bits));
        }
    }

    public bool Contains(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (address.IsIPv4MappedToIPv6 && _network.Length == 4)
        {
            address = address.MapToIPv4();
        }
        if (!address.TryWriteBytes(bytes, out int written) || written != _network.Length)
        {
            return false;
        }
        bytes = bytes[..written];
        Mask(bytes, _prefix);
        return bytes.SequenceEqual(_network);
    }
}

/// <summary>Parsing of policy and request values, shared by the compiler and the interpreter.</summary>
internal static class ConditionParsing
{
    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd", "yyyyMMdd'T'HHmmssK", "yyyyMMdd'T'HHmmss'Z'",
    ];

    public static bool TryParseBool(ReadOnlySpan<char> s, out bool value)
    {
        if (s.Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            value = true;
            return true;
        }
        value = false;
        return s.Equals("false", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Integers and decimals (an optional sign, digits, an optional fraction, an optional exponent).</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> s, out decimal value)
    {
        value = 0;
        return !s.IsEmpty && s.Length <= 64 && (char.IsAsciiDigit(s[0]) || s[0] is '-' or '+' or '.')
            && decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out value);
    }

    /// <summary>ISO 8601 (UTC when no offset is given) or whole epoch seconds.</summary>
    public static bool TryParseDate(ReadOnlySpan<char> s, out long utcTicks)
    {
        utcTicks = 0;
        if (s.IsEmpty || s.Length > 64)
        {
            return false;
        }
        if (s.IndexOfAnyExceptInRange('0', '9') < 0 || (s[0] == '-' && s.Length > 1 && s[1..].IndexOfAnyExceptInRange('0', '9') < 0))
        {
            return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds)
                && TryEpochSecondsToTicks(seconds, out utcTicks);
        }
        if (DateTimeOffset.TryParseExact(s, DateFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset d))
        {
            utcTicks = d.UtcTicks;
            return true;
        }
        return false;
    }

    public static bool TryEpochSecondsToTicks(long seconds, out long utcTicks)
    {
        utcTicks = 0;
        if (seconds < -62135596800L || seconds > 253402300799L)
        {
            return false;
        }
        utcTicks = DateTimeOffset.UnixEpoch.UtcTicks + (seconds * TimeSpan.TicksPerSecond);
        return true;
    }

    public static bool IsBase64(string s)
    {
        Span<byte> buffer = s.Length <= 1024 ? stackalloc byte[s.Length] : new byte[s.Length];
        return s.Length > 0 && Convert.TryFromBase64String(s, buffer, out _);
    }

    /// <summary>Splits an ARN into its six colon-separated parts (the last one keeps its colons); false when it has fewer.</summary>
    public static bool TrySplitArn(ReadOnlySpan<char> arn, Span<Range> parts)
    {
        int start = 0;
        for (int i = 0; i < 5; i++)
        {
            int colon = arn[start..].IndexOf(':');
            if (colon < 0)
            {
                return false;
            }
            parts[i] = new Range(start, start + colon);
            start += colon + 1;
        }
        parts[5] = new Range(start, arn.Length);
        return true;
    }

    /// <summary>ArnEquals/ArnLike: each of the six parts matched separately, case-sensitively, with wildcards.</summary>
    public static bool ArnMatches(string pattern, ReadOnlySpan<char> arn)
    {
        if (pattern == "*")
        {
            return true;
        }
        Span<Range> p = stackalloc Range[6];
        Span<Range> a = stackalloc Range[6];
        if (!TrySplitArn(pattern, p) || !TrySplitArn(arn, a))
        {
            return false;
        }
        for (int i = 0; i < 6; i++)
        {
            if (!Wildcard.IsMatch(pattern.AsSpan()[p[i]], arn[a[i]], ignoreCase: false))
            {
                return false;
            }
        }
        return true;
    }
}
