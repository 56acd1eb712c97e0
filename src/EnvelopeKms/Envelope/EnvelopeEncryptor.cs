using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.KeyManagement;
using Microsoft.Extensions.Options;

namespace EnvelopeKms.Envelope;

// The stream overloads (EnvelopeEncryptor.Streaming.cs) differ from the memory overloads by parameter types.
#pragma warning disable RS0026, RS0027

/// <summary>
/// Envelope encryption for data of any size: each message is encrypted locally with a data key that
/// a KMS key wraps, and the wrapped data key travels in the message header, so decryption needs
/// nothing but the message and access to the KMS key.
/// </summary>
public partial interface IEnvelopeEncryptor
{
    /// <summary>
    /// Returns a protector bound to a KMS key and an encryption context: the span-first, allocation-free
    /// way to encrypt many messages under the same key and context.
    /// </summary>
    /// <param name="keyId">The wrapping KMS key: key id, key ARN, alias name or alias ARN.</param>
    /// <param name="encryptionContext">The encryption context, stored in every envelope and authenticated.</param>
    EnvelopeProtector CreateProtector(string keyId, IReadOnlyDictionary<string, string>? encryptionContext = null);

    /// <summary>Encrypts a message under a KMS key and an encryption context.</summary>
    ValueTask<byte[]> EncryptAsync(string keyId, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? encryptionContext = null, ReadOnlyMemory<byte> associatedData = default, CancellationToken cancellationToken = default);

    /// <summary>Decrypts an envelope; the key and the encryption context are read from its header.</summary>
    ValueTask<byte[]> DecryptAsync(ReadOnlyMemory<byte> envelope, ReadOnlyMemory<byte> associatedData = default, CancellationToken cancellationToken = default);

    /// <summary>Decrypts an envelope into <paramref name="destination"/>; false when it is too small.</summary>
    bool TryDecrypt(ReadOnlySpan<byte> envelope, Span<byte> destination, out int bytesWritten, ReadOnlySpan<byte> associatedData = default);

    /// <summary>Decrypts an envelope into a new array.</summary>
    byte[] Decrypt(ReadOnlySpan<byte> envelope, ReadOnlySpan<byte> associatedData = default);

    /// <summary>The counters of the data-key cache.</summary>
    EnvelopeCacheStatistics CacheStatistics { get; }

    /// <summary>Evicts every cached data key (they are zeroed once no operation uses them).</summary>
    void ClearCache();
}

/// <summary>
/// The envelope encryptor over an <see cref="IKeyManager"/>, with a data-key cache. With a data key
/// cached, encrypting and decrypting a message allocates nothing, does no I/O and makes no
/// key-manager call. See <c>docs/envelope-format.md</c>.
/// </summary>
public sealed partial class EnvelopeEncryptor : IEnvelopeEncryptor, IDisposable
{
    private const int StackAssociatedDataLimit = 512;
    private readonly IKeyManager _keyManager;
    private readonly TimeProvider _time;
    private readonly EnvelopeOptions _options;

    /// <summary>
    /// The backend in use: <see cref="EnvelopeOptions.Backend"/>, or <see cref="AeadBackend.Platform"/>
    /// when the key manager is restricted to FIPS-approved algorithms of the platform's module.
    /// </summary>
    internal AeadBackend Backend { get; }
    private readonly long _maxAgeTicks;
    private readonly ConcurrentDictionary<(string KeyId, string Context, byte Suite), EncryptSlot> _slots = new();
    private readonly ConcurrentDictionary<byte[], DataKeyEntry> _decryptEntries = new(HeaderComparer.Instance);
    private readonly ConcurrentDictionary<byte[], DataKeyEntry>.AlternateLookup<ReadOnlySpan<byte>> _decryptLookup;
    private readonly ConcurrentDictionary<DataKeyEntry, byte> _encryptEntries = new(ReferenceEqualityComparer.Instance);
    private readonly SemaphoreSlim _decryptGate = new(1, 1);
    private long _encryptMisses;
    private long _decryptMisses;
    private long _evictions;
    private long _retiredEncryptMessages;
    private long _retiredDecryptMessages;
    private bool _disposed;

    /// <summary>Creates an envelope encryptor.</summary>
    /// <param name="keyManager">The key manager that wraps and unwraps data keys.</param>
    /// <param name="options">Cache limits and backend; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for data-key ages; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">
    /// Creates the <c>EnvelopeKms</c> meter for the data-key cache's hit and miss counters (observable:
    /// read from <see cref="CacheStatistics"/> when collected, so the hot path records nothing); none when <see langword="null"/>.
    /// </param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public EnvelopeEncryptor(IKeyManager keyManager, EnvelopeOptions? options = null, TimeProvider? timeProvider = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        options ??= new EnvelopeOptions();
        var validation = new EnvelopeOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EnvelopeOptions), validation.Failures);
        }

        var fipsOnly = keyManager is KeyManager { FipsApprovedAlgorithmsOnly: true };
        var fipsValidation = EnvelopeOptionsValidator.ValidateForFips(options, fipsOnly);
        if (fipsValidation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(EnvelopeOptions), fipsValidation.Failures);
        }

        _keyManager = keyManager;
        _options = options;
        Backend = fipsOnly ? AeadBackend.Platform : options.Backend;
        _time = timeProvider ?? TimeProvider.System;
        _maxAgeTicks = (long)Math.Min(long.MaxValue / 2, options.MaxDataKeyAge.TotalSeconds * _time.TimestampFrequency);
        _decryptLookup = _decryptEntries.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (keyManager is KeyManager notifying)
        {
            notifying.KeyChanged += OnKeyChanged;
        }

        Telemetry.DataKeyCacheInstruments.Register(meterFactory, this);
    }

    /// <inheritdoc />
    public EnvelopeCacheStatistics CacheStatistics
    {
        get
        {
            long encryptMessages = Volatile.Read(ref _retiredEncryptMessages);
            foreach (var entry in _encryptEntries.Keys)
            {
                encryptMessages += entry.Messages;
            }

            long decryptMessages = Volatile.Read(ref _retiredDecryptMessages);
            foreach (var entry in _decryptEntries.Values)
            {
                decryptMessages += entry.Messages;
            }

            var encryptMisses = Volatile.Read(ref _encryptMisses);
            var decryptMisses = Volatile.Read(ref _decryptMisses);
            return new EnvelopeCacheStatistics(
                Math.Max(0, encryptMessages - encryptMisses),
                encryptMisses,
                Math.Max(0, decryptMessages - decryptMisses),
                decryptMisses,
                Volatile.Read(ref _evictions),
                _encryptEntries.Count + _decryptEntries.Count);
        }
    }

    /// <inheritdoc />
    public EnvelopeProtector CreateProtector(string keyId, IReadOnlyDictionary<string, string>? encryptionContext = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (string.IsNullOrEmpty(keyId))
        {
            throw new KmsValidationException("KeyId is required: give a key id, key ARN, alias name or alias ARN.");
        }

        var context = EncryptionContextEncoding.Encode(encryptionContext);
        var slot = _slots.GetOrAdd((keyId, Convert.ToBase64String(context), EnvelopeFormat.SuiteOneShot), static (k, state) => new EncryptSlot(k.KeyId, state), context);
        return new EnvelopeProtector(this, slot, encryptionContext);
    }

    /// <inheritdoc />
    public async ValueTask<byte[]> EncryptAsync(string keyId, ReadOnlyMemory<byte> plaintext, IReadOnlyDictionary<string, string>? encryptionContext = null, ReadOnlyMemory<byte> associatedData = default, CancellationToken cancellationToken = default)
        => await CreateProtector(keyId, encryptionContext).EncryptAsync(plaintext, associatedData, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask<byte[]> DecryptAsync(ReadOnlyMemory<byte> envelope, ReadOnlyMemory<byte> associatedData = default, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var headerLength = ReadOneShotHeaderLength(envelope.Span);
        var entry = await AcquireDecryptEntryAsync(envelope[..headerLength], cancellationToken).ConfigureAwait(false);
        try
        {
            var plaintext = new byte[envelope.Length - headerLength - EnvelopeFormat.OneShotOverhead];
            OpenCore(entry, envelope.Span, headerLength, plaintext, associatedData.Span);
            return plaintext;
        }
        finally
        {
            entry.Release();
        }
    }

    /// <inheritdoc />
    public bool TryDecrypt(ReadOnlySpan<byte> envelope, Span<byte> destination, out int bytesWritten, ReadOnlySpan<byte> associatedData = default)
        => TryDecryptCore(envelope, destination, out bytesWritten, associatedData, out _);

    /// <summary>Decrypts and reports the cache entry used, so a protector can keep it for its next message.</summary>
    internal bool TryDecryptCore(ReadOnlySpan<byte> envelope, Span<byte> destination, out int bytesWritten, ReadOnlySpan<byte> associatedData, out DataKeyEntry? used)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        used = null;
        var headerLength = ReadOneShotHeaderLength(envelope);
        var length = envelope.Length - headerLength - EnvelopeFormat.OneShotOverhead;
        if (destination.Length < length)
        {
            bytesWritten = 0;
            return false;
        }

        var entry = AcquireDecryptEntry(envelope[..headerLength]);
        try
        {
            OpenCore(entry, envelope, headerLength, destination[..length], associatedData);
        }
        finally
        {
            entry.Release();
        }

        used = entry;
        bytesWritten = length;
        return true;
    }

    /// <summary>
    /// Decrypts with an entry the caller already matched to the envelope's header bytes. Returns the
    /// plaintext length, <see cref="DestinationTooSmall"/>, or <see cref="EntryUnusable"/> when the entry was
    /// evicted or expired (the caller then takes the ordinary path).
    /// </summary>
    internal int TryDecryptWithEntry(DataKeyEntry entry, ReadOnlySpan<byte> envelope, Span<byte> destination, ReadOnlySpan<byte> associatedData)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!entry.TryAcquire())
        {
            return EntryUnusable;
        }

        try
        {
            if (entry.IsEvicted || _time.GetTimestamp() >= entry.ExpiresTimestamp)
            {
                return EntryUnusable;
            }

            var headerLength = entry.Header.Length;
            var length = envelope.Length - headerLength - EnvelopeFormat.OneShotOverhead;
            if (destination.Length < length)
            {
                return DestinationTooSmall;
            }

            entry.CountUse(1);
            OpenCore(entry, envelope, headerLength, destination[..length], associatedData);
            return length;
        }
        finally
        {
            entry.Release();
        }
    }

    internal const int EntryUnusable = -1;
    internal const int DestinationTooSmall = -2;

    /// <inheritdoc />
    public byte[] Decrypt(ReadOnlySpan<byte> envelope, ReadOnlySpan<byte> associatedData = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var headerLength = ReadOneShotHeaderLength(envelope);
        var plaintext = new byte[envelope.Length - headerLength - EnvelopeFormat.OneShotOverhead];
        var entry = AcquireDecryptEntry(envelope[..headerLength]);
        try
        {
            OpenCore(entry, envelope, headerLength, plaintext, associatedData);
        }
        finally
        {
            entry.Release();
        }

        return plaintext;
    }

    /// <summary>Returns the exact plaintext length of a one-shot envelope.</summary>
    /// <exception cref="KmsInvalidCiphertextException">The envelope is malformed.</exception>
    public static int GetPlaintextLength(ReadOnlySpan<byte> envelope)
        => envelope.Length - ReadOneShotHeaderLength(envelope) - EnvelopeFormat.OneShotOverhead;

    /// <inheritdoc />
    public void ClearCache()
    {
        foreach (var slot in _slots.Values)
        {
            slot.Replace(null, this);
        }

        foreach (var header in _decryptEntries.Keys)
        {
            RemoveDecryptEntry(header);
        }
    }

    /// <summary>Evicts every cached data key and stops listening to key changes.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_keyManager is KeyManager notifying)
        {
            notifying.KeyChanged -= OnKeyChanged;
        }

        ClearCache();
        foreach (var slot in _slots.Values)
        {
            slot.Dispose();
        }

        _decryptGate.Dispose();
    }

    // ---------------------------------------------------------------- encrypt side (used by EnvelopeProtector)

    /// <summary>Gets the slot's data key and reserves one message on it, generating a data key on a miss.</summary>
    internal DataKeyEntry AcquireEncryptEntry(EncryptSlot slot, int plaintextLength, out long messageNumber)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfAboveByteLimit(plaintextLength);
        if (TryAcquireCurrent(slot, plaintextLength, out var entry, out messageNumber))
        {
            return entry;
        }

        // A miss: the synchronous API waits for the key manager (documented; use the async API to avoid blocking).
        (entry, messageNumber) = AcquireEncryptEntrySlowAsync(slot, plaintextLength, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return entry;
    }

    /// <summary>The header length of the slot's data key, generating one (without using a message) when there is none.</summary>
    internal int GetHeaderLength(EncryptSlot slot)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (slot.Current is { } current)
        {
            return current.Header.Length;
        }

        slot.Gate.Wait();
        try
        {
            if (slot.Current is { } raced)
            {
                return raced.Header.Length;
            }

            var entry = GenerateEntryAsync(slot, CancellationToken.None).GetAwaiter().GetResult();
            slot.Replace(entry, this);
            return entry.Header.Length;
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    internal async ValueTask<(DataKeyEntry Entry, long MessageNumber)> AcquireEncryptEntryAsync(EncryptSlot slot, int plaintextLength, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ThrowIfAboveByteLimit(plaintextLength);
        if (TryAcquireCurrent(slot, plaintextLength, out var entry, out var messageNumber))
        {
            return (entry, messageNumber);
        }

        return await AcquireEncryptEntrySlowAsync(slot, plaintextLength, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A single message above the byte limit cannot be encrypted under any data key. Checked before the
    /// cache is touched, so that a refused message neither uses up the current data key nor generates one.
    /// </summary>
    private void ThrowIfAboveByteLimit(int plaintextLength)
    {
        if (plaintextLength > _options.MaxBytesPerDataKey)
        {
            ThrowAboveByteLimit(plaintextLength);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowAboveByteLimit(int plaintextLength)
        => throw new KmsValidationException($"A message of {plaintextLength} bytes exceeds the data-key byte limit ({_options.MaxBytesPerDataKey}).");

    private bool TryAcquireCurrent(EncryptSlot slot, int plaintextLength, [NotNullWhen(true)] out DataKeyEntry? entry, out long messageNumber)
    {
        entry = slot.Current;
        messageNumber = 0;
        if (entry is null || !entry.TryAcquire())
        {
            return false;
        }

        if (_time.GetTimestamp() < entry.ExpiresTimestamp && entry.TryReserve(plaintextLength, out messageNumber))
        {
            return true;
        }

        entry.Release();
        entry = null;
        return false;
    }

    private async ValueTask<(DataKeyEntry Entry, long MessageNumber)> AcquireEncryptEntrySlowAsync(EncryptSlot slot, int plaintextLength, CancellationToken cancellationToken)
    {
        await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have replaced the data key while this one waited.
            if (TryAcquireCurrent(slot, plaintextLength, out var current, out var number))
            {
                return (current, number);
            }

            var entry = await GenerateEntryAsync(slot, cancellationToken).ConfigureAwait(false);
            var acquired = entry.TryAcquire();
            if (!acquired || !entry.TryReserve(plaintextLength, out number))
            {
                // Unreachable: a fresh, unpublished entry always has room for one message within the byte limit.
                if (acquired)
                {
                    entry.Release();
                }

                Retire(entry);
                ThrowAboveByteLimit(plaintextLength);
            }

            slot.Replace(entry, this);
            return (entry, number);
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    private async Task<DataKeyEntry> GenerateEntryAsync(EncryptSlot slot, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _encryptMisses);
        using var response = await _keyManager.GenerateDataKeyAsync(new GenerateDataKeyRequest
        {
            KeyId = slot.KeyId,
            KeySpec = DataKeySpec.Aes256,
            EncryptionContext = slot.Context,
        }, cancellationToken).ConfigureAwait(false);

        var wrappingKeyId = KeyIdFromArn(response.KeyId);
        if (wrappingKeyId.Length is 0 or > EnvelopeFormat.MaxKeyIdLength || response.CiphertextBlob.Length > EnvelopeFormat.MaxEncryptedDataKeyLength)
        {
            throw new KmsInternalException("The key manager returned a key id or an encrypted data key that an envelope header cannot hold.");
        }

        Span<byte> salt = stackalloc byte[EnvelopeFormat.SaltSize];
        Span<byte> commitment = stackalloc byte[EnvelopeFormat.CommitmentSize];
        Span<byte> dek = stackalloc byte[EnvelopeFormat.DataKeySize];
        RandomNumberGenerator.Fill(salt);
        try
        {
            EnvelopeFormat.DeriveKeys(response.Plaintext, salt, slot.Suite, dek, commitment);
            var header = EnvelopeFormat.BuildHeader(slot.Suite, wrappingKeyId, response.CiphertextBlob, slot.EncodedContext, salt, commitment, _options.StreamSegmentSize);
            var now = _time.GetTimestamp();
            var entry = new DataKeyEntry(AeadKey.Create(dek, Backend), header, wrappingKeyId, now, now + _maxAgeTicks, _options.MaxMessagesPerDataKey, _options.MaxBytesPerDataKey);
            _encryptEntries.TryAdd(entry, 0);
            EnforceCapacity(_encryptEntries.Count, evictEncrypt: true);
            return entry;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dek);
        }
    }

    /// <summary>Called by a slot when it drops an entry.</summary>
    internal void Retire(DataKeyEntry entry)
    {
        if (_encryptEntries.TryRemove(entry, out _) && entry.Evict())
        {
            Interlocked.Add(ref _retiredEncryptMessages, entry.Messages);
            Interlocked.Increment(ref _evictions);
        }
    }

    /// <summary>Writes header, nonce, ciphertext and tag of one message. <paramref name="destination"/> has the exact length.</summary>
    internal static void SealCore(DataKeyEntry entry, long messageNumber, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        var header = entry.Header;
        header.CopyTo(destination);
        var nonce = destination.Slice(header.Length, EnvelopeFormat.NonceSize);
        nonce[..4].Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(nonce[4..], messageNumber);
        var body = destination[(header.Length + EnvelopeFormat.NonceSize)..];
        var length = EnvelopeFormat.HeaderHashSize + associatedData.Length;
        byte[]? rented = null;
        var aad = length <= StackAssociatedDataLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            ComposeAssociatedData(entry.HeaderHash, associatedData, aad);
            entry.Key.Seal(nonce, plaintext, aad, body);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // ---------------------------------------------------------------- decrypt side

    private static int ReadOneShotHeaderLength(ReadOnlySpan<byte> envelope)
    {
        if (!EnvelopeFormat.TryGetHeaderLength(envelope, out var headerLength, out var suite)
            || suite != EnvelopeFormat.SuiteOneShot
            || envelope.Length - headerLength < EnvelopeFormat.OneShotOverhead)
        {
            throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
        }

        return headerLength;
    }

    private DataKeyEntry AcquireDecryptEntry(ReadOnlySpan<byte> header)
    {
        if (TryAcquireCached(header, out var entry))
        {
            return entry;
        }

        return AcquireDecryptEntrySlowAsync(header.ToArray(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    private ValueTask<DataKeyEntry> AcquireDecryptEntryAsync(ReadOnlyMemory<byte> header, CancellationToken cancellationToken)
        => TryAcquireCached(header.Span, out var entry)
            ? ValueTask.FromResult(entry)
            : AcquireDecryptEntrySlowAsync(header.ToArray(), cancellationToken);

    private bool TryAcquireCached(ReadOnlySpan<byte> header, [NotNullWhen(true)] out DataKeyEntry? entry)
    {
        if (_decryptLookup.TryGetValue(header, out entry) && entry.TryAcquire())
        {
            if (_time.GetTimestamp() < entry.ExpiresTimestamp)
            {
                entry.CountUse(1);
                return true;
            }

            entry.Release();
            RemoveDecryptEntry(entry.Header);
        }

        entry = null;
        return false;
    }

    private async ValueTask<DataKeyEntry> AcquireDecryptEntrySlowAsync(byte[] header, CancellationToken cancellationToken)
    {
        await _decryptGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (TryAcquireCached(header, out var cached))
            {
                return cached;
            }

            var entry = await UnwrapEntryAsync(header, cancellationToken).ConfigureAwait(false);
            entry.TryAcquire();
            entry.CountUse(1);
            if (!_decryptEntries.TryAdd(entry.Header, entry))
            {
                entry.Evict();
            }

            EnforceCapacity(_decryptEntries.Count, evictEncrypt: false);
            return entry;
        }
        finally
        {
            _decryptGate.Release();
        }
    }

    private async Task<DataKeyEntry> UnwrapEntryAsync(byte[] header, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _decryptMisses);
        var fields = EnvelopeFormat.ReadFields(header);
        if (!EncryptionContextEncoding.TryDecode(header.AsSpan(fields.ContextStart, fields.ContextLength), out var context))
        {
            throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
        }

        var keyId = fields.KeyId(header);
        DecryptResponse response;
        try
        {
            response = await _keyManager.DecryptAsync(new DecryptRequest
            {
                CiphertextBlob = header.AsMemory(fields.EncryptedDataKeyStart, fields.EncryptedDataKeyLength),
                EncryptionContext = context,
                KeyId = keyId,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KmsIncorrectKeyException or KmsNotFoundException or KmsInvalidCiphertextException)
        {
            // A header whose key id, encrypted data key or context was changed: the same error as any other tampering.
            throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope, e);
        }

        using (response)
        {
            if (response.Plaintext.Length != EnvelopeFormat.DataKeySize)
            {
                throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
            }

            Span<byte> dek = stackalloc byte[EnvelopeFormat.DataKeySize];
            Span<byte> commitment = stackalloc byte[EnvelopeFormat.CommitmentSize];
            try
            {
                EnvelopeFormat.DeriveKeys(response.Plaintext, header.AsSpan(fields.SaltStart, EnvelopeFormat.SaltSize), fields.Suite, dek, commitment);
                if (!CryptographicOperations.FixedTimeEquals(commitment, header.AsSpan(fields.CommitmentStart, EnvelopeFormat.CommitmentSize)))
                {
                    throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
                }

                var now = _time.GetTimestamp();
                return new DataKeyEntry(AeadKey.Create(dek, Backend), header, keyId, now, now + _maxAgeTicks, long.MaxValue, long.MaxValue);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(dek);
            }
        }
    }

    private static void OpenCore(DataKeyEntry entry, ReadOnlySpan<byte> envelope, int headerLength, Span<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var nonce = envelope.Slice(headerLength, EnvelopeFormat.NonceSize);
        var body = envelope[(headerLength + EnvelopeFormat.NonceSize)..];
        var length = EnvelopeFormat.HeaderHashSize + associatedData.Length;
        byte[]? rented = null;
        var aad = length <= StackAssociatedDataLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        bool opened;
        try
        {
            ComposeAssociatedData(entry.HeaderHash, associatedData, aad);
            opened = entry.Key.TryOpen(nonce, body, aad, plaintext);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (!opened)
        {
            throw new KmsInvalidCiphertextException(EnvelopeErrors.InvalidEnvelope);
        }
    }

    private void RemoveDecryptEntry(byte[] header)
    {
        if (_decryptEntries.TryRemove(header, out var entry) && entry.Evict())
        {
            Interlocked.Add(ref _retiredDecryptMessages, entry.Messages);
            Interlocked.Increment(ref _evictions);
        }
    }

    // ---------------------------------------------------------------- shared

    /// <summary>The associated data of a message: SHA-256(header) followed by the caller's associated data.</summary>
    private static void ComposeAssociatedData(byte[] headerHash, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        headerHash.CopyTo(destination);
        associatedData.CopyTo(destination[headerHash.Length..]);
    }

    private void EnforceCapacity(int count, bool evictEncrypt)
    {
        if (count <= _options.CacheCapacity)
        {
            return;
        }

        if (evictEncrypt)
        {
            foreach (var slot in _slots.Values.Where(s => s.Current is not null).OrderBy(s => s.Current!.CreatedTimestamp).Take(count - _options.CacheCapacity))
            {
                slot.Replace(null, this);
            }
        }
        else
        {
            foreach (var entry in _decryptEntries.Values.OrderBy(e => e.CreatedTimestamp).Take(count - _options.CacheCapacity))
            {
                RemoveDecryptEntry(entry.Header);
            }
        }
    }

    private void OnKeyChanged(object? sender, KeyChangedEventArgs e)
    {
        if (e.IsReset)
        {
            ClearCache();
            return;
        }

        foreach (var slot in _slots.Values)
        {
            if (slot.Current is { } current && (current.WrappingKeyId == e.KeyId || (e.AliasName is not null && slot.KeyId == e.AliasName)))
            {
                slot.Replace(null, this);
            }
        }

        if (e.KeyId is not null)
        {
            foreach (var entry in _decryptEntries.Values.Where(v => v.WrappingKeyId == e.KeyId))
            {
                RemoveDecryptEntry(entry.Header);
            }
        }
    }

    private static string KeyIdFromArn(string keyIdOrArn)
    {
        var index = keyIdOrArn.LastIndexOf(":key/", StringComparison.Ordinal);
        return index < 0 ? keyIdOrArn : keyIdOrArn[(index + 5)..];
    }

    /// <summary>Compares headers by content; hashes without allocating.</summary>
    private sealed class HeaderComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly HeaderComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}

/// <summary>The data key in use for one (KMS key, encryption context) pair, shared by its protectors.</summary>
internal sealed class EncryptSlot : IDisposable
{
    private DataKeyEntry? _current;

    public EncryptSlot(string keyId, byte[] encodedContext, byte suite = EnvelopeFormat.SuiteOneShot)
    {
        KeyId = keyId;
        Suite = suite;
        EncodedContext = encodedContext;
        Context = EncryptionContextEncoding.TryDecode(encodedContext, out var context) ? context : [];
    }

    public string KeyId { get; }

    /// <summary>The suite of the data keys in this slot (one-shot and streaming never share a data key).</summary>
    public byte Suite { get; }

    public byte[] EncodedContext { get; }

    public IReadOnlyDictionary<string, string> Context { get; }

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public DataKeyEntry? Current => Volatile.Read(ref _current);

    /// <summary>Installs a new data key (or none) and retires the previous one.</summary>
    public void Replace(DataKeyEntry? entry, EnvelopeEncryptor owner)
    {
        if (Interlocked.Exchange(ref _current, entry) is { } previous && !ReferenceEquals(previous, entry))
        {
            owner.Retire(previous);
        }
    }

    public void Dispose() => Gate.Dispose();
}

/// <summary>The one message of every envelope decryption failure (no oracle).</summary>
internal static class EnvelopeErrors
{
    public const string InvalidEnvelope = "The envelope is invalid: it is corrupt or truncated, its header was changed, the associated data does not match, or it was made for another key or context. For security the cause is not reported.";
}
#pragma warning restore RS0026, RS0027
