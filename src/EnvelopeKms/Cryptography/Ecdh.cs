using System.Security.Cryptography;

namespace EnvelopeKms.Cryptography;

/// <summary>The key-agreement curves KMS offers.</summary>
internal enum EcdhCurve
{
    /// <summary>ECC_NIST_P256 (secp256r1).</summary>
    P256,

    /// <summary>ECC_NIST_P384 (secp384r1).</summary>
    P384,

    /// <summary>ECC_NIST_P521 (secp521r1).</summary>
    P521,

    /// <summary>ECC_SECG_P256K1 (secp256k1).</summary>
    Secp256k1,
}

/// <summary>
/// ECDH with the platform's elliptic curves (secp256k1 included: the platform has it on Linux and
/// Windows; where it does not, operations on it throw <see cref="PlatformNotSupportedException"/>).
/// Private keys are PKCS#8 DER; peers give a SubjectPublicKeyInfo (checked strictly by
/// <see cref="SubjectPublicKeyInfoValidation"/>) or a raw uncompressed point. The result is the raw
/// shared secret, the x-coordinate of d·Q, as KMS DeriveSharedSecret returns it.
/// </summary>
internal static class Ecdh
{
    /// <summary>The named-curve OID of a curve.</summary>
    public static string Oid(EcdhCurve curve) => curve switch
    {
        EcdhCurve.P256 => "1.2.840.10045.3.1.7",
        EcdhCurve.P384 => "1.3.132.0.34",
        EcdhCurve.P521 => "1.3.132.0.35",
        EcdhCurve.Secp256k1 => "1.3.132.0.10",
        _ => throw new KmsValidationException("Unknown curve."),
    };

    /// <summary>The length in bytes of a field element (and of the shared secret).</summary>
    public static int FieldLength(EcdhCurve curve) => curve switch
    {
        EcdhCurve.P256 or EcdhCurve.Secp256k1 => 32,
        EcdhCurve.P384 => 48,
        EcdhCurve.P521 => 66,
        _ => throw new KmsValidationException("Unknown curve."),
    };

    private static readonly Lazy<bool> Secp256k1Supported = new(() =>
    {
        try
        {
            using var ecdh = ECDiffieHellman.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
            return true;
        }
        catch (Exception e) when (e is PlatformNotSupportedException or CryptographicException)
        {
            return false;
        }
    });

    /// <summary>Whether the platform offers the curve here (secp256k1 is absent on macOS).</summary>
    public static bool IsSupported(EcdhCurve curve) => curve != EcdhCurve.Secp256k1 || Secp256k1Supported.Value;

    /// <summary>Generates a key pair on the curve.</summary>
    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair(EcdhCurve curve)
    {
        using var ecdh = Create(curve);
        ecdh.GenerateKey(Curve(curve));
        return (ecdh.ExportPkcs8PrivateKey(), ecdh.ExportSubjectPublicKeyInfo());
    }

    /// <summary>A PKCS#8 private key from a big-endian private scalar (leading zero bytes are allowed).</summary>
    public static byte[] ImportPrivateScalar(EcdhCurve curve, ReadOnlySpan<byte> scalar)
    {
        var length = FieldLength(curve);
        var trimmed = scalar.TrimStart((byte)0);
        if (trimmed.Length > length || trimmed.IsEmpty)
        {
            throw new KmsValidationException("The private scalar is out of range.");
        }

        var d = new byte[length];
        trimmed.CopyTo(d.AsSpan(length - trimmed.Length));
        try
        {
            using var ecdh = Create(curve);
            ecdh.ImportParameters(new ECParameters { Curve = Curve(curve), D = d });
            return ecdh.ExportPkcs8PrivateKey();
        }
        catch (CryptographicException e)
        {
            throw new KmsValidationException("The private scalar is out of range.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    /// <summary>Derives the shared secret with a peer's SubjectPublicKeyInfo (named curve, ours only).</summary>
    public static byte[] DeriveSharedSecret(EcdhCurve curve, ReadOnlySpan<byte> privatePkcs8, ReadOnlySpan<byte> peerSpki)
    {
        var point = SubjectPublicKeyInfoValidation.ReadNamedCurvePoint(peerSpki, Oid(curve), FieldLength(curve));
        return DeriveSharedSecretFromPoint(curve, privatePkcs8, point);
    }

    /// <summary>Derives the shared secret with a peer's uncompressed SEC 1 point (0x04 || X || Y).</summary>
    public static byte[] DeriveSharedSecretFromPoint(EcdhCurve curve, ReadOnlySpan<byte> privatePkcs8, ReadOnlySpan<byte> peerPoint)
    {
        SubjectPublicKeyInfoValidation.CheckUncompressedPoint(peerPoint, FieldLength(curve));
        using var ours = ImportPrivateKey(curve, privatePkcs8);
        return DeriveSharedSecretFromPoint(curve, ours, peerPoint);
    }

    /// <summary>Derives the shared secret of an imported private key (from <see cref="ImportPrivateKey"/>) with a peer's uncompressed point.</summary>
    internal static byte[] DeriveSharedSecretFromPoint(EcdhCurve curve, ECDiffieHellman ours, ReadOnlySpan<byte> peerPoint)
    {
        var length = FieldLength(curve);
        SubjectPublicKeyInfoValidation.CheckUncompressedPoint(peerPoint, length);
        using var peer = Create(curve);
        try
        {
            // The platform checks that the point lies on the curve (and is not the identity) on import.
            peer.ImportParameters(new ECParameters
            {
                Curve = Curve(curve),
                Q = new ECPoint { X = peerPoint.Slice(1, length).ToArray(), Y = peerPoint.Slice(1 + length, length).ToArray() },
            });
        }
        catch (CryptographicException e)
        {
            throw new KmsValidationException("The public key is not a point on the key's curve.", e);
        }

        try
        {
            using var peerPublic = peer.PublicKey;
            return ours.DeriveRawSecretAgreement(peerPublic);
        }
        catch (CryptographicException e)
        {
            throw new KmsValidationException("The shared secret could not be derived from this public key.", e);
        }
    }

    internal static ECDiffieHellman ImportPrivateKey(EcdhCurve curve, ReadOnlySpan<byte> pkcs8)
    {
        var ecdh = Create(curve);
        try
        {
            ecdh.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || ecdh.ExportParameters(false).Curve.Oid?.Value != Oid(curve))
            {
                throw new KmsValidationException("The private key is not a key on the expected curve.");
            }

            return ecdh;
        }
        catch (CryptographicException e)
        {
            ecdh.Dispose();
            throw new KmsValidationException("The private key could not be read.", e);
        }
        catch
        {
            ecdh.Dispose();
            throw;
        }
    }

    private static ECDiffieHellman Create(EcdhCurve curve)
    {
        if (!IsSupported(curve))
        {
            throw new PlatformNotSupportedException($"The curve {curve} is not available on this platform.");
        }

        return ECDiffieHellman.Create();
    }

    private static ECCurve Curve(EcdhCurve curve) => curve switch
    {
        EcdhCurve.P256 => ECCurve.NamedCurves.nistP256,
        EcdhCurve.P384 => ECCurve.NamedCurves.nistP384,
        EcdhCurve.P521 => ECCurve.NamedCurves.nistP521,
        EcdhCurve.Secp256k1 => ECCurve.CreateFromValue("1.3.132.0.10"),
        _ => throw new KmsValidationException("Unknown curve."),
    };
}
