using System.Security.Cryptography;

namespace EnvelopeKms.Auditing;

/// <summary>
/// The keyed hash that a <see cref="JsonLinesAuditSink"/> writes in place of sensitive values when it has an HMAC key
/// (the Vault audit-device pattern): <c>hmac-sha256:</c> followed by the base64 of HMAC-SHA256(key, UTF-8 of the value).
/// The same value under the same key always gives the same text, so records can be correlated and searched
/// ("which records carry this tenant id?") without the trail holding the value.
/// </summary>
public static class AuditFieldHmac
{
    /// <summary>The prefix of every HMAC'd value.</summary>
    public const string Prefix = "hmac-sha256:";

    /// <summary>The smallest accepted key, in bytes.</summary>
    public const int MinimumKeySizeInBytes = 32;

    /// <summary>Computes the text written for <paramref name="value"/> under <paramref name="key"/>.</summary>
    /// <param name="key">The HMAC key, at least <see cref="MinimumKeySizeInBytes"/> bytes.</param>
    /// <param name="value">The sensitive value.</param>
    /// <returns><c>hmac-sha256:&lt;base64&gt;</c>.</returns>
    public static string Compute(ReadOnlySpan<byte> key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (key.Length < MinimumKeySizeInBytes)
        {
            throw new ArgumentException($"The audit HMAC key must be at least {MinimumKeySizeInBytes} bytes.", nameof(key));
        }

        var utf8 = AuditChain.Utf8(value);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, utf8, mac);
        return Prefix + Convert.ToBase64String(mac);
    }
}
