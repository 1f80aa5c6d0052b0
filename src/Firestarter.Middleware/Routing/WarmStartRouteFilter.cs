using Yarp.ReverseProxy.Configuration;

namespace Firestarter.Routing;

/// <summary>
/// Checks and prepares warm-start routes as YARP loads its configuration.
/// </summary>
/// <remarks>
/// An unknown <c>Firestarter</c> metadata value is refused, so a typo stops the host at start (or is rejected, and
/// the previous configuration kept, on reload) instead of silently forwarding controllers to the platform.
/// Poll routes get the <c>Disable</c> timeout policy unless one is set: a default request timeout must never cut a
/// long poll.
/// </remarks>
internal sealed class WarmStartRouteFilter : IProxyConfigFilter
{
    /// <summary>YARP's reserved policy name that switches request timeouts off for a route.</summary>
    private const string DisableTimeoutPolicy = "Disable";

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => new(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        if (!WarmStartRouteMetadata.TryGetValue(route, out var value))
        {
            return new(route);
        }

        var kind = WarmStartRouteMetadata.Parse(value);
        if (kind == WarmStartRoute.None)
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}': ReverseProxy:Routes:{route.RouteId}:Metadata:{WarmStartRouteMetadata.Key} is '{value}'; expected Connect, Poll, Dispatch or Confirm.");
        }

        if (kind == WarmStartRoute.Confirm && !NamesAttempt(route.Match.Path))
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}': a Confirm route's ReverseProxy:Routes:{route.RouteId}:Match:Path must capture " +
                $"{{{Confirmation.ConfirmationHandler.RunParameter}}} and {{{Confirmation.ConfirmationHandler.SnapshotParameter}}}.");
        }

        if (kind == WarmStartRoute.Poll && route.Timeout is null && string.IsNullOrEmpty(route.TimeoutPolicy))
        {
            route = route with { TimeoutPolicy = DisableTimeoutPolicy };
        }

        return new(route);
    }

    private static bool NamesAttempt(string? path) =>
        path is not null
        && path.Contains($"{{{Confirmation.ConfirmationHandler.RunParameter}}}", StringComparison.Ordinal)
        && path.Contains($"{{{Confirmation.ConfirmationHandler.SnapshotParameter}}}", StringComparison.Ordinal);
}
