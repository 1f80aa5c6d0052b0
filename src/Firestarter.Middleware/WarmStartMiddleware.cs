using Firestarter.Dispatching;
using Firestarter.Polling;
using Firestarter.Protocol;
using Firestarter.Routing;
using Microsoft.AspNetCore.Http;

namespace Firestarter;

/// <summary>
/// The YARP pipeline step that answers warm-start routes itself and lets every other route through to be forwarded.
/// </summary>
/// <remarks>
/// Which routes are warm-start routes is configuration, not code: a route whose metadata says
/// <c>"Firestarter": "Connect" | "Poll" | "Dispatch"</c> is handled here, so paths, hosts and methods can be moved in
/// appsettings.json. A dispatch on the cold-start path in Forward mode continues down YARP's pipeline.
/// </remarks>
internal sealed class WarmStartMiddleware(
    RequestDelegate next,
    ConnectHandler connect,
    PollHandler poll,
    DispatchHandler dispatch)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        return WarmStartRouteMetadata.Of(route) switch
        {
            WarmStartRoute.Poll => poll.HandleAsync(context),
            WarmStartRoute.Dispatch => dispatch.HandleAsync(context, next),
            WarmStartRoute.Connect => connect.HandleAsync(context),
            _ => next(context),
        };
    }
}
