using Amazon.Runtime;
using Aws = Amazon.KeyManagementService.Model;

namespace EnvelopeKms.AwsSdk;

/// <summary>
/// The paginators of <see cref="EnvelopeKmsAmazonClient.Paginators"/>: each follows <c>NextMarker</c> until a page is
/// not <c>Truncated</c>, setting the request's <c>Marker</c> as it goes, and can be enumerated once, as the SDK's own.
/// </summary>
internal sealed class PaginatorFactory(EnvelopeKmsAmazonClient client) : Aws.IKeyManagementServicePaginatorFactory
{
    public Aws.IDescribeCustomKeyStoresPaginator DescribeCustomKeyStores(Aws.DescribeCustomKeyStoresRequest request)
        => new Paginators.DescribeCustomKeyStores(Paginator.Over(request, client.DescribeCustomKeyStoresAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListAliasesPaginator ListAliases(Aws.ListAliasesRequest request)
        => new Paginators.ListAliases(Paginator.Over(request, client.ListAliasesAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListGrantsPaginator ListGrants(Aws.ListGrantsRequest request)
        => new Paginators.ListGrants(Paginator.Over(request, client.ListGrantsAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListKeyPoliciesPaginator ListKeyPolicies(Aws.ListKeyPoliciesRequest request)
        => new Paginators.ListKeyPolicies(Paginator.Over(request, client.ListKeyPoliciesAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListKeyRotationsPaginator ListKeyRotations(Aws.ListKeyRotationsRequest request)
        => new Paginators.ListKeyRotations(Paginator.Over(request, client.ListKeyRotationsAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListKeysPaginator ListKeys(Aws.ListKeysRequest request)
        => new Paginators.ListKeys(Paginator.Over(request, client.ListKeysAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListResourceTagsPaginator ListResourceTags(Aws.ListResourceTagsRequest request)
        => new Paginators.ListResourceTags(Paginator.Over(request, client.ListResourceTagsAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));

    public Aws.IListRetirableGrantsPaginator ListRetirableGrants(Aws.ListRetirableGrantsRequest request)
        => new Paginators.ListRetirableGrants(Paginator.Over(request, client.ListRetirableGrantsAsync, static (q, m) => q.Marker = m, static r => r.NextMarker));
}

internal static class Paginator
{
    public static Paginator<TRequest, TResponse> Over<TRequest, TResponse>(
        TRequest request,
        Func<TRequest, CancellationToken, Task<TResponse>> call,
        Action<TRequest, string?> setMarker,
        Func<TResponse, string?> nextMarker)
        => new(request, call, setMarker, nextMarker);
}

internal sealed class Paginator<TRequest, TResponse>(
    TRequest request,
    Func<TRequest, CancellationToken, Task<TResponse>> call,
    Action<TRequest, string?> setMarker,
    Func<TResponse, string?> nextMarker) : IPaginator<TResponse>
{
    private int _used;

    public async IAsyncEnumerable<TResponse> PaginateAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Interlocked.Exchange(ref _used, 1) != 0)
        {
            throw new InvalidOperationException("This paginator has already been consumed; create a new one from the client's Paginators.");
        }

        string? marker;
        do
        {
            var page = await call(request, cancellationToken).ConfigureAwait(false);
            marker = nextMarker(page);
            setMarker(request, marker);
            yield return page;
        }
        while (!string.IsNullOrEmpty(marker));
    }
}

internal static class Paginators
{
    public sealed class DescribeCustomKeyStores(IPaginator<Aws.DescribeCustomKeyStoresResponse> pages) : Aws.IDescribeCustomKeyStoresPaginator
    {
        public IPaginatedEnumerable<Aws.DescribeCustomKeyStoresResponse> Responses { get; } = new PaginatedResponse<Aws.DescribeCustomKeyStoresResponse>(pages);
        public IPaginatedEnumerable<Aws.CustomKeyStoresListEntry> CustomKeyStores { get; } = new PaginatedResultKeyResponse<Aws.DescribeCustomKeyStoresResponse, Aws.CustomKeyStoresListEntry>(pages, static r => r.CustomKeyStores ?? []);
    }

    public sealed class ListAliases(IPaginator<Aws.ListAliasesResponse> pages) : Aws.IListAliasesPaginator
    {
        public IPaginatedEnumerable<Aws.ListAliasesResponse> Responses { get; } = new PaginatedResponse<Aws.ListAliasesResponse>(pages);
        public IPaginatedEnumerable<Aws.AliasListEntry> Aliases { get; } = new PaginatedResultKeyResponse<Aws.ListAliasesResponse, Aws.AliasListEntry>(pages, static r => r.Aliases ?? []);
    }

    public sealed class ListGrants(IPaginator<Aws.ListGrantsResponse> pages) : Aws.IListGrantsPaginator
    {
        public IPaginatedEnumerable<Aws.ListGrantsResponse> Responses { get; } = new PaginatedResponse<Aws.ListGrantsResponse>(pages);
        public IPaginatedEnumerable<Aws.GrantListEntry> Grants { get; } = new PaginatedResultKeyResponse<Aws.ListGrantsResponse, Aws.GrantListEntry>(pages, static r => r.Grants ?? []);
    }

    public sealed class ListKeyPolicies(IPaginator<Aws.ListKeyPoliciesResponse> pages) : Aws.IListKeyPoliciesPaginator
    {
        public IPaginatedEnumerable<Aws.ListKeyPoliciesResponse> Responses { get; } = new PaginatedResponse<Aws.ListKeyPoliciesResponse>(pages);
        public IPaginatedEnumerable<string> PolicyNames { get; } = new PaginatedResultKeyResponse<Aws.ListKeyPoliciesResponse, string>(pages, static r => r.PolicyNames ?? []);
    }

    public sealed class ListKeyRotations(IPaginator<Aws.ListKeyRotationsResponse> pages) : Aws.IListKeyRotationsPaginator
    {
        public IPaginatedEnumerable<Aws.ListKeyRotationsResponse> Responses { get; } = new PaginatedResponse<Aws.ListKeyRotationsResponse>(pages);
        public IPaginatedEnumerable<Aws.RotationsListEntry> Rotations { get; } = new PaginatedResultKeyResponse<Aws.ListKeyRotationsResponse, Aws.RotationsListEntry>(pages, static r => r.Rotations ?? []);
    }

    public sealed class ListKeys(IPaginator<Aws.ListKeysResponse> pages) : Aws.IListKeysPaginator
    {
        public IPaginatedEnumerable<Aws.ListKeysResponse> Responses { get; } = new PaginatedResponse<Aws.ListKeysResponse>(pages);
        public IPaginatedEnumerable<Aws.KeyListEntry> Keys { get; } = new PaginatedResultKeyResponse<Aws.ListKeysResponse, Aws.KeyListEntry>(pages, static r => r.Keys ?? []);
    }

    public sealed class ListResourceTags(IPaginator<Aws.ListResourceTagsResponse> pages) : Aws.IListResourceTagsPaginator
    {
        public IPaginatedEnumerable<Aws.ListResourceTagsResponse> Responses { get; } = new PaginatedResponse<Aws.ListResourceTagsResponse>(pages);
        public IPaginatedEnumerable<Aws.Tag> Tags { get; } = new PaginatedResultKeyResponse<Aws.ListResourceTagsResponse, Aws.Tag>(pages, static r => r.Tags ?? []);
    }

    public sealed class ListRetirableGrants(IPaginator<Aws.ListRetirableGrantsResponse> pages) : Aws.IListRetirableGrantsPaginator
    {
        public IPaginatedEnumerable<Aws.ListRetirableGrantsResponse> Responses { get; } = new PaginatedResponse<Aws.ListRetirableGrantsResponse>(pages);
        public IPaginatedEnumerable<Aws.GrantListEntry> Grants { get; } = new PaginatedResultKeyResponse<Aws.ListRetirableGrantsResponse, Aws.GrantListEntry>(pages, static r => r.Grants ?? []);
    }
}
