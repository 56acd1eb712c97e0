using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using Rfc8032 = Org.BouncyCastle.Math.EC.Rfc8032;

namespace EnvelopeKms.Cryptography;

/// <summary>The Ed25519 variants KMS offers on ECC_NIST_EDWARDS25519 keys.</summary>
internal enum Ed25519Variant
{
    /// <summary>ED25519_SHA_512: pure Ed25519 (RFC 8032) over a RAW message only.</summary>
    Pure,

    /// <summary>ED25519_PH_SHA_512: Ed25519ph with an empty context, over a RAW message (hashed with SHA-512 here) or a 64-byte SHA-512 DIGEST.</summary>
    Prehash,
}

/// <summary>
/// Ed25519 via BouncyCastle (the platform has none): key generation as PKCS#8 / SPKI (OID 1.3.101.112),
/// signing and verification. Non-canonical signatures (s ≥ L, bad point encodings) and wrong lengths
/// verify as <c>false</c>.
/// </summary>
internal static class Ed25519Signatures
{
    /// <summary>Where Ed25519 runs here (see <see cref="CryptoProvenance"/>).</summary>
    public const CryptoProvider Provider = CryptoProvider.BouncyCastle;

    private const string Ed25519Oid = "1.3.101.112";
    public const int SignatureLength = 64;

    public static (byte[] Pkcs8, byte[] Spki) GenerateKeyPair()
    {
        var seed = new byte[Ed25519PrivateKeyParameters.KeySize];
        try
        {
            RandomNumberGenerator.Fill(seed);
            var privateKey = new Ed25519PrivateKeyParameters(seed);
            var pkcs8 = PrivateKeyInfoFactory.CreatePrivateKeyInfo(privateKey).GetDerEncoded();
            var spki = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(privateKey.GeneratePublicKey()).GetDerEncoded();
            return (pkcs8, spki);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public static byte[] Sign(ReadOnlySpan<byte> pkcs8, Ed25519Variant variant, ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        var privateKey = ImportPrivate(pkcs8);
        var signature = new byte[SignatureLength];
        if (variant == Ed25519Variant.Pure)
        {
            var raw = PureMessage(message, type);
            privateKey.Sign(Rfc8032.Ed25519.Algorithm.Ed25519, null, raw, 0, raw.Length, signature, 0);
        }
        else
        {
            var prehash = SignatureInput.ToDigest(message, type, SignatureHash.Sha512);
            privateKey.Sign(Rfc8032.Ed25519.Algorithm.Ed25519ph, [], prehash, 0, prehash.Length, signature, 0);
        }

        return signature;
    }

    public static bool Verify(ReadOnlySpan<byte> spki, Ed25519Variant variant, ReadOnlySpan<byte> message, SignatureMessageType type, ReadOnlySpan<byte> signature)
    {
        var publicKey = ImportPublic(spki);
        byte[] input;
        Rfc8032.Ed25519.Algorithm algorithm;
        byte[]? context;
        if (variant == Ed25519Variant.Pure)
        {
            input = PureMessage(message, type);
            algorithm = Rfc8032.Ed25519.Algorithm.Ed25519;
            context = null;
        }
        else
        {
            input = SignatureInput.ToDigest(message, type, SignatureHash.Sha512);
            algorithm = Rfc8032.Ed25519.Algorithm.Ed25519ph;
            context = [];
        }

        if (signature.Length != SignatureLength)
        {
            return false;
        }

        return publicKey.Verify(algorithm, context, input, 0, input.Length, signature.ToArray(), 0);
    }

    /// <summary>The SPKI of the public key of a PKCS#8 private key.</summary>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> pkcs8)
        => SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(ImportPrivate(pkcs8).GeneratePublicKey()).GetDerEncoded();

    private static byte[] PureMessage(ReadOnlySpan<byte> message, SignatureMessageType type)
    {
        if (type != SignatureMessageType.Raw)
        {
            throw new KmsValidationException("ED25519_SHA_512 signs RAW messages only; use ED25519_PH_SHA_512 for a DIGEST.");
        }

        SignatureInput.CheckRaw(message);
        return message.ToArray();
    }

    private static Ed25519PrivateKeyParameters ImportPrivate(ReadOnlySpan<byte> pkcs8)
    {
        var copy = pkcs8.ToArray();
        try
        {
            return PrivateKeyFactory.CreateKey(copy) as Ed25519PrivateKeyParameters
                ?? throw new KmsValidationException("The private key is not an Ed25519 PKCS#8 key.");
        }
        catch (Exception e) when (e is not KmsValidationException)
        {
            throw new KmsValidationException("The private key is not a valid Ed25519 PKCS#8 key.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    private static Ed25519PublicKeyParameters ImportPublic(ReadOnlySpan<byte> spki)
    {
        var key = SubjectPublicKeyInfoReader.ReadKey(spki, Ed25519Oid, parameterOid: null);
        if (key.Length != Ed25519PublicKeyParameters.KeySize)
        {
            throw new KmsValidationException("An Ed25519 public key is 32 bytes.");
        }

        try
        {
            return new Ed25519PublicKeyParameters(key);
        }
        catch (ArgumentException e)
        {
            throw new KmsValidationException("The Ed25519 public key is not a valid point.", e);
        }
    }
}
