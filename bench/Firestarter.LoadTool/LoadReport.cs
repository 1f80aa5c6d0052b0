namespace Firestarter.LoadTool;

/// <summary>Dispatch latency, request start to the answer's last byte, in milliseconds.</summary>
public sealed class LatencySummary
{
    public long Samples { get; init; }

    public double P50 { get; init; }

    public double P95 { get; init; }

    public double P99 { get; init; }

    public double Max { get; init; }

    public double Mean { get; init; }
}

/// <summary>The outcome of one <see cref="LoadRunner.RunAsync(LoadOptions, CancellationToken)"/>.</summary>
public sealed class LoadReport
{
    // ---- What ran ----
    public LoadRole Role { get; init; }

    public IReadOnlyList<string> ControllerTargets { get; init; } = [];

    public IReadOnlyList<string> DispatcherTargets { get; init; } = [];

    public int Controllers { get; init; }

    public int Dispatchers { get; init; }

    public int Keys { get; init; }

    public double AbortRate { get; init; }

    public string RunIdPrefix { get; init; } = "";

    public double WarmupSeconds { get; init; }

    /// <summary>Length of the measured window: from the end of the warm-up until the last dispatcher finished.</summary>
    public double MeasuredSeconds { get; init; }

    /// <summary>The run was cut short by cancellation (Ctrl+C, SIGTERM, or the caller's token).</summary>
    public bool Cancelled { get; init; }

    // ---- Dispatchers, measured window only ----

    /// <summary>Answered dispatches (hits + misses) started in the measured window.</summary>
    public long Dispatches { get; init; }

    public double DispatchesPerSecond { get; init; }

    public long Hits { get; init; }

    public long Misses { get; init; }

    /// <summary>Hits / (hits + misses), 0..1.</summary>
    public double HitRate { get; init; }

    public LatencySummary DispatchLatencyMs { get; init; } = new();

    /// <summary>Measured hits that another instance of a Firestarter cluster served (its answer named it).</summary>
    public long HandedOnHits { get; init; }

    /// <summary>Latency of the measured hits served by the instance dispatched to.</summary>
    public LatencySummary LocalHitLatencyMs { get; init; } = new();

    /// <summary>Latency of the measured hits handed on to another instance of a cluster.</summary>
    public LatencySummary HandedOnHitLatencyMs { get; init; } = new();

    // ---- Dispatchers, whole run (warm-up included) ----
    public long TotalDispatches { get; init; }

    public long TotalHits { get; init; }

    public long TotalMisses { get; init; }

    /// <summary>Non-2xx answers to dispatches.</summary>
    public long DispatchHttpErrors { get; init; }

    /// <summary>Dispatches that failed on the wire (connection refused or reset, ...).</summary>
    public long DispatchTransportErrors { get; init; }

    /// <summary>Dispatches with no answer within DispatchTimeout.</summary>
    public long DispatchTimeouts { get; init; }

    /// <summary>200 answers without a boolean <c>didWarmStart</c>.</summary>
    public long DispatchBadAnswers { get; init; }

    public string? FirstDispatchError { get; init; }

    // ---- Controllers, whole run ----

    /// <summary>Controllers that got their first poll on the wire before dispatching began.</summary>
    public int ControllersReady { get; init; }

    public long Polls { get; init; }

    /// <summary>Polls answered 200 with a run.</summary>
    public long PollsDelivered { get; init; }

    /// <summary>Polls answered 204 (held too long; polled again).</summary>
    public long PollsNoContent { get; init; }

    /// <summary>Polls the controller abandoned on purpose (AbortRate), closing the connection.</summary>
    public long PollsAborted { get; init; }

    /// <summary>
    /// Aborted polls whose connection had answer bytes waiting when the controller closed it: the broker handed a run to
    /// the poll just before the controller left, a race no broker can win. Each may account for one lost run.
    /// </summary>
    public long PollsAbortedWithResponsePending { get; init; }

    /// <summary>Polls that reached PollTimeout on the client and were abandoned.</summary>
    public long PollsTimedOut { get; init; }

    /// <summary>Polls cut at the end of the run with answer bytes waiting (should be 0: the drain waits for them).</summary>
    public long PollsStoppedWithResponsePending { get; init; }

    /// <summary>Non-2xx answers other than 204 to polls.</summary>
    public long ControllerHttpErrors { get; init; }

    public long ControllerTransportErrors { get; init; }

    /// <summary>200 answers to polls without a readable run id.</summary>
    public long ControllerBadBodies { get; init; }

    public string? FirstControllerError { get; init; }

    public long ControllerConnectionsOpened { get; init; }

    public long DispatcherConnectionsOpened { get; init; }

    // ---- Exactness ----

    /// <summary>True when this process ran both sides and could match dispatches to receptions (role all).</summary>
    public bool ExactnessChecked { get; init; }

    /// <summary>Runs answered true that no controller received.</summary>
    public long Lost { get; init; }

    /// <summary>Runs received by more than one poll (counted once per run).</summary>
    public long Duplicated { get; init; }

    /// <summary>Runs answered false that a controller received anyway.</summary>
    public long FalseDelivered { get; init; }

    /// <summary>Runs delivered to a controller of another match key (checked on every reception, in every role).</summary>
    public long Misrouted { get; init; }

    /// <summary>Received runs with this process's prefix that it never dispatched.</summary>
    public long UnknownReceived { get; init; }

    /// <summary>Received runs whose dispatch ended in an error (delivery unknown; not a failure).</summary>
    public long ReceivedAfterDispatchError { get; init; }

    /// <summary>Received runs dispatched by another process (see the merge command).</summary>
    public long ForeignReceived { get; init; }

    /// <summary>No lost, duplicated, false-delivered, misrouted or unknown run.</summary>
    public bool ExactnessPassed { get; init; }

    /// <summary>
    /// Lost runs beyond what the client-side abort race can account for (<see cref="Lost"/> minus
    /// <see cref="PollsAbortedWithResponsePending"/>, at least 0): runs the broker handed to polls whose controller had
    /// already left.
    /// </summary>
    public long UnexplainedLost { get; init; }

    /// <summary>As <see cref="ExactnessPassed"/>, but judging <see cref="UnexplainedLost"/> instead of <see cref="Lost"/>.</summary>
    public bool ExactnessPassedAllowingAbortRace { get; init; }

    // ---- Client ----

    /// <summary>CPU time this process used during the measured window.</summary>
    public double ClientCpuSeconds { get; init; }

    /// <summary>That CPU time as a percentage of one core (100 = one core fully busy).</summary>
    public double ClientCpuPercent { get; init; }
}
