using Microsoft.AspNetCore.Http;

namespace Firestarter.Protocol;

/// <summary>The headers a Trigger.dev run controller sends with <c>GET /warm-start</c>.</summary>
internal static class WarmStartHeaders
{
    /// <summary>The deployment's friendly id, or a deployment token whose <c>deployment</c> claim is that id.</summary>
    public const string DeploymentId = "x-trigger-deployment-id";

    public const string DeploymentVersion = "x-trigger-deployment-version";

    public const string MachineCpu = "x-trigger-machine-cpu";

    public const string MachineMemory = "x-trigger-machine-memory";

    /// <summary>
    /// Not matched: logged, and with confirmation on, compared with the controller an <c>attempts/start</c> names.
    /// </summary>
    public const string ControllerId = "x-trigger-workload-controller-id";

    /// <summary>Logged when the poll parks, not matched.</summary>
    public const string WorkerInstanceName = "x-trigger-worker-instance-name";

    /// <summary>The request's <see cref="ControllerId"/>; null when it is absent or empty (an empty id names nobody).</summary>
    public static string? ControllerIdOf(HttpRequest request)
    {
        string? id = request.Headers[ControllerId];
        return string.IsNullOrEmpty(id) ? null : id;
    }

    /// <summary>
    /// Removes from a poll's request the headers its match key was made from, and the worker's name, once they have
    /// been read; the controller id stays, for a dispatch under confirmation to read.
    /// </summary>
    public static void RemoveMatched(IHeaderDictionary headers)
    {
        headers.Remove(DeploymentId);
        headers.Remove(DeploymentVersion);
        headers.Remove(MachineCpu);
        headers.Remove(MachineMemory);
        headers.Remove(WorkerInstanceName);
    }
}
