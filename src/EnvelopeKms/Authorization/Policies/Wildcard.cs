namespace EnvelopeKms.Authorization.Policies;

/// <summary>IAM wildcard matching: <c>*</c> matches any run of characters (also none), <c>?</c> exactly one. No escapes.</summary>
internal static class Wildcard
{
    /// <summary>Whether the pattern contains a wildcard character.</summary>
    public static bool HasWildcard(ReadOnlySpan<char> pattern) => pattern.IndexOfAny('*', '?') >= 0;

    /// <summary>Matches <paramref name="text"/> against <paramref name="pattern"/>; allocation-free, linear backtracking on the last star.</summary>
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text, bool ignoreCase)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || CharEquals(pattern[p], text[t], ignoreCase)))
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    private static bool CharEquals(char a, char b, bool ignoreCase)
    {
        if (a == b)
        {
            return true;
        }
        if (!ignoreCase)
        {
            return false;
        }
        if (char.IsAscii(a) && char.IsAscii(b))
        {
            return (a | 0x20) == (b | 0x20) && char.IsAsciiLetter(a);
        }
        return char.ToUpperInvariant(a) == char.ToUpperInvariant(b);
    }
}
