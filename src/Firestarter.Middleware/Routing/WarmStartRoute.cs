using Yarp.ReverseProxy.Configuration;

namespace Firestarter.Routing;

/// <summary>What a YARP route is to the broker, from its <c>"Metadata": {"Firestarter": "…"}</c>.</summary>
internal enum WarmStartRoute
{
    /// <summary>Not a warm-start route: YARP forwards it.</summary>
    None,

    /// <summary><c>GET /connect</c>: the controller's handshake.</summary>
    Connect,

    /// <summary><c>GET /warm-start</c>: a controller's long poll.</summary>
    Poll,

    /// <summary><c>POST /warm-start</c>: the supervisor's dispatch.</summary>
    Dispatch,

    /// <summary>
    /// A controller's <c>POST …/runs/{runFriendlyId}/snapshots/{snapshotFriendlyId}/attempts/start</c>: noted as the
    /// confirmation of a warm start, then forwarded to the workload API like any other request.
    /// </summary>
    Confirm,
}

/// <summary>Reads a route's warm-start role from its metadata.</summary>
internal static class WarmStartRouteMetadata
{
    /// <summary>The metadata key that marks a warm-start route.</summary>
    public const string Key = "Firestarter";

    // Validated when the configuration loaded (WarmStartRouteFilter), so an unknown value cannot get here.
    public static WarmStartRoute Of(RouteConfig route) => TryGetValue(route, out var value) ? Parse(value) : WarmStartRoute.None;

    /// <summary>The route's <see cref="Key"/> metadata value, when it has one.</summary>
    public static bool TryGetValue(RouteConfig route, out string? value)
    {
        value = null;
        return route.Metadata is not null && route.Metadata.TryGetValue(Key, out value);
    }

    /// <summary>The role a metadata value names, or <see cref="WarmStartRoute.None"/> for anything else.</summary>
    public static WarmStartRoute Parse(string? value) => value switch
    {
        _ when string.Equals(value, nameof(WarmStartRoute.Poll), StringComparison.OrdinalIgnoreCase) => WarmStartRoute.Poll,
        _ when string.Equals(value, nameof(WarmStartRoute.Dispatch), StringComparison.OrdinalIgnoreCase) => WarmStartRoute.Dispatch,
        _ when string.Equals(value, nameof(WarmStartRoute.Connect), StringComparison.OrdinalIgnoreCase) => WarmStartRoute.Connect,
        _ when string.Equals(value, nameof(WarmStartRoute.Confirm), StringComparison.OrdinalIgnoreCase) => WarmStartRoute.Confirm,
        _ => WarmStartRoute.None,
    };
}
