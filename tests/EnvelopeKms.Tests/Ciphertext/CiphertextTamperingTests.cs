using System.Text;
using EnvelopeKms.KeyManagement;
using EnvelopeKms.Protection;
using EnvelopeKms.Storage;
using EnvelopeKms.Tests.Infrastructure;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>
/// Facts about corrupt, truncated, extended and foreign ciphertexts (RELIABILITY rows 1–5): every one
/// fails with the same <see cref="KmsInvalidCiphertextException"/> and the same message, or with
/// <see cref="KmsValidationException"/> when the blob length is outside 1–6144 bytes.
/// </summary>
public sealed class CiphertextTamperingTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Context = new(StringComparer.Ordinal)
    {
        ["tenant"] = "acme",
        ["purpose"] = "tamper test",
    };

    private KeyFixture _key = null!;

    public async ValueTask InitializeAsync() => _key = await KeyFixture.CreateAsync();

    public ValueTask DisposeAsync()
    {
        _key.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Encrypt_of_an_empty_plaintext_fails_with_validation()
    {
        // Direct Encrypt takes 1–4096 bytes, as in AWS KMS.
        var e = await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync(ReadOnlyMemory<byte>.Empty));
        Assert.Contains("Plaintext", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Encrypt_of_4097_bytes_fails_with_validation_and_4096_bytes_round_trips()
    {
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync(new byte[4097]));

        var plaintext = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
        Assert.Equal(plaintext, await _key.DecryptAsync(await _key.EncryptAsync(plaintext)));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(64, true)]
    public async Task Flipping_each_bit_of_a_small_ciphertext_in_turn_always_fails_with_invalid_ciphertext(int plaintextLength, bool withContext)
    {
        var plaintext = Enumerable.Range(1, plaintextLength).Select(i => (byte)i).ToArray();
        var context = withContext ? Context : null;
        var blob = await _key.EncryptAsync(plaintext, context);
        Assert.Equal(3 + 36 + 32 + 12 + plaintextLength + 16, blob.Length);

        // Every bit of version, algorithm, key-id length, key id, material id, nonce, body and tag.
        for (var position = 0; position < blob.Length; position++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])blob.Clone();
                tampered[position] ^= (byte)(1 << bit);
                await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, tampered, context);
            }
        }

        Assert.Equal(plaintext, await _key.DecryptAsync(blob, context));
    }

    [Fact]
    public async Task Truncation_to_every_shorter_length_fails_with_invalid_ciphertext_or_validation_for_zero_bytes()
    {
        var blob = await _key.EncryptAsync("truncate me"u8.ToArray(), Context);
        var headerLength = 3 + _key.KeyId.Length + SymmetricCiphertext.MaterialIdSize;

        // The named cases of row 1 first, then every other length.
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.DecryptAsync(blob.AsMemory(0, 0), Context));
        int[] named = [1, 2, 3, headerLength, headerLength + SymmetricCiphertext.NonceSize, blob.Length - 1];
        foreach (var length in named.Concat(Enumerable.Range(1, blob.Length - 1)))
        {
            await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, blob.AsMemory(0, length), Context);
        }

        // The header plus nonce plus a full-length tag but a body that is one byte short.
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(blob[..(blob.Length - SymmetricCiphertext.TagSize - 1)], blob[^SymmetricCiphertext.TagSize..]), Context);
    }

    [Fact]
    public async Task Dropping_bytes_from_the_front_fails_with_invalid_ciphertext()
    {
        var blob = await _key.EncryptAsync("suffixes"u8.ToArray(), Context);
        for (var start = 1; start < blob.Length; start++)
        {
            await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, blob.AsMemory(start), Context);
        }
    }

    [Fact]
    public async Task Appended_bytes_fail_with_invalid_ciphertext_and_beyond_6144_bytes_with_validation()
    {
        var blob = await _key.EncryptAsync("append to me"u8.ToArray(), Context);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(blob, [0]), Context);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(blob, blob[^SymmetricCiphertext.TagSize..]), Context);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(blob, new byte[6144 - blob.Length]), Context);
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.DecryptAsync(Bytes.Concat(blob, new byte[6145 - blob.Length]), Context));
    }

    [Fact]
    public async Task Two_ciphertexts_concatenated_fail_with_invalid_ciphertext()
    {
        var first = await _key.EncryptAsync("first"u8.ToArray(), Context);
        var second = await _key.EncryptAsync("second"u8.ToArray(), Context);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(first, second), Context);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(second, first), Context);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, Bytes.Concat(first, first), Context);
    }

    [Fact]
    public async Task Every_unknown_format_version_or_algorithm_byte_fails_with_invalid_ciphertext()
    {
        var blob = await _key.EncryptAsync("versioned"u8.ToArray(), Context);
        Assert.Equal(SymmetricCiphertext.Version1, blob[0]);
        Assert.Equal(SymmetricCiphertext.AlgorithmAes256Gcm, blob[1]);

        for (var value = 0; value < 256; value++)
        {
            if (value == 0x01)
            {
                continue;
            }

            foreach (var position in new[] { 0, 1 })
            {
                var tampered = (byte[])blob.Clone();
                tampered[position] = (byte)value;
                await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, tampered, Context);
            }
        }
    }

    [Fact]
    public async Task A_ciphertext_from_another_store_with_another_root_key_fails_with_invalid_ciphertext()
    {
        using var other = await KeyFixture.CreateAsync(new TestKeyManager(rootKeyProvider: new StaticRootKeyProvider(Enumerable.Repeat((byte)0x5A, 32).ToArray())));
        var foreign = await other.EncryptAsync("from store B"u8.ToArray(), Context);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, foreign, Context);
        Assert.Equal("from store B"u8.ToArray(), await other.DecryptAsync(foreign, Context));
    }

    [Fact]
    public async Task A_ciphertext_from_another_store_with_the_same_root_key_fails_with_invalid_ciphertext()
    {
        using var other = await KeyFixture.CreateAsync(new TestKeyManager(rootKeyProvider: new StaticRootKeyProvider(new byte[32])));
        var foreign = await other.EncryptAsync("same root key, other store"u8.ToArray(), Context);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, foreign, Context);
    }

    [Fact]
    public async Task A_ciphertext_with_this_stores_key_id_and_material_id_but_other_key_material_fails_with_invalid_ciphertext()
    {
        // The API never makes two keys with the same id, so forge what another store holding the same key-id
        // string would produce: the same header, sealed under other key material (RELIABILITY row 5).
        var genuine = await _key.Manager.EncryptAsync(new EncryptRequest { KeyId = _key.KeyId, Plaintext = "genuine"u8.ToArray(), EncryptionContext = Context }, TestContext.Current.CancellationToken);
        var otherMaterial = Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i)).ToArray();
        var forged = SymmetricCiphertext.Encrypt(otherMaterial, _key.KeyId, genuine.KeyMaterialId, "forged"u8, EncryptionContextEncoding.Encode(Context));
        Assert.Equal(genuine.CiphertextBlob.AsSpan(0, 3 + 36 + 32).ToArray(), forged.AsSpan(0, 3 + 36 + 32).ToArray());

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, forged, Context);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, forged, Context, keyId: _key.KeyId);
    }

    [Fact]
    public async Task A_ciphertext_naming_an_unknown_key_id_fails_with_invalid_ciphertext()
    {
        var blob = await _key.EncryptAsync("whose key?"u8.ToArray(), Context);
        var keyIdBytes = Encoding.ASCII.GetBytes(Identifiers.NewKeyId());
        keyIdBytes.CopyTo(blob, 3);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, blob, Context);
    }

    [Fact]
    public async Task Context_present_at_encrypt_and_absent_at_decrypt_or_the_reverse_fails_with_invalid_ciphertext()
    {
        var withContext = await _key.EncryptAsync("bound"u8.ToArray(), Context);
        var withoutContext = await _key.EncryptAsync("unbound"u8.ToArray());

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, withContext, context: null);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, withContext, new Dictionary<string, string>());
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, withoutContext, Context);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, withoutContext, new Dictionary<string, string> { ["tenant"] = "acme" });
    }

    [Fact]
    public async Task Absent_and_empty_contexts_are_the_same_context()
    {
        var absent = await _key.EncryptAsync("no context"u8.ToArray(), null);
        var empty = await _key.EncryptAsync("empty context"u8.ToArray(), new Dictionary<string, string>());

        Assert.Equal("no context"u8.ToArray(), await _key.DecryptAsync(absent, new Dictionary<string, string>()));
        Assert.Equal("empty context"u8.ToArray(), await _key.DecryptAsync(empty, null));
    }

    [Fact]
    public async Task Every_kind_of_invalid_ciphertext_failure_carries_the_same_message_and_error_code()
    {
        // No oracle: corruption, truncation, a wrong context, an unknown version, a foreign store and a
        // forged header all look the same to the caller and in the audit trail.
        var blob = await _key.EncryptAsync("oracle?"u8.ToArray(), Context);
        var flippedTag = (byte[])blob.Clone();
        flippedTag[^1] ^= 1;
        var flippedKeyId = (byte[])blob.Clone();
        flippedKeyId[5] ^= 1;
        var flippedMaterialId = (byte[])blob.Clone();
        flippedMaterialId[3 + 36] ^= 1;
        var unknownVersion = (byte[])blob.Clone();
        unknownVersion[0] = 2;
        using var other = await KeyFixture.CreateAsync(new TestKeyManager(rootKeyProvider: new StaticRootKeyProvider(Enumerable.Repeat((byte)7, 32).ToArray())));
        var foreign = await other.EncryptAsync("oracle?"u8.ToArray(), Context);
        var header = SymmetricCiphertext.TryReadHeader(blob, out var parsed) ? parsed : throw new InvalidOperationException("Unreadable header.");
        var forged = SymmetricCiphertext.Encrypt(new byte[32], header.KeyId, header.KeyMaterialId, "oracle?"u8, EncryptionContextEncoding.Encode(Context));

        (string Case, byte[] Blob, Dictionary<string, string>? Context)[] cases =
        [
            ("flipped tag bit", flippedTag, Context),
            ("flipped key-id bit", flippedKeyId, Context),
            ("flipped material-id bit", flippedMaterialId, Context),
            ("unknown version", unknownVersion, Context),
            ("truncated to 2 bytes", blob[..2], Context),
            ("truncated by one byte", blob[..^1], Context),
            ("one byte appended", Bytes.Concat(blob, [0]), Context),
            ("wrong context", blob, new Dictionary<string, string> { ["tenant"] = "acme" }),
            ("no context", blob, null),
            ("foreign store", foreign, Context),
            ("forged under other material", forged, Context),
        ];

        var messages = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in cases)
        {
            var e = await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, c.Blob, c.Context);
            messages.Add(e.Message);
        }

        Assert.Equal([SymmetricCiphertext.InvalidMessage], messages);
        var failures = _key.Kms.Audit.Events.Where(e => e.Operation == KmsOperation.Decrypt && e.Outcome != KmsOutcome.Success).ToList();
        Assert.Equal(cases.Length, failures.Count);
        Assert.All(failures, e => Assert.Equal("InvalidCiphertextException", e.ErrorCode));
    }
}
