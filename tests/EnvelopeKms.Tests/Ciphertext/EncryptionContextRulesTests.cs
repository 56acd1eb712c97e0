using EnvelopeKms.KeyManagement;

namespace EnvelopeKms.Tests.Ciphertext;

/// <summary>
/// The rules of the encryption context (RELIABILITY rows 11–13) end to end, and the canonical encoding
/// (<see cref="EncryptionContextEncoding.Encode"/>) byte by byte.
/// </summary>
public sealed class EncryptionContextRulesTests : IAsyncLifetime
{
    private KeyFixture _key = null!;

    public async ValueTask InitializeAsync() => _key = await KeyFixture.CreateAsync();

    public ValueTask DisposeAsync()
    {
        _key.Dispose();
        return ValueTask.CompletedTask;
    }

    private static Dictionary<string, string> Ctx(params (string Key, string Value)[] pairs)
        => pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private async Task AssertDistinctContextsAsync(Dictionary<string, string> first, Dictionary<string, string> second)
    {
        Assert.NotEqual(EncryptionContextEncoding.Encode(first), EncryptionContextEncoding.Encode(second));
        var plaintext = "distinct contexts"u8.ToArray();
        var underFirst = await _key.EncryptAsync(plaintext, first);
        var underSecond = await _key.EncryptAsync(plaintext, second);

        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, underFirst, second);
        await CiphertextAssert.DecryptFailsAsInvalidAsync(_key.Manager, underSecond, first);
        Assert.Equal(plaintext, await _key.DecryptAsync(underFirst, first));
        Assert.Equal(plaintext, await _key.DecryptAsync(underSecond, second));
    }

    // ------------------------------------------------------------------ end to end

    [Fact]
    public Task Contexts_that_concatenate_alike_are_distinct() // Row 12: {"a":"bc"} vs {"ab":"c"}.
        => AssertDistinctContextsAsync(Ctx(("a", "bc")), Ctx(("ab", "c")));

    [Fact]
    public Task NFC_and_NFD_forms_of_the_same_text_are_different_context_values() // Row 11.
        => AssertDistinctContextsAsync(Ctx(("name", "caf\u00E9")), Ctx(("name", "cafe\u0301")));

    [Fact]
    public Task NFC_and_NFD_forms_of_the_same_text_are_different_context_keys()
        => AssertDistinctContextsAsync(Ctx(("\u00E9", "v")), Ctx(("e\u0301", "v")));

    [Fact]
    public Task Keys_and_values_that_differ_only_in_case_are_distinct()
        => AssertDistinctContextsAsync(Ctx(("Tenant", "acme")), Ctx(("tenant", "acme")));

    [Fact]
    public async Task An_embedded_NUL_is_allowed_and_distinct_from_the_same_text_split_elsewhere()
    {
        // A NUL-separated encoding would make both "a\0b\0c": the length-prefixed one does not.
        await AssertDistinctContextsAsync(Ctx(("a\0b", "c")), Ctx(("a", "b\0c")));
        await AssertDistinctContextsAsync(Ctx(("a", "\0")), Ctx(("a", "")));
    }

    [Fact]
    public async Task An_empty_value_is_allowed_and_distinct_from_an_absent_pair()
    {
        await AssertDistinctContextsAsync(Ctx(("k", "")), Ctx());
        await AssertDistinctContextsAsync(Ctx(("k", ""), ("l", "")), Ctx(("k", "")));
    }

    [Fact]
    public async Task An_empty_key_fails_with_validation_on_encrypt_and_decrypt()
    {
        var context = Ctx(("", "value"));
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync("x"u8.ToArray(), context));
        var blob = await _key.EncryptAsync("x"u8.ToArray());
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.DecryptAsync(blob, context));
    }

    // Lone surrogates cannot be written in [InlineData]: attribute strings are stored as UTF-8 and would
    // arrive as U+FFFD. The cases are therefore built here and chosen by index.
    private static readonly (string Key, string Value)[] LoneSurrogateCases =
    [
        ("\uD800", "value"), // A lone high surrogate in the key.
        ("key", "\uDC00"), // A lone low surrogate in the value.
        ("a\uDC00\uD800b", "value"), // A reversed pair.
        ("key", "end\uD83D"), // A high surrogate at the end.
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_lone_surrogate_fails_with_validation(int index)
    {
        var (key, value) = LoneSurrogateCases[index];
        Assert.Contains(key + value, char.IsSurrogate); // The case really holds a surrogate (not U+FFFD).
        var context = Ctx((key, value));
        var e = await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync("x"u8.ToArray(), context));
        Assert.Contains("surrogate", e.Message, StringComparison.Ordinal);
        Assert.Throws<KmsValidationException>(() => EncryptionContextEncoding.Encode(context));
        var blob = await _key.EncryptAsync("x"u8.ToArray());
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.DecryptAsync(blob, context));
    }

    [Fact]
    public async Task A_supplementary_character_as_a_well_formed_surrogate_pair_is_allowed()
    {
        var context = Ctx(("\U0001F511", "\U0001F512"));
        var blob = await _key.EncryptAsync("emoji"u8.ToArray(), context);
        Assert.Equal("emoji"u8.ToArray(), await _key.DecryptAsync(blob, context));
    }

    [Fact]
    public async Task Sixty_four_pairs_are_allowed_and_sixty_five_fail_with_validation()
    {
        var sixtyFour = Enumerable.Range(0, 64).ToDictionary(i => $"k{i}", i => $"v{i}", StringComparer.Ordinal);
        var blob = await _key.EncryptAsync("many pairs"u8.ToArray(), sixtyFour);
        Assert.Equal("many pairs"u8.ToArray(), await _key.DecryptAsync(blob, sixtyFour));

        var sixtyFive = new Dictionary<string, string>(sixtyFour, StringComparer.Ordinal) { ["k64"] = "v64" };
        var e = await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync("too many"u8.ToArray(), sixtyFive));
        Assert.Contains("64", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.DecryptAsync(blob, sixtyFive));
    }

    [Fact]
    public async Task An_encoding_of_8192_bytes_is_allowed_and_of_8193_bytes_fails_with_validation()
    {
        // 2 (count) + 2 + 1 (key "k") + 2 + n (value) = 8192 when n = 8185.
        var largest = Ctx(("k", new string('x', 8185)));
        Assert.Equal(8192, EncryptionContextEncoding.Encode(largest).Length);
        var blob = await _key.EncryptAsync("large context"u8.ToArray(), largest);
        Assert.Equal("large context"u8.ToArray(), await _key.DecryptAsync(blob, largest));

        var tooLarge = Ctx(("k", new string('x', 8186)));
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync("x"u8.ToArray(), tooLarge));
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.DecryptAsync(blob, tooLarge));

        // Multi-byte characters count in UTF-8 bytes, not in UTF-16 code units: 2,729 × 3 bytes + 8 > 8192.
        Assert.Throws<KmsValidationException>(() => EncryptionContextEncoding.Encode(Ctx(("k", new string('\u20AC', 2729)))));
        Assert.Equal(8192, EncryptionContextEncoding.Encode(Ctx(("kk", new string('\u20AC', 2728)))).Length);
    }

    [Fact]
    public async Task An_oversized_context_fails_with_validation_before_the_key_is_looked_up_or_any_cryptography_runs()
    {
        var tooMany = Enumerable.Range(0, 65).ToDictionary(i => $"k{i}", i => "v", StringComparer.Ordinal);
        var tooLarge = Ctx(("k", new string('x', 9000)));
        var missingKey = Identifiers.NewKeyId();
        var ct = TestContext.Current.CancellationToken;

        // A key that does not exist would give NotFound and a disabled one Disabled: validation comes first.
        foreach (var context in new[] { tooMany, tooLarge })
        {
            await Assert.ThrowsAsync<KmsValidationException>(() => _key.Manager.EncryptAsync(missingKey, "x"u8.ToArray(), context, ct));
            await Assert.ThrowsAsync<KmsValidationException>(() => _key.Manager.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = missingKey, KeySpec = DataKeySpec.Aes256, EncryptionContext = context }, ct));
            await Assert.ThrowsAsync<KmsValidationException>(() => _key.Manager.DecryptAsync(new byte[] { 0xFF, 0xFF, 0xFF }, context, ct));
        }

        await _key.Manager.DisableKeyAsync(new DisableKeyRequest { KeyId = _key.KeyId }, ct);
        await Assert.ThrowsAsync<KmsValidationException>(() => _key.EncryptAsync("x"u8.ToArray(), tooMany));
        await Assert.ThrowsAsync<KmsDisabledException>(() => _key.EncryptAsync("x"u8.ToArray(), Ctx(("k", "v"))));

        var failures = _key.Kms.Audit.Events.Where(e => e.ErrorCode == "ValidationException").ToList();
        Assert.Equal(7, failures.Count);
        Assert.All(failures, e => Assert.Null(e.KeyMaterialId));
    }

    // ------------------------------------------------------------------ canonical encoding, byte by byte

    [Fact]
    public void Encode_sorts_pairs_and_prefixes_each_field_with_its_big_endian_length()
    {
        byte[] expected =
        [
            0x00, 0x02, // two pairs
            0x00, 0x01, (byte)'a', 0x00, 0x01, (byte)'1',
            0x00, 0x01, (byte)'b', 0x00, 0x01, (byte)'2',
        ];
        Assert.Equal(expected, EncryptionContextEncoding.Encode(Ctx(("b", "2"), ("a", "1"))));
        Assert.Equal(expected, EncryptionContextEncoding.Encode(Ctx(("a", "1"), ("b", "2"))));
    }

    [Fact]
    public void Encode_of_an_absent_context_equals_encode_of_an_empty_one()
    {
        Assert.Equal([0x00, 0x00], EncryptionContextEncoding.Encode(null));
        Assert.Equal([0x00, 0x00], EncryptionContextEncoding.Encode(new Dictionary<string, string>()));
    }

    [Fact]
    public void Encode_keeps_contexts_that_concatenate_alike_apart()
    {
        Assert.Equal(
            [0x00, 0x01, 0x00, 0x01, (byte)'a', 0x00, 0x02, (byte)'b', (byte)'c'],
            EncryptionContextEncoding.Encode(Ctx(("a", "bc"))));
        Assert.Equal(
            [0x00, 0x01, 0x00, 0x02, (byte)'a', (byte)'b', 0x00, 0x01, (byte)'c'],
            EncryptionContextEncoding.Encode(Ctx(("ab", "c"))));
    }

    [Fact]
    public void Encode_writes_empty_values_embedded_NULs_and_non_ASCII_as_UTF8()
    {
        Assert.Equal([0x00, 0x01, 0x00, 0x01, (byte)'k', 0x00, 0x00], EncryptionContextEncoding.Encode(Ctx(("k", ""))));
        Assert.Equal(
            [0x00, 0x01, 0x00, 0x03, (byte)'a', 0x00, (byte)'b', 0x00, 0x01, (byte)'c'],
            EncryptionContextEncoding.Encode(Ctx(("a\0b", "c"))));
        Assert.Equal( // NFC é is C3 A9; NFD e + U+0301 is 65 CC 81.
            [0x00, 0x01, 0x00, 0x02, 0xC3, 0xA9, 0x00, 0x03, 0x65, 0xCC, 0x81],
            EncryptionContextEncoding.Encode(Ctx(("\u00E9", "e\u0301"))));
    }

    [Fact]
    public void Encode_writes_lengths_above_255_in_two_bytes()
    {
        var encoded = EncryptionContextEncoding.Encode(Ctx(("k", new string('v', 300))));
        Assert.Equal(2 + 2 + 1 + 2 + 300, encoded.Length);
        Assert.Equal([0x00, 0x01, 0x00, 0x01, (byte)'k', 0x01, 0x2C], encoded[..7]);
        Assert.All(encoded[7..], b => Assert.Equal((byte)'v', b));
    }

    [Fact]
    public void Encode_sorts_by_UTF8_bytes_not_by_UTF16_code_units_or_culture()
    {
        // U+FF61 is EF BD A1 in UTF-8 and U+10000 is F0 90 80 80: UTF-8 puts U+FF61 first, while
        // UTF-16 ordinal order (FF61 vs D800 DC00) would put U+10000 first.
        byte[] expected =
        [
            0x00, 0x02,
            0x00, 0x03, 0xEF, 0xBD, 0xA1, 0x00, 0x01, (byte)'y',
            0x00, 0x04, 0xF0, 0x90, 0x80, 0x80, 0x00, 0x01, (byte)'x',
        ];
        Assert.Equal(expected, EncryptionContextEncoding.Encode(Ctx(("\U00010000", "x"), ("\uFF61", "y"))));

        // Upper case (0x42) before lower case (0x61), and 'z' (0x7A) before 'é' (C3 A9), whatever the culture says.
        Assert.Equal(
            [0x00, 0x03, 0x00, 0x01, (byte)'B', 0x00, 0x00, 0x00, 0x01, (byte)'a', 0x00, 0x00, 0x00, 0x01, (byte)'z', 0x00, 0x00],
            EncryptionContextEncoding.Encode(Ctx(("z", ""), ("a", ""), ("B", ""))));
        Assert.Equal(
            [0x00, 0x02, 0x00, 0x01, (byte)'z', 0x00, 0x00, 0x00, 0x02, 0xC3, 0xA9, 0x00, 0x00],
            EncryptionContextEncoding.Encode(Ctx(("\u00E9", ""), ("z", ""))));
    }

    [Fact]
    public void Encode_sorts_a_key_before_every_longer_key_it_prefixes()
    {
        Assert.Equal(
            [0x00, 0x02, 0x00, 0x01, (byte)'a', 0x00, 0x01, (byte)'2', 0x00, 0x02, (byte)'a', 0x00, 0x00, 0x01, (byte)'1'],
            EncryptionContextEncoding.Encode(Ctx(("a\0", "1"), ("a", "2"))));
    }

    [Fact]
    public void Encode_rejects_an_empty_key_and_a_null_value()
    {
        Assert.Throws<KmsValidationException>(() => EncryptionContextEncoding.Encode(Ctx(("", "v"))));
        Assert.Throws<KmsValidationException>(() => EncryptionContextEncoding.Encode(new Dictionary<string, string> { ["k"] = null! }));
    }
}
