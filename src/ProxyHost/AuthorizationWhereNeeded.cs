using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Firestarter.ProxyHost;

/// <summary>
/// Runs ASP.NET Core's authorization middleware only for requests whose endpoint has something to authorize.
/// </summary>
/// <remarks>
/// <para>
/// YARP registers authorization (routes may name an <c>AuthorizationPolicy</c>), so WebApplication adds the
/// authorization middleware in front of every request. For an endpoint without authorization metadata, and with no
/// fallback policy, that middleware decides nothing and calls the next one; but it still records in
/// <see cref="HttpContext.Items"/> that it ran, which creates the items dictionary, and awaits the rest of the request
/// in a state machine of its own, on every request of the broker's routes, which carry no authorization metadata.
/// </para>
/// <para>
/// This adds the middleware in a branch taken only by requests whose endpoint carries authorization metadata
/// (<see cref="IAuthorizeData"/>, <see cref="AuthorizationPolicy"/> or <see cref="IAuthorizationRequirementData"/>,
/// which a YARP route's <c>AuthorizationPolicy</c> adds), in the place WebApplication would have put it. Skipping it
/// elsewhere changes no decision, because the middleware would then use the fallback policy; so when one is set, or
/// the policy provider is not ASP.NET Core's default (a custom one may compute a fallback per request), the
/// middleware runs for every request as before.
/// </para>
/// </remarks>
internal static class AuthorizationWhereNeeded
{
    // UseAuthorization() sets this application property; WebApplication adds its own authorization middleware only
    // when it is absent, and offers no public switch. ASP.NET Core keeps the constant internal. Should its value ever
    // change, WebApplication would add the middleware for every request again: slower, never less safe.
    private const string AuthorizationMiddlewareSetKey = "__AuthorizationMiddlewareSet";

    /// <summary>
    /// Adds authorization for the requests that need it. Call it first after <c>Build()</c>, where WebApplication
    /// would otherwise add the middleware: after routing has chosen the endpoint and before anything else.
    /// </summary>
    public static WebApplication UseAuthorizationWhereNeeded(this WebApplication app)
    {
        if (app.Services.GetService<IAuthorizationPolicyProvider>() is not { } provider)
        {
            // Authorization is not registered: WebApplication adds nothing either.
            return app;
        }

        var fallback = app.Services.GetRequiredService<IOptions<AuthorizationOptions>>().Value.FallbackPolicy;
        if (fallback is not null || provider.GetType() != typeof(DefaultAuthorizationPolicyProvider))
        {
            app.UseAuthorization();
            return app;
        }

        app.UseWhen(HasAuthorizationMetadata, branch => branch.UseAuthorization());
        ((IApplicationBuilder)app).Properties[AuthorizationMiddlewareSetKey] = true;
        return app;
    }

    private static bool HasAuthorizationMetadata(HttpContext context) =>
        context.GetEndpoint()?.Metadata is { } metadata
        && (metadata.GetMetadata<IAuthorizeData>() is not null
            || metadata.GetMetadata<AuthorizationPolicy>() is not null
            || metadata.GetMetadata<IAuthorizationRequirementData>() is not null);
}
