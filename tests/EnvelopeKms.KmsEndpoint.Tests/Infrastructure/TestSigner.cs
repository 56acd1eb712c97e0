using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace EnvelopeKms.KmsEndpoint.Tests.Infrastructure;

/// <summary>
/// A minimal SigV4 signer for raw requests (those the AWS SDK cannot send: malformed JSON, unknown
/// targets): signs host, x-amz-date and x-amz-target of a POST to the root path. Written from the AWS
/// SigV4 specification, independently of the endpoint's verifier.
/// </summary>
internal static class TestSigner
{
    public static HttpRequestMessage Request(Uri endpoint, string? target, string body, DateTimeOffset? at = null,
        string accessKeyId = EndpointHost.AccessKeyId, string secret = EndpointHost.SecretAccessKey,
        string region = EndpointHost.Region, string contentType = "application/x-amz-json-1.1", bool sign = true)
    {
        var time = at ?? DateTimeOffset.UtcNow;
        var amzDate = time.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        if (target is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        }

        if (!sign)
        {
            return request;
        }

        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = host, ["x-amz-date"] = amzDate };
        if (target is not null)
        {
            headers["x-amz-target"] = target;
        }

        var signedHeaders = string.Join(";", headers.Keys);
        var canonical = new StringBuilder()
            .Append("POST\n/\n\n")
            .Append(string.Concat(headers.Select(h => $"{h.Key}:{h.Value}\n")))
            .Append('\n').Append(signedHeaders).Append('\n')
            .Append(Hex(SHA256.HashData(Encoding.UTF8.GetBytes(body))))
            .ToString();
        var scope = $"{date}/{region}/kms/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + secret);
        foreach (var part in new[] { date, region, "kms", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(toSign)));
        request.Headers.TryAddWithoutValidation("Authorization",
            $"AWS4-HMAC-SHA256 Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        return request;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
