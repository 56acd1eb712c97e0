using System.Text;
using Amazon.KeyManagementService;
using Microsoft.AspNetCore.Http;

namespace EnvelopeKms.AspNetCore.KmsEndpoint;

/// <summary>
/// The settings of the local KMS endpoint (<see cref="KmsEndpointRouteBuilderExtensions.MapEnvelopeKms"/>):
/// the access keys it accepts and the principal each one signs in as, the signing Regions, the allowed
/// clock skew and the request size limit. Secret access keys never appear in <see cref="ToString"/>, logs
/// or error messages.
/// </summary>
public sealed class KmsEndpointOptions
{
    /// <summary>The default <see cref="AllowedClockSkew"/>: 15 minutes, as AWS.</summary>
    public static readonly TimeSpan DefaultAllowedClockSkew = TimeSpan.FromMinutes(15);

    /// <summary>The default <see cref="MaxRequestBodySize"/>: 1 MiB.</summary>
    public const long DefaultMaxRequestBodySize = 1024 * 1024;

    private readonly Dictionary<string, KmsAccessKey> _accessKeys = new(StringComparer.Ordinal);
    private TimeSpan _allowedClockSkew = DefaultAllowedClockSkew;
    private long _maxRequestBodySize = DefaultMaxRequestBodySize;

    /// <summary>The access keys the endpoint accepts, by access key id.</summary>
    public IReadOnlyCollection<KmsAccessKey> AccessKeys => _accessKeys.Values;

    /// <summary>
    /// The Regions a request may be signed for (the Region of the credential scope). Empty (the default):
    /// any Region. A request signed for another Region fails with <c>InvalidSignatureException</c>.
    /// </summary>
    public ISet<string> SigningRegions { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// How far a request's <c>X-Amz-Date</c> may be from the server's clock (default 15 minutes, as AWS);
    /// beyond it the request fails with <c>InvalidSignatureException</c> "Signature expired".
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or over a day.</exception>
    public TimeSpan AllowedClockSkew
    {
        get => _allowedClockSkew;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(1));
            _allowedClockSkew = value;
        }
    }

    /// <summary>
    /// The largest request body accepted, in bytes (default 1 MiB; the largest KMS request, an import of
    /// an RSA-4096 private key or a 32 KB key policy, is far smaller). A larger body is refused with
    /// HTTP 413 and a <c>ValidationException</c>, before its signature is checked.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is under 1 KiB or over 64 MiB.</exception>
    public long MaxRequestBodySize
    {
        get => _maxRequestBodySize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 64L * 1024 * 1024);
            _maxRequestBodySize = value;
        }
    }

    /// <summary>
    /// The key manager that serves the requests; <see langword="null"/> (the default): the
    /// <see cref="IKeyManager"/> registered in the service provider.
    /// </summary>
    public Func<IServiceProvider, IKeyManager>? KeyManager { get; set; }

    /// <summary>
    /// Creates the per-request client the endpoint dispatches to; by default an
    /// <c>EnvelopeKmsAmazonClient</c> over the key manager. For tests of the protocol layer only.
    /// </summary>
    internal Func<HttpContext, IKeyManager, CallerIdentity, IAmazonKeyManagementService>? ClientFactory { get; set; }

    /// <summary>
    /// Adds an access key: requests signed with <paramref name="secretAccessKey"/> under
    /// <paramref name="accessKeyId"/> run as <paramref name="principal"/> (its ARN and principal tags; the
    /// endpoint adds the caller's address and whether the connection was HTTPS). Key policies and grants
    /// then decide what the principal may do.
    /// </summary>
    /// <param name="accessKeyId">The access key id, 16 to 128 characters of letters and digits (for example <c>AKIAIOSFODNN7EXAMPLE</c>).</param>
    /// <param name="secretAccessKey">The secret access key, at least 16 characters (AWS uses 40).</param>
    /// <param name="principal">The principal the key signs in as.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">An argument is malformed, or the access key id is already added.</exception>
    public KmsEndpointOptions AddAccessKey(string accessKeyId, string secretAccessKey, CallerIdentity principal)
    {
        var key = new KmsAccessKey(accessKeyId, secretAccessKey, principal);
        if (!_accessKeys.TryAdd(key.AccessKeyId, key))
        {
            throw new ArgumentException($"The access key id '{accessKeyId}' is already added.", nameof(accessKeyId));
        }

        return this;
    }

    /// <summary>
    /// Adds an access key that signs in as the principal <paramref name="principalArn"/> (without principal
    /// tags); see <see cref="AddAccessKey(string, string, CallerIdentity)"/>.
    /// </summary>
    /// <param name="accessKeyId">The access key id, 16 to 128 characters of letters and digits.</param>
    /// <param name="secretAccessKey">The secret access key, at least 16 characters.</param>
    /// <param name="principalArn">The principal ARN, for example <c>arn:aws:iam::111122223333:role/app</c>.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException">An argument is malformed, or the access key id is already added.</exception>
    public KmsEndpointOptions AddAccessKey(string accessKeyId, string secretAccessKey, string principalArn)
        => AddAccessKey(accessKeyId, secretAccessKey, new CallerIdentity(principalArn));

    internal KmsAccessKey? FindAccessKey(string accessKeyId) => _accessKeys.GetValueOrDefault(accessKeyId);

    /// <summary>The settings, without any secret.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("KmsEndpointOptions { AccessKeys = [");
        text.AppendJoin(", ", _accessKeys.Values.Select(k => k.ToString()));
        text.Append("], SigningRegions = ");
        text.Append(SigningRegions.Count == 0 ? "any" : string.Join(", ", SigningRegions));
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $", AllowedClockSkew = {AllowedClockSkew}, MaxRequestBodySize = {MaxRequestBodySize} }}");
        return text.ToString();
    }
}

/// <summary>
/// An access key of the local KMS endpoint: its id, the principal it signs in as, and (not exposed) its
/// secret. <see cref="ToString"/> shows the id and the principal, never the secret.
/// </summary>
public sealed class KmsAccessKey
{
    // "AWS4" + secret, the first HMAC key of the SigV4 signing-key chain; never exposed.
    private readonly byte[] _signingSeed;

    internal KmsAccessKey(string accessKeyId, string secretAccessKey, CallerIdentity principal)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accessKeyId);
        ArgumentNullException.ThrowIfNull(secretAccessKey);
        ArgumentNullException.ThrowIfNull(principal);
        if (accessKeyId.Length is < 16 or > 128 || !accessKeyId.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException("An access key id is 16 to 128 ASCII letters and digits.", nameof(accessKeyId));
        }

        if (secretAccessKey.Length < 16 || secretAccessKey.Any(c => c <= ' ' || c > '~'))
        {
            // The message must not echo the secret.
            throw new ArgumentException("A secret access key is at least 16 printable ASCII characters without spaces.", nameof(secretAccessKey));
        }

        AccessKeyId = accessKeyId;
        Principal = principal;
        _signingSeed = Encoding.ASCII.GetBytes("AWS4" + secretAccessKey);
    }

    /// <summary>The access key id.</summary>
    public string AccessKeyId { get; }

    /// <summary>The principal the key signs in as (ARN and principal tags).</summary>
    public CallerIdentity Principal { get; }

    internal ReadOnlySpan<byte> SigningSeed => _signingSeed;

    /// <summary>The access key id and the principal ARN; never the secret.</summary>
    public override string ToString() => $"{AccessKeyId} -> {Principal.PrincipalArn}";
}
