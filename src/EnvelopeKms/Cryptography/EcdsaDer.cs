using System.Formats.Asn1;

namespace EnvelopeKms.Cryptography;

/// <summary>
/// Strict DER reading of ECDSA signatures (<c>SEQUENCE { r INTEGER, s INTEGER }</c>): the platform
/// accepts encodings Wycheproof marks invalid (a non-minimal INTEGER such as "MissingZero"), so every
/// DER signature is checked here before it reaches the platform in its fixed-width P1363 form.
/// </summary>
internal static class EcdsaDer
{
    /// <summary>
    /// Converts a DER signature to r || s, each left-padded to <paramref name="fieldLength"/> bytes.
    /// Returns false for anything but a minimal DER SEQUENCE of two positive, minimally encoded INTEGERs
    /// that fit the field, with no trailing bytes.
    /// </summary>
    public static bool TryToP1363(ReadOnlySpan<byte> der, int fieldLength, Span<byte> destination)
    {
        if (destination.Length != 2 * fieldLength)
        {
            throw new ArgumentException("The destination must hold r and s.", nameof(destination));
        }

        try
        {
            AsnDecoder.ReadSequence(der, AsnEncodingRules.DER, out var contentOffset, out var contentLength, out var consumed);
            if (consumed != der.Length)
            {
                return false;
            }

            var contents = der.Slice(contentOffset, contentLength);
            if (!TryReadPositiveInteger(ref contents, fieldLength, destination[..fieldLength])
                || !TryReadPositiveInteger(ref contents, fieldLength, destination[fieldLength..]))
            {
                return false;
            }

            return contents.IsEmpty;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    private static bool TryReadPositiveInteger(ref ReadOnlySpan<byte> contents, int fieldLength, Span<byte> destination)
    {
        // ReadIntegerBytes rejects empty and non-minimal INTEGER contents (X.690 8.3.2) and DER lengths.
        var value = AsnDecoder.ReadIntegerBytes(contents, AsnEncodingRules.DER, out var consumed);
        contents = contents[consumed..];
        if ((value[0] & 0x80) != 0)
        {
            return false; // negative
        }

        if (value[0] == 0)
        {
            value = value[1..]; // the sign byte of a value with its top bit set (or the value zero)
        }

        if (value.Length > fieldLength || value.IndexOfAnyExcept((byte)0) < 0)
        {
            return false; // too large for the field, or zero
        }

        destination.Clear();
        value.CopyTo(destination[(fieldLength - value.Length)..]);
        return true;
    }
}
