using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>Registers the local KMS endpoint's services.</summary>
public static class KmsEndpointServiceCollectionExtensions
{
    /// <summary>
    /// Registers the local KMS endpoint with its access keys and limits; map it with
    /// <see cref="KmsEndpointRouteBuilderExtensions.MapEnvelopeKms"/>. The endpoint serves the
    /// <see cref="IKeyManager"/> registered in the container (for example with <c>AddEnvelopeKms</c>)
    /// unless <see cref="KmsEndpointOptions.KeyManager"/> names another.
    /// </summary>
    /// <example>
    /// <code>
    /// builder.Services.AddEnvelopeKms(kms => kms.PersistKeysToSqlite("keys.db").ProtectKeysWithRootKeyFromEnvironment());
    /// builder.Services.AddEnvelopeKmsEndpoint(o => o.AddAccessKey("AKIAEXAMPLE000000001", secret,
    ///     new CallerIdentity("arn:aws:iam::111122223333:role/app")));
    /// app.MapEnvelopeKms();
    /// </code>
    /// </example>
    public static IServiceCollection AddEnvelopeKmsEndpoint(this IServiceCollection services, Action<KmsEndpointOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<KmsEndpointOptions>().Configure(configure);
        services.AddLogging();
        services.TryAddSingleton<KmsEndpointHandler>();
        return services;
    }
}

/// <summary>Maps the local KMS endpoint.</summary>
public static class KmsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the AWS KMS JSON 1.1 endpoint (<c>POST</c>, <c>X-Amz-Target: TrentService.&lt;Operation&gt;</c>,
    /// SigV4-signed) at <paramref name="pattern"/>; point an AWS SDK or the AWS CLI at the host with this
    /// path (for example <c>http://127.0.0.1:4599</c> for <c>/</c>). Needs
    /// <see cref="KmsEndpointServiceCollectionExtensions.AddEnvelopeKmsEndpoint"/>.
    /// </summary>
    /// <returns>The endpoint's convention builder (for example to add a host filter or a rate limit).</returns>
    /// <exception cref="InvalidOperationException">AddEnvelopeKmsEndpoint was not called.</exception>
    public static IEndpointConventionBuilder MapEnvelopeKms(this IEndpointRouteBuilder endpoints, string pattern = "/")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var handler = endpoints.ServiceProvider.GetService<KmsEndpointHandler>()
            ?? throw new InvalidOperationException("Call services.AddEnvelopeKmsEndpoint(...) before app.MapEnvelopeKms().");
        return endpoints.MapPost(pattern, (RequestDelegate)handler.HandleAsync).WithDisplayName("EnvelopeKms KMS endpoint");
    }
}
