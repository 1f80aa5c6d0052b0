using System.Runtime.CompilerServices;
using Firestarter.Diagnostics;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Firestarter.Health;

/// <summary>
/// A YARP active health check policy, <c>Firestarter.Reachable</c>: a destination is healthy while it answers the
/// probe with anything below 500, and unhealthy after <see cref="FailureThreshold"/> probes in a row got no answer
/// (refused, reset, timed out) or a 5xx.
/// </summary>
/// <remarks>
/// YARP's own <c>ConsecutiveFailures</c> policy wants a 2xx, so it needs a health path the backend serves; the
/// platform's supervisor may not have one, and a 404 there would take it out of rotation. This policy asks only
/// whether the supervisor is reachable and working, which is what readiness and load balancing need. A destination
/// that becomes unhealthy, or healthy again, is logged in one line naming it and why.
/// </remarks>
internal sealed partial class ReachableHealthPolicy : IActiveHealthCheckPolicy
{
    public const string PolicyName = "Firestarter.Reachable";

    /// <summary>Failed probes in a row before a destination counts as unhealthy (one lost probe is not an outage).</summary>
    public const int FailureThreshold = 2;

    private readonly IDestinationHealthUpdater _updater;

    // Per destination, failed probes in a row; dropped with the destination when configuration removes it.
    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failures = new();

    private readonly ILogger _logger;

    public ReachableHealthPolicy(IDestinationHealthUpdater updater, ILogger<ReachableHealthPolicy> logger)
    {
        _updater = updater;
        _logger = logger;
    }

    public string Name => PolicyName;

    public void ProbingCompleted(ClusterState cluster, IReadOnlyList<DestinationProbingResult> probingResults)
    {
        if (probingResults.Count == 0)
        {
            return;
        }

        var states = new List<NewActiveDestinationHealth>(probingResults.Count);
        foreach (var result in probingResults)
        {
            var failures = _failures.GetOrCreateValue(result.Destination);
            var reachable = result.Response is { } response && (int)response.StatusCode < 500;
            var wasUnhealthy = failures.Value >= FailureThreshold;
            failures.Value = reachable ? 0 : failures.Value + 1;
            if (failures.Value == FailureThreshold)
            {
                Log.Unreachable(_logger, result.Destination.DestinationId, cluster.ClusterId, result.Destination.Model?.Config.Address, Describe(result));
            }
            else if (reachable && wasUnhealthy)
            {
                Log.Reachable(_logger, result.Destination.DestinationId, cluster.ClusterId);
            }

            var health = failures.Value >= FailureThreshold ? DestinationHealth.Unhealthy : DestinationHealth.Healthy;
            states.Add(new NewActiveDestinationHealth(result.Destination, health));
        }

        _updater.SetActive(cluster, states);
    }

    private static string Describe(DestinationProbingResult result) => result switch
    {
        { Response: { } response } => $"it answered {(int)response.StatusCode}",
        { Exception: { } exception } => exception.Message,
        _ => "no answer",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.DestinationUnreachable, Level = LogLevel.Warning,
            Message = "Destination {DestinationId} ({Address}) of cluster {ClusterId} failed its probes in a row and counts as unreachable: {Reason}.")]
        public static partial void Unreachable(ILogger logger, string destinationId, string clusterId, string? address, string reason);

        [LoggerMessage(EventId = EventIds.DestinationReachable, Level = LogLevel.Information,
            Message = "Destination {DestinationId} of cluster {ClusterId} answers its probes again.")]
        public static partial void Reachable(ILogger logger, string destinationId, string clusterId);
    }
}
