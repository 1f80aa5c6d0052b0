using Firestarter.Matching;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Firestarter.Health;

/// <summary>
/// Readiness (<c>/readyz</c>): unready while the broker drains for shutdown, or while the supervisor cluster has no
/// destination that YARP's health checks consider usable (controllers polling through this instance could not
/// reach the platform).
/// </summary>
internal sealed class ReadinessCheck : IHealthCheck
{
    /// <summary>The tag that puts a check into <c>/readyz</c>; <c>/healthz</c> runs the checks tagged <c>live</c>.</summary>
    public const string ReadyTag = "ready";

    public const string LiveTag = "live";

    private readonly WarmPool _pool;
    private readonly IProxyStateLookup _proxyState;
    private readonly string _cluster;

    public ReadinessCheck(WarmPool pool, IProxyStateLookup proxyState, IOptions<FirestarterOptions> options)
    {
        _pool = pool;
        _proxyState = proxyState;
        _cluster = options.Value.Operations.SupervisorCluster;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_pool.IsDraining)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("Draining for shutdown."));
        }

        if (!_proxyState.TryGetCluster(_cluster, out var cluster))
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"No cluster '{_cluster}' is configured."));
        }

        // Healthy or not yet probed, by active and passive checks. Not AvailableDestinations: YARP's default
        // availability policy (HealthyOrPanic) hands out every destination when all are unhealthy, so it never
        // drops to zero.
        var usable = 0;
        foreach (var destination in cluster.Destinations.Values)
        {
            if (destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy)
            {
                usable++;
            }
        }

        return Task.FromResult(usable > 0
            ? HealthCheckResult.Healthy($"{usable} destination(s) of '{_cluster}' healthy.")
            : HealthCheckResult.Unhealthy($"No healthy destination in cluster '{_cluster}'."));
    }
}
