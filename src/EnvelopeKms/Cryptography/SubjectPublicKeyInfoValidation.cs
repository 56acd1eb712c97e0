using System.Formats.Asn1;
using System.Security.Cryptography;

namespace EnvelopeKms.Cryptography;

/// <summary>
/// Strict reading of peer public keys before any platform import (RELIABILITY finding 2, row 25): the
/// platform accepts explicit-parameter curves, so only a DER SubjectPublicKeyInfo of
/// <c>id-ecPublicKey</c> with the named-curve OID of our own key's curve is let through.
/// </summary>
internal static class SubjectPublicKeyInfoValidation
{
    /// <summary>id-ecPublicKey (RFC 5480).</summary>
    public const string EcPublicKeyOid = "1.2.840.10045.2.1";

    /// <summary>
    /// Returns the EC point (the BIT STRING contents) of an SPKI that is DER, has no trailing data,
    /// names <paramref name="curveOid"/> as its parameters and holds an uncompressed point of the
    /// curve's length. Anything else (explicit parameters, another curve, BER, a compressed or infinity
    /// point) is a <see cref="KmsValidationException"/>.
    /// </summary>
    public static byte[] ReadNamedCurvePoint(ReadOnlySpan<byte> spki, string curveOid, int fieldLength)
    {
        try
        {
            var reader = new AsnReader(spki.ToArray(), AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();

            var algorithm = info.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != EcPublicKeyOid)
            {
                throw new KmsValidationException("The public key is not an elliptic-curve key.");
            }

            // Only namedCurve: ECParameters (explicit) and implicitCurve (NULL) are refused.
            if (algorithm.PeekTag() != Asn1Tag.ObjectIdentifier || algorithm.ReadObjectIdentifier() != curveOid)
            {
                throw new KmsValidationException("The public key is not on the key's named curve.");
            }

            algorithm.ThrowIfNotEmpty();
            var point = info.ReadBitString(out var unusedBits);
            info.ThrowIfNotEmpty();
            if (unusedBits != 0)
            {
                throw new KmsValidationException("The public key's BIT STRING is malformed.");
            }

            CheckUncompressedPoint(point, fieldLength);
            return point;
        }
        catch (AsnContentException e)
        {
            throw new KmsValidationException("The public key is not a DER SubjectPublicKeyInfo.", e);
        }
        catch (CryptographicException e)
        {
            throw new KmsValidationException("The public key is not a DER SubjectPublicKeyInfo.", e);
        }
    }

    /// <summary>An uncompressed SEC 1 point: 0x04, X and Y of the field length each.</summary>
    public static void CheckUncompressedPoint(ReadOnlySpan<byte> point, int fieldLength)
    {
        if (point.Length != 1 + (2 * fieldLength) || point[0] != 0x04)
        {
            throw new KmsValidationException("The public key must be an uncompressed point on the key's curve.");
        }
    }
}
