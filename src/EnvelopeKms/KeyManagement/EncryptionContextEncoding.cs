using System.Buffers.Binary;
using System.Text;

namespace EnvelopeKms.KeyManagement;

/// <summary>
/// The canonical, injective byte encoding of an encryption context that is authenticated with every
/// ciphertext: a 16-bit big-endian pair count, then for each pair in ordinal order of the UTF-8
/// key bytes, the 16-bit big-endian length and UTF-8 bytes of the key, then of the value. Order of
/// the pairs given does not matter; case, Unicode normalization form and every byte do.
/// An absent context and an empty one encode the same (count 0).
/// </summary>
public static class EncryptionContextEncoding
{
    /// <summary>The most pairs a context may have.</summary>
    public const int MaxPairs = 64;

    /// <summary>The largest canonical encoding accepted, in bytes (count and length prefixes included).</summary>
    public const int MaxEncodedLength = 8192;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Validates a context and returns its canonical encoding.</summary>
    /// <exception cref="KmsValidationException">An empty or null key, a null value, a string that is not well-formed UTF-16, or a context above the limits.</exception>
    public static byte[] Encode(IReadOnlyDictionary<string, string>? context, string parameterName = "EncryptionContext")
    {
        if (context is null || context.Count == 0)
        {
            return [0, 0];
        }

        if (context.Count > MaxPairs)
        {
            throw new KmsValidationException($"{parameterName} has {context.Count} pairs; the limit is {MaxPairs}.");
        }

        var pairs = new List<(byte[] Key, byte[] Value)>(context.Count);
        var length = 2;
        foreach (var (key, value) in context)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new KmsValidationException($"{parameterName} has an empty key; every key must have at least one character.");
            }

            if (value is null)
            {
                throw new KmsValidationException($"{parameterName} key '{key}' has a null value.");
            }

            var pair = (ToUtf8(key, parameterName), ToUtf8(value, parameterName));
            length += 4 + pair.Item1.Length + pair.Item2.Length;
            if (length > MaxEncodedLength)
            {
                throw new KmsValidationException($"{parameterName} is larger than {MaxEncodedLength} bytes when encoded.");
            }

            pairs.Add(pair);
        }

        pairs.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        var encoded = new byte[length];
        var span = encoded.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)pairs.Count);
        var offset = 2;
        foreach (var (key, value) in pairs)
        {
            offset = WriteField(span, offset, key);
            offset = WriteField(span, offset, value);
        }

        return encoded;
    }

    /// <summary>
    /// Decodes a canonical encoding back into its pairs. Returns <see langword="false"/> for anything
    /// that is not exactly the canonical encoding of some valid context (wrong lengths, unsorted or
    /// duplicate keys, empty keys, malformed UTF-8, trailing bytes).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Dictionary<string, string>? context)
    {
        context = null;
        if (encoded.Length < 2 || encoded.Length > MaxEncodedLength)
        {
            return false;
        }

        int count = BinaryPrimitives.ReadUInt16BigEndian(encoded);
        if (count > MaxPairs)
        {
            return false;
        }

        var result = new Dictionary<string, string>(count, StringComparer.Ordinal);
        var offset = 2;
        var previousKey = (Start: 0, Length: 0);
        for (var i = 0; i < count; i++)
        {
            if (!TryReadField(encoded, ref offset, out var keyField) || !TryReadField(encoded, ref offset, out var valueField))
            {
                return false;
            }

            var key = encoded.Slice(keyField.Start, keyField.Length);
            var value = encoded.Slice(valueField.Start, valueField.Length);
            if (key.IsEmpty || (i > 0 && encoded.Slice(previousKey.Start, previousKey.Length).SequenceCompareTo(key) >= 0))
            {
                return false;
            }

            previousKey = keyField;
            try
            {
                result.Add(StrictUtf8.GetString(key), StrictUtf8.GetString(value));
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
        }

        if (offset != encoded.Length)
        {
            return false;
        }

        context = result;
        return true;
    }

    private static bool TryReadField(ReadOnlySpan<byte> encoded, ref int offset, out (int Start, int Length) field)
    {
        field = default;
        if (encoded.Length - offset < 2)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(encoded[offset..]);
        if (encoded.Length - offset - 2 < length)
        {
            return false;
        }

        field = (offset + 2, length);
        offset += 2 + length;
        return true;
    }

    private static int WriteField(Span<byte> destination, int offset, byte[] field)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], (ushort)field.Length);
        field.CopyTo(destination[(offset + 2)..]);
        return offset + 2 + field.Length;
    }

    private static byte[] ToUtf8(string value, string parameterName)
    {
        try
        {
            return StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException)
        {
            throw new KmsValidationException($"{parameterName} contains a string that is not well-formed UTF-16 (a lone surrogate).");
        }
    }
}
