namespace Firestarter.Confirmation;

/// <summary>
/// Confirmation of warm starts through the proxy: a dispatch answers <c>didWarmStart:true</c> only once the
/// controller that took the run has started it. Bound from <c>Firestarter:Confirmation</c>.
/// </summary>
/// <remarks>
/// Needs the controllers to reach the platform's workload API through the broker (in Trigger.dev, the supervisor's
/// <c>TRIGGER_WORKLOAD_API_DOMAIN</c> and <c>TRIGGER_WORKLOAD_API_PORT_EXTERNAL</c> point at the broker), so that a
/// controller's <c>POST …/runs/{run}/snapshots/{snapshot}/attempts/start</c> passes a route marked
/// <c>"Firestarter": "Confirm"</c>.
/// </remarks>
public sealed class ConfirmationOptions
{
    /// <summary>
    /// Whether a delivered run waits for its controller's <c>attempts/start</c> before the dispatch answers.
    /// Default: <see langword="false"/>.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How long a dispatch waits, after the run was written, for its controller to start it; past it the dispatch
    /// takes the cold-start path. Default: 5 seconds.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
