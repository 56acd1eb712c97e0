using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace EnvelopeKms.Import;

/// <summary>
/// AES key wrap with padding (RFC 5649, NIST SP 800-38F KWP), which the platform lacks: BouncyCastle's
/// <see cref="AesWrapPadEngine"/>. Any failure to unwrap (a wrong key, a modified integrity check value,
/// bad padding, a wrong length) is one <see cref="KmsInvalidCiphertextException"/> with one message.
/// </summary>
internal static class AesKeyWrapPad
{
    /// <summary>Unwraps <paramref name="wrapped"/> with the AES key <paramref name="key"/> (16, 24 or 32 bytes).</summary>
    /// <exception cref="KmsInvalidCiphertextException">The input does not unwrap.</exception>
    public static byte[] Unwrap(ReadOnlySpan<byte> key, ReadOnlySpan<byte> wrapped)
    {
        // RFC 5649: at least two 64-bit blocks, a whole number of them.
        if (wrapped.Length < 16 || wrapped.Length % 8 != 0)
        {
            throw Invalid(null);
        }

        var engine = new AesWrapPadEngine();
        try
        {
            engine.Init(forWrapping: false, new KeyParameter(key));
            var input = wrapped.ToArray();
            return engine.Unwrap(input, 0, input.Length);
        }
        catch (Exception e) when (e is InvalidCipherTextException or ArgumentException or DataLengthException)
        {
            throw Invalid(e);
        }
    }

    /// <summary>Wraps <paramref name="material"/> with <paramref name="key"/> (for tests and the sample's .NET path).</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> key, ReadOnlySpan<byte> material)
    {
        var engine = new AesWrapPadEngine();
        engine.Init(forWrapping: true, new KeyParameter(key));
        var input = material.ToArray();
        return engine.Wrap(input, 0, input.Length);
    }

    private static KmsInvalidCiphertextException Invalid(Exception? inner)
        => new("The encrypted key material does not unwrap (AES key wrap with padding).", inner);
}
