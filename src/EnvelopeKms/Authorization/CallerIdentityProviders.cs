using System.Security.Claims;

namespace EnvelopeKms.Authorization;

/// <summary>
/// An ambient caller that flows with the asynchronous call context: code that serves a request
/// (middleware, a message handler) opens a scope with the caller, and every key-manager call made in
/// that scope runs as that caller. Outside a scope, the fallback caller is used.
/// </summary>
/// <example>
/// <code>
/// using (callers.BeginScope(new CallerIdentity("arn:aws:iam::111122223333:role/app")))
/// {
///     await keyManager.EncryptAsync(...); // authorized as role/app
/// }
/// </code>
/// </example>
public sealed class AmbientCallerIdentityProvider : ICallerIdentityProvider
{
    private readonly AsyncLocal<CallerIdentity?> _current = new();
    private readonly CallerIdentity _fallback;

    /// <summary>Creates the provider with the caller to use outside any scope.</summary>
    public AmbientCallerIdentityProvider(CallerIdentity fallback)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        _fallback = fallback;
    }

    /// <summary>Makes <paramref name="caller"/> the caller of the current asynchronous flow until the scope is disposed.</summary>
    public IDisposable BeginScope(CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var previous = _current.Value;
        _current.Value = caller;
        return new Scope(this, previous);
    }

    /// <inheritdoc />
    public CallerIdentity GetCurrentCaller() => _current.Value ?? _fallback;

    private sealed class Scope(AmbientCallerIdentityProvider owner, CallerIdentity? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                owner._current.Value = previous;
            }
        }
    }
}

/// <summary>
/// The caller taken from a <see cref="ClaimsPrincipal"/>, for example ASP.NET Core's
/// <c>HttpContext.User</c>: <c>new ClaimsPrincipalCallerIdentityProvider(() =&gt; accessor.HttpContext?.User, fallback)</c>.
/// By default the principal ARN is the value of the claim <see cref="PrincipalArnClaimType"/>, and
/// claims of type <see cref="PrincipalTagClaimPrefix"/><c>&lt;key&gt;</c> become principal tags; pass a
/// mapping to read other claims. A principal without a mapped ARN (anonymous) gets the fallback caller.
/// </summary>
public sealed class ClaimsPrincipalCallerIdentityProvider : ICallerIdentityProvider
{
    /// <summary>The claim that carries the principal ARN: <c>envelopekms:principal_arn</c>.</summary>
    public const string PrincipalArnClaimType = "envelopekms:principal_arn";

    /// <summary>The prefix of claims that carry principal tags: <c>envelopekms:tag:</c>.</summary>
    public const string PrincipalTagClaimPrefix = "envelopekms:tag:";

    private readonly Func<ClaimsPrincipal?> _principal;
    private readonly Func<ClaimsPrincipal, CallerIdentity?> _map;
    private readonly CallerIdentity _fallback;

    /// <summary>Creates the provider.</summary>
    /// <param name="principal">Returns the current principal (or <see langword="null"/>).</param>
    /// <param name="fallback">The caller when there is no principal or it maps to none.</param>
    /// <param name="map">Maps a principal to a caller; <see cref="FromClaims"/> when <see langword="null"/>.</param>
    public ClaimsPrincipalCallerIdentityProvider(Func<ClaimsPrincipal?> principal, CallerIdentity fallback, Func<ClaimsPrincipal, CallerIdentity?>? map = null)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(fallback);
        _principal = principal;
        _fallback = fallback;
        _map = map ?? FromClaims;
    }

    /// <inheritdoc />
    public CallerIdentity GetCurrentCaller() => _principal() is { } principal && _map(principal) is { } caller ? caller : _fallback;

    /// <summary>The default mapping: the <see cref="PrincipalArnClaimType"/> claim and the tag claims; <see langword="null"/> without the ARN claim.</summary>
    /// <exception cref="ArgumentException">The ARN claim is not a principal ARN.</exception>
    public static CallerIdentity? FromClaims(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (principal.FindFirst(PrincipalArnClaimType)?.Value is not { Length: > 0 } arn)
        {
            return null;
        }

        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var claim in principal.Claims)
        {
            if (claim.Type.StartsWith(PrincipalTagClaimPrefix, StringComparison.Ordinal) && claim.Type.Length > PrincipalTagClaimPrefix.Length)
            {
                tags[claim.Type[PrincipalTagClaimPrefix.Length..]] = claim.Value;
            }
        }

        return new CallerIdentity(arn) { Tags = tags.AsReadOnly() };
    }
}
