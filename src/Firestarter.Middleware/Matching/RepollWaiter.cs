namespace Firestarter.Matching;

/// <summary>
/// A dispatch waiting, briefly, for the next poll to park under a key whose waiting polls were all in their guard
/// window: the controller behind such a poll gives up at its deadline and polls again at once, and the run goes to
/// that fresh poll rather than to a cold start.
/// </summary>
/// <remarks>
/// One atomic state decides between the park that hands it a poll and the dispatch giving up (its bound, or a
/// drain): the poll is claimed for the waiter only when the park wins, so it is owned by exactly one dispatch.
/// </remarks>
internal sealed class RepollWaiter
{
    private const int Waiting = 0;
    private const int Served = 1;
    private const int Cancelled = 2;

    private readonly TaskCompletionSource<ParkedPoll?> _poll = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public RepollWaiter(MatchKey key) => Key = key;

    public MatchKey Key { get; }

    /// <summary>The poll handed over (claimed, owned by the waiter's dispatch), or null once the wait was cancelled.</summary>
    public Task<ParkedPoll?> Poll => _poll.Task;

    /// <summary>
    /// Claims a freshly parked poll, which nobody else knows yet, for the waiter and hands it over; false, leaving
    /// the poll waiting, if the wait has ended.
    /// </summary>
    internal bool TryServe(ParkedPoll poll)
    {
        if (Interlocked.CompareExchange(ref _state, Served, Waiting) != Waiting)
        {
            return false;
        }

        var claimed = poll.TryClaim();
        System.Diagnostics.Debug.Assert(claimed, "an unpublished poll is always waiting");
        _poll.SetResult(poll);
        return true;
    }

    /// <summary>Ends the wait without a poll; false if a poll was handed over first.</summary>
    internal bool TryCancel()
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) != Waiting)
        {
            return false;
        }

        _poll.SetResult(null);
        return true;
    }
}
