using System.Buffers.Binary;
using System.Collections.Concurrent;
using EnvelopeKms.Envelope;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// The hot path: unique nonces under many threads on one cached data key, zero allocations with a
/// data key cached (exactly one for the <c>byte[]</c> overloads), backend equivalence, and two
/// key-manager instances sharing one store.
/// </summary>
public sealed class EnvelopeHotPathTests
{
    private const int Threads = 8;
    private const int MessagesPerThread = 2000;

    [Theory]
    [InlineData(AeadBackend.Platform)]
    [InlineData(AeadBackend.Libsodium)]
    public async Task Many_threads_on_one_cached_data_key_produce_unique_nonces_and_every_envelope_decrypts(AeadBackend backend)
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { Backend = backend });
        var protector = f.Encryptor.CreateProtector(f.KeyId, new Dictionary<string, string> { ["test"] = "nonces" });
        protector.Encrypt([0]); // The data key is cached before the threads start.
        var envelopes = new byte[Threads][][];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var mine = new byte[MessagesPerThread][];
            var plaintext = new byte[8];
            start.SignalAndWait();
            for (var i = 0; i < MessagesPerThread; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(plaintext, t);
                BinaryPrimitives.WriteInt32BigEndian(plaintext.AsSpan(4), i);
                var envelope = new byte[protector.GetCiphertextLength(plaintext.Length)];
                protector.Encrypt(plaintext.AsSpan(), envelope.AsSpan());
                mine[i] = envelope;
            }

            envelopes[t] = mine;
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var all = envelopes.SelectMany(e => e).ToList();
        Assert.Equal(Threads * MessagesPerThread, all.Count);
        Assert.Single(all.Select(e => Convert.ToHexString(EnvelopeAssert.Header(e).Header)).Distinct());
        var counters = all.Select(e => BinaryPrimitives.ReadInt64BigEndian(EnvelopeAssert.Nonce(e).AsSpan(4))).ToHashSet();
        Assert.Equal(all.Count, counters.Count);
        Assert.Equal(all.Count + 1, counters.Max()); // Message 1 was the warm-up.
        Assert.All(all, e => Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(EnvelopeAssert.Nonce(e))));

        // Every envelope decrypts, also concurrently (the AesGcm pool is shared by the decrypting threads).
        var failures = new ConcurrentBag<string>();
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            var plaintext = new byte[8];
            for (var i = 0; i < MessagesPerThread; i++)
            {
                if (!protector.TryDecrypt(envelopes[t][i], plaintext, out var written) || written != 8
                    || BinaryPrimitives.ReadInt32BigEndian(plaintext) != t || BinaryPrimitives.ReadInt32BigEndian(plaintext.AsSpan(4)) != i)
                {
                    failures.Add($"thread {t} message {i}");
                }
            }
        });
        Assert.Empty(failures);
        Assert.Equal(1, f.Encryptor.CacheStatistics.EncryptMisses);
    }

    public static TheoryData<AeadBackend, int, int> AllocationCases()
    {
        var data = new TheoryData<AeadBackend, int, int>();
        foreach (var backend in new[] { AeadBackend.Platform, AeadBackend.Libsodium })
        {
            foreach (var size in new[] { 64, 4096 })
            {
                foreach (var aad in new[] { 0, 100, 480 })
                {
                    data.Add(backend, size, aad);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllocationCases))]
    public async Task With_a_data_key_cached_try_encrypt_and_try_decrypt_allocate_nothing(AeadBackend backend, int size, int aadLength)
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { Backend = backend });
        var protector = f.Encryptor.CreateProtector(f.KeyId, new Dictionary<string, string> { ["test"] = "allocations" });
        var plaintext = EnvelopeAssert.Pattern(size, size);
        var aad = EnvelopeAssert.Pattern(aadLength, aadLength);
        var envelope = new byte[protector.GetCiphertextLength(size)];
        var decrypted = new byte[size];
        for (var i = 0; i < 50; i++)
        {
            Assert.True(protector.TryEncrypt(plaintext, envelope, out _, aad));
            Assert.True(protector.TryDecrypt(envelope, decrypted, out _, aad));
            Assert.True(f.Encryptor.TryDecrypt(envelope, decrypted, out _, aad));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            protector.TryEncrypt(plaintext, envelope, out _, aad);
        }

        var encryptAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            protector.TryDecrypt(envelope, decrypted, out _, aad);
            f.Encryptor.TryDecrypt(envelope, decrypted, out _, aad);
        }

        var decryptAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, encryptAllocated);
        Assert.Equal(0, decryptAllocated);
        Assert.Equal(plaintext, decrypted);
        Assert.Equal(1, f.Encryptor.CacheStatistics.EncryptMisses);
        Assert.Equal(1, f.Encryptor.CacheStatistics.DecryptMisses);
    }

    [Theory]
    [MemberData(nameof(AllocationCases))]
    public async Task With_a_data_key_cached_the_array_overloads_allocate_only_their_result(AeadBackend backend, int size, int aadLength)
    {
        using var f = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { Backend = backend });
        var protector = f.Encryptor.CreateProtector(f.KeyId, new Dictionary<string, string> { ["test"] = "allocations" });
        var plaintext = EnvelopeAssert.Pattern(size, size);
        byte[]? aad = aadLength == 0 ? null : EnvelopeAssert.Pattern(aadLength, aadLength);
        var envelope = protector.EncryptToArray(plaintext, aad);
        Assert.Equal(plaintext, protector.DecryptToArray(envelope, aad));
        Assert.Equal(plaintext, f.Encryptor.Decrypt(envelope, aad));

        // One byte[] of n elements: n bytes plus the array object's header and padding, less than 32 bytes.
        static void AssertOneArray(long allocated, int elements)
            => Assert.InRange(allocated, elements, elements + 31);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var again = protector.EncryptToArray(plaintext, aad);
        AssertOneArray(GC.GetAllocatedBytesForCurrentThread() - before, envelope.Length);

        before = GC.GetAllocatedBytesForCurrentThread();
        var opened = protector.DecryptToArray(again, aad);
        AssertOneArray(GC.GetAllocatedBytesForCurrentThread() - before, size);

        before = GC.GetAllocatedBytesForCurrentThread();
        var openedByEncryptor = f.Encryptor.Decrypt(again, aad);
        AssertOneArray(GC.GetAllocatedBytesForCurrentThread() - before, size);

        Assert.Equal(envelope.Length, again.Length);
        Assert.Equal(plaintext, opened);
        Assert.Equal(plaintext, openedByEncryptor);

        if (aad is null)
        {
            // The protector's own byte[] overloads (which take no associated data) allocate exactly their result.
            before = GC.GetAllocatedBytesForCurrentThread();
            var viaArrayOverload = protector.Encrypt(plaintext);
            AssertOneArray(GC.GetAllocatedBytesForCurrentThread() - before, envelope.Length);

            before = GC.GetAllocatedBytesForCurrentThread();
            var openedViaArrayOverload = protector.Decrypt(viaArrayOverload);
            AssertOneArray(GC.GetAllocatedBytesForCurrentThread() - before, size);
            Assert.Equal(plaintext, openedViaArrayOverload);
        }
    }

    public sealed record SealCase(byte[] Key, byte[] Nonce, byte[] Plaintext, byte[] AssociatedData)
    {
        public override string ToString() => $"key {Convert.ToHexString(Key)}, nonce {Convert.ToHexString(Nonce)}, {Plaintext.Length} plaintext bytes, {AssociatedData.Length} AAD bytes";
    }

    public static class SealArbitraries
    {
        private static Gen<byte[]> Bytes(Gen<int> length) => length.SelectMany(n => Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf(n));

        public static Arbitrary<SealCase> Seal()
            => Arb.From(
                from key in Bytes(Gen.Constant(32))
                from nonce in Bytes(Gen.Constant(12))
                from plaintext in Bytes(Gen.Frequency((3, Gen.Choose(0, 40)), (1, Gen.Choose(0, 3000))))
                from aad in Bytes(Gen.Frequency((3, Gen.Choose(0, 40)), (1, Gen.Choose(0, 700))))
                select new SealCase(key, nonce, plaintext, aad));
    }

    [Property(Arbitrary = new[] { typeof(SealArbitraries) }, MaxTest = 100)]
    public void The_platform_and_libsodium_backends_produce_identical_output_and_open_each_other(SealCase c)
    {
        using var platform = AeadKey.Create(c.Key, AeadBackend.Platform);
        using var sodium = AeadKey.Create(c.Key, AeadBackend.Libsodium);
        Assert.IsType<PlatformAeadKey>(platform);
        Assert.IsType<SodiumAeadKey>(sodium);
        var byPlatform = new byte[c.Plaintext.Length + EnvelopeFormat.TagSize];
        var bySodium = new byte[c.Plaintext.Length + EnvelopeFormat.TagSize];
        platform.Seal(c.Nonce, c.Plaintext, c.AssociatedData, byPlatform);
        sodium.Seal(c.Nonce, c.Plaintext, c.AssociatedData, bySodium);
        Assert.Equal(byPlatform, bySodium);

        var opened = new byte[c.Plaintext.Length];
        Assert.True(platform.TryOpen(c.Nonce, bySodium, c.AssociatedData, opened));
        Assert.Equal(c.Plaintext, opened);
        opened.AsSpan().Clear();
        Assert.True(sodium.TryOpen(c.Nonce, byPlatform, c.AssociatedData, opened));
        Assert.Equal(c.Plaintext, opened);

        // Both reject the same forgery and leave the destination zeroed.
        byPlatform[^1] ^= 1;
        opened.AsSpan().Fill(0xEE);
        Assert.False(platform.TryOpen(c.Nonce, byPlatform, c.AssociatedData, opened));
        Assert.All(opened, b => Assert.Equal(0, b));
        opened.AsSpan().Fill(0xEE);
        Assert.False(sodium.TryOpen(c.Nonce, byPlatform, c.AssociatedData, opened));
        Assert.All(opened, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Envelopes_made_through_one_key_manager_decrypt_through_another_sharing_the_file_store()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("envelopekms-envelope-shared-").FullName;
        try
        {
            byte[] RootKey() => [.. Enumerable.Range(0, 32).Select(i => (byte)(0xA0 ^ i))];
            using var first = new TestKeyManager(new FileSystemKeyStore(directory), new StaticRootKeyProvider(RootKey()));
            using var second = new TestKeyManager(new FileSystemKeyStore(directory), new StaticRootKeyProvider(RootKey()));
            var key = await first.Manager.CreateKeyAsync("shared", ct);
            var context = new Dictionary<string, string> { ["tenant"] = "acme", ["table"] = "orders" };
            using var a = new EnvelopeEncryptor(first.Manager, new EnvelopeOptions { Backend = AeadBackend.Platform }, first.Clock);
            using var b = new EnvelopeEncryptor(second.Manager, new EnvelopeOptions { Backend = AeadBackend.Libsodium }, second.Clock);
            var plaintext = EnvelopeAssert.Pattern(5000, 5000);
            var aad = "row 17"u8.ToArray();

            var fromA = a.CreateProtector(key.KeyId, context).EncryptToArray(plaintext, aad);
            var fromB = await b.EncryptAsync(key.Arn, plaintext, context, aad, ct);

            Assert.Equal(plaintext, b.Decrypt(fromA, aad));
            Assert.Equal(plaintext, b.CreateProtector(key.KeyId, context).DecryptToArray(fromA, aad));
            Assert.Equal(plaintext, await a.DecryptAsync(fromB, aad, ct));
            Assert.Equal(plaintext, a.CreateProtector(key.KeyId, context).DecryptToArray(fromB, aad));
            Assert.Equal(1, a.CacheStatistics.DecryptMisses);
            Assert.Equal(1, b.CacheStatistics.DecryptMisses);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
