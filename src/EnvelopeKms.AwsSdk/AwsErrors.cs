using System.Net;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

/// <summary>
/// Maps an EnvelopeKms error to the exception the AWS SDK throws for the same KMS error code, with the HTTP
/// status code KMS answers with (botocore's <c>kms</c> model: 400 for client errors, 409 for
/// <c>ConflictException</c>, 412 for <c>DryRunOperationException</c>, 500 for <c>KMSInternalException</c> and
/// <c>KeyUnavailableException</c>, 503 for <c>DependencyTimeoutException</c>).
/// </summary>
public static class AwsErrors
{
    /// <summary>The HTTP status code KMS answers an error code with.</summary>
    /// <param name="errorCode">An AWS KMS error code, such as <c>NotFoundException</c>.</param>
    public static HttpStatusCode StatusCodeOf(string errorCode) => errorCode switch
    {
        KmsErrorCodes.Conflict => HttpStatusCode.Conflict,
        KmsErrorCodes.DryRunOperation => HttpStatusCode.PreconditionFailed,
        KmsErrorCodes.Internal or KmsErrorCodes.KeyUnavailable or KmsErrorCodes.StorageUnavailable
            or KmsErrorCodes.StorageIntegrity or KmsErrorCodes.RootKey or KmsErrorCodes.AuditUnavailable => HttpStatusCode.InternalServerError,
        KmsErrorCodes.DependencyTimeout => HttpStatusCode.ServiceUnavailable,
        _ => HttpStatusCode.BadRequest,
    };

    /// <summary>
    /// The AWS SDK exception for an EnvelopeKms error: the SDK's type for its error code (for example
    /// <see cref="Aws.NotFoundException"/>), or <see cref="AmazonKeyManagementServiceException"/> carrying the code.
    /// The message is the EnvelopeKms message (which never holds secrets); the inner exception is <paramref name="exception"/>.
    /// </summary>
    /// <param name="exception">The EnvelopeKms error.</param>
    /// <param name="requestId">The request id to report, if any.</param>
    public static AmazonKeyManagementServiceException ToAmazon(KmsException exception, string? requestId = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Create(exception.ErrorCode, exception.Message, exception, requestId);
    }

    /// <summary>The AWS SDK exception for an error code and message (as a client receives it from the service).</summary>
    /// <param name="errorCode">The AWS KMS error code.</param>
    /// <param name="message">The message.</param>
    /// <param name="inner">The cause, if any.</param>
    /// <param name="requestId">The request id, if any.</param>
    public static AmazonKeyManagementServiceException Create(string errorCode, string message, Exception? inner = null, string? requestId = null)
    {
        ArgumentNullException.ThrowIfNull(errorCode);
        var status = StatusCodeOf(errorCode);
        var type = (int)status >= 500 ? ErrorType.Receiver : ErrorType.Sender;
        return errorCode switch
        {
            "AlreadyExistsException" => new Aws.AlreadyExistsException(message, inner, type, errorCode, requestId, status),
            "CloudHsmClusterInUseException" => new Aws.CloudHsmClusterInUseException(message, inner, type, errorCode, requestId, status),
            "CloudHsmClusterInvalidConfigurationException" => new Aws.CloudHsmClusterInvalidConfigurationException(message, inner, type, errorCode, requestId, status),
            "CloudHsmClusterNotActiveException" => new Aws.CloudHsmClusterNotActiveException(message, inner, type, errorCode, requestId, status),
            "CloudHsmClusterNotFoundException" => new Aws.CloudHsmClusterNotFoundException(message, inner, type, errorCode, requestId, status),
            "CloudHsmClusterNotRelatedException" => new Aws.CloudHsmClusterNotRelatedException(message, inner, type, errorCode, requestId, status),
            "ConflictException" => new Aws.ConflictException(message, inner, type, errorCode, requestId, status),
            "CustomKeyStoreHasCMKsException" => new Aws.CustomKeyStoreHasCMKsException(message, inner, type, errorCode, requestId, status),
            "CustomKeyStoreInvalidStateException" => new Aws.CustomKeyStoreInvalidStateException(message, inner, type, errorCode, requestId, status),
            "CustomKeyStoreNameInUseException" => new Aws.CustomKeyStoreNameInUseException(message, inner, type, errorCode, requestId, status),
            "CustomKeyStoreNotFoundException" => new Aws.CustomKeyStoreNotFoundException(message, inner, type, errorCode, requestId, status),
            "DependencyTimeoutException" => new Aws.DependencyTimeoutException(message, inner, type, errorCode, requestId, status),
            "DisabledException" => new Aws.DisabledException(message, inner, type, errorCode, requestId, status),
            "DryRunOperationException" => new Aws.DryRunOperationException(message, inner, type, errorCode, requestId, status),
            "ExpiredImportTokenException" => new Aws.ExpiredImportTokenException(message, inner, type, errorCode, requestId, status),
            "IncorrectKeyException" => new Aws.IncorrectKeyException(message, inner, type, errorCode, requestId, status),
            "IncorrectKeyMaterialException" => new Aws.IncorrectKeyMaterialException(message, inner, type, errorCode, requestId, status),
            "IncorrectTrustAnchorException" => new Aws.IncorrectTrustAnchorException(message, inner, type, errorCode, requestId, status),
            "InvalidAliasNameException" => new Aws.InvalidAliasNameException(message, inner, type, errorCode, requestId, status),
            "InvalidArnException" => new Aws.InvalidArnException(message, inner, type, errorCode, requestId, status),
            "InvalidCiphertextException" => new Aws.InvalidCiphertextException(message, inner, type, errorCode, requestId, status),
            "InvalidGrantIdException" => new Aws.InvalidGrantIdException(message, inner, type, errorCode, requestId, status),
            "InvalidGrantTokenException" => new Aws.InvalidGrantTokenException(message, inner, type, errorCode, requestId, status),
            "InvalidImportTokenException" => new Aws.InvalidImportTokenException(message, inner, type, errorCode, requestId, status),
            "InvalidKeyUsageException" => new Aws.InvalidKeyUsageException(message, inner, type, errorCode, requestId, status),
            "InvalidMarkerException" => new Aws.InvalidMarkerException(message, inner, type, errorCode, requestId, status),
            "KeyUnavailableException" => new Aws.KeyUnavailableException(message, inner, type, errorCode, requestId, status),
            "KMSInternalException" => new Aws.KMSInternalException(message, inner, type, errorCode, requestId, status),
            "KMSInvalidMacException" => new Aws.KMSInvalidMacException(message, inner, type, errorCode, requestId, status),
            "KMSInvalidSignatureException" => new Aws.KMSInvalidSignatureException(message, inner, type, errorCode, requestId, status),
            "KMSInvalidStateException" => new Aws.KMSInvalidStateException(message, inner, type, errorCode, requestId, status),
            "LimitExceededException" => new Aws.LimitExceededException(message, inner, type, errorCode, requestId, status),
            "MalformedPolicyDocumentException" => new Aws.MalformedPolicyDocumentException(message, inner, type, errorCode, requestId, status),
            "NotFoundException" => new Aws.NotFoundException(message, inner, type, errorCode, requestId, status),
            "TagException" => new Aws.TagException(message, inner, type, errorCode, requestId, status),
            "UnsupportedOperationException" => new Aws.UnsupportedOperationException(message, inner, type, errorCode, requestId, status),
            "XksKeyAlreadyInUseException" => new Aws.XksKeyAlreadyInUseException(message, inner, type, errorCode, requestId, status),
            "XksKeyInvalidConfigurationException" => new Aws.XksKeyInvalidConfigurationException(message, inner, type, errorCode, requestId, status),
            "XksKeyNotFoundException" => new Aws.XksKeyNotFoundException(message, inner, type, errorCode, requestId, status),
            "XksProxyIncorrectAuthenticationCredentialException" => new Aws.XksProxyIncorrectAuthenticationCredentialException(message, inner, type, errorCode, requestId, status),
            "XksProxyInvalidConfigurationException" => new Aws.XksProxyInvalidConfigurationException(message, inner, type, errorCode, requestId, status),
            "XksProxyInvalidResponseException" => new Aws.XksProxyInvalidResponseException(message, inner, type, errorCode, requestId, status),
            "XksProxyUriEndpointInUseException" => new Aws.XksProxyUriEndpointInUseException(message, inner, type, errorCode, requestId, status),
            "XksProxyUriInUseException" => new Aws.XksProxyUriInUseException(message, inner, type, errorCode, requestId, status),
            "XksProxyUriUnreachableException" => new Aws.XksProxyUriUnreachableException(message, inner, type, errorCode, requestId, status),
            "XksProxyVpcEndpointServiceInUseException" => new Aws.XksProxyVpcEndpointServiceInUseException(message, inner, type, errorCode, requestId, status),
            "XksProxyVpcEndpointServiceInvalidConfigurationException" => new Aws.XksProxyVpcEndpointServiceInvalidConfigurationException(message, inner, type, errorCode, requestId, status),
            "XksProxyVpcEndpointServiceNotFoundException" => new Aws.XksProxyVpcEndpointServiceNotFoundException(message, inner, type, errorCode, requestId, status),
            _ => new AmazonKeyManagementServiceException(message, inner, type, errorCode, requestId, status),
        };
    }
}
