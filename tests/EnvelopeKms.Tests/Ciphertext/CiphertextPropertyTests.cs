using EnvelopeKms.KeyManagement;
using FsCheck;
using FsCheck.Xunit;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>
/// FsCheck properties of Encrypt/Decrypt: round trip for any plaintext and context, any change to the
/// context fails, reordering pairs does not matter, and tampering with the blob (bit flips, truncation,
/// appended bytes) always fails with the one invalid-ciphertext error (RELIABILITY rows 1–3, 8–10).
/// </summary>
public sealed class CiphertextPropertyTests : IAsyncLifetime
{
    private KeyFixture _key = null!;

    public async ValueTask InitializeAsync() => _key = await KeyFixture.CreateAsync();

    public ValueTask DisposeAsync()
    {
        _key.Dispose();
        return ValueTask.CompletedTask;
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 150)]
    public async Task Encrypt_then_decrypt_returns_the_plaintext_for_any_plaintext_of_1_to_4096_bytes_and_any_context(PlaintextAndContext message)
    {
        var plaintext = message.Plaintext();
        var context = message.Context.ToDictionary();

        var blob = await _key.EncryptAsync(plaintext, context);

        Assert.Equal(SymmetricCiphertext.GetCiphertextLength(_key.KeyId.Length, plaintext.Length), blob.Length);
        Assert.Equal(plaintext, await _key.DecryptAsync(blob, context));
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 150)]
    public async Task Decrypt_with_any_changed_context_fails_with_invalid_ciphertext(EncryptionContextChange change)
    {
        var plaintext = "context-bound secret"u8.ToArray();
        var original = change.Original.ToDictionary();
        var changed = change.Changed.ToDictionary();
        Assert.NotEqual(EncryptionContextEncoding.Encode(original), EncryptionContextEncoding.Encode(changed));
        var blob = await _key.EncryptAsync(plaintext, original);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, blob, changed);

        Assert.Equal(plaintext, await _key.DecryptAsync(blob, original));
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 100)]
    public async Task Decrypt_with_the_same_pairs_in_another_order_succeeds(EncryptionContextReordering reordering)
    {
        var plaintext = "order does not matter"u8.ToArray();
        var blob = await _key.EncryptAsync(plaintext, reordering.Original.ToDictionary());

        var reordered = reordering.Reordered.ToDictionary()!;
        Assert.NotEqual(reordering.Original.ToDictionary()!.Keys, reordered.Keys); // The insertion order really differs.
        Assert.Equal(plaintext, await _key.DecryptAsync(blob, reordered));
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 200)]
    public async Task Flipping_any_single_bit_of_any_ciphertext_fails_with_invalid_ciphertext(BitFlipCase flip)
    {
        var context = flip.Message.Context.ToDictionary();
        var blob = await _key.EncryptAsync(flip.Message.Plaintext(), context);
        var position = flip.PositionSeed % blob.Length;

        blob[position] ^= (byte)(1 << flip.Bit);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, blob, context);
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 100)]
    public async Task Truncating_any_ciphertext_to_any_shorter_length_fails_with_invalid_ciphertext(PlaintextAndContext message, NonNegativeInt cut)
    {
        var context = message.Context.ToDictionary();
        var blob = await _key.EncryptAsync(message.Plaintext(), context);
        var length = cut.Get % blob.Length;

        // Length 0 is outside the 1–6144 bytes a CiphertextBlob may have: ValidationException.
        await CiphertextAssert.DecryptFailsAsInvalidOrOutOfRangeAsync(_key.Manager, blob.AsMemory(0, length), context);
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 100)]
    public async Task Appending_any_bytes_to_any_ciphertext_fails_with_invalid_ciphertext(PlaintextAndContext message, NonEmptyArray<byte> suffix)
    {
        var context = message.Context.ToDictionary();
        var blob = await _key.EncryptAsync(message.Plaintext(), context);

        await CiphertextAssert.DecryptFailsAsInvalidOrOutOfRangeAsync(_key.Manager, Bytes.Concat(blob, suffix.Get), context);
    }

    [Property(Arbitrary = new[] { typeof(CiphertextArbitraries) }, MaxTest = 50)]
    public async Task Concatenating_two_ciphertexts_fails_with_invalid_ciphertext(PlaintextAndContext first, PlaintextAndContext second)
    {
        var context = first.Context.ToDictionary();
        var a = await _key.EncryptAsync(first.Plaintext(), context);
        var b = await _key.EncryptAsync(second.Plaintext(), second.Context.ToDictionary());

        await CiphertextAssert.DecryptFailsAsInvalidOrOutOfRangeAsync(_key.Manager, Bytes.Concat(a, b), context);
        await CiphertextAssert.DecryptFailsAsInvalidOrOutOfRangeAsync(_key.Manager, Bytes.Concat(b, a), second.Context.ToDictionary());
        await CiphertextAssert.DecryptFailsAsInvalidOrOutOfRangeAsync(_key.Manager, Bytes.Concat(a, a), context);
    }
}
