using EnvelopeKms.AspNetCore.KmsEndpoint;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>The endpoint's settings: validation, and no secret in any text they produce.</summary>
public sealed class KmsEndpointOptionsTests
{
    private const string Secret = "s3cr3t/ACCESS+key/that-must-never-show";
    private static readonly CallerIdentity Role = new("arn:aws:iam::111122223333:role/app");

    [Fact]
    public void The_options_and_the_access_keys_never_show_the_secret()
    {
        var options = new KmsEndpointOptions().AddAccessKey("AKIAEXAMPLE000000001", Secret, Role);
        options.SigningRegions.Add("us-east-1");
        var text = options + " " + options.AccessKeys.Single();
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.Contains("AKIAEXAMPLE000000001 -> arn:aws:iam::111122223333:role/app", text, StringComparison.Ordinal);
        Assert.Contains("us-east-1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_access_key_id_can_be_added_once()
    {
        var options = new KmsEndpointOptions().AddAccessKey("AKIAEXAMPLE000000001", Secret, Role);
        var e = Assert.Throws<ArgumentException>(() => options.AddAccessKey("AKIAEXAMPLE000000001", Secret + "2", Role));
        Assert.DoesNotContain(Secret, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short", Secret)]
    [InlineData("AKIA-WITH-DASHES-0001", Secret)]
    [InlineData("AKIAEXAMPLE000000001", "too-short")]
    [InlineData("AKIAEXAMPLE000000001", "has a space in the secret key")]
    public void A_malformed_access_key_is_refused_without_echoing_the_secret(string id, string secret)
    {
        var e = Assert.Throws<ArgumentException>(() => new KmsEndpointOptions().AddAccessKey(id, secret, Role));
        Assert.DoesNotContain(secret, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_limits_are_checked()
    {
        var options = new KmsEndpointOptions();
        Assert.Equal(TimeSpan.FromMinutes(15), options.AllowedClockSkew);
        Assert.Equal(1024 * 1024, options.MaxRequestBodySize);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.AllowedClockSkew = TimeSpan.FromSeconds(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxRequestBodySize = 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => options.MaxRequestBodySize = long.MaxValue);
    }

    [Fact]
    public void Mapping_the_endpoint_without_registering_it_says_what_to_call()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        var e = Assert.Throws<InvalidOperationException>(() => app.MapEnvelopeKms());
        Assert.Contains("AddEnvelopeKmsEndpoint", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddEnvelopeKmsEndpoint_configures_the_options()
    {
        var services = new ServiceCollection().AddEnvelopeKmsEndpoint(o => o.AddAccessKey("AKIAEXAMPLE000000001", Secret, Role)).BuildServiceProvider();
        Assert.Single(services.GetRequiredService<IOptions<KmsEndpointOptions>>().Value.AccessKeys);
    }
}
