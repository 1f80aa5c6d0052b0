namespace Firestarter.Matching;

/// <summary>
/// How a poll ended; the poll handler answers its client accordingly, and counts it under
/// <c>firestarter.polls</c> by this name.
/// </summary>
internal enum PollOutcome
{
    /// <summary>A run was written to the poll's response and the connection was live when it was flushed.</summary>
    Matched,

    /// <summary>The client went away (or the write failed): there is nobody to answer.</summary>
    Aborted,

    /// <summary>The poll waited longer than the server-side limit: answer 204 so the client polls again.</summary>
    Expired,

    /// <summary>Refused with a problem before it parked (bad headers, token, limit, warm starts off); never in the pool.</summary>
    Rejected,

    /// <summary>The broker is shutting down: close the connection without a response so the client re-polls elsewhere.</summary>
    Drained,
}
