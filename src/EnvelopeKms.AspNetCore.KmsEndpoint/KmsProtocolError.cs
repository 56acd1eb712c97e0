using System.Net;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>An error in AWS's JSON 1.1 shape: the error code (<c>__type</c>), its message and HTTP status.</summary>
internal sealed record KmsProtocolError(string Code, string Message, HttpStatusCode Status)
{
    public static KmsProtocolError MissingAuthenticationToken()
        => new("MissingAuthenticationTokenException", "Missing Authentication Token", HttpStatusCode.Forbidden);

    public static KmsProtocolError IncompleteSignature(string message)
        => new("IncompleteSignatureException", message, HttpStatusCode.BadRequest);

    public static KmsProtocolError InvalidSignature(string message)
        => new("InvalidSignatureException", message, HttpStatusCode.BadRequest);

    public static KmsProtocolError SignatureMismatch()
        => InvalidSignature("The request signature we calculated does not match the signature you provided. "
            + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");

    public static KmsProtocolError UnrecognizedClient()
        => new("UnrecognizedClientException", "The security token included in the request is invalid.", HttpStatusCode.BadRequest);

    public static KmsProtocolError UnknownOperation()
        => new("UnknownOperationException", "The operation in the X-Amz-Target header is missing or not a KMS operation.", HttpStatusCode.BadRequest);

    public static KmsProtocolError Serialization(string message)
        => new("SerializationException", message, HttpStatusCode.BadRequest);

    public static KmsProtocolError TooLarge(long limit)
        => new("ValidationException", $"The request body is larger than the endpoint's limit of {limit} bytes.", HttpStatusCode.RequestEntityTooLarge);

    public static KmsProtocolError Internal()
        => new("KMSInternalException", "The request failed because of an internal error in the endpoint.", HttpStatusCode.InternalServerError);
}
