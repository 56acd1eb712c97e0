using System.Text;
using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.Envelope;

/// <summary>
/// Envelope encryption bound to one KMS key and one encryption context (like Data Protection's
/// <c>CreateProtector</c>). The span-first methods follow the runtime's shapes:
/// <c>GetCiphertextLength</c> sizes, <c>TryEncrypt</c> returns false when the destination is too
/// small, <c>Encrypt</c> into a span throws, and the <c>byte[]</c> overloads allocate exactly once.
/// With a data key cached, encrypting and decrypting allocate nothing, do no I/O and make no
/// key-manager call; on a cache miss the synchronous methods wait for the key manager, and the
/// <c>Async</c> methods do not block. Safe for concurrent use.
/// </summary>
/// <remarks>
/// Decrypting through a protector also checks that the envelope was made for its encryption
/// context (and, when the protector names a key by id or ARN, for its key); a mismatch is the same
/// <see cref="KmsInvalidCiphertextException"/> as any other invalid envelope.
/// </remarks>
// EncryptAsync/DecryptAsync come as memory and as stream overloads, each with optional trailing
// arguments; their first parameters' types differ (memory vs Stream), so calls resolve unambiguously.
#pragma warning disable RS0026, RS0027
public sealed partial class EnvelopeProtector
{
    private readonly EnvelopeEncryptor _owner;
    private readonly EncryptSlot _slot;
    private readonly byte[]? _boundKeyId;
    private DataKeyEntry? _lastDecrypt;

    internal EnvelopeProtector(EnvelopeEncryptor owner, EncryptSlot slot, IReadOnlyDictionary<string, string>? encryptionContext)
    {
        _owner = owner;
        _slot = slot;
        EncryptionContext = encryptionContext is null ? new Dictionary<string, string>() : new Dictionary<string, string>(encryptionContext);
        var keyId = slot.KeyId;
        var arnIndex = keyId.StartsWith("arn:", StringComparison.Ordinal) ? keyId.LastIndexOf(":key/", StringComparison.Ordinal) : -1;
        if (arnIndex >= 0)
        {
            keyId = keyId[(arnIndex + 5)..];
        }

        _boundKeyId = keyId.StartsWith("alias/", StringComparison.Ordinal) || keyId.StartsWith("arn:", StringComparison.Ordinal)
            ? null
            : Encoding.ASCII.GetBytes(keyId);
    }

    /// <summary>The KMS key this protector encrypts under, as given.</summary>
    public string KeyId => _slot.KeyId;

    /// <summary>The encryption context stored in, and authenticated with, every envelope.</summary>
    public IReadOnlyDictionary<string, string> EncryptionContext { get; }

    /// <summary>
    /// The length of the envelope of a plaintext of <paramref name="plaintextLength"/> bytes. The header's
    /// size is fixed once the first data key exists, so the first call may generate one.
    /// </summary>
    public int GetCiphertextLength(int plaintextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(plaintextLength);
        var headerLength = GetHeaderLength();
        if (plaintextLength > int.MaxValue - headerLength - EnvelopeFormat.OneShotOverhead)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintextLength), plaintextLength, "The envelope of a plaintext this large would exceed the largest possible span; use the streaming API.");
        }

        return headerLength + EnvelopeFormat.OneShotOverhead + plaintextLength;
    }

    /// <summary>The largest plaintext whose envelope fits in <paramref name="ciphertextLength"/> bytes (0 when none fits).</summary>
    public int GetMaxPlaintextLength(int ciphertextLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ciphertextLength);
        return Math.Max(0, ciphertextLength - GetHeaderLength() - EnvelopeFormat.OneShotOverhead);
    }

    /// <summary>Encrypts into <paramref name="destination"/>; returns false (writing nothing) when it is too small.</summary>
    /// <param name="plaintext">The plaintext; it must not overlap <paramref name="destination"/>.</param>
    /// <param name="destination">Receives the envelope.</param>
    /// <param name="bytesWritten">The envelope's length.</param>
    /// <param name="associatedData">Data authenticated with the message but not stored in it; give the same at decryption.</param>
    public bool TryEncrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination, out int bytesWritten, ReadOnlySpan<byte> associatedData = default)
    {
        var entry = _owner.AcquireEncryptEntry(_slot, plaintext.Length, out var messageNumber);
        try
        {
            var length = entry.Header.Length + EnvelopeFormat.OneShotOverhead + plaintext.Length;
            if (destination.Length < length)
            {
                bytesWritten = 0;
                return false;
            }

            EnvelopeEncryptor.SealCore(entry, messageNumber, plaintext, associatedData, destination[..length]);
            bytesWritten = length;
            return true;
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>Encrypts into <paramref name="destination"/> and returns the envelope's length.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination, ReadOnlySpan<byte> associatedData = default)
        => TryEncrypt(plaintext, destination, out var written, associatedData)
            ? written
            : throw new ArgumentException("The destination is too small for the envelope; size it with GetCiphertextLength.", nameof(destination));

    /// <summary>
    /// Encrypts into a new array of exactly the envelope's length (one allocation). For associated
    /// data, use the span overload or <see cref="EncryptAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/>: a second positional argument always
    /// means the destination, so an array can never be mistaken for associated data.
    /// </summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        var entry = _owner.AcquireEncryptEntry(_slot, plaintext.Length, out var messageNumber);
        try
        {
            var envelope = new byte[entry.Header.Length + EnvelopeFormat.OneShotOverhead + plaintext.Length];
            EnvelopeEncryptor.SealCore(entry, messageNumber, plaintext, default, envelope);
            return envelope;
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>Encrypts into a new array; waits for the key manager without blocking on a cache miss.</summary>
    public async ValueTask<byte[]> EncryptAsync(ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> associatedData = default, CancellationToken cancellationToken = default)
    {
        var (entry, messageNumber) = await _owner.AcquireEncryptEntryAsync(_slot, plaintext.Length, cancellationToken).ConfigureAwait(false);
        try
        {
            var envelope = new byte[entry.Header.Length + EnvelopeFormat.OneShotOverhead + plaintext.Length];
            EnvelopeEncryptor.SealCore(entry, messageNumber, plaintext.Span, associatedData.Span, envelope);
            return envelope;
        }
        finally
        {
            entry.Release();
        }
    }

    /// <summary>Decrypts into <paramref name="destination"/>; false (writing nothing) when it is too small.</summary>
    /// <exception cref="KmsInvalidCiphertextException">The envelope is invalid or was not made for this protector's key and context.</exception>
    public bool TryDecrypt(ReadOnlySpan<byte> envelope, Span<byte> destination, out int bytesWritten, ReadOnlySpan<byte> associatedData = default)
    {
        // Fast path: the same header as the last envelope this protector opened, so the binding was
        // checked and the data key found for exactly these bytes; skip the parse and the cache lookup.
        if (Volatile.Read(ref _lastDecrypt) is { } last
            && envelope.Length >= last.Header.Length + EnvelopeFormat.OneShotOverhead
            && envelope[..last.Header.Length].SequenceEqual(last.Header))
        {
            var result = _owner.TryDecryptWithEntry(last, envelope, destination, associatedData);
            if (result != EnvelopeEncryptor.EntryUnusable)
            {
                bytesWritten = Math.Max(0, result);
                return result >= 0;
            }
        }

        CheckBinding(envelope);
        var decrypted = _owner.TryDecryptCore(envelope, destination, out bytesWritten, associatedData, out var used);
        if (used is not null)
        {
            Volatile.Write(ref _lastDecrypt, used);
        }

        return decrypted;
    }

    /// <summary>Decrypts into <paramref name="destination"/> and returns the plaintext's length.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public int Decrypt(ReadOnlySpan<byte> envelope, Span<byte> destination, ReadOnlySpan<byte> associatedData = default)
        => TryDecrypt(envelope, destination, out var written, associatedData)
            ? written
            : throw new ArgumentException("The destination is too small for the plaintext; size it with EnvelopeEncryptor.GetPlaintextLength.", nameof(destination));

    /// <summary>
    /// Decrypts into a new array of exactly the plaintext's length (one allocation). For associated
    /// data, use the span overload or <see cref="DecryptAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/>.
    /// </summary>
    public byte[] Decrypt(ReadOnlySpan<byte> envelope)
    {
        CheckBinding(envelope);
        return _owner.Decrypt(envelope);
    }

    /// <summary>Decrypts into a new array; waits for the key manager without blocking on a cache miss.</summary>
    public ValueTask<byte[]> DecryptAsync(ReadOnlyMemory<byte> envelope, ReadOnlyMemory<byte> associatedData = default, CancellationToken cancellationToken = default)
    {
        CheckBinding(envelope.Span);
        return _owner.DecryptAsync(envelope, associatedData, cancellationToken);
    }

    private int GetHeaderLength()
    {
        // Every data key of a slot gives a header of the same length; only the first call may need one generated.
        if (_slot.Current is { } current)
        {
            return current.Header.Length;
        }

        return _owner.GetHeaderLength(_slot);
    }

    /// <summary>The envelope must carry this protector's context, and its key when the protector names one by id or ARN.</summary>
    private void CheckBinding(ReadOnlySpan<byte> envelope)
    {
        if (!EnvelopeFormat.TryGetHeaderLength(envelope, out var headerLength, out _))
        {
            throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
        }

        var header = envelope[..headerLength];
        var fields = EnvelopeFormat.ReadFields(header);
        if (!header.Slice(fields.ContextStart, fields.ContextLength).SequenceEqual(_slot.EncodedContext)
            || (_boundKeyId is not null && !header.Slice(fields.KeyIdStart, fields.KeyIdLength).SequenceEqual(_boundKeyId)))
        {
            throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
        }
    }
}
#pragma warning restore RS0026, RS0027
