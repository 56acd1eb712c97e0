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
