using Firestarter.Confirmation;
using Firestarter.Dispatching;
using Firestarter.Polling;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.Routing;

/// <summary>
/// The YARP pipeline step that answers warm-start routes itself and lets every other route through to be forwarded.
/// </summary>
/// <remarks>
/// Which routes are warm-start routes is configuration, not code: a route whose metadata says
/// <c>"Firestarter": "Connect" | "Poll" | "Dispatch"</c> is handled here (and one marked <c>"Confirm"</c> is noted, then forwarded), so paths, hosts and methods can be moved in
/// appsettings.json. A dispatch on the cold-start path in Forward mode continues down YARP's pipeline.
/// <para>
/// Polls and dispatches are left out of ASP.NET Core's <c>http.server.request.duration</c>: a poll's duration is how
/// long it waited for a run (up to the connection timeout), which would swamp the histogram, and both have their own
/// instruments (<c>firestarter.poll.wait_time</c>, <c>firestarter.dispatch.duration</c>).
/// </para>
/// </remarks>
internal sealed class WarmStartMiddleware(
    RequestDelegate next,
    ConnectHandler connect,
    PollHandler poll,
    DispatchHandler dispatch,
    ConfirmationHandler confirm)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        return WarmStartRouteMetadata.Of(route) switch
        {
            WarmStartRoute.Poll => poll.HandleAsync(WithoutRequestDuration(context)),
            WarmStartRoute.Dispatch => dispatch.HandleAsync(WithoutRequestDuration(context), next),
            WarmStartRoute.Connect => connect.HandleAsync(context),
            WarmStartRoute.Confirm => confirm.HandleAsync(context, next),
            _ => next(context),
        };
    }

    private static HttpContext WithoutRequestDuration(HttpContext context)
    {
        if (context.Features.Get<IHttpMetricsTagsFeature>() is { } metrics)
        {
            metrics.MetricsDisabled = true;
        }

        return context;
    }
}
