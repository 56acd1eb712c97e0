using Amazon.KeyManagementService;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EnvelopeKms.AwsSdk;

/// <summary>Registers <see cref="EnvelopeKmsAmazonClient"/> as the application's <see cref="IAmazonKeyManagementService"/>.</summary>
public static class EnvelopeKmsAwsSdkServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IAmazonKeyManagementService"/> (a singleton) as an <see cref="EnvelopeKmsAmazonClient"/> over the
    /// registered <see cref="IKeyManager"/> (from <c>AddEnvelopeKms</c>), so that code taking an
    /// <see cref="IAmazonKeyManagementService"/> runs against EnvelopeKms unchanged. An existing registration of the
    /// interface (for example from <c>AddAWSService&lt;IAmazonKeyManagementService&gt;()</c>) is replaced.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddEnvelopeKmsAwsSdk(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Replace(ServiceDescriptor.Singleton<IAmazonKeyManagementService>(static sp => new EnvelopeKmsAmazonClient(sp.GetRequiredService<IKeyManager>())));
        return services;
    }
}
