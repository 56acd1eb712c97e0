using EnvelopeKms.Cryptography;

namespace EnvelopeKms.KeyManagement;

/// <summary>What each supported key spec is: its usage, its material and its algorithms.</summary>
internal static class KeySpecs
{
    /// <summary>The only key usage a spec allows in this version.</summary>
    public static KeyUsage UsageOf(KeySpec spec) => IsHmac(spec) ? KeyUsage.GenerateVerifyMac : KeyUsage.EncryptDecrypt;

    /// <summary>The length of the (symmetric) key material in bytes.</summary>
    public static int MaterialLength(KeySpec spec) => spec switch
    {
        KeySpec.Hmac224 => 28,
        KeySpec.Hmac256 => 32,
        KeySpec.Hmac384 => 48,
        KeySpec.Hmac512 => 64,
        _ => SymmetricCiphertext.KeySize,
    };

    public static bool IsHmac(KeySpec spec) => spec is KeySpec.Hmac224 or KeySpec.Hmac256 or KeySpec.Hmac384 or KeySpec.Hmac512;

    /// <summary>The one MAC algorithm of an HMAC spec.</summary>
    public static MacAlgorithm MacAlgorithmOf(KeySpec spec) => spec switch
    {
        KeySpec.Hmac224 => MacAlgorithm.HmacSha224,
        KeySpec.Hmac256 => MacAlgorithm.HmacSha256,
        KeySpec.Hmac384 => MacAlgorithm.HmacSha384,
        KeySpec.Hmac512 => MacAlgorithm.HmacSha512,
        _ => throw new ArgumentOutOfRangeException(nameof(spec), spec, "Not an HMAC key spec."),
    };

    public static HmacAlgorithm ToPrimitive(MacAlgorithm algorithm) => algorithm switch
    {
        MacAlgorithm.HmacSha224 => HmacAlgorithm.Sha224,
        MacAlgorithm.HmacSha256 => HmacAlgorithm.Sha256,
        MacAlgorithm.HmacSha384 => HmacAlgorithm.Sha384,
        _ => HmacAlgorithm.Sha512,
    };
}
