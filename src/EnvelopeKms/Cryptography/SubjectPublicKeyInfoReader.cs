using System.Formats.Asn1;

namespace EnvelopeKms.Cryptography;

/// <summary>Strict reading of a DER SubjectPublicKeyInfo whose algorithm identifier is known in advance.</summary>
internal static class SubjectPublicKeyInfoReader
{
    /// <summary>
    /// Reads <c>SEQUENCE { SEQUENCE { algorithm OID [, parameters OID] }, BIT STRING }</c> in DER with no
    /// trailing bytes, requiring exactly <paramref name="algorithmOid"/> and, when given, a named-curve
    /// parameter equal to <paramref name="parameterOid"/> (when null: no parameters at all). Returns the
    /// key bytes or throws <see cref="KmsValidationException"/>.
    /// </summary>
    public static byte[] ReadKey(ReadOnlySpan<byte> spki, string algorithmOid, string? parameterOid)
    {
        try
        {
            var reader = new AsnReader(spki.ToArray(), AsnEncodingRules.DER);
            var info = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithm = info.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != algorithmOid)
            {
                throw new KmsValidationException("The public key is not of the expected algorithm.");
            }

            if (parameterOid is not null)
            {
                if (!algorithm.HasData || algorithm.PeekTag() != Asn1Tag.ObjectIdentifier || algorithm.ReadObjectIdentifier() != parameterOid)
                {
                    throw new KmsValidationException("The public key is not on the expected named curve.");
                }
            }

            algorithm.ThrowIfNotEmpty();
            var key = info.ReadBitString(out var unusedBits);
            info.ThrowIfNotEmpty();
            if (unusedBits != 0)
            {
                throw new KmsValidationException("The public key bit string is malformed.");
            }

            return key;
        }
        catch (AsnContentException e)
        {
            throw new KmsValidationException("The public key is not a valid DER SubjectPublicKeyInfo.", e);
        }
    }
}
