// The overloads with optional parameters are the shape of IAmazonKeyManagementService itself.
#pragma warning disable RS0026
using System.Net;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Amazon.Runtime.Endpoints;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

/// <summary>
/// <see cref="IAmazonKeyManagementService"/> over an EnvelopeKms <see cref="IKeyManager"/>, in process: code
/// written against the AWS SDK for .NET's KMS client runs unchanged on premises, air-gapped and in tests.
/// </summary>
/// <remarks>
/// <para>
/// Requests, responses, pagination markers and errors map one to one. Errors are the SDK's own exception
/// types (<see cref="Aws.NotFoundException"/>, <see cref="Aws.KMSInvalidStateException"/>, ...) with the AWS
/// error code, the HTTP status code KMS would answer with, and the EnvelopeKms exception as the inner
/// exception. Codes the SDK has no type for (<c>AccessDeniedException</c>, <c>ValidationException</c>, and
/// EnvelopeKms' own <c>StorageUnavailableException</c>, <c>AuditUnavailableException</c>, ...) arrive as
/// <see cref="AmazonKeyManagementServiceException"/> with that <see cref="AmazonServiceException.ErrorCode"/>,
/// as the SDK reports them from the service.
/// </para>
/// <para>
/// Calls run as <c>caller</c> when one is given, else as the key manager's ambient caller
/// (<see cref="ICallerIdentityProvider"/>). The client owns nothing: disposing it does not dispose the key manager.
/// Plaintext in responses (<c>Decrypt</c>, <c>GenerateDataKey</c>, ...) is handed over in the response's
/// <see cref="MemoryStream"/>, as the AWS SDK does; the caller should clear it when done.
/// </para>
/// </remarks>
public sealed partial class EnvelopeKmsAmazonClient : IAmazonKeyManagementService
{
    private readonly IKeyManager _keyManager;
    private readonly CallerIdentity? _caller;
    private readonly Lazy<AmazonKeyManagementServiceConfig> _config = new(static () => new AmazonKeyManagementServiceConfig());
    private Aws.IKeyManagementServicePaginatorFactory? _paginators;

    /// <summary>Creates a client whose calls run as the key manager's ambient caller.</summary>
    /// <param name="keyManager">The key manager that serves the calls.</param>
    public EnvelopeKmsAmazonClient(IKeyManager keyManager) : this(keyManager, caller: null) { }

    /// <summary>Creates a client whose calls run as <paramref name="caller"/> (the ambient caller when <see langword="null"/>).</summary>
    /// <param name="keyManager">The key manager that serves the calls.</param>
    /// <param name="caller">The principal the calls run as, for key policies, grants and the audit trail.</param>
    public EnvelopeKmsAmazonClient(IKeyManager keyManager, CallerIdentity? caller)
    {
        ArgumentNullException.ThrowIfNull(keyManager);
        _keyManager = keyManager;
        _caller = caller;
    }

    /// <summary>The paginators of the list operations, over this client (<c>ListKeys</c>, <c>ListAliases</c>, <c>ListGrants</c>, ...).</summary>
    public Aws.IKeyManagementServicePaginatorFactory Paginators => _paginators ??= new PaginatorFactory(this);

    /// <summary>A default <see cref="AmazonKeyManagementServiceConfig"/>: the in-process client sends nothing over the network, so no setting of it applies.</summary>
    public IClientConfig Config => _config.Value;

    /// <summary>Returns the pseudo-endpoint <c>envelopekms://in-process</c>: calls never leave the process.</summary>
    /// <param name="request">The request (unused).</param>
    public Endpoint DetermineServiceOperationEndpoint(AmazonWebServiceRequest request) => new("envelopekms://in-process");

    /// <summary>Returns a default <see cref="AmazonKeyManagementServiceConfig"/>.</summary>
    public static ClientConfig CreateDefaultClientConfig() => new AmazonKeyManagementServiceConfig();

    /// <summary>Not supported: an <see cref="EnvelopeKmsAmazonClient"/> needs a key manager, not credentials; construct it with one.</summary>
    /// <param name="awsCredentials">Unused.</param>
    /// <param name="clientConfig">Unused.</param>
    /// <exception cref="NotSupportedException">Always.</exception>
    public static IAmazonService CreateDefaultServiceClient(AWSCredentials awsCredentials, ClientConfig clientConfig)
        => throw new NotSupportedException(
            "An EnvelopeKmsAmazonClient serves calls from an EnvelopeKms key manager; create it with new EnvelopeKmsAmazonClient(keyManager) or register it with AddEnvelopeKmsAwsSdk().");

    /// <summary>Does nothing: the client owns no resources (the key manager belongs to whoever created it).</summary>
    public void Dispose() { }

    private static T Ok<T>(T response)
        where T : AmazonWebServiceResponse
    {
        response.HttpStatusCode = HttpStatusCode.OK;
        return response;
    }
}
