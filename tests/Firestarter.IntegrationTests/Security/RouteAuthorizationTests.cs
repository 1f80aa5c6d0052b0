using System.Collections.Concurrent;
using System.Net;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Security;

/// <summary>
/// The host runs ASP.NET Core's authorization middleware only for endpoints that carry authorization metadata
/// (AuthorizationWhereNeeded): a route's <c>AuthorizationPolicy</c> and a fallback policy are still enforced.
/// </summary>
public sealed class RouteAuthorizationTests
{
    // What the authorization middleware writes into HttpContext.Items whenever it runs for an endpoint (an ASP.NET
    // Core internal that EndpointMiddleware checks); its presence after a request is how a test sees that it ran.
    private const string AuthorizationRanKey = "__AuthorizationMiddlewareWithEndpointInvoked";

    [Fact]
    public async Task A_route_with_an_authorization_policy_is_authorized_and_the_broker_routes_skip_the_middleware()
    {
        await using var supervisor = await StubBackend.StartAsync(context => Task.CompletedTask);
        var seen = new ConcurrentDictionary<string, bool>();
        await using var broker = new BrokerFactory(
            new Dictionary<string, string?>
            {
                ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = supervisor.Address.ToString(),
                ["ReverseProxy:Routes:guarded:ClusterId"] = "supervisor",
                ["ReverseProxy:Routes:guarded:Match:Path"] = "/guarded/{**rest}",
                ["ReverseProxy:Routes:guarded:AuthorizationPolicy"] = "deny-all",
            },
            services =>
            {
                services.AddAuthorization(options => options.AddPolicy("deny-all", policy => policy.RequireAssertion(_ => false)));
                services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbidWithoutAuthentication>();
                services.AddSingleton<IStartupFilter>(new RecordAuthorizationRuns(seen));
            });
        using var client = new HttpClient { BaseAddress = broker.Start() };

        using var guarded = await client.GetAsync("/guarded/secret");
        using var platform = await client.GetAsync("/api/v1/open");
        using var connect = await client.GetAsync("/connect");
        Assert.False(await DispatchAsync(client, Key.Default, "run_authz"));

        Assert.Equal(HttpStatusCode.Forbidden, guarded.StatusCode);
        Assert.Equal("denied by policy", await guarded.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, platform.StatusCode);
        Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
        Assert.Equal("/api/v1/open", Assert.Single(supervisor.Requests).PathAndQuery);
        Assert.True(seen["GET /guarded/secret"]);
        Assert.False(seen["GET /api/v1/open"]);
        Assert.False(seen["GET /connect"]);
        Assert.False(seen["POST /warm-start"]);
    }

    [Fact]
    public Task A_fallback_policy_still_applies_to_every_route() =>
        AssertEveryRouteForbiddenAsync(services => services.AddAuthorization(options => options.FallbackPolicy =
            new AuthorizationPolicyBuilder().RequireAssertion(_ => false).Build()));

    // A provider of one's own may compute a fallback policy per request, which the host cannot know in advance.
    [Fact]
    public Task A_custom_policy_provider_keeps_the_middleware_on_every_request() =>
        AssertEveryRouteForbiddenAsync(services => services.AddSingleton<IAuthorizationPolicyProvider, DenyByDefault>());

    /// <summary>With <paramref name="authorization"/> registered, a broker route and a platform route both get 403.</summary>
    private static async Task AssertEveryRouteForbiddenAsync(Action<IServiceCollection> authorization)
    {
        await using var supervisor = await StubBackend.StartAsync(context => Task.CompletedTask);
        await using var broker = new BrokerFactory(
            new Dictionary<string, string?>
            {
                ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = supervisor.Address.ToString(),
            },
            services =>
            {
                authorization(services);
                services.AddSingleton<IAuthorizationMiddlewareResultHandler, ForbidWithoutAuthentication>();
            });
        using var client = new HttpClient { BaseAddress = broker.Start() };

        using var platform = await client.GetAsync("/api/v1/open");
        using var connect = await client.GetAsync("/connect");

        Assert.Equal(HttpStatusCode.Forbidden, platform.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, connect.StatusCode);
        Assert.Empty(supervisor.Requests);
    }

    /// <summary>A policy provider whose fallback policy denies everything, though no fallback policy is configured.</summary>
    private sealed class DenyByDefault(Microsoft.Extensions.Options.IOptions<AuthorizationOptions> options) : IAuthorizationPolicyProvider
    {
        private readonly DefaultAuthorizationPolicyProvider _named = new(options);

        public Task<AuthorizationPolicy?> GetPolicyAsync(string policyName) => _named.GetPolicyAsync(policyName);

        public Task<AuthorizationPolicy> GetDefaultPolicyAsync() => _named.GetDefaultPolicyAsync();

        public Task<AuthorizationPolicy?> GetFallbackPolicyAsync() =>
            Task.FromResult<AuthorizationPolicy?>(new AuthorizationPolicyBuilder().RequireAssertion(_ => false).Build());
    }

    /// <summary>Answers a failed authorization with 403 itself: the tests register no authentication scheme to forbid with.</summary>
    private sealed class ForbidWithoutAuthentication : IAuthorizationMiddlewareResultHandler
    {
        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
        {
            if (authorizeResult.Succeeded)
            {
                await next(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("denied by policy");
        }
    }

    /// <summary>Wraps the whole pipeline and records, per request, whether the authorization middleware ran.</summary>
    /// <remarks>
    /// Recorded as the response starts, before the client can have it: after the pipeline returned would be too late,
    /// since the client may already have its answer and the test read the record.
    /// </remarks>
    private sealed class RecordAuthorizationRuns(ConcurrentDictionary<string, bool> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Response.OnStarting(() =>
                {
                    seen[$"{context.Request.Method} {context.Request.Path}"] = context.Items.ContainsKey(AuthorizationRanKey);
                    return Task.CompletedTask;
                });
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
