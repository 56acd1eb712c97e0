using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using BcHMac = Org.BouncyCastle.Crypto.Macs.HMac;

namespace EnvelopeKms.Cryptography;

/// <summary>The HMAC algorithms of KMS's HMAC keys (<c>HMAC_SHA_224</c> … <c>HMAC_SHA_512</c>).</summary>
internal enum HmacAlgorithm
{
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

/// <summary>
/// HMAC (RFC 2104) for HMAC keys: SHA-256/384/512 from the platform; SHA-224, which .NET does not
/// offer, from BouncyCastle. Verification recomputes the MAC and compares it in constant time, and
/// accepts only a MAC of the algorithm's full length, as KMS does.
/// </summary>
internal static class Hmac
{
    /// <summary>Where an HMAC algorithm runs here: SHA-224 in BouncyCastle (see <see cref="ComputeSha224"/>), the others on the platform.</summary>
    public static CryptoProvider ProviderOf(HmacAlgorithm algorithm)
        => algorithm == HmacAlgorithm.Sha224 ? CryptoProvider.BouncyCastle : CryptoProvider.Platform;

    /// <summary>The MAC length in bytes.</summary>
    public static int MacSize(HmacAlgorithm algorithm) => algorithm switch
    {
        HmacAlgorithm.Sha224 => 28,
        HmacAlgorithm.Sha256 => 32,
        HmacAlgorithm.Sha384 => 48,
        HmacAlgorithm.Sha512 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Not an HMAC algorithm."),
    };

    /// <summary>Writes the MAC of <paramref name="message"/> into <paramref name="mac"/> (exactly <see cref="MacSize"/> bytes).</summary>
    public static void Compute(HmacAlgorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> mac)
    {
        if (mac.Length != MacSize(algorithm))
        {
            throw new ArgumentException($"The MAC buffer must be {MacSize(algorithm)} bytes.", nameof(mac));
        }

        switch (algorithm)
        {
            case HmacAlgorithm.Sha256:
                HMACSHA256.HashData(key, message, mac);
                break;
            case HmacAlgorithm.Sha384:
                HMACSHA384.HashData(key, message, mac);
                break;
            case HmacAlgorithm.Sha512:
                HMACSHA512.HashData(key, message, mac);
                break;
            default:
                ComputeSha224(key, message, mac);
                break;
        }
    }

    /// <summary>The MAC of <paramref name="message"/>.</summary>
    public static byte[] Compute(HmacAlgorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> message)
    {
        var mac = new byte[MacSize(algorithm)];
        Compute(algorithm, key, message, mac);
        return mac;
    }

    /// <summary>
    /// Whether <paramref name="mac"/> is the MAC of <paramref name="message"/>: <see langword="false"/> for
    /// a wrong MAC or one of another length, never an exception. Constant time in the MAC's content.
    /// </summary>
    public static bool Verify(HmacAlgorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> mac)
    {
        var size = MacSize(algorithm);
        if (mac.Length != size)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[64];
        expected = expected[..size];
        try
        {
            Compute(algorithm, key, message, expected);
            return CryptographicOperations.FixedTimeEquals(expected, mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    private static void ComputeSha224(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> mac)
    {
        var hmac = new BcHMac(new Sha224Digest());
        var keyCopy = key.ToArray();
        try
        {
            hmac.Init(new KeyParameter(keyCopy));
            hmac.BlockUpdate(message);
            hmac.DoFinal(mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
            hmac.Reset();
        }
    }
}
