using System.Security.Cryptography;

namespace EnvelopeKms.Envelope;

/// <summary>Which AES-256-GCM implementation seals and opens envelope bodies.</summary>
public enum AeadBackend
{
    /// <summary>
    /// Per message size, the faster of the two on this platform: libsodium (through NSec) below
    /// 32 KiB, where its small fixed cost wins, and the platform's <see cref="AesGcm"/> from 32 KiB,
    /// where OpenSSL's bulk throughput wins; the platform's alone where libsodium is unavailable.
    /// </summary>
    Automatic = 0,
    /// <summary>The platform's <see cref="AesGcm"/> (OpenSSL on Linux), instances pooled per data key.</summary>
    Platform,
    /// <summary>libsodium's AES-256-GCM through NSec; needs AES-NI and CLMUL.</summary>
    Libsodium,
}

/// <summary>
/// A 256-bit AES-GCM key ready for many concurrent seals and opens. Both implementations produce the
/// standard AES-GCM output, so the choice never shows in the message format.
/// </summary>
internal abstract class AeadKey : IDisposable
{
    public static bool LibsodiumSupported { get; } = ProbeLibsodium();

    public static AeadKey Create(ReadOnlySpan<byte> key, AeadBackend backend) => backend switch
    {
        AeadBackend.Platform => new PlatformAeadKey(key),
        AeadBackend.Libsodium => new SodiumAeadKey(key),
        _ => LibsodiumSupported ? new HybridAeadKey(key) : new PlatformAeadKey(key),
    };

    /// <summary>Seals: <paramref name="ciphertextAndTag"/> is the ciphertext followed by the 16-byte tag.</summary>
    public abstract void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag);

    /// <summary>Opens; on failure returns false and leaves <paramref name="plaintext"/> zeroed.</summary>
    public abstract bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext);

    public abstract void Dispose();

    private static bool ProbeLibsodium()
    {
        try
        {
            return NSec.Cryptography.Aes256Gcm.IsSupported;
        }
#pragma warning disable CA1031 // A missing native library means "not supported", whatever the exception.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}

/// <summary>
/// Chooses the implementation per message size (both produce the same bytes): libsodium below
/// <see cref="BulkThreshold"/>, the platform's pooled <see cref="AesGcm"/> from it on.
/// </summary>
internal sealed class HybridAeadKey : AeadKey
{
    /// <summary>Measured on this project's machine kind: see benchmarks/README.md.</summary>
    public const int BulkThreshold = 32 * 1024;

    private readonly SodiumAeadKey _small;
    private readonly PlatformAeadKey _bulk;

    public HybridAeadKey(ReadOnlySpan<byte> key)
    {
        _small = new SodiumAeadKey(key);
        _bulk = new PlatformAeadKey(key);
    }

    public override void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        if (plaintext.Length < BulkThreshold)
        {
            _small.Seal(nonce, plaintext, associatedData, ciphertextAndTag);
        }
        else
        {
            _bulk.Seal(nonce, plaintext, associatedData, ciphertextAndTag);
        }
    }

    public override bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
        => plaintext.Length < BulkThreshold
            ? _small.TryOpen(nonce, ciphertextAndTag, associatedData, plaintext)
            : _bulk.TryOpen(nonce, ciphertextAndTag, associatedData, plaintext);

    public override void Dispose()
    {
        _small.Dispose();
        _bulk.Dispose();
    }
}

/// <summary>libsodium AES-256-GCM: stateless calls on a key held in libsodium's secure memory; thread-safe.</summary>
internal sealed class SodiumAeadKey : AeadKey
{
    private static readonly NSec.Cryptography.AeadAlgorithm Algorithm = NSec.Cryptography.AeadAlgorithm.Aes256Gcm;
    private readonly NSec.Cryptography.Key _key;

    public SodiumAeadKey(ReadOnlySpan<byte> key)
        => _key = NSec.Cryptography.Key.Import(Algorithm, key, NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);

    public override void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
        => Algorithm.Encrypt(_key, nonce, associatedData, plaintext, ciphertextAndTag);

    public override bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        if (Algorithm.Decrypt(_key, nonce, associatedData, ciphertextAndTag, plaintext))
        {
            return true;
        }

        CryptographicOperations.ZeroMemory(plaintext);
        return false;
    }

    public override void Dispose() => _key.Dispose();
}

/// <summary>
/// The platform's <see cref="AesGcm"/>, which is not thread-safe on Linux: a small lock-free pool of
/// instances per key, so concurrent callers never share one and the steady state allocates nothing.
/// </summary>
internal sealed class PlatformAeadKey : AeadKey
{
    private readonly byte[] _key = GC.AllocateArray<byte>(32, pinned: true);
    private readonly AesGcm?[] _pool = new AesGcm?[Math.Max(2, Environment.ProcessorCount * 2)];

    public PlatformAeadKey(ReadOnlySpan<byte> key) => key.CopyTo(_key);

    public override void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> ciphertextAndTag)
    {
        var aes = Rent();
        try
        {
            aes.Encrypt(nonce, plaintext, ciphertextAndTag[..plaintext.Length], ciphertextAndTag[plaintext.Length..], associatedData);
        }
        finally
        {
            Return(aes);
        }
    }

    public override bool TryOpen(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> associatedData, Span<byte> plaintext)
    {
        var aes = Rent();
        try
        {
            var length = ciphertextAndTag.Length - EnvelopeFormat.TagSize;
            aes.Decrypt(nonce, ciphertextAndTag[..length], ciphertextAndTag[length..], plaintext, associatedData);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return false;
        }
        finally
        {
            Return(aes);
        }
    }

    private AesGcm Rent()
    {
        for (var i = 0; i < _pool.Length; i++)
        {
            if (Volatile.Read(ref _pool[i]) is not null && Interlocked.Exchange(ref _pool[i], null) is { } aes)
            {
                return aes;
            }
        }

        return new AesGcm(_key, EnvelopeFormat.TagSize);
    }

    private void Return(AesGcm aes)
    {
        for (var i = 0; i < _pool.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _pool[i], aes, null) is null)
            {
                return;
            }
        }

        aes.Dispose();
    }

    public override void Dispose()
    {
        for (var i = 0; i < _pool.Length; i++)
        {
            Interlocked.Exchange(ref _pool[i], null)?.Dispose();
        }

        CryptographicOperations.ZeroMemory(_key);
    }
}
