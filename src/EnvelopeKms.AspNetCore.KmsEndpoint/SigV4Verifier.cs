using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>
/// Verifies AWS Signature Version 4 (<c>AWS4-HMAC-SHA256</c> in the <c>Authorization</c> header) of a
/// request to the KMS endpoint: rebuilds the canonical request from the signed headers, the path, the
/// query and the SHA-256 of the body, the string to sign from <c>X-Amz-Date</c> and the credential scope
/// (date/Region/<c>kms</c>/<c>aws4_request</c>), derives the signing key by the HMAC-SHA256 chain from
/// the access key's secret, and compares the signatures in constant time. Protocol code over the
/// platform's SHA-256 and HMAC-SHA256.
/// </summary>
internal static class SigV4Verifier
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string Service = "kms";
    private const string Terminator = "aws4_request";
    private const string DateFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>What the verifier needs of a request.</summary>
    /// <param name="Method">The HTTP method.</param>
    /// <param name="RawTarget">The request target as sent (path and query, still percent-encoded).</param>
    /// <param name="Headers">The request headers (names compare case-insensitively).</param>
    /// <param name="Body">The whole body.</param>
    public readonly record struct Request(string Method, string RawTarget, IDictionary<string, StringValues> Headers, ReadOnlyMemory<byte> Body);

    /// <summary>Verifies the request; returns the access key it was signed with, or the error to answer.</summary>
    public static (KmsAccessKey? Key, KmsProtocolError? Error) Verify(in Request request, KmsEndpointOptions options, DateTimeOffset now)
    {
        if (!TryGetHeader(request.Headers, "authorization", out var authorization) || authorization.Length == 0)
        {
            return (null, KmsProtocolError.MissingAuthenticationToken());
        }

        if (!TryParseAuthorization(authorization, out var auth, out var parseError))
        {
            return (null, parseError);
        }

        if (!TryGetHeader(request.Headers, "x-amz-date", out var amzDate) || amzDate.Length == 0)
        {
            return (null, KmsProtocolError.IncompleteSignature("Authorization header requires existence of a 'X-Amz-Date' header."));
        }

        if (!DateTimeOffset.TryParseExact(amzDate, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var signedAt))
        {
            return (null, KmsProtocolError.IncompleteSignature("The 'X-Amz-Date' header is not a date of the form yyyyMMddTHHmmssZ."));
        }

        var key = options.FindAccessKey(auth.AccessKeyId);
        if (key is null)
        {
            return (null, KmsProtocolError.UnrecognizedClient());
        }

        if (!string.Equals(auth.ScopeDate, amzDate[..8], StringComparison.Ordinal))
        {
            return (key, KmsProtocolError.InvalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."));
        }

        if (!string.Equals(auth.Service, Service, StringComparison.Ordinal))
        {
            return (key, KmsProtocolError.InvalidSignature("Credential should be scoped to correct service: 'kms'."));
        }

        if (options.SigningRegions.Count > 0 && !options.SigningRegions.Contains(auth.Region))
        {
            return (key, KmsProtocolError.InvalidSignature("Credential should be scoped to a valid region."));
        }

        var skew = options.AllowedClockSkew;
        if (signedAt < now - skew || signedAt > now + skew)
        {
            var inv = CultureInfo.InvariantCulture;
            var message = signedAt < now - skew
                ? $"Signature expired: {amzDate} is now earlier than {(now - skew).ToString(DateFormat, inv)} ({now.ToString(DateFormat, inv)} - {skew.TotalMinutes.ToString(inv)} min.)"
                : $"Signature not yet current: {amzDate} is still later than {(now + skew).ToString(DateFormat, inv)} ({now.ToString(DateFormat, inv)} + {skew.TotalMinutes.ToString(inv)} min.)";
            return (key, KmsProtocolError.InvalidSignature(message));
        }

        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(request.Body.Span));
        if (TryGetHeader(request.Headers, "x-amz-content-sha256", out var declaredHash)
            && !string.Equals(declaredHash, payloadHash, StringComparison.Ordinal))
        {
            return (key, KmsProtocolError.InvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed."));
        }

        var canonicalRequest = CanonicalRequest(request, auth.SignedHeaders, payloadHash);
        var scope = $"{auth.ScopeDate}/{auth.Region}/{auth.Service}/{Terminator}";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        ComputeSignature(key.SigningSeed, auth.ScopeDate, auth.Region, auth.Service, stringToSign, expected);

        Span<byte> provided = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var matches = auth.Signature.Length == 2 * HMACSHA256.HashSizeInBytes
            && Convert.FromHexString(auth.Signature, provided, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == provided.Length;
        matches &= CryptographicOperations.FixedTimeEquals(expected, provided);
        CryptographicOperations.ZeroMemory(expected);
        return matches ? (key, null) : (key, KmsProtocolError.SignatureMismatch());
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"); signature = HMAC(kSigning, stringToSign). Every derived key is zeroed.</summary>
    internal static void ComputeSignature(ReadOnlySpan<byte> seed, string date, string region, string service, string stringToSign, Span<byte> signature)
    {
        Span<byte> keyA = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> keyB = stackalloc byte[HMACSHA256.HashSizeInBytes];
        try
        {
            HMACSHA256.HashData(seed, Encoding.UTF8.GetBytes(date), keyA);
            HMACSHA256.HashData(keyA, Encoding.UTF8.GetBytes(region), keyB);
            HMACSHA256.HashData(keyB, Encoding.UTF8.GetBytes(service), keyA);
            HMACSHA256.HashData(keyA, Encoding.UTF8.GetBytes(Terminator), keyB);
            HMACSHA256.HashData(keyB, Encoding.UTF8.GetBytes(stringToSign), signature);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyA);
            CryptographicOperations.ZeroMemory(keyB);
        }
    }

    internal static string CanonicalRequest(in Request request, IReadOnlyList<string> signedHeaders, string payloadHash)
    {
        var target = request.RawTarget;
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? target : target[..queryStart];
        var query = queryStart < 0 ? "" : target[(queryStart + 1)..];

        var text = new StringBuilder(512);
        text.Append(request.Method.ToUpperInvariant()).Append('\n');
        text.Append(CanonicalUri(path)).Append('\n');
        text.Append(CanonicalQuery(query)).Append('\n');
        foreach (var name in signedHeaders)
        {
            text.Append(name).Append(':').Append(CanonicalHeaderValue(request.Headers, name)).Append('\n');
        }

        text.Append('\n').AppendJoin(';', signedHeaders).Append('\n');
        text.Append(payloadHash);
        return text.ToString();
    }

    /// <summary>The path with each segment URI-encoded twice (the rule for every service but S3): decode what the client sent, then encode it twice.</summary>
    internal static string CanonicalUri(string rawPath)
    {
        if (rawPath.Length == 0 || rawPath == "/")
        {
            return "/";
        }

        var segments = rawPath.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            segments[i] = UriEncode(UriEncode(Uri.UnescapeDataString(segments[i])));
        }

        var path = string.Join('/', segments);
        return path.StartsWith('/') ? path : "/" + path;
    }

    internal static string CanonicalQuery(string rawQuery)
    {
        if (rawQuery.Length == 0)
        {
            return "";
        }

        var pairs = new List<(string Name, string Value)>();
        foreach (var part in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            pairs.Add((UriEncode(Uri.UnescapeDataString(name)), UriEncode(Uri.UnescapeDataString(value))));
        }

        pairs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var c && c != 0 ? c : string.CompareOrdinal(a.Value, b.Value));
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    /// <summary>The header's values joined with commas, each trimmed and with runs of spaces collapsed to one.</summary>
    private static string CanonicalHeaderValue(IDictionary<string, StringValues> headers, string name)
    {
        if (!headers.TryGetValue(name, out var values))
        {
            return "";
        }

        var text = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            var value = (values[i] ?? "").AsSpan().Trim();
            var previousSpace = false;
            foreach (var c in value)
            {
                var space = c is ' ' or '\t';
                if (!(space && previousSpace))
                {
                    text.Append(space ? ' ' : c);
                }

                previousSpace = space;
            }
        }

        return text.ToString();
    }

    /// <summary>RFC 3986 percent-encoding of everything but the unreserved characters, over UTF-8, with upper-case hex.</summary>
    internal static string UriEncode(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                text.Append(c);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    private static bool TryGetHeader(IDictionary<string, StringValues> headers, string name, out string value)
    {
        if (headers.TryGetValue(name, out var values) && values.Count > 0)
        {
            value = values.Count == 1 ? (values[0] ?? "").Trim() : string.Join(',', values.Select(v => (v ?? "").Trim()));
            return true;
        }

        value = "";
        return false;
    }

    internal sealed record Authorization(string AccessKeyId, string ScopeDate, string Region, string Service, IReadOnlyList<string> SignedHeaders, string Signature);

    /// <summary>Parses <c>AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b;c, Signature=hex</c>.</summary>
    internal static bool TryParseAuthorization(string header, out Authorization result, out KmsProtocolError? error)
    {
        result = null!;
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        var algorithm = space < 0 ? header : header[..space];
        if (!string.Equals(algorithm, Algorithm, StringComparison.Ordinal))
        {
            error = KmsProtocolError.IncompleteSignature($"Unsupported AWS 'algorithm': only {Algorithm} is accepted.");
            return false;
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var component in header[(space + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = component.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = KmsProtocolError.IncompleteSignature("The Authorization header has a component that is not of the form name=value.");
                return false;
            }

            var value = component[(equals + 1)..].Trim();
            switch (component[..equals].Trim())
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
                default:
                    error = KmsProtocolError.IncompleteSignature("The Authorization header has an unknown component; expected Credential, SignedHeaders and Signature.");
                    return false;
            }
        }

        foreach (var (name, value) in new[] { ("Credential", credential), ("SignedHeaders", signedHeaders), ("Signature", signature) })
        {
            if (string.IsNullOrEmpty(value))
            {
                error = KmsProtocolError.IncompleteSignature($"Authorization header requires '{name}' parameter.");
                return false;
            }
        }

        var scope = credential!.Split('/');
        if (scope.Length != 5 || scope.Any(s => s.Length == 0) || scope[1].Length != 8 || !scope[1].All(char.IsAsciiDigit))
        {
            error = KmsProtocolError.IncompleteSignature("Credential must have the form <access key id>/<yyyyMMdd>/<region>/kms/aws4_request.");
            return false;
        }

        if (!string.Equals(scope[4], Terminator, StringComparison.Ordinal))
        {
            error = KmsProtocolError.InvalidSignature("Credential should be scoped with a valid terminator: 'aws4_request'.");
            return false;
        }

        var headers = signedHeaders!.Split(';');
        if (headers.Any(h => h.Length == 0 || h.Any(char.IsAsciiLetterUpper)))
        {
            error = KmsProtocolError.IncompleteSignature("SignedHeaders must be lower-case header names separated by ';'.");
            return false;
        }

        if (!headers.Contains("host"))
        {
            error = KmsProtocolError.InvalidSignature("'Host' must be a 'SignedHeader' in the AWS Authorization.");
            return false;
        }

        result = new Authorization(scope[0], scope[1], scope[2], scope[3], headers, signature!);
        error = null;
        return true;
    }
}
