namespace Firestarter.Confirmation;

/// <summary>
/// A dispatch's wait for the <c>attempts/start</c> of the run it handed out: answered once, by whichever comes
/// first of the confirmation and the timeout.
/// </summary>
/// <remarks>
/// One atomic state decides the race between a confirmation and the timeout firing in the same instant: the loser
/// changes nothing. A confirmation may arrive before the dispatch has finished its handoff (the controller can read
/// the run and call back faster than the write returns); it is kept, and the wait then ends at once.
/// </remarks>
internal sealed class PendingConfirmation
{
    private const int Waiting = 0;
    private const int Confirmed = 1;
    private const int TimedOut = 2;

    private readonly TaskCompletionSource<bool> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private string? _controllerId;

    public PendingConfirmation(RunAttempt attempt) => Attempt = attempt;

    public RunAttempt Attempt { get; }

    /// <summary>When the confirmation arrived (a <see cref="TimeProvider"/> timestamp); meaningful once confirmed.</summary>
    public long ConfirmedAt { get; private set; }

    /// <summary>True once the attempt was confirmed (and not timed out first).</summary>
    public bool IsConfirmed => Volatile.Read(ref _state) == Confirmed;

    /// <summary>True once confirmed or timed out.</summary>
    public bool IsAnswered => Volatile.Read(ref _state) != Waiting;

    /// <summary>The controller id of the poll the run was written to, when it sent one.</summary>
    public string? ControllerId => Volatile.Read(ref _controllerId);

    /// <summary>Records which controller took the run, so that a confirmation naming another one is refused.</summary>
    public void HandedTo(string? controllerId) => Volatile.Write(ref _controllerId, controllerId);

    /// <summary>Confirms the attempt; false if it was already confirmed or timed out.</summary>
    public bool TryConfirm(long at)
    {
        if (Interlocked.CompareExchange(ref _state, Confirmed, Waiting) != Waiting)
        {
            return false;
        }

        ConfirmedAt = at;
        _answer.SetResult(true);
        return true;
    }

    /// <summary>Ends the wait unconfirmed; false if a confirmation came first.</summary>
    public bool TryTimeOut()
    {
        if (Interlocked.CompareExchange(ref _state, TimedOut, Waiting) != Waiting)
        {
            return false;
        }

        _answer.SetResult(false);
        return true;
    }

    /// <summary>Waits up to <paramref name="timeout"/> on <paramref name="time"/>; true when confirmed in time.</summary>
    public async ValueTask<bool> WaitAsync(TimeSpan timeout, TimeProvider time)
    {
        if (IsAnswered)
        {
            return IsConfirmed;
        }

        using var timer = time.CreateTimer(static state => ((PendingConfirmation)state!).TryTimeOut(), this, timeout, Timeout.InfiniteTimeSpan);
        return await _answer.Task.ConfigureAwait(false);
    }
}
