using System.Text;
using Firestarter.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Firestarter.Tests.Security;

public class VerifiedTokenResolverTests
{
    private const string Secret = "unit-test-secret-that-is-at-least-32-bytes";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));

    private DeploymentIdentityResolver Resolver(TokenEnforcement enforcement) =>
        new(new DeploymentTokenOptions { Enforcement = enforcement, Secret = Secret, ClockSkew = TimeSpan.FromSeconds(30) }, _time, NullLogger.Instance);

    private string Token(string deployment, TimeSpan lifetime, string secret = Secret) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "https://id.trigger.dev",
            Audience = "https://api.trigger.dev",
            IssuedAt = _time.GetUtcNow().UtcDateTime,
            Expires = _time.GetUtcNow().UtcDateTime + lifetime,
            Claims = new Dictionary<string, object> { ["deployment"] = deployment },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });

    [Fact]
    public void A_valid_token_is_verified_once_and_answered_from_the_cache_until_it_expires()
    {
        var resolver = Resolver(TokenEnforcement.Enforce);
        var token = Token("deployment_abc", TimeSpan.FromMinutes(10));

        for (var i = 0; i < 5; i++)
        {
            Assert.True(resolver.TryResolve(token, out var deployment, out var problem));
            Assert.Equal("deployment_abc", deployment);
            Assert.Null(problem);
        }

        Assert.Equal(1, resolver.Verifications);

        // Past exp plus the skew, the cached answer no longer holds: the token is verified again, and refused.
        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(31));
        Assert.False(resolver.TryResolve(token, out _, out var expired));
        Assert.Equal(401, expired!.Status);
        Assert.Contains("expired", expired.Detail, StringComparison.Ordinal);
        Assert.Equal(2, resolver.Verifications);
    }

    [Fact]
    public void In_enforce_mode_a_forged_token_and_a_bare_id_get_401()
    {
        var resolver = Resolver(TokenEnforcement.Enforce);

        Assert.False(resolver.TryResolve(Token("deployment_abc", TimeSpan.FromMinutes(10), "forged-secret-that-is-at-least-32-bytes!"), out _, out var forged));
        Assert.Equal(401, forged!.Status);
        Assert.False(resolver.TryResolve("deployment_abc", out _, out var bare));
        Assert.Equal(401, bare!.Status);
        Assert.Equal("deployment-token-required", bare.Code);
    }

    [Fact]
    public void In_log_mode_a_forged_token_resolves_to_its_unverified_claim_and_is_verified_once()
    {
        var resolver = Resolver(TokenEnforcement.Log);
        var forged = Token("deployment_abc", TimeSpan.FromMinutes(10), "forged-secret-that-is-at-least-32-bytes!");

        Assert.True(resolver.TryResolve(forged, out var first, out _));
        Assert.True(resolver.TryResolve(forged, out var second, out _));
        Assert.True(resolver.TryResolve("deployment_bare", out var bare, out _));

        Assert.Equal("deployment_abc", first);
        Assert.Same(first, second);
        Assert.Equal("deployment_bare", bare);
        Assert.Equal(1, resolver.Verifications);
    }
}
