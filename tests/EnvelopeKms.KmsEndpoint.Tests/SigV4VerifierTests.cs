using System.Text;
using EnvelopeKms.AspNetCore.KmsEndpoint;
using Microsoft.Extensions.Primitives;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>The pieces of SigV4 against the AWS Signature Version 4 test suite's vectors and the specification's rules.</summary>
public sealed class SigV4VerifierTests
{
    private const string ExampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    [Fact]
    public void The_get_vanilla_vector_of_the_AWS_test_suite_gives_its_canonical_request_and_signature()
    {
        var headers = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase)
        {
            ["Host"] = "example.amazonaws.com",
            ["X-Amz-Date"] = "20150830T123600Z",
        };
        var request = new SigV4Verifier.Request("GET", "/", headers, ReadOnlyMemory<byte>.Empty);
        var canonical = SigV4Verifier.CanonicalRequest(request, ["host", "x-amz-date"], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        Assert.Equal("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", canonical);

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        Assert.Equal("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63", hash);

        var signature = new byte[32];
        SigV4Verifier.ComputeSignature(Encoding.ASCII.GetBytes("AWS4" + ExampleSecret), "20150830", "us-east-1", "service",
            $"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{hash}", signature);
        Assert.Equal("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", Convert.ToHexStringLower(signature));
    }

    [Fact]
    public void Header_values_are_trimmed_and_their_inner_runs_of_spaces_collapsed_and_repeated_headers_joined_with_commas()
    {
        var headers = new Dictionary<string, StringValues>(StringComparer.OrdinalIgnoreCase)
        {
            ["Host"] = "h",
            ["My-Header1"] = "  value1  a   b   c ",
            ["My-Header2"] = new StringValues(["value2", " value3 "]),
        };
        var canonical = SigV4Verifier.CanonicalRequest(new SigV4Verifier.Request("post", "/", headers, default), ["host", "my-header1", "my-header2"], "x");
        Assert.Equal("POST\n/\n\nhost:h\nmy-header1:value1 a b c\nmy-header2:value2,value3\n\nhost;my-header1;my-header2\nx", canonical);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("b=2&a=1", "a=1&b=2")]
    [InlineData("a=2&a=1", "a=1&a=2")]
    [InlineData("Param1=value%20with%20space&flag", "Param1=value%20with%20space&flag=")]
    [InlineData("k=%7e~%2F/", "k=~~%2F%2F")]
    [InlineData("B=1&a=1", "B=1&a=1")]
    public void The_query_string_is_sorted_and_encoded_by_RFC_3986(string raw, string canonical)
        => Assert.Equal(canonical, SigV4Verifier.CanonicalQuery(raw));

    [Theory]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("/kms", "/kms")]
    [InlineData("/kms/", "/kms/")]
    [InlineData("/a%20b", "/a%2520b")]
    [InlineData("/ü", "/%25C3%25BC")]
    public void The_path_is_encoded_twice_as_for_every_service_but_S3(string raw, string canonical)
        => Assert.Equal(canonical, SigV4Verifier.CanonicalUri(raw));

    [Fact]
    public void An_Authorization_header_is_parsed_into_its_credential_scope_signed_headers_and_signature()
    {
        Assert.True(SigV4Verifier.TryParseAuthorization(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc",
            out var auth, out var error));
        Assert.Null(error);
        Assert.Equal(("AKIDEXAMPLE", "20150830", "us-east-1", "kms"), (auth.AccessKeyId, auth.ScopeDate, auth.Region, auth.Service));
        Assert.Equal(["content-type", "host", "x-amz-date"], auth.SignedHeaders);
        Assert.Equal("abc", auth.Signature);
    }
}
