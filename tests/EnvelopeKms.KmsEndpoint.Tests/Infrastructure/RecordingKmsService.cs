using System.Collections.Concurrent;
using System.Reflection;
using Amazon.KeyManagementService;

namespace EnvelopeKms.KmsEndpoint.Tests.Infrastructure;

/// <summary>
/// A stand-in for the adapter behind the endpoint: records every request it receives and answers with a
/// response filled by <see cref="ModelValues.Fill"/>, so that the protocol layer is tested on its own.
/// </summary>
public class RecordingKmsService : DispatchProxy
{
    public ConcurrentQueue<object> Requests { get; } = new();

    public ConcurrentQueue<object> Responses { get; } = new();

    public CallerIdentity? Caller { get; set; }

    /// <summary>When set, the exception to throw for a request instead of answering it.</summary>
    public Func<object, Exception?>? Failure { get; set; }

    public static RecordingKmsService Create()
        => (RecordingKmsService)(object)Create<IAmazonKeyManagementService, RecordingKmsService>();

    public IAmazonKeyManagementService AsService() => (IAmazonKeyManagementService)(object)this;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IDisposable.Dispose))
        {
            return null;
        }

        if (!targetMethod.Name.EndsWith("Async", StringComparison.Ordinal) || args is not [var request, CancellationToken]
            || request is not Amazon.Runtime.AmazonWebServiceRequest)
        {
            throw new NotSupportedException(targetMethod.Name);
        }

        Requests.Enqueue(ModelValues.Render(request)); // Rendered now: the endpoint zeroes the request's blobs after the call.
        if (Failure?.Invoke(request) is { } failure)
        {
            return FailedTask(targetMethod.ReturnType.GetGenericArguments()[0], failure);
        }

        var responseType = targetMethod.ReturnType.GetGenericArguments()[0];
        var response = ModelValues.Fill(responseType);
        Responses.Enqueue(response);
        return typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(responseType).Invoke(null, [response]);
    }

    private static object FailedTask(Type resultType, Exception failure)
        => typeof(Task).GetMethods().Single(m => m.Name == nameof(Task.FromException) && m.IsGenericMethod)
            .MakeGenericMethod(resultType).Invoke(null, [failure])!;
}
