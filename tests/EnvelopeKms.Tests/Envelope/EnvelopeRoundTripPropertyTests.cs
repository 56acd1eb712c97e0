using EnvelopeKms.Envelope;
using EnvelopeKms.Tests.Ciphertext;
using EnvelopeKms.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>A one-shot message: plaintext (by length and seed), encryption context and caller associated data.</summary>
public sealed record EnvelopeMessage(int Length, int Seed, EncryptionContextCase Context, int AssociatedDataLength)
{
    public byte[] Plaintext() => EnvelopeAssert.Pattern(Length, Seed);

    /// <summary>The caller's associated data, or <see langword="null"/> for none.</summary>
    public byte[]? AssociatedData() => AssociatedDataLength < 0 ? null : EnvelopeAssert.Pattern(AssociatedDataLength, ~Seed);

    public override string ToString() => $"{Length} bytes (seed {Seed}), context {Context}, associated data {(AssociatedDataLength < 0 ? "none" : AssociatedDataLength + " bytes")}";
}

public static class EnvelopeArbitraries
{
    /// <summary>Plaintext lengths 0..~70 000, the AES block and buffer boundaries often.</summary>
    public static Gen<int> Length { get; } = Gen.Frequency(
        (6, Gen.Elements(0, 1, 15, 16, 17, 4096, 65_536)),
        (4, Gen.Choose(0, 64)),
        (2, Gen.Choose(0, 70_000)));

    /// <summary>
    /// Caller associated data: none, empty, small, around the 512-byte stack limit (32 bytes of header
    /// hash + 480 fill it exactly) and larger (the pooled-buffer path).
    /// </summary>
    public static Gen<int> AssociatedDataLength { get; } = Gen.Frequency(
        (3, Gen.Constant(-1)),
        (1, Gen.Constant(0)),
        (2, Gen.Choose(1, 64)),
        (2, Gen.Elements(479, 480, 481, 512, 513)),
        (2, Gen.Choose(513, 3000)));

    public static Arbitrary<EnvelopeMessage> Message()
        => Arb.From(
            from length in Length
            from seed in Gen.Choose(0, int.MaxValue - 1)
            from context in CiphertextArbitraries.ContextGen
            from aad in AssociatedDataLength
            select new EnvelopeMessage(length, seed, context, aad));
}

/// <summary>
/// Round trips through every shape of the one-shot API (span, <c>byte[]</c>, async; protector and
/// encryptor) on both AES-GCM backends, with the sizing methods consistent with what is written.
/// </summary>
public sealed class EnvelopeRoundTripPropertyTests : IAsyncLifetime
{
    private TestKeyManager _kms = null!;
    private string _keyId = null!;
    private EnvelopeEncryptor _platform = null!;
    private EnvelopeEncryptor _sodium = null!;

    public async ValueTask InitializeAsync()
    {
        _kms = new TestKeyManager();
        _keyId = (await _kms.Manager.CreateKeyAsync("round trips", TestContext.Current.CancellationToken)).KeyId;
        _platform = new EnvelopeEncryptor(_kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Platform }, _kms.Clock);
        _sodium = new EnvelopeEncryptor(_kms.Manager, new EnvelopeOptions { Backend = AeadBackend.Libsodium }, _kms.Clock);
    }

    public ValueTask DisposeAsync()
    {
        _platform.Dispose();
        _sodium.Dispose();
        _kms.Dispose();
        return ValueTask.CompletedTask;
    }

    [Property(Arbitrary = new[] { typeof(EnvelopeArbitraries) }, MaxTest = 60)]
    public async Task Every_encrypt_shape_round_trips_through_every_decrypt_shape_on_both_backends(EnvelopeMessage message)
    {
        var ct = TestContext.Current.CancellationToken;
        var plaintext = message.Plaintext();
        var aad = message.AssociatedData();
        var context = message.Context.ToDictionary();
        foreach (var (encryptor, other) in new[] { (_platform, _sodium), (_sodium, _platform) })
        {
            var protector = encryptor.CreateProtector(_keyId, context);
            var length = protector.GetCiphertextLength(plaintext.Length);
            Assert.Equal(plaintext.Length, protector.GetMaxPlaintextLength(length));
            Assert.Equal(Math.Max(0, plaintext.Length - 1), protector.GetMaxPlaintextLength(length - 1));
            Assert.Equal(plaintext.Length + 1, protector.GetMaxPlaintextLength(length + 1));

            // TryEncrypt: false and nothing written when one byte short; true and exactly the length otherwise.
            var tooSmall = new byte[length - 1];
            tooSmall.AsSpan().Fill(0xA5);
            Assert.False(protector.TryEncrypt(plaintext, tooSmall, out var written, aad));
            Assert.Equal(0, written);
            Assert.All(tooSmall, b => Assert.Equal(0xA5, b));
            var roomy = new byte[length + 7];
            Assert.True(protector.TryEncrypt(plaintext, roomy, out written, aad));
            Assert.Equal(length, written);
            var viaTry = roomy[..length];

            var e = Assert.Throws<ArgumentException>(() => protector.Encrypt(plaintext, new byte[length - 1], aad));
            Assert.Equal("destination", e.ParamName);
            var viaSpan = new byte[length];
            Assert.Equal(length, protector.Encrypt(plaintext.AsSpan(), viaSpan.AsSpan(), aad.AsSpan()));

            var viaArray = protector.EncryptToArray(plaintext, aad);
            var viaAsync = await protector.EncryptAsync(plaintext, aad, ct);
            var viaEncryptor = await encryptor.EncryptAsync(_keyId, plaintext, context, aad, ct);
            var envelopes = new[] { viaTry, viaSpan, viaArray, viaAsync, viaEncryptor };
            Assert.All(envelopes, envelope => Assert.Equal(length, envelope.Length));
            Assert.Equal(envelopes.Length, envelopes.Select(envelope => Convert.ToHexString(EnvelopeAssert.Nonce(envelope))).Distinct().Count());

            foreach (var envelope in envelopes)
            {
                Assert.Equal(plaintext.Length, EnvelopeEncryptor.GetPlaintextLength(envelope));
                await AssertEveryDecryptShapeAsync(protector, encryptor, envelope, plaintext, aad);

                // The other backend (another encryptor, so a fresh unwrap) opens it too.
                Assert.Equal(plaintext, other.Decrypt(envelope, aad));
            }
        }
    }

    private static async Task AssertEveryDecryptShapeAsync(EnvelopeProtector protector, EnvelopeEncryptor encryptor, byte[] envelope, byte[] plaintext, byte[]? aad)
    {
        var ct = TestContext.Current.CancellationToken;
        if (plaintext.Length > 0)
        {
            var tooSmall = new byte[plaintext.Length - 1];
            tooSmall.AsSpan().Fill(0x5A);
            Assert.False(protector.TryDecrypt(envelope, tooSmall, out var none, aad));
            Assert.Equal(0, none);
            Assert.All(tooSmall, b => Assert.Equal(0x5A, b));
            Assert.False(encryptor.TryDecrypt(envelope, tooSmall, out none, aad));
            Assert.Equal(0, none);
            var e = Assert.Throws<ArgumentException>(() => protector.Decrypt(envelope.AsSpan(), new byte[plaintext.Length - 1], aad.AsSpan()));
            Assert.Equal("destination", e.ParamName);
        }

        var destination = new byte[plaintext.Length + 3];
        Assert.True(protector.TryDecrypt(envelope, destination, out var written, aad));
        Assert.Equal(plaintext.Length, written);
        Assert.Equal(plaintext, destination[..written]);

        destination.AsSpan().Clear();
        Assert.True(encryptor.TryDecrypt(envelope, destination, out written, aad));
        Assert.Equal(plaintext, destination[..written]);

        var exact = new byte[plaintext.Length];
        Assert.Equal(plaintext.Length, protector.Decrypt(envelope.AsSpan(), exact.AsSpan(), aad.AsSpan()));
        Assert.Equal(plaintext, exact);

        Assert.Equal(plaintext, protector.DecryptToArray(envelope, aad));
        Assert.Equal(plaintext, await protector.DecryptAsync(envelope, aad, ct));
        Assert.Equal(plaintext, encryptor.Decrypt(envelope, aad));
        Assert.Equal(plaintext, await encryptor.DecryptAsync(envelope, aad, ct));
    }

    [Fact]
    public void Sizing_methods_reject_negative_lengths_and_report_zero_when_nothing_fits()
    {
        var protector = _sodium.CreateProtector(_keyId);
        Assert.Throws<ArgumentOutOfRangeException>(() => protector.GetCiphertextLength(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => protector.GetMaxPlaintextLength(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => protector.GetCiphertextLength(int.MaxValue));
        var empty = protector.GetCiphertextLength(0);
        Assert.Equal(0, protector.GetMaxPlaintextLength(empty));
        Assert.Equal(0, protector.GetMaxPlaintextLength(empty - 1));
        Assert.Equal(0, protector.GetMaxPlaintextLength(0));
    }

    [Fact]
    public void Get_plaintext_length_of_a_malformed_envelope_fails_as_invalid()
    {
        EnvelopeAssert.FailsAsInvalid(() => EnvelopeEncryptor.GetPlaintextLength([]));
        EnvelopeAssert.FailsAsInvalid(() => EnvelopeEncryptor.GetPlaintextLength("EK"u8));
        var envelope = _sodium.CreateProtector(_keyId).Encrypt([1, 2, 3]);
        EnvelopeAssert.FailsAsInvalid(() => EnvelopeEncryptor.GetPlaintextLength(envelope.AsSpan(0, envelope.Length - 4)));
    }
}
