namespace EnvelopeKms;

/// <summary>
/// Marks the KMS calls made in a scope (across awaits) as made on behalf of an integration, such as
/// the Entity Framework Core encrypted columns: their caller gets <see cref="CallerIdentity.ViaService"/>,
/// so key policies, grants and identity policies can allow a key only through that integration
/// (<c>kms:ViaService</c>), as KMS does for calls made through an AWS service. A caller that already
/// names a calling service keeps it.
/// </summary>
public static class ViaServiceScope
{
    private static readonly AsyncLocal<string?> s_current = new();

    /// <summary>The calling service of the current scope, or <see langword="null"/> outside any scope.</summary>
    public static string? Current => s_current.Value;

    /// <summary>Starts a scope; dispose it to end it (scopes nest, the innermost wins).</summary>
    /// <param name="service">The calling service's name, e.g. <c>efcore.envelopekms</c>: 1–256 characters, no whitespace.</param>
    /// <returns>Ends the scope when disposed.</returns>
    /// <exception cref="ArgumentException"><paramref name="service"/> is empty, too long, or contains whitespace.</exception>
    public static IDisposable Begin(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (service.Length is 0 or > 256 || service.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"'{service}' is not a calling-service name: give 1–256 characters without whitespace.", nameof(service));
        }

        var previous = s_current.Value;
        s_current.Value = service;
        return new Scope(previous);
    }

    /// <summary>The caller with the scope's calling service, when there is one and the caller names none.</summary>
    internal static CallerIdentity Apply(CallerIdentity caller)
        => s_current.Value is { } service && caller.ViaService is null ? caller with { ViaService = service } : caller;

    private sealed class Scope(string? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                s_current.Value = previous;
            }
        }
    }
}
