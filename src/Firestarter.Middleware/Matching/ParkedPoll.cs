using System.Threading.Tasks.Sources;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Matching;

/// <summary>
/// One controller's held <c>GET /warm-start</c>: the unit that a dispatch claims and writes a run into.
/// </summary>
/// <remarks>
/// <para>
/// The poll has one atomic state. It starts <em>waiting</em>; exactly one party moves it on: a dispatch that claims
/// it (and then owns the response), or an abort, expiry or drain that abandons it. Whoever wins the transition
/// completes the wait of the poll handler with the outcome; the loser walks away. This is what makes a run go to
/// at most one controller and a controller receive at most one run.
/// </para>
/// <para>
/// The poll is its own awaitable (<see cref="IValueTaskSource{TResult}"/>) and its own node in its bucket's list,
/// so parking a controller allocates this one object and nothing else.
/// </para>
/// </remarks>
internal sealed class ParkedPoll : IValueTaskSource<PollOutcome>
{
    private const int Waiting = 0;
    private const int Claimed = 1;
    private const int Abandoned = 2;

    private int _state;

    private ManualResetValueTaskSourceCore<PollOutcome> _completion;

    public ParkedPoll(MatchKey key, HttpContext context, long parkedAt)
    {
        Key = key;
        Context = context;
        ParkedAt = parkedAt;
    }

    /// <summary>
    /// The poll's match key; once parked, its bucket's own key (equal, with the bucket's strings), so that a parked
    /// poll keeps none of its request's header strings alive.
    /// </summary>
    public MatchKey Key { get; private set; }

    /// <summary>The held request.</summary>
    public HttpContext Context { get; }

    /// <summary>When the poll was parked, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long ParkedAt { get; }

    /// <summary>Shares the bucket's key, equal to the poll's own (called by the pool under the bucket's lock).</summary>
    internal void ShareKey(PollBucket bucket) => Key = bucket.Key;

    /// <summary>True until a dispatch claims the poll or it is abandoned.</summary>
    public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    // Intrusive links of the bucket's list; read and written only under the bucket's lock.
    internal PollBucket? Bucket { get; set; }

    internal ParkedPoll? Older { get; set; }

    internal ParkedPoll? Newer { get; set; }

    internal bool IsLinked { get; set; }

    /// <summary>Moves the poll from waiting to claimed. Only one caller ever succeeds, and only while it waits.</summary>
    internal bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Waiting) == Waiting;

    /// <summary>Moves the poll from waiting to abandoned (abort, expiry, drain). Fails if a dispatch claimed it first.</summary>
    internal bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting;

    /// <summary>Ends the handler's wait. Called exactly once, by whoever won the poll's transition.</summary>
    /// <remarks>
    /// A delivered poll's handler resumes inline, on the dispatch's own thread: by then its response is written
    /// and what is left (metrics, ending the request) is short, and resuming it there saves a thread-pool hop and a
    /// context switch on every warm start. Every other outcome resumes on the thread pool, so that the abort
    /// callback, the sweeper and the drain, which may end many polls in a row, never run handlers on their stack.
    /// </remarks>
    internal void Complete(PollOutcome outcome)
    {
        _completion.RunContinuationsAsynchronously = outcome != PollOutcome.Matched;
        _completion.SetResult(outcome);
    }

    /// <summary>Waits until the poll is delivered to, abandoned or drained.</summary>
    public ValueTask<PollOutcome> WaitAsync() => new(this, _completion.Version);

    PollOutcome IValueTaskSource<PollOutcome>.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<PollOutcome>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<PollOutcome>.OnCompleted(
        Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
