using System.Globalization;
using System.Text;

namespace EnvelopeKms.Auditing;

/// <summary>File naming of a trail: the current file, its rotated predecessors and the head.</summary>
internal static class AuditChainFiles
{
    private const int HeadSequenceDigits = 19;

    /// <summary>The length of the head document: 19 digits, a space, 64 hex digits and <c>\n</c>.</summary>
    public const int HeadLength = HeadSequenceDigits + 1 + 64 + 1;

    public static string HeadPath(string path) => path + ".head";

    private static (string Directory, string Stem, string Extension) Split(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full) ?? ".";
        var extension = System.IO.Path.GetExtension(full);
        var stem = System.IO.Path.GetFileNameWithoutExtension(full);
        return (directory, stem, extension.Length == 0 ? ".jsonl" : extension);
    }

    /// <summary>The rotated files of <paramref name="path"/>, oldest first, with their counters.</summary>
    public static List<(long Index, string File)> Rotated(string path)
    {
        var (directory, stem, extension) = Split(path);
        var result = new List<(long, string)>();
        if (!Directory.Exists(directory))
        {
            return result;
        }

        var prefix = stem + ".";
        foreach (var file in Directory.EnumerateFiles(directory, prefix + "*" + extension))
        {
            var name = System.IO.Path.GetFileName(file);
            if (name.Length <= prefix.Length + extension.Length)
            {
                continue;
            }

            var middle = name.AsSpan(prefix.Length, name.Length - prefix.Length - extension.Length);
            if (middle.Length >= 6 && IsDigits(middle) && long.TryParse(middle, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                result.Add((index, file));
            }
        }

        result.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result;
    }

    public static string RotatedPath(string path, long index)
    {
        var (directory, stem, extension) = Split(path);
        return System.IO.Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{stem}.{index:D6}{extension}"));
    }

    private static bool IsDigits(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    public static byte[] FormatHead(long sequence, string hash) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{sequence.ToString("D19", CultureInfo.InvariantCulture)} {hash}\n"));

    public static bool TryParseHead(ReadOnlySpan<byte> content, out long sequence, out string hash)
    {
        sequence = 0;
        hash = string.Empty;
        if (content.Length != HeadLength || content[HeadSequenceDigits] != (byte)' ' || content[^1] != (byte)'\n')
        {
            return false;
        }

        var digits = Encoding.ASCII.GetString(content[..HeadSequenceDigits]);
        if (!IsDigits(digits) || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out sequence))
        {
            return false;
        }

        hash = Encoding.ASCII.GetString(content.Slice(HeadSequenceDigits + 1, 64));
        foreach (var c in hash)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads the last line of a non-empty file; <c>Terminated</c> tells whether the file ends with <c>\n</c>.</summary>
    public static (byte[] Line, bool Terminated) ReadLastLine(FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
        {
            return ([], true);
        }

        var last = new byte[1];
        stream.Position = length - 1;
        stream.ReadExactly(last);
        var terminated = last[0] == (byte)'\n';
        var end = terminated ? length - 1 : length; // exclusive end of the last line's content
        var start = end;
        var chunk = new byte[4096];
        while (start > 0)
        {
            var size = (int)Math.Min(chunk.Length, start);
            stream.Position = start - size;
            stream.ReadExactly(chunk.AsSpan(0, size));
            var newline = chunk.AsSpan(0, size).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                start = start - size + newline + 1;
                break;
            }

            start -= size;
        }

        var line = new byte[end - start];
        stream.Position = start;
        stream.ReadExactly(line);
        return (line, terminated);
    }
}
