using System.Security.Cryptography;

namespace EnvelopeKms.Envelope;

/// <summary>
/// A cached data key: its derived AES-GCM key, the header every message under it carries (and the
/// header's hash, the first part of every message's associated data), its limits and usage. The
/// entry is reference-counted: the cache holds one reference, every operation in flight another, and
/// the key is zeroed when the last reference goes after eviction.
/// </summary>
internal sealed class DataKeyEntry
{
    private readonly long _maxMessages;
    private readonly long _maxBytes;
    private int _references = 1;
    private long _messages; // message numbers handed out, including refused reservations: the nonce counter
    private long _used; // messages actually sealed or opened under this key: what the statistics count
    private long _bytes;

    public DataKeyEntry(AeadKey key, byte[] header, string wrappingKeyId, long createdTimestamp, long expiresTimestamp, long maxMessages, long maxBytes)
    {
        Key = key;
        Header = header;
        HeaderHash = SHA256.HashData(header);
        WrappingKeyId = wrappingKeyId;
        CreatedTimestamp = createdTimestamp;
        ExpiresTimestamp = expiresTimestamp;
        _maxMessages = maxMessages;
        _maxBytes = maxBytes;
    }

    public AeadKey Key { get; }

    public byte[] Header { get; }

    public byte[] HeaderHash { get; }

    /// <summary>The id of the KMS key that wraps the data key.</summary>
    public string WrappingKeyId { get; }

    public long CreatedTimestamp { get; }

    public long ExpiresTimestamp { get; }

    /// <summary>Messages that used this key (refused reservations are not counted).</summary>
    public long Messages => Volatile.Read(ref _used);

    public long Bytes => Volatile.Read(ref _bytes);

    private int _evicted;

    public bool IsEvicted => Volatile.Read(ref _evicted) != 0;

    public bool IsExhausted => Volatile.Read(ref _messages) >= _maxMessages || Volatile.Read(ref _bytes) >= _maxBytes;

    /// <summary>Takes a reference for one operation; false once the entry is gone.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Reserves one message of <paramref name="length"/> bytes; its 1-based number is the message's nonce counter.</summary>
    public bool TryReserve(int length, out long messageNumber)
    {
        messageNumber = Interlocked.Increment(ref _messages);
        if (messageNumber > _maxMessages)
        {
            return false;
        }

        if (Interlocked.Add(ref _bytes, length) > _maxBytes)
        {
            return false;
        }

        Interlocked.Increment(ref _used);
        return true;
    }

    /// <summary>Counts the bytes of a stream's segments as they are encrypted (a stream reserves its number with 0 bytes).</summary>
    public void CountBytes(long length) => Interlocked.Add(ref _bytes, length);

    /// <summary>Counts a use on the decrypt side.</summary>
    public void CountUse(int length)
    {
        Interlocked.Increment(ref _used);
        Interlocked.Add(ref _bytes, length);
    }

    /// <summary>Drops an operation's reference.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Key.Dispose();
        }
    }

    /// <summary>Drops the cache's reference (once); the key is zeroed when no operation still uses it.</summary>
    public bool Evict()
    {
        if (Interlocked.Exchange(ref _evicted, 1) != 0)
        {
            return false;
        }

        Release();
        return true;
    }
}
