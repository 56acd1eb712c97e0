using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amazon.KeyManagementService;
using EnvelopeKms.KmsEndpoint.Tests.Infrastructure;
using EnvelopeKms.Storage;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.KmsEndpoint.Tests;

/// <summary>Over HTTPS, requests carry aws:SecureTransport = true, so a policy that denies plain HTTP lets them through.</summary>
public sealed class HttpsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_policy_that_denies_insecure_transport_allows_the_same_request_over_HTTPS()
    {
        using var kms = KeyManagerFactory.Create(b => b.UseKeyStore(_ => new InMemoryKeyStore())
            .ProtectKeysWithRootKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))
            .Configure(o => o.AccountId = "111122223333"));
        using var certificate = SelfSigned();
        await using var https = await EndpointHost.StartAsync(kms, certificate: certificate);
        await using var http = await EndpointHost.StartAsync(kms);
        Assert.Equal("https", https.Url.Scheme);

        using var secure = https.Client();
        var key = (await secure.CreateKeyAsync(new Aws.CreateKeyRequest(), Ct)).KeyMetadata.KeyId;
        var policy = """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
              {"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
            """;
        await secure.PutKeyPolicyAsync(key, policy, "default", Ct);

        await secure.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = new MemoryStream([1, 2, 3]) }, Ct);
        using var plain = http.Client();
        var denied = await Assert.ThrowsAnyAsync<AmazonKeyManagementServiceException>(
            () => plain.EncryptAsync(new Aws.EncryptRequest { KeyId = key, Plaintext = new MemoryStream([1, 2, 3]) }, Ct));
        Assert.Equal("AccessDeniedException", denied.ErrorCode);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Kestrel needs the private key in a form it can use on every platform: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
