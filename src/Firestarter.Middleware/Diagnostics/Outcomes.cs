using Firestarter.Matching;

namespace Firestarter.Diagnostics;

/// <summary>How a dispatch was answered; the <c>outcome</c> of <c>firestarter.dispatches</c> and the status windows.</summary>
internal enum DispatchOutcome
{
    /// <summary>A waiting controller took the run: <c>{"didWarmStart":true}</c>.</summary>
    Warm,

    /// <summary>No controller took it: <c>{"didWarmStart":false}</c> (Respond mode, warm starts off, or draining).</summary>
    Cold,

    /// <summary>Refused with a problem before any controller was tried (bad body, no API key).</summary>
    Rejected,

    /// <summary>Forwarded to the cold-start cluster, whose 2xx answer was relayed.</summary>
    Forwarded,

    /// <summary>The forward failed or the supervisor left: <c>{"didWarmStart":false}</c>.</summary>
    ForwardFailed,

    /// <summary>
    /// With confirmation on: a controller took the run but did not start it in time, so the run took the cold-start
    /// path (<c>{"didWarmStart":false}</c>, or forwarded).
    /// </summary>
    Unconfirmed,
}

/// <summary>How a dispatch's wait for a re-poll ended; the <c>outcome</c> of <c>firestarter.dispatches.repoll_waits</c>.</summary>
internal enum RepollOutcome
{
    /// <summary>A fresh poll parked under the key and took the run.</summary>
    Served,

    /// <summary>None parked within the bound (or the broker drained): the run took the cold-start path.</summary>
    TimedOut,
}

/// <summary>What a controller's <c>attempts/start</c> did; the <c>outcome</c> of <c>firestarter.confirmations</c>.</summary>
internal enum ConfirmationOutcome
{
    /// <summary>A dispatch of this broker was waiting for exactly this run and snapshot: it answers <c>true</c>.</summary>
    Released,

    /// <summary>The dispatch waiting for it had already been confirmed or had timed out: nothing changes.</summary>
    AlreadyAnswered,

    /// <summary>It names a different controller than the one the run was written to: refused, nothing changes.</summary>
    ControllerMismatch,

    /// <summary>No dispatch of this broker waits for this run and snapshot.</summary>
    Unknown,
}

/// <summary>How writing a run into a claimed poll went; the <c>outcome</c> of <c>firestarter.handoffs</c>.</summary>
internal enum HandoffOutcome
{
    /// <summary>The run was written to a connection that was live: the dispatch may answer <c>true</c>.</summary>
    Delivered,

    /// <summary>
    /// The run was written, but the client left in the same instant (the server saw it abort, or its end closed).
    /// It may or may not have the run; offering it again could run it twice, so it counts as delivered.
    /// </summary>
    DeliveredAsClientLeft,

    /// <summary>The controller had already left when the poll was claimed; nothing was written.</summary>
    GoneBeforeWrite,

    /// <summary>The client's kernel reset the connection without acknowledging the run: it never got it.</summary>
    Refused,
}

/// <summary>
/// The metric tag of each outcome, spelled once: each array is indexed by its enum (<see cref="PollOutcome"/>,
/// <see cref="DispatchOutcome"/>, <see cref="HandoffOutcome"/>, <see cref="RepollOutcome"/>,
/// <see cref="ConfirmationOutcome"/>), and each tag is its member's name in snake case.
/// </summary>
internal static class OutcomeTags
{
    public static readonly string[] Poll = ["matched", "aborted", "expired", "rejected", "drained"];

    public static readonly string[] Dispatch = ["warm", "cold", "rejected", "forwarded", "forward_failed", "unconfirmed"];

    public static readonly string[] Handoff = ["delivered", "delivered_as_client_left", "gone_before_write", "refused"];

    public static readonly string[] Repoll = ["served", "timed_out"];

    public static readonly string[] Confirmation = ["released", "already_answered", "controller_mismatch", "unknown"];

    public static string Of(PollOutcome outcome) => Poll[(int)outcome];

    public static string Of(DispatchOutcome outcome) => Dispatch[(int)outcome];

    public static string Of(HandoffOutcome outcome) => Handoff[(int)outcome];

    public static string Of(RepollOutcome outcome) => Repoll[(int)outcome];

    public static string Of(ConfirmationOutcome outcome) => Confirmation[(int)outcome];
}
