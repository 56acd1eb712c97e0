using EnvelopeKms.Envelope;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// The data-key cache: age, message and byte limits roll the data key over (on the fake clock),
/// capacity evicts the oldest, <c>ClearCache</c> empties it, statistics add up, and key changes made
/// through the same key manager (disable, scheduled deletion, alias update) evict at once.
/// </summary>
public sealed class EnvelopeCacheTests
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["app"] = "cache" };

    private static string HeaderHex(byte[] envelope) => Convert.ToHexString(EnvelopeAssert.Header(envelope).Header);

    private static long Counter(byte[] envelope) => System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(EnvelopeAssert.Nonce(envelope).AsSpan(4));

    private static void AssertConsistent(EnvelopeCacheStatistics stats, long encrypted, long decrypted)
    {
        Assert.Equal(encrypted, stats.EncryptHits + stats.EncryptMisses);
        Assert.Equal(decrypted, stats.DecryptHits + stats.DecryptMisses);
    }

    [Fact]
    public async Task The_age_limit_rolls_the_data_key_over_on_both_sides()
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { MaxDataKeyAge = TimeSpan.FromMinutes(1) });
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var first = protector.Encrypt([1]);
        f.Kms.Clock.Advance(TimeSpan.FromSeconds(59));
        var second = protector.Encrypt([2]);
        Assert.Equal(HeaderHex(first), HeaderHex(second));
        Assert.Equal(1, f.Encryptor.CacheStatistics.EncryptMisses);
        Assert.Equal([1, 2], new[] { Counter(first), Counter(second) });

        Assert.Equal([1], f.Encryptor.Decrypt(first)); // unwrapped at 59 s: kept until 119 s
        f.Kms.Clock.Advance(TimeSpan.FromSeconds(2));
        var third = protector.Encrypt([3]);
        Assert.NotEqual(HeaderHex(first), HeaderHex(third));
        Assert.Equal(1, Counter(third));
        Assert.Equal([2], f.Encryptor.Decrypt(second)); // same header, still cached
        Assert.Equal(1, f.Encryptor.CacheStatistics.DecryptMisses);

        // The decrypt side expires too: the same header is unwrapped again.
        f.Kms.Clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal([1], f.Encryptor.Decrypt(first));
        var stats = f.Encryptor.CacheStatistics;
        Assert.Equal(2, stats.EncryptMisses);
        Assert.Equal(2, stats.DecryptMisses);
        Assert.Equal(1, stats.DecryptHits);
        Assert.Equal(2, stats.Evictions);
        AssertConsistent(stats, encrypted: 3, decrypted: 3);
    }

    [Fact]
    public async Task The_message_cap_rolls_the_data_key_over_after_the_last_allowed_message()
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { MaxMessagesPerDataKey = 3 });
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var envelopes = Enumerable.Range(0, 7).Select(i => protector.Encrypt([(byte)i])).ToList();
        var headers = envelopes.Select(HeaderHex).ToList();
        Assert.Single(headers.Take(3).Distinct());
        Assert.NotEqual(headers[2], headers[3]);
        Assert.Single(headers.Skip(3).Take(3).Distinct());
        Assert.NotEqual(headers[5], headers[6]);
        Assert.Equal([1, 2, 3, 1, 2, 3, 1], envelopes.Select(Counter));

        var stats = f.Encryptor.CacheStatistics;
        Assert.Equal(3, stats.EncryptMisses);
        Assert.Equal(4, stats.EncryptHits);
        Assert.Equal(2, stats.Evictions);
        Assert.Equal(1, stats.Entries);
        for (var i = 0; i < envelopes.Count; i++)
        {
            Assert.Equal([(byte)i], f.Encryptor.Decrypt(envelopes[i]));
        }

        stats = f.Encryptor.CacheStatistics;
        Assert.Equal(3, stats.DecryptMisses);
        Assert.Equal(4, stats.DecryptHits);
        Assert.Equal(4, stats.Entries);
        AssertConsistent(stats, encrypted: 7, decrypted: 7);
    }

    [Fact]
    public async Task The_byte_cap_rolls_the_data_key_over_and_a_single_larger_message_is_rejected()
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { MaxBytesPerDataKey = 100 });
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var a = protector.Encrypt(new byte[60]);
        var b = protector.Encrypt(new byte[40]); // exactly 100 bytes under the first data key
        var c = protector.Encrypt(new byte[1]);
        Assert.Equal(HeaderHex(a), HeaderHex(b));
        Assert.NotEqual(HeaderHex(b), HeaderHex(c));
        Assert.Equal(1, Counter(c));

        var stats = f.Encryptor.CacheStatistics;
        Assert.Equal(2, stats.EncryptMisses);
        Assert.Equal(1, stats.EncryptHits);
        AssertConsistent(stats, encrypted: 3, decrypted: 0);

        var tooLarge = Assert.Throws<KmsValidationException>(() => protector.Encrypt(new byte[101]));
        Assert.Contains("100", tooLarge.Message, StringComparison.Ordinal);

        // The rejected message neither generated a data key nor left one behind.
        stats = f.Encryptor.CacheStatistics;
        Assert.Equal(2, stats.EncryptMisses);
        Assert.Equal(1, stats.Entries);
        var d = protector.Encrypt(new byte[10]);
        Assert.Equal(HeaderHex(c), HeaderHex(d));
        f.Encryptor.ClearCache();
        Assert.Equal(0, f.Encryptor.CacheStatistics.Entries);
        foreach (var envelope in new[] { a, b, c, d })
        {
            Assert.Equal(EnvelopeEncryptor.GetPlaintextLength(envelope), f.Encryptor.Decrypt(envelope).Length);
        }
    }

    [Fact]
    public async Task Capacity_evicts_the_oldest_data_key_on_each_side()
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { CacheCapacity = 2 });
        var protectors = Enumerable.Range(0, 3).Select(i => f.Encryptor.CreateProtector(f.KeyId, new Dictionary<string, string> { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) })).ToList();
        var envelopes = new List<byte[]>();
        foreach (var protector in protectors)
        {
            envelopes.Add(protector.Encrypt([7]));
            f.Kms.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var stats = f.Encryptor.CacheStatistics;
        Assert.Equal(3, stats.EncryptMisses);
        Assert.Equal(2, stats.Entries);
        Assert.Equal(1, stats.Evictions);

        // Contexts 1 and 2 are still cached; context 0, the oldest, was evicted.
        Assert.Equal(HeaderHex(envelopes[2]), HeaderHex(protectors[2].Encrypt([8])));
        Assert.Equal(HeaderHex(envelopes[1]), HeaderHex(protectors[1].Encrypt([8])));
        Assert.Equal(3, f.Encryptor.CacheStatistics.EncryptMisses);
        Assert.NotEqual(HeaderHex(envelopes[0]), HeaderHex(protectors[0].Encrypt([8])));
        stats = f.Encryptor.CacheStatistics;
        Assert.Equal(4, stats.EncryptMisses);
        Assert.Equal(2, stats.Entries);
        Assert.Equal(2, stats.Evictions);

        // The decrypt side has its own capacity of 2.
        foreach (var envelope in envelopes)
        {
            Assert.Equal([7], f.Encryptor.Decrypt(envelope));
            f.Kms.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        stats = f.Encryptor.CacheStatistics;
        Assert.Equal(3, stats.DecryptMisses);
        Assert.Equal(4, stats.Entries);
        Assert.Equal(3, stats.Evictions);
        Assert.Equal([7], f.Encryptor.Decrypt(envelopes[2]));
        Assert.Equal(3, f.Encryptor.CacheStatistics.DecryptMisses);
        Assert.Equal([7], f.Encryptor.Decrypt(envelopes[0]));
        Assert.Equal(4, f.Encryptor.CacheStatistics.DecryptMisses);
        AssertConsistent(f.Encryptor.CacheStatistics, encrypted: 6, decrypted: 5);
    }

    [Fact]
    public async Task Clear_cache_evicts_everything_and_old_envelopes_still_decrypt_with_a_fresh_kms_decrypt()
    {
        using var f = await EnvelopeFixture.CreateAsync();
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var envelope = protector.Encrypt([1, 2, 3]);
        Assert.Equal([1, 2, 3], protector.Decrypt(envelope));
        Assert.Equal([1, 2, 3], protector.Decrypt(envelope));
        var stats = f.Encryptor.CacheStatistics;
        Assert.Equal(new EnvelopeCacheStatistics(EncryptHits: 0, EncryptMisses: 1, DecryptHits: 1, DecryptMisses: 1, Evictions: 0, Entries: 2), stats);

        var kmsDecrypts = f.Kms.Audit.Events.Count(e => e.Operation == KmsOperation.Decrypt);
        f.Encryptor.ClearCache();
        stats = f.Encryptor.CacheStatistics;
        Assert.Equal(0, stats.Entries);
        Assert.Equal(2, stats.Evictions);
        AssertConsistent(stats, encrypted: 1, decrypted: 2); // Counts survive eviction.

        Assert.Equal([1, 2, 3], protector.Decrypt(envelope));
        Assert.Equal(kmsDecrypts + 1, f.Kms.Audit.Events.Count(e => e.Operation == KmsOperation.Decrypt));
        Assert.NotEqual(HeaderHex(envelope), HeaderHex(protector.Encrypt([4])));
        stats = f.Encryptor.CacheStatistics;
        Assert.Equal(new EnvelopeCacheStatistics(EncryptHits: 0, EncryptMisses: 2, DecryptHits: 1, DecryptMisses: 2, Evictions: 2, Entries: 2), stats);
    }

    [Fact]
    public async Task A_cached_hit_makes_no_key_manager_call()
    {
        using var f = await EnvelopeFixture.CreateAsync();
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var envelope = protector.Encrypt([1]);
        protector.Decrypt(envelope);
        var events = f.Kms.Audit.Events.Count;
        for (var i = 0; i < 20; i++)
        {
            protector.Decrypt(protector.Encrypt([(byte)i]));
        }

        Assert.Equal(events, f.Kms.Audit.Events.Count);
    }

    [Fact]
    public async Task Disabling_the_wrapping_key_evicts_its_data_keys_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        using var f = await EnvelopeFixture.CreateAsync();
        var other = await f.Kms.Manager.CreateKeyAsync("unaffected", ct);
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var otherProtector = f.Encryptor.CreateProtector(other.KeyId, Context);
        var envelope = protector.Encrypt([1]);
        var otherEnvelope = otherProtector.Encrypt([2]);
        Assert.Equal([1], f.Encryptor.Decrypt(envelope));
        Assert.Equal([2], f.Encryptor.Decrypt(otherEnvelope));
        Assert.Equal(4, f.Encryptor.CacheStatistics.Entries);

        await f.Kms.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = f.KeyId }, ct);

        // Both of the disabled key's entries (encrypt and decrypt side) are gone; the other key's stay.
        var stats = f.Encryptor.CacheStatistics;
        Assert.Equal(2, stats.Entries);
        Assert.Equal(2, stats.Evictions);
        Assert.Throws<KmsDisabledException>(() => protector.Encrypt([3]));
        await Assert.ThrowsAsync<KmsDisabledException>(async () => await protector.EncryptAsync(new byte[] { 3 }, default, ct));
        Assert.Throws<KmsDisabledException>(() => f.Encryptor.Decrypt(envelope));
        Assert.Throws<KmsDisabledException>(() => protector.Decrypt(envelope));
        Assert.Equal([2], f.Encryptor.Decrypt(otherEnvelope));
        Assert.Equal([4], otherProtector.Decrypt(otherProtector.Encrypt([4])));

        await f.Kms.Manager.EnableKeyAsync(new EnableKeyRequest { KeyId = f.KeyId }, ct);
        Assert.Equal([1], f.Encryptor.Decrypt(envelope));
        Assert.Equal([5], protector.Decrypt(protector.Encrypt([5])));
    }

    [Fact]
    public async Task Scheduling_the_wrapping_key_for_deletion_evicts_its_data_keys_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        using var f = await EnvelopeFixture.CreateAsync();
        var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
        var envelope = protector.Encrypt([1]);
        Assert.Equal([1], f.Encryptor.Decrypt(envelope));

        await f.Kms.Manager.ScheduleKeyDeletionAsync(new ScheduleKeyDeletionRequest { KeyId = f.KeyId, PendingWindowInDays = 7 }, ct);

        Assert.Equal(0, f.Encryptor.CacheStatistics.Entries);
        Assert.Throws<KmsInvalidStateException>(() => protector.Encrypt([2]));
        Assert.Throws<KmsInvalidStateException>(() => f.Encryptor.Decrypt(envelope));

        await f.Kms.Manager.CancelKeyDeletionAsync(new CancelKeyDeletionRequest { KeyId = f.KeyId }, ct);
        await f.Kms.Manager.EnableKeyAsync(new EnableKeyRequest { KeyId = f.KeyId }, ct);
        Assert.Equal([1], f.Encryptor.Decrypt(envelope));
    }

    [Fact]
    public async Task Updating_an_alias_a_protector_uses_makes_the_next_message_use_the_new_key()
    {
        var ct = TestContext.Current.CancellationToken;
        using var f = await EnvelopeFixture.CreateAsync();
        var second = await f.Kms.Manager.CreateKeyAsync("second", ct);
        await f.Kms.Manager.CreateAliasAsync(new CreateAliasRequest { AliasName = "alias/app", TargetKeyId = f.KeyId }, ct);
        var protector = f.Encryptor.CreateProtector("alias/app", Context);
        var before = protector.Encrypt([1]);
        Assert.Equal(f.KeyId, EnvelopeAssert.Header(before).Fields.KeyId(EnvelopeAssert.Header(before).Header));

        await f.Kms.Manager.UpdateAliasAsync(new UpdateAliasRequest { AliasName = "alias/app", TargetKeyId = second.KeyId }, ct);

        var after = protector.Encrypt([2]);
        var (header, fields) = EnvelopeAssert.Header(after);
        Assert.Equal(second.KeyId, fields.KeyId(header));
        Assert.Equal(2, f.Encryptor.CacheStatistics.EncryptMisses);

        // Envelopes under the old key still decrypt, also after the cache is cleared.
        f.Encryptor.ClearCache();
        Assert.Equal([1], protector.Decrypt(before));
        Assert.Equal([2], protector.Decrypt(after));
    }

    [Fact]
    public async Task A_disposed_encryptor_refuses_work_and_drops_every_data_key()
    {
        var f = await EnvelopeFixture.CreateAsync();
        try
        {
            var protector = f.Encryptor.CreateProtector(f.KeyId, Context);
            var envelope = protector.Encrypt([1]);
            f.Encryptor.Decrypt(envelope);
            f.Encryptor.Dispose();
            Assert.Equal(0, f.Encryptor.CacheStatistics.Entries);
            Assert.Throws<ObjectDisposedException>(() => protector.Encrypt([1]));
            Assert.Throws<ObjectDisposedException>(() => f.Encryptor.Decrypt(envelope));
            Assert.Throws<ObjectDisposedException>(() => f.Encryptor.CreateProtector(f.KeyId));
        }
        finally
        {
            f.Dispose();
        }
    }

    [Fact]
    public void Invalid_options_are_rejected_when_the_encryptor_is_created()
    {
        using var kms = new TestKeyManager();
        foreach (var options in new[]
        {
            new EnvelopeOptions { MaxMessagesPerDataKey = 0 },
            new EnvelopeOptions { MaxMessagesPerDataKey = 1L << 32 },
            new EnvelopeOptions { MaxBytesPerDataKey = 0 },
            new EnvelopeOptions { MaxDataKeyAge = TimeSpan.Zero },
            new EnvelopeOptions { CacheCapacity = 0 },
            new EnvelopeOptions { Backend = (AeadBackend)42 },
        })
        {
            Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new EnvelopeEncryptor(kms.Manager, options, kms.Clock));
        }
    }
}
