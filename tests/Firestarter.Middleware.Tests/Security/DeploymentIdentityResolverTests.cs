using Firestarter.Security;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Security;

public class DeploymentIdentityResolverTests
{
    [Theory]
    [InlineData("deployment_abc")]
    [InlineData("a.b")]
    [InlineData("a..c")]
    [InlineData("a.b.c.d")]
    [InlineData("not a token at all")]
    public void A_value_that_is_not_token_shaped_passes_through_as_the_deployment(string header)
    {
        var resolver = Identities.Unverified();

        Assert.True(resolver.TryResolve(header, out var deployment, out var problem));

        Assert.Same(header, deployment);
        Assert.Null(problem);
    }

    [Fact]
    public void A_token_resolves_to_its_deployment_claim()
    {
        var resolver = Identities.Unverified();

        Assert.True(resolver.TryResolve(Tokens.ForDeployment("deployment_abc"), out var deployment, out var problem));

        Assert.Equal("deployment_abc", deployment);
        Assert.Null(problem);
    }

    [Fact]
    public void Different_tokens_naming_the_same_deployment_resolve_to_equal_identities()
    {
        var resolver = Identities.Unverified();
        var first = Tokens.WithPayload("""{"deployment":"deployment_abc","iat":1}""");
        var second = Tokens.WithPayload("""{"iat":2,"deployment":"deployment_abc"}""");

        Assert.True(resolver.TryResolve(first, out var fromFirst, out _));
        Assert.True(resolver.TryResolve(second, out var fromSecond, out _));

        Assert.Equal(fromFirst, fromSecond);
    }

    [Fact]
    public void A_token_shaped_value_with_a_bad_payload_fails_with_the_tokens_problem()
    {
        var resolver = Identities.Unverified();

        Assert.False(resolver.TryResolve(Tokens.WithPayload("""{"sub":"x"}"""), out _, out var problem));

        Assert.EndsWith("The deployment token has no 'deployment' claim.", problem!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_token_is_not_cached_as_a_success()
    {
        var resolver = Identities.Unverified();
        var token = Tokens.WithRawPayload("!!!!");

        Assert.False(resolver.TryResolve(token, out _, out _));
        Assert.False(resolver.TryResolve(token, out _, out var problem));
        Assert.EndsWith("The deployment token's payload is not base64url.", problem!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_seen_before_is_answered_from_the_cache_without_decoding_again()
    {
        var resolver = Identities.Unverified();
        var token = Tokens.ForDeployment("deployment_abc");

        Assert.True(resolver.TryResolve(token, out var first, out _));
        Assert.True(resolver.TryResolve(token, out var second, out _));
        // A second decode would allocate a new string; the cached answer is the very same instance.
        Assert.Same(first, second);

        // The cache is keyed by the token's value, not its instance.
        Assert.True(resolver.TryResolve(new string(token.AsSpan()), out var third, out _));
        Assert.Same(first, third);
    }

    [Fact]
    public void The_cache_stays_bounded_by_clearing_when_full_and_refilling()
    {
        var resolver = Identities.Unverified();
        var firstToken = Tokens.ForDeployment("deployment_0");
        Assert.True(resolver.TryResolve(firstToken, out var firstDecoded, out _));

        // Fill the cache to exactly its capacity: the first token is still cached.
        for (var i = 1; i < DeploymentIdentityResolver.MaxCachedTokens; i++)
        {
            Assert.True(resolver.TryResolve(Tokens.ForDeployment($"deployment_{i}"), out _, out _));
        }

        Assert.True(resolver.TryResolve(firstToken, out var stillCached, out _));
        Assert.Same(firstDecoded, stillCached);

        // One more distinct token: the full cache is cleared, and only the newcomer is cached.
        var overflowToken = Tokens.ForDeployment("deployment_overflow");
        Assert.True(resolver.TryResolve(overflowToken, out var overflowDecoded, out _));
        Assert.True(resolver.TryResolve(overflowToken, out var overflowAgain, out _));
        Assert.Same(overflowDecoded, overflowAgain);

        Assert.True(resolver.TryResolve(firstToken, out var redecoded, out _));
        Assert.NotSame(firstDecoded, redecoded);
        Assert.Equal("deployment_0", redecoded);

        // And a re-decoded token is cached again.
        Assert.True(resolver.TryResolve(firstToken, out var cachedAgain, out _));
        Assert.Same(redecoded, cachedAgain);
    }
}
