using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EnvelopeKms.Envelope;
using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.Tests.Envelope;

/// <summary>
/// Every change to an envelope fails with the one <see cref="KmsInvalidCiphertextException"/> and the
/// one message: single-bit flips anywhere, each header field by name, nonce, body and tag,
/// truncation, appended bytes, wrong associated data, protector binding, a swapped encrypted data
/// key (RELIABILITY row 6) and a header whose key commitment does not match its data key.
/// </summary>
public sealed class EnvelopeTamperingTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal) { ["tenant"] = "acme", ["purpose"] = "tamper" };
    private EnvelopeFixture _fixture = null!;

    public async ValueTask InitializeAsync() => _fixture = await EnvelopeFixture.CreateAsync(new EnvelopeOptions { Backend = AeadBackend.Libsodium });

    public ValueTask DisposeAsync()
    {
        _fixture.Dispose();
        return ValueTask.CompletedTask;
    }

    private EnvelopeEncryptor Encryptor => _fixture.Encryptor;

    private EnvelopeProtector Protector => Encryptor.CreateProtector(_fixture.KeyId, Context);

    /// <summary>Decrypting must fail as invalid through the encryptor (span and array) and write no plaintext.</summary>
    private void AssertRejected(byte[] envelope, byte[] plaintext, string because, byte[]? aad = null)
    {
        var destination = new byte[Math.Max(envelope.Length, plaintext.Length)];
        destination.AsSpan().Fill(0xEE);
        EnvelopeAssert.FailsAsInvalid(() => Encryptor.TryDecrypt(envelope, destination, out _, aad), because);
        Assert.All(destination, b => Assert.True(b is 0xEE or 0, because));
        EnvelopeAssert.FailsAsInvalid(() => Encryptor.Decrypt(envelope, aad), because);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    public void Flipping_any_single_bit_of_a_small_envelope_fails_as_invalid(int plaintextLength)
    {
        var plaintext = EnvelopeAssert.Pattern(plaintextLength, 1);
        var envelope = Protector.Encrypt(plaintext);
        Assert.Equal(plaintext, Encryptor.Decrypt(envelope)); // Caches the data key: body flips take the hot path.
        for (var i = 0; i < envelope.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])envelope.Clone();
                tampered[i] ^= (byte)(1 << bit);
                var destination = new byte[envelope.Length];
                destination.AsSpan().Fill(0xEE);
                EnvelopeAssert.FailsAsInvalid(() => Encryptor.TryDecrypt(tampered, destination, out _), $"byte {i} bit {bit}");
                Assert.All(destination, b => Assert.True(b is 0xEE or 0, $"byte {i} bit {bit}"));
            }
        }

        Assert.Equal(plaintext, Encryptor.Decrypt(envelope));
    }

    public static TheoryData<string> Fields { get; } =
    [
        "magic", "version", "suite", "key-id length", "key id", "EDK length", "EDK bytes", "context length",
        "context bytes", "salt", "commitment", "nonce", "body", "tag",
    ];

    [Theory]
    [MemberData(nameof(Fields))]
    public void Flipping_the_first_and_the_last_byte_of_each_field_fails_as_invalid(string field)
    {
        var plaintext = EnvelopeAssert.Pattern(40, 2);
        var envelope = Protector.Encrypt(plaintext);
        var (header, f) = EnvelopeAssert.Header(envelope);
        var (start, length) = field switch
        {
            "magic" => (0, 2),
            "version" => (2, 1),
            "suite" => (3, 1),
            "key-id length" => (4, 1),
            "key id" => (f.KeyIdStart, f.KeyIdLength),
            "EDK length" => (f.EncryptedDataKeyStart - 2, 2),
            "EDK bytes" => (f.EncryptedDataKeyStart, f.EncryptedDataKeyLength),
            "context length" => (f.ContextStart - 2, 2),
            "context bytes" => (f.ContextStart, f.ContextLength),
            "salt" => (f.SaltStart, EnvelopeFormat.SaltSize),
            "commitment" => (f.CommitmentStart, EnvelopeFormat.CommitmentSize),
            "nonce" => (header.Length, EnvelopeFormat.NonceSize),
            "body" => (header.Length + EnvelopeFormat.NonceSize, plaintext.Length),
            "tag" => (envelope.Length - EnvelopeFormat.TagSize, EnvelopeFormat.TagSize),
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        Assert.Equal(f.CommitmentStart + EnvelopeFormat.CommitmentSize, header.Length);
        foreach (var at in new[] { start, start + length - 1 })
        {
            foreach (var mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                var tampered = (byte[])envelope.Clone();
                tampered[at] ^= mask;
                AssertRejected(tampered, plaintext, $"{field} byte {at} ^ {mask:x2}");
                EnvelopeAssert.FailsAsInvalid(() => Protector.Decrypt(tampered), $"{field} through the protector");
            }
        }

        Assert.Equal(plaintext, Encryptor.Decrypt(envelope));
    }

    [Theory]
    [InlineData("suite", 3, EnvelopeFormat.SuiteStreaming)]
    [InlineData("suite", 3, 0x00)]
    [InlineData("suite", 3, 0x03)]
    [InlineData("version", 2, 0x02)]
    [InlineData("version", 2, 0x00)]
    [InlineData("key-id length", 4, 0x00)]
    [InlineData("key-id length", 4, 35)]
    [InlineData("key-id length", 4, 37)]
    [InlineData("key-id length", 4, 65)]
    [InlineData("key-id length", 4, 0xFF)]
    public void Setting_a_header_byte_to_another_plausible_value_fails_as_invalid(string field, int offset, int value)
    {
        var plaintext = EnvelopeAssert.Pattern(16, 3);
        var envelope = Protector.Encrypt(plaintext);
        Assert.NotEqual(value, envelope[offset]);
        envelope[offset] = (byte)value;
        AssertRejected(envelope, plaintext, field);
    }

    [Fact]
    public void Length_fields_that_claim_more_or_fewer_bytes_fail_as_invalid()
    {
        var plaintext = EnvelopeAssert.Pattern(100, 4);
        var envelope = Protector.Encrypt(plaintext);
        var (_, f) = EnvelopeAssert.Header(envelope);
        foreach (var lengthOffset in new[] { f.EncryptedDataKeyStart - 2, f.ContextStart - 2 })
        {
            var actual = BinaryPrimitives.ReadUInt16BigEndian(envelope.AsSpan(lengthOffset));
            foreach (var claimed in new[] { 0, 1, actual - 1, actual + 1, actual + 50, 0xFFFF })
            {
                var tampered = (byte[])envelope.Clone();
                BinaryPrimitives.WriteUInt16BigEndian(tampered.AsSpan(lengthOffset), (ushort)claimed);
                AssertRejected(tampered, plaintext, $"length at {lengthOffset} = {claimed}");
            }
        }
    }

    [Fact]
    public async Task A_key_id_naming_another_existing_key_or_no_key_fails_as_invalid()
    {
        var plaintext = EnvelopeAssert.Pattern(20, 5);
        var envelope = Protector.Encrypt(plaintext);
        var (_, f) = EnvelopeAssert.Header(envelope);
        var other = await _fixture.Kms.Manager.CreateKeyAsync("another key", TestContext.Current.CancellationToken);
        Assert.Equal(f.KeyIdLength, other.KeyId.Length);

        var swapped = (byte[])envelope.Clone();
        Encoding.ASCII.GetBytes(other.KeyId, swapped.AsSpan(f.KeyIdStart));
        AssertRejected(swapped, plaintext, "another existing key");

        var missing = (byte[])envelope.Clone();
        Encoding.ASCII.GetBytes(Guid.NewGuid().ToString(), missing.AsSpan(f.KeyIdStart));
        AssertRejected(missing, plaintext, "a key that does not exist");
    }

    [Fact]
    public void Truncating_at_every_length_fails_as_invalid()
    {
        var plaintext = EnvelopeAssert.Pattern(16, 6);
        var envelope = Protector.Encrypt(plaintext);
        Assert.Equal(plaintext, Encryptor.Decrypt(envelope));
        for (var length = 0; length < envelope.Length; length++)
        {
            var truncated = envelope[..length];
            EnvelopeAssert.FailsAsInvalid(() => Encryptor.Decrypt(truncated), $"length {length}");
            EnvelopeAssert.FailsAsInvalid(() => Protector.Decrypt(truncated), $"length {length} through the protector");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(300)]
    public void Appending_bytes_fails_as_invalid(int extra)
    {
        var plaintext = EnvelopeAssert.Pattern(16, 7);
        var envelope = Protector.Encrypt(plaintext);
        var longer = new byte[envelope.Length + extra];
        envelope.CopyTo(longer, 0);
        AssertRejected(longer, plaintext, $"{extra} zero bytes appended");
        RandomNumberGenerator.Fill(longer.AsSpan(envelope.Length));
        AssertRejected(longer, plaintext, $"{extra} random bytes appended");
    }

    [Fact]
    public async Task Wrong_caller_associated_data_fails_as_invalid()
    {
        var plaintext = EnvelopeAssert.Pattern(64, 8);
        foreach (var aadLength in new[] { 1, 100, 480, 481, 2000 })
        {
            var aad = EnvelopeAssert.Pattern(aadLength, aadLength);
            var envelope = Protector.EncryptToArray(plaintext, aad);
            Assert.Equal(plaintext, Protector.DecryptToArray(envelope, aad));

            var flipped = (byte[])aad.Clone();
            flipped[^1] ^= 1;
            foreach (var wrong in new[] { null, [], flipped, aad[..^1], [.. aad, 0] })
            {
                AssertRejected(envelope, plaintext, $"associated data of {aadLength} bytes, given {wrong?.Length}", wrong);
                EnvelopeAssert.FailsAsInvalid(() => Protector.DecryptToArray(envelope, wrong));
                await EnvelopeAssert.FailsAsInvalidAsync(async () => await Protector.DecryptAsync(envelope, wrong, TestContext.Current.CancellationToken));
            }
        }

        var withoutAad = Protector.Encrypt(plaintext);
        AssertRejected(withoutAad, plaintext, "associated data given where none was used", [0]);
    }

    [Fact]
    public async Task A_protector_rejects_envelopes_made_for_another_context_or_key()
    {
        var ct = TestContext.Current.CancellationToken;
        var plaintext = EnvelopeAssert.Pattern(30, 9);
        var otherContext = new Dictionary<string, string>(Context, StringComparer.Ordinal) { ["tenant"] = "globex" };
        var envelope = Encryptor.CreateProtector(_fixture.KeyId, otherContext).Encrypt(plaintext);

        // The envelope itself is valid ...
        Assert.Equal(plaintext, Encryptor.Decrypt(envelope));

        // ... but not for a protector bound to another context (any shape of decrypt).
        EnvelopeAssert.FailsAsInvalid(() => Protector.Decrypt(envelope));
        EnvelopeAssert.FailsAsInvalid(() => Protector.TryDecrypt(envelope, new byte[100], out _));
        await EnvelopeAssert.FailsAsInvalidAsync(async () => await Protector.DecryptAsync(envelope, default, ct));
        EnvelopeAssert.FailsAsInvalid(() => Encryptor.CreateProtector(_fixture.KeyId).Decrypt(envelope));

        // A protector bound to another key by id or by ARN rejects an envelope of this key with the same context.
        var otherKey = await _fixture.Kms.Manager.CreateKeyAsync("other", ct);
        var mine = Protector.Encrypt(plaintext);
        EnvelopeAssert.FailsAsInvalid(() => Encryptor.CreateProtector(otherKey.KeyId, Context).Decrypt(mine));
        EnvelopeAssert.FailsAsInvalid(() => Encryptor.CreateProtector(otherKey.Arn, Context).Decrypt(mine));

        // Its own key by ARN is fine.
        var myArn = (await _fixture.Kms.Manager.DescribeKeyAsync(_fixture.KeyId, ct)).Arn;
        Assert.Equal(plaintext, Encryptor.CreateProtector(myArn, Context).Decrypt(mine));
    }

    [Fact]
    public void An_envelope_whose_encrypted_data_key_is_swapped_with_another_envelopes_fails_as_invalid()
    {
        var plaintext = EnvelopeAssert.Pattern(50, 10);
        var first = Protector.Encrypt(plaintext);
        Encryptor.ClearCache();
        var second = Protector.Encrypt(plaintext);
        var (h1, f1) = EnvelopeAssert.Header(first);
        var (h2, f2) = EnvelopeAssert.Header(second);
        Assert.NotEqual(h1, h2);
        Assert.Equal(f1.EncryptedDataKeyLength, f2.EncryptedDataKeyLength);

        // The other envelope's EDK unwraps (same key and context) to another data key: the commitment rejects it.
        var swapped = (byte[])first.Clone();
        second.AsSpan(f2.EncryptedDataKeyStart, f2.EncryptedDataKeyLength).CopyTo(swapped.AsSpan(f1.EncryptedDataKeyStart));
        AssertRejected(swapped, plaintext, "EDK of another envelope");

        // An EDK made under another context does not even unwrap under this one.
        var otherContext = Encryptor.CreateProtector(_fixture.KeyId, new Dictionary<string, string> { ["tenant"] = "other" }).Encrypt(plaintext);
        var (_, f3) = EnvelopeAssert.Header(otherContext);
        Assert.Equal(f1.EncryptedDataKeyLength, f3.EncryptedDataKeyLength);
        var foreign = (byte[])first.Clone();
        otherContext.AsSpan(f3.EncryptedDataKeyStart, f3.EncryptedDataKeyLength).CopyTo(foreign.AsSpan(f1.EncryptedDataKeyStart));
        AssertRejected(foreign, plaintext, "EDK made under another context");

        Assert.Equal(plaintext, Encryptor.Decrypt(first));
        Assert.Equal(plaintext, Encryptor.Decrypt(second));
    }

    [Theory]
    [InlineData(AeadBackend.Platform)]
    [InlineData(AeadBackend.Libsodium)]
    public async Task A_header_whose_commitment_does_not_match_its_data_key_is_rejected_before_the_body_is_opened(AeadBackend backend)
    {
        var ct = TestContext.Current.CancellationToken;
        using var encryptor = new EnvelopeEncryptor(_fixture.Kms.Manager, new EnvelopeOptions { Backend = backend }, _fixture.Kms.Clock);
        using var dataKey = await _fixture.Kms.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = _fixture.KeyId, KeySpec = DataKeySpec.Aes256, EncryptionContext = Context }, ct);
        var plaintext = EnvelopeAssert.Pattern(48, 11);
        var salt = RandomNumberGenerator.GetBytes(EnvelopeFormat.SaltSize);
        var dek = new byte[EnvelopeFormat.DataKeySize];
        var commitment = new byte[EnvelopeFormat.CommitmentSize];
        EnvelopeFormat.DeriveKeys(dataKey.Plaintext, salt, EnvelopeFormat.SuiteOneShot, dek, commitment);

        // Control: the hand-built envelope with the right commitment decrypts, so the construction is right.
        var good = Build(dataKey.CiphertextBlob, salt, commitment, dek, plaintext, backend);
        Assert.Equal(plaintext, encryptor.Decrypt(good));

        // A commitment derived from another data key (the body itself is sealed correctly under the derived key).
        var otherCommitment = new byte[EnvelopeFormat.CommitmentSize];
        EnvelopeFormat.DeriveKeys(RandomNumberGenerator.GetBytes(32), salt, EnvelopeFormat.SuiteOneShot, new byte[32], otherCommitment);
        foreach (var wrong in new[] { otherCommitment, new byte[EnvelopeFormat.CommitmentSize], Flip(commitment, 31) })
        {
            var bad = Build(dataKey.CiphertextBlob, salt, wrong, dek, plaintext, backend);
            var destination = new byte[plaintext.Length];
            destination.AsSpan().Fill(0xEE);
            EnvelopeAssert.FailsAsInvalid(() => encryptor.TryDecrypt(bad, destination, out _));

            // The body was never opened: a failed open zeroes the destination, this left it untouched.
            Assert.All(destination, b => Assert.Equal(0xEE, b));
        }

        Assert.Equal(1, encryptor.CacheStatistics.Entries);
    }

    private byte[] Build(ReadOnlyMemory<byte> edk, byte[] salt, byte[] commitment, byte[] dek, byte[] plaintext, AeadBackend backend)
    {
        var header = EnvelopeFormat.BuildHeader(EnvelopeFormat.SuiteOneShot, _fixture.KeyId, edk.Span, EncryptionContextEncoding.Encode(Context), salt, commitment);
        var envelope = new byte[header.Length + EnvelopeFormat.OneShotOverhead + plaintext.Length];
        header.CopyTo(envelope, 0);
        var nonce = envelope.AsSpan(header.Length, EnvelopeFormat.NonceSize);
        nonce[^1] = 1;
        using var key = AeadKey.Create(dek, backend);
        key.Seal(nonce, plaintext, SHA256.HashData(header), envelope.AsSpan(header.Length + EnvelopeFormat.NonceSize));
        return envelope;
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = (byte[])bytes.Clone();
        copy[index] ^= 1;
        return copy;
    }
}
