using System.Net;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using EnvelopeKms.AspNetCore.KmsEndpoint;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EnvelopeKms.KmsEndpoint.Tests.Infrastructure;

/// <summary>A Kestrel host on 127.0.0.1 (a free port) with the KMS endpoint mapped, and AWS SDK clients pointed at it.</summary>
internal sealed class EndpointHost : IAsyncDisposable
{
    public const string AccessKeyId = "AKIAENDPOINTTEST0001";
    public const string SecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYENDPOINTKEY";
    public const string Region = "us-east-1";

    private readonly WebApplication _app;

    private EndpointHost(WebApplication app, Uri url, CollectingLoggerProvider logs)
    {
        _app = app;
        Url = url;
        Logs = logs;
    }

    /// <summary>Every log entry of the host.</summary>
    public CollectingLoggerProvider Logs { get; }

    public Uri Url { get; }

    /// <summary>The HTTPS certificate the host listens with, if any.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; private init; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the host; <paramref name="configure"/> adds to the defaults (the test access key as <paramref name="principal"/>).</summary>
    public static async Task<EndpointHost> StartAsync(IKeyManager keyManager, Action<KmsEndpointOptions>? configure = null,
        CallerIdentity? principal = null, TimeProvider? time = null, string pattern = "/",
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        var logs = new CollectingLoggerProvider();
        builder.Logging.AddProvider(logs);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        builder.Services.AddSingleton(keyManager);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddEnvelopeKmsEndpoint(o =>
        {
            o.AddAccessKey(AccessKeyId, SecretAccessKey, principal ?? CallerIdentity.AccountRoot("111122223333"));
            configure?.Invoke(o);
        });
        var app = builder.Build();
        app.MapEnvelopeKms(pattern);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EndpointHost(app, new Uri(address), logs) { Certificate = certificate };
    }

    /// <summary>The official AWS SDK client pointed at the endpoint (no retries, so that errors arrive at once).</summary>
    public AmazonKeyManagementServiceClient Client(string accessKeyId = AccessKeyId, string secretAccessKey = SecretAccessKey,
        string region = Region, Func<HttpMessageHandler, HttpMessageHandler>? wrap = null, string path = "")
    {
        var config = new AmazonKeyManagementServiceConfig
        {
            ServiceURL = new Uri(Url, path).ToString(),
            AuthenticationRegion = region,
            MaxErrorRetry = 0,
        };
        if (wrap is not null)
        {
            config.HttpClientFactory = new WrappingHttpClientFactory(wrap);
        }
        else if (Certificate is { } trusted)
        {
            // Trust exactly the test's self-signed certificate.
            config.HttpClientFactory = new WrappingHttpClientFactory(_ => new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == trusted.GetCertHashString() },
            });
        }

        return new AmazonKeyManagementServiceClient(new BasicAWSCredentials(accessKeyId, secretAccessKey), config);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Gives the SDK an HttpClient whose handler sees (and may change) each request after the SDK signed it.</summary>
    private sealed class WrappingHttpClientFactory(Func<HttpMessageHandler, HttpMessageHandler> wrap) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(wrap(new SocketsHttpHandler()));

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;
    }
}

/// <summary>A handler that runs an action on each request before passing it on.</summary>
internal sealed class TamperingHandler(HttpMessageHandler inner, Func<HttpRequestMessage, Task> tamper) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await tamper(request);
        return await base.SendAsync(request, cancellationToken);
    }
}
