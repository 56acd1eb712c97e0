using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.Runtime;
using EnvelopeKms.AwsSdk;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>
/// Serves one AWS KMS JSON 1.1 request: reads the body (up to the limit), verifies its SigV4 signature,
/// finds the operation in <c>X-Amz-Target</c>, decodes the body into the AWS SDK's request type, calls
/// <see cref="EnvelopeKmsAmazonClient"/> as the access key's principal, and writes the response, or the
/// error in AWS's shape (<c>__type</c>, <c>message</c>, <c>x-amzn-ErrorType</c>).
/// </summary>
internal sealed partial class KmsEndpointHandler(IOptions<KmsEndpointOptions> options, IServiceProvider services, ILogger<KmsEndpointHandler> logger)
{
    internal const string ContentType = "application/x-amz-json-1.1";
    private readonly KmsEndpointOptions _options = options.Value;
    private readonly TimeProvider _time = services.GetService<TimeProvider>() ?? TimeProvider.System;

    public async Task HandleAsync(HttpContext context)
    {
        var requestId = NewRequestId();
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        var aborted = context.RequestAborted;

        byte[]? body = null;
        var length = 0;
        try
        {
            (body, length) = await ReadBodyAsync(context.Request, _options.MaxRequestBodySize, aborted).ConfigureAwait(false);
            if (body is null)
            {
                await WriteErrorAsync(context, KmsProtocolError.TooLarge(_options.MaxRequestBodySize)).ConfigureAwait(false);
                return;
            }

            var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
                ? raw
                : context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            var signed = new SigV4Verifier.Request(context.Request.Method, rawTarget, context.Request.Headers, body.AsMemory(0, length));
            var (key, authError) = SigV4Verifier.Verify(signed, _options, _time.GetUtcNow());
            if (authError is not null)
            {
                LogAuthenticationFailed(logger, requestId, key?.AccessKeyId ?? "(unknown)", authError.Code);
                await WriteErrorAsync(context, authError).ConfigureAwait(false);
                return;
            }

            var target = context.Request.Headers["X-Amz-Target"].ToString();
            var operation = KmsOperations.FromTarget(target);
            if (operation is null)
            {
                await WriteErrorAsync(context, KmsProtocolError.UnknownOperation()).ConfigureAwait(false);
                return;
            }

            if (!IsJsonContentType(context.Request.ContentType))
            {
                await WriteErrorAsync(context, KmsProtocolError.Serialization($"The Content-Type must be {ContentType}.")).ConfigureAwait(false);
                return;
            }

            AmazonWebServiceRequest request;
            try
            {
                request = (AmazonWebServiceRequest)KmsJsonCodec.Deserialize(operation.RequestType, body.AsMemory(0, length));
            }
            catch (KmsJsonCodec.CodecException e)
            {
                await WriteErrorAsync(context, KmsProtocolError.Serialization(e.Message)).ConfigureAwait(false);
                return;
            }

            var caller = key!.Principal with
            {
                SourceIp = context.Connection.RemoteIpAddress is { } address && address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : context.Connection.RemoteIpAddress,
                SecureTransport = context.Request.IsHttps,
            };
            var keyManager = _options.KeyManager?.Invoke(context.RequestServices) ?? context.RequestServices.GetRequiredService<IKeyManager>();
            var client = _options.ClientFactory?.Invoke(context, keyManager, caller) ?? new EnvelopeKmsAmazonClient(keyManager, caller);

            AmazonWebServiceResponse response;
            try
            {
                response = await operation.Invoke(client, request, aborted).ConfigureAwait(false);
            }
            catch (AmazonServiceException e)
            {
                KmsJsonCodec.Scrub(request);
                var status = e.StatusCode == 0 ? HttpStatusCode.BadRequest : e.StatusCode;
                var code = string.IsNullOrEmpty(e.ErrorCode) ? ErrorCodeOf(e) : e.ErrorCode;
                LogOperationFailed(logger, requestId, operation.Name, key.AccessKeyId, code);
                await WriteErrorAsync(context, new KmsProtocolError(code, e.Message, status)).ConfigureAwait(false);
                return;
            }
            finally
            {
                (client as IDisposable)?.Dispose();
            }

            try
            {
                LogRequestServed(logger, requestId, operation.Name, key.AccessKeyId);
                await WriteAsync(context, HttpStatusCode.OK, writer => KmsJsonCodec.Serialize(writer, response)).ConfigureAwait(false);
            }
            finally
            {
                // Plaintext, private keys and shared secrets in the request and the response: zeroed once written.
                KmsJsonCodec.Scrub(response);
                KmsJsonCodec.Scrub(request);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (BadHttpRequestException) when (!context.Response.HasStarted)
        {
            // A malformed or truncated body (for example a broken chunk).
            await WriteErrorAsync(context, KmsProtocolError.Serialization("The request body could not be read.")).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any other failure is answered as KMSInternalException, without its details.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogUnexpectedFailure(logger, e, requestId);
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.Remove("x-amzn-ErrorType");
                await WriteErrorAsync(context, KmsProtocolError.Internal()).ConfigureAwait(false);
            }
        }
        finally
        {
            if (body is not null)
            {
                CryptographicOperations.ZeroMemory(body.AsSpan(0, length));
            }
        }
    }

    private static string ErrorCodeOf(AmazonServiceException e)
    {
        var name = e.GetType().Name;
        return name == nameof(AmazonServiceException) || name.StartsWith("Amazon", StringComparison.Ordinal) ? "KMSInternalException" : name;
    }

    private static bool IsJsonContentType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        var mediaType = contentType.Split(';')[0].Trim();
        return mediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/x-amz-json-1.0", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads the whole body into a buffer of its exact size, or returns a null buffer when it is larger than <paramref name="limit"/>.</summary>
    private static async Task<(byte[]? Body, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, 0);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        var buffer = new byte[request.ContentLength is { } declared ? (int)declared : 4096];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > limit)
                {
                    CryptographicOperations.ZeroMemory(buffer);
                    return (null, 0);
                }

                var larger = new byte[(int)Math.Min(Math.Max(buffer.Length * 2L, 4096), limit + 1)];
                buffer.AsSpan().CopyTo(larger);
                CryptographicOperations.ZeroMemory(buffer);
                buffer = larger;
            }

            int read;
            try
            {
                read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // Kestrel's own limit (set just above ours) tripped on a chunked body.
                CryptographicOperations.ZeroMemory(buffer);
                return (null, 0);
            }

            if (read == 0)
            {
                break;
            }

            length += read;
            if (length > limit)
            {
                CryptographicOperations.ZeroMemory(buffer);
                return (null, 0);
            }
        }

        return (buffer, length);
    }

    private static Task WriteErrorAsync(HttpContext context, KmsProtocolError error)
    {
        context.Response.Headers["x-amzn-ErrorType"] = error.Code;
        return WriteAsync(context, error.Status, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("__type", error.Code);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
        });
    }

    private static async Task WriteAsync(HttpContext context, HttpStatusCode status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        try
        {
            using (var writer = new Utf8JsonWriter(buffer))
            {
                write(writer);
            }

            context.Response.StatusCode = (int)status;
            context.Response.ContentType = ContentType;
            context.Response.ContentLength = buffer.WrittenCount;
            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            // The response may hold plaintext (Decrypt, GenerateDataKey): ArrayBufferWriter.Clear zeroes what was written.
            buffer.Clear();
        }
    }

    /// <summary>A request id of the form AWS uses (a random UUID).</summary>
    private static string NewRequestId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }

    [LoggerMessage(EventId = 6001, EventName = "KmsEndpointRequestServed", Level = LogLevel.Debug,
        Message = "KMS endpoint request {RequestId}: {Operation} by access key {AccessKeyId} succeeded")]
    private static partial void LogRequestServed(ILogger logger, string requestId, string operation, string accessKeyId);

    [LoggerMessage(EventId = 6002, EventName = "KmsEndpointOperationFailed", Level = LogLevel.Debug,
        Message = "KMS endpoint request {RequestId}: {Operation} by access key {AccessKeyId} failed with {ErrorCode}")]
    private static partial void LogOperationFailed(ILogger logger, string requestId, string operation, string accessKeyId, string errorCode);

    [LoggerMessage(EventId = 6003, EventName = "KmsEndpointAuthenticationFailed", Level = LogLevel.Information,
        Message = "KMS endpoint request {RequestId}: authentication of access key {AccessKeyId} failed with {ErrorCode}")]
    private static partial void LogAuthenticationFailed(ILogger logger, string requestId, string accessKeyId, string errorCode);

    [LoggerMessage(EventId = 6004, EventName = "KmsEndpointUnexpectedFailure", Level = LogLevel.Error,
        Message = "KMS endpoint request {RequestId} failed unexpectedly; answered KMSInternalException")]
    private static partial void LogUnexpectedFailure(ILogger logger, Exception exception, string requestId);
}
