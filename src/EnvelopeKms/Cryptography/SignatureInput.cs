using System.Security.Cryptography;

namespace EnvelopeKms.Cryptography;

/// <summary>The hash a signing algorithm applies to the message (KMS offers SHA-2 256/384/512 only).</summary>
internal enum SignatureHash
{
    Sha256,
    Sha384,
    Sha512,
}

/// <summary>How the bytes handed to Sign/Verify are to be read (KMS <c>MessageType</c>).</summary>
internal enum SignatureMessageType
{
    /// <summary>The message itself (at most <see cref="SignatureInput.MaxRawMessageLength"/> bytes); the primitive hashes it.</summary>
    Raw,

    /// <summary>A precomputed digest whose length must equal the algorithm's hash length.</summary>
    Digest,

    /// <summary>The ML-DSA external µ (64 bytes), through the platform's MLDsa (BouncyCastle 2.7 keeps signing from µ internal); ML-DSA only.</summary>
    ExternalMu,
}

/// <summary>Input checks shared by the signature families.</summary>
internal static class SignatureInput
{
    /// <summary>The largest RAW message KMS signs ("Messages can be 0-4096 bytes. To sign a larger message, provide a message digest").</summary>
    public const int MaxRawMessageLength = 4096;

    public static HashAlgorithmName Name(SignatureHash hash) => hash switch
    {
        SignatureHash.Sha256 => HashAlgorithmName.SHA256,
        SignatureHash.Sha384 => HashAlgorithmName.SHA384,
        SignatureHash.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new KmsValidationException("Unsupported signing hash."),
    };

    public static int DigestLength(SignatureHash hash) => hash switch
    {
        SignatureHash.Sha256 => 32,
        SignatureHash.Sha384 => 48,
        SignatureHash.Sha512 => 64,
        _ => throw new KmsValidationException("Unsupported signing hash."),
    };

    /// <summary>
    /// Returns the digest to sign or verify: the hash of a RAW message (after its length check) or the
    /// caller's DIGEST after checking that its length matches <paramref name="hash"/>.
    /// </summary>
    public static byte[] ToDigest(ReadOnlySpan<byte> message, SignatureMessageType type, SignatureHash hash)
    {
        switch (type)
        {
            case SignatureMessageType.Raw:
                CheckRaw(message);
                return hash switch
                {
                    SignatureHash.Sha256 => SHA256.HashData(message),
                    SignatureHash.Sha384 => SHA384.HashData(message),
                    SignatureHash.Sha512 => SHA512.HashData(message),
                    _ => throw new KmsValidationException("Unsupported signing hash."),
                };
            case SignatureMessageType.Digest:
                var expected = DigestLength(hash);
                if (message.Length != expected)
                {
                    throw new KmsValidationException($"A DIGEST message for this signing algorithm must be {expected} bytes; got {message.Length}.");
                }

                return message.ToArray();
            default:
                throw new KmsValidationException($"Message type {type} is not supported by this signing algorithm.");
        }
    }

    public static void CheckRaw(ReadOnlySpan<byte> message)
    {
        if (message.Length > MaxRawMessageLength)
        {
            throw new KmsValidationException($"A RAW message can be at most {MaxRawMessageLength} bytes; to sign a larger message, provide a message digest.");
        }
    }
}
