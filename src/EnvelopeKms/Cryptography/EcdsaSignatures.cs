using System.Security.Cryptography;

namespace EnvelopeKms.Cryptography;

/// <summary>The curves KMS offers for ECDSA (ECC_NIST_P256/P384/P521, ECC_SECG_P256K1).</summary>
internal enum EcdsaCurve
{
    P256,
    P384,
    P521,
    Secp256k1,
}

/// <summary>
/// ECDSA on the platform: key generation as PKCS#8/SPKI, signing to DER (as KMS returns), verification of
/// DER signatures with a strict DER check first (<see cref="EcdsaDer"/>), and of IEEE P1363 (r || s) ones.
/// The hash is the one KMS pairs with each curve: P-256 and secp256k1 SHA-256, P-384 SHA-384, P-521 SHA-512.
/// Peer public keys must be named-curve <c>id-ecPublicKey</c> SPKIs on the key's own curve.
/// </summary>
internal static class EcdsaSignatures
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";

    public static SignatureHash HashFor(EcdsaCurve curve) => curve switch
    {
        EcdsaCurve.P256 or EcdsaCurve.Secp256k1 => SignatureHash.Sha256,
        EcdsaCurve.P384 => SignatureHash.Sha384,
        EcdsaCurve.P521 => SignatureHash.Sha512,
        _ => throw new KmsValidationException("Unsupported ECDSA curve."),
    };

    /// <summary>Bytes of one field element / scalar (r and s in P1363 form).</summary>
    public static int FieldLength(EcdsaCurve curve) => curve switch
    {
        EcdsaCurve.P256 or EcdsaCurve.Secp256k1 => 32,
        EcdsaCurve.P384 => 48,
        EcdsaCurve.P521 => 66,
        _ => throw new KmsValidationException("Unsupported ECDSA curve."),
    };

    public static string CurveOid(EcdsaCurve curve) => curve switch
    {
        EcdsaCurve.P256 => "1.2.840.10045.3.1.7",
        EcdsaCurve.P384 => "1.3.132.0.34",
        EcdsaCurve.P521 => "1.3.132.0.35",
        EcdsaCurve.Secp256k1 => "1.3.132.0.10",
        _ => throw new KmsValidationException("Unsupported ECDSA curve."),
    };

    /// <summary>Whether the platform has the curve (secp256k1 is missing on macOS).</summary>
    public static bool IsSupported(EcdsaCurve curve)
    {
        try
        {
            using var key = ECDsa.Create(ECCurve.CreateFromValue(CurveOid(curve)));
            return true;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or CryptographicException)
        {
            return false;
        }
    }

    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair(EcdsaCurve curve)
    {
        using var key = ECDsa.Create(ECCurve.CreateFromValue(CurveOid(curve)));
        var pkcs8 = key.ExportPkcs8PrivateKey();
        var spki = key.ExportSubjectPublicKeyInfo();

        // Pair-wise consistency test before the key is handed out.
        var probe = RandomNumberGenerator.GetBytes(SignatureInput.DigestLength(HashFor(curve)));
        var signature = key.SignHash(probe, DSASignatureFormat.Rfc3279DerSequence);
        if (!Verify(spki, curve, probe, SignatureMessageType.Digest, signature))
        {
            CryptographicOperations.ZeroMemory(pkcs8);
            throw new CryptographicException("The generated EC key pair failed its pair-wise consistency test.");
        }

        return (pkcs8, spki);
    }

    /// <summary>Signs and returns the DER (<c>SEQUENCE { r, s }</c>) signature.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> pkcs8, EcdsaCurve curve, ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        using var key = ImportPrivate(pkcs8, curve);
        return Sign(key, curve, message, type);
    }

    /// <summary>Signs with an imported private key (from <see cref="ImportPrivate"/>) and returns the DER signature.</summary>
    public static byte[] Sign(ECDsa key, EcdsaCurve curve, ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        var digest = SignatureInput.ToDigest(message, type, HashFor(curve));
        return key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>Verifies a DER signature, strictly: any encoding but minimal DER is <c>false</c>.</summary>
    public static bool Verify(ReadOnlySpan<byte> spki, EcdsaCurve curve, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> derSignature)
    {
        SignatureInput.ToDigest(message, type, HashFor(curve)); // input errors before the key is read
        using var key = ImportPublic(spki, curve);
        return Verify(key, curve, message, type, derSignature);
    }

    /// <summary>Verifies a DER signature with an imported key (from <see cref="ImportPublic"/>), strictly.</summary>
    public static bool Verify(ECDsa key, EcdsaCurve curve, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> derSignature)
    {
        var digest = SignatureInput.ToDigest(message, type, HashFor(curve));
        var fieldLength = FieldLength(curve);
        Span<byte> p1363 = stackalloc byte[2 * fieldLength];
        return EcdsaDer.TryToP1363(derSignature, fieldLength, p1363) && VerifyFixed(key, digest, p1363);
    }

    /// <summary>Verifies an IEEE P1363 (r || s, fixed width) signature; a wrong length is <c>false</c>.</summary>
    public static bool VerifyP1363(ReadOnlySpan<byte> spki, EcdsaCurve curve, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> signature)
    {
        var digest = SignatureInput.ToDigest(message, type, HashFor(curve));
        using var key = ImportPublic(spki, curve);
        return signature.Length == 2 * FieldLength(curve) && VerifyFixed(key, digest, signature);
    }

    private static bool VerifyFixed(ECDsa key, byte[] digest, ReadOnlySpan<byte> p1363)
    {
        try
        {
            return key.VerifyHash(digest, p1363, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    internal static ECDsa ImportPrivate(ReadOnlySpan<byte> pkcs8, EcdsaCurve curve)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            var parameters = key.ExportParameters(false);
            if (read != pkcs8.Length || !parameters.Curve.IsNamed || parameters.Curve.Oid.Value != CurveOid(curve))
            {
                throw new KmsValidationException("The EC private key is not a PKCS#8 key on the expected named curve.");
            }

            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new KmsValidationException("The EC private key is not a valid PKCS#8 key.", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Imports a named-curve <c>id-ecPublicKey</c> SPKI on <paramref name="curve"/> with an uncompressed point; anything else is a validation error.</summary>
    internal static ECDsa ImportPublic(ReadOnlySpan<byte> spki, EcdsaCurve curve)
    {
        var point = SubjectPublicKeyInfoReader.ReadKey(spki, EcPublicKeyOid, CurveOid(curve));
        var fieldLength = FieldLength(curve);
        if (point.Length != 1 + (2 * fieldLength) || point[0] != 0x04)
        {
            throw new KmsValidationException("The EC public key must be an uncompressed point on the key's curve.");
        }

        var parameters = new ECParameters
        {
            Curve = ECCurve.CreateFromValue(CurveOid(curve)),
            Q = new ECPoint { X = point[1..(1 + fieldLength)], Y = point[(1 + fieldLength)..] },
        };
        var key = ECDsa.Create();
        try
        {
            key.ImportParameters(parameters); // validates that the point is on the curve
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new KmsValidationException("The EC public key is not a valid point on the key's curve.", e);
        }
    }
}
