using System.Security.Claims;
using EnvelopeKms.Authorization;

namespace EnvelopeKms.Tests.Authorization;

/// <summary>Where the caller comes from: an ambient scope, or a claims principal such as ASP.NET Core's user.</summary>
public sealed class CallerIdentityProviderTests
{
    private static readonly CallerIdentity Fallback = CallerIdentity.AccountRoot("000000000000");

    [Fact]
    public async Task An_ambient_scope_flows_across_awaits_and_ends_when_disposed()
    {
        var provider = new AmbientCallerIdentityProvider(Fallback);
        var app = new CallerIdentity("arn:aws:iam::000000000000:role/app");

        using (provider.BeginScope(app))
        {
            await Task.Yield();
            Assert.Equal(app, provider.GetCurrentCaller());
            using (provider.BeginScope(Principals.Admin))
            {
                Assert.Equal(Principals.Admin, provider.GetCurrentCaller());
            }

            Assert.Equal(app, provider.GetCurrentCaller());
        }

        Assert.Equal(Fallback, provider.GetCurrentCaller());
    }

    [Fact]
    public void Claims_give_the_principal_arn_and_tags_and_anonymous_users_get_the_fallback()
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ClaimsPrincipalCallerIdentityProvider.PrincipalArnClaimType, "arn:aws:iam::000000000000:user/alice"),
            new Claim(ClaimsPrincipalCallerIdentityProvider.PrincipalTagClaimPrefix + "team", "billing"),
        ], "test"));
        ClaimsPrincipal? current = user;
        var provider = new ClaimsPrincipalCallerIdentityProvider(() => current, Fallback);

        var caller = provider.GetCurrentCaller();

        Assert.Equal("arn:aws:iam::000000000000:user/alice", caller.PrincipalArn);
        Assert.Equal("User", caller.PrincipalType);
        Assert.Equal("billing", caller.Tags["TEAM"]);
        current = new ClaimsPrincipal(new ClaimsIdentity());
        Assert.Equal(Fallback, provider.GetCurrentCaller());
        current = null;
        Assert.Equal(Fallback, provider.GetCurrentCaller());
    }

    [Fact]
    public async Task The_key_manager_uses_the_ambient_caller_when_a_request_names_none()
    {
        var provider = new AmbientCallerIdentityProvider(Fallback);
        using var manager = new KeyManager(new EnvelopeKms.Storage.InMemoryKeyStore(), new EnvelopeKms.Protection.StaticRootKeyProvider(new byte[32]), callerIdentityProvider: provider);
        var key = (await manager.CreateKeyAsync(new CreateKeyRequest(), KeyManagement.Kms.Ct)).KeyMetadata;

        using (provider.BeginScope(Principals.App))
        {
            await Assert.ThrowsAsync<KmsAccessDeniedException>(() => manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, KeyManagement.Kms.Ct));
        }

        await manager.DescribeKeyAsync(new DescribeKeyRequest { KeyId = key.KeyId }, KeyManagement.Kms.Ct);
    }
}
