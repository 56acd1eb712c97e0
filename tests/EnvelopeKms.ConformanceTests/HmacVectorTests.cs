using EnvelopeKms.Cryptography;

namespace EnvelopeKms.ConformanceTests;

/// <summary>
/// Wycheproof HMAC-SHA224/256/384/512 through <see cref="Hmac"/>, the code HMAC keys use. Every case of
/// every file runs: groups with the full tag size go through <see cref="Hmac.Verify"/>; groups with a
/// truncated tag (which KMS's <c>VerifyMac</c> never accepts: a MAC must have the full length) check
/// that <see cref="Hmac.Compute(HmacAlgorithm, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> starts with
/// the expected tag exactly when the case is valid, and that <see cref="Hmac.Verify"/> refuses the
/// truncated tag. The counts are exact, so a silently skipped case fails the test.
/// </summary>
public sealed class HmacVectorTests
{
    [Theory]
    [InlineData("hmac_sha224_test.json", "Sha224", 172)]
    [InlineData("hmac_sha256_test.json", "Sha256", 174)]
    [InlineData("hmac_sha384_test.json", "Sha384", 174)]
    [InlineData("hmac_sha512_test.json", "Sha512", 174)]
    public void Every_wycheproof_hmac_vector_gives_the_expected_result(string file, string algorithmName, int expected)
    {
        var algorithm = Enum.Parse<HmacAlgorithm>(algorithmName);
        var fullSize = Hmac.MacSize(algorithm);
        var passed = Wycheproof.Run(file, @case =>
        {
            var key = @case.Hex("key");
            var message = @case.Hex("msg");
            var tag = @case.Hex("tag");
            var tagSize = @case.Group.GetProperty("tagSize").GetInt32() / 8;
            if (tagSize == fullSize && tag.Length == fullSize)
            {
                return Hmac.Verify(algorithm, key, message, tag);
            }

            Assert.False(Hmac.Verify(algorithm, key, message, tag), $"{@case}: a MAC shorter than {fullSize} bytes was accepted.");
            var computed = Hmac.Compute(algorithm, key, message);
            return tag.Length == tagSize && computed.AsSpan(0, tagSize).SequenceEqual(tag);
        });

        Assert.Equal(expected, passed);
    }

    [Theory]
    [InlineData("Sha224")]
    [InlineData("Sha256")]
    [InlineData("Sha384")]
    [InlineData("Sha512")]
    public void A_mac_verifies_and_any_flipped_bit_or_other_length_is_false_not_an_exception(string algorithmName)
    {
        var algorithm = Enum.Parse<HmacAlgorithm>(algorithmName);
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(Hmac.MacSize(algorithm));
        var message = "token: user=42; expires=2026-12-01"u8.ToArray();
        var mac = Hmac.Compute(algorithm, key, message);
        Assert.True(Hmac.Verify(algorithm, key, message, mac));
        for (var bit = 0; bit < mac.Length * 8; bit++)
        {
            var flipped = (byte[])mac.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(Hmac.Verify(algorithm, key, message, flipped));
        }

        Assert.False(Hmac.Verify(algorithm, key, message, mac.AsSpan(0, mac.Length - 1)));
        Assert.False(Hmac.Verify(algorithm, key, message, [.. mac, 0]));
        Assert.False(Hmac.Verify(algorithm, key, message, []));
        Assert.False(Hmac.Verify(algorithm, key, [.. message, 0], mac));
    }
}
