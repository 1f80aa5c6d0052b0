namespace Firestarter.Matching;

/// <summary>How a parked poll ended; the poll handler answers its client accordingly.</summary>
internal enum PollOutcome
{
    /// <summary>A run was written to the poll's response and the connection was live when it was flushed.</summary>
    Delivered,

    /// <summary>The client went away (or the write failed): there is nobody to answer.</summary>
    Gone,

    /// <summary>The poll waited longer than the server-side limit: answer 204 so the client polls again.</summary>
    Expired,

    /// <summary>The broker is shutting down: close the connection without a response so the client re-polls elsewhere.</summary>
    Drained,
}
