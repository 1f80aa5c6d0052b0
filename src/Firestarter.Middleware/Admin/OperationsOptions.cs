namespace Firestarter.Admin;

/// <summary>
/// Where and to whom the admin endpoints answer: <c>/healthz</c>, <c>/readyz</c>, <c>/firestarter</c>,
/// <c>/firestarter/status</c> and (in the host) <c>/metrics</c>. Bound from <c>Firestarter:Operations</c>.
/// </summary>
public sealed class OperationsOptions
{
    /// <summary>
    /// The local port the admin endpoints answer on. The host must also listen there (add the URL to <c>Urls</c>,
    /// e.g. <c>"http://127.0.0.1:8080;http://127.0.0.1:9464"</c>). Requests for admin paths on any other port get
    /// 404, so they are not exposed on the public listener. Default: null, meaning the admin endpoints answer on
    /// every listener (the shipped configuration listens on http://127.0.0.1:8080 only).
    /// </summary>
    public int? Port { get; set; }

    /// <summary>
    /// A key that callers of the admin endpoints must send as <c>X-Api-Key</c> or <c>Authorization: Bearer …</c>;
    /// others get 401. Never shown in status or logs. The browser page asks for it when it gets 401. Liveness
    /// (<c>/healthz</c>) stays open so probes need no secret. Default: null (no key).
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The YARP cluster whose healthy destinations <c>/readyz</c> requires. Default: <c>supervisor</c>.</summary>
    public string SupervisorCluster { get; set; } = "supervisor";

    /// <summary>How many match keys and deployments the status lists, largest first. Default: 10.</summary>
    public int TopKeys { get; set; } = 10;
}
