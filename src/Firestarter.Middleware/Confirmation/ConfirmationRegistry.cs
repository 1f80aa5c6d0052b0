using System.Collections.Concurrent;
using Firestarter.Diagnostics;

namespace Firestarter.Confirmation;

/// <summary>
/// The dispatches waiting for their run's <c>attempts/start</c>, by exact run and snapshot: where a dispatch
/// registers before it hands the run out, and where a confirmation, seen on the proxy or relayed from another
/// instance, releases it.
/// </summary>
/// <remarks>
/// A confirmation only ever releases the dispatch registered for its exact pair, so one for another run or
/// snapshot (forged, stale, or meant for another instance) changes nothing here. Confirmations that no local
/// dispatch waits for are raised through <see cref="Unmatched"/>, the seam for a relay to other instances.
/// </remarks>
internal sealed class ConfirmationRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<RunAttempt, PendingConfirmation> _pending = new();

    /// <summary>
    /// Raised, on the confirming request's thread, for a confirmation seen on this instance's proxy that no local
    /// dispatch waits for (<see cref="ConfirmationOutcome.Unknown"/>). A cluster relay forwards it to the other
    /// instances, which call <see cref="TryConfirm"/>. Handlers must be quick and must not throw.
    /// </summary>
    public event Action<RunAttempt>? Unmatched;

    /// <summary>Dispatches waiting right now.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>
    /// Registers a dispatch's wait for <paramref name="attempt"/>. Null when another dispatch already waits for the
    /// same pair: only one of them can be confirmed, so the second must not hand the run out.
    /// </summary>
    public PendingConfirmation? TryRegister(RunAttempt attempt)
    {
        var pending = new PendingConfirmation(attempt);
        return _pending.TryAdd(attempt, pending) ? pending : null;
    }

    /// <summary>Removes a registration; always called by its dispatch once it answers.</summary>
    public void Remove(PendingConfirmation pending) =>
        _pending.TryRemove(new KeyValuePair<RunAttempt, PendingConfirmation>(pending.Attempt, pending));

    /// <summary>
    /// Confirms <paramref name="attempt"/> for a dispatch of this instance. True when a local dispatch was waiting
    /// for exactly this pair and this confirmation released it. This is what a cluster relay calls.
    /// </summary>
    public bool TryConfirm(RunAttempt attempt, string? controllerId = null) =>
        Confirm(attempt, controllerId) == ConfirmationOutcome.Released;

    /// <summary>
    /// Notes a confirmation seen on this instance's proxy: releases the local dispatch, or raises
    /// <see cref="Unmatched"/> when none waits for it.
    /// </summary>
    public ConfirmationOutcome Note(RunAttempt attempt, string? controllerId)
    {
        var result = Confirm(attempt, controllerId);
        if (result == ConfirmationOutcome.Unknown)
        {
            Unmatched?.Invoke(attempt);
        }

        return result;
    }

    private ConfirmationOutcome Confirm(RunAttempt attempt, string? controllerId)
    {
        if (!_pending.TryGetValue(attempt, out var pending))
        {
            return ConfirmationOutcome.Unknown;
        }

        // Only when both sides name a controller: Trigger.dev's workload client does not send the poll's header.
        if (controllerId is not null && pending.ControllerId is { } handedTo && !string.Equals(controllerId, handedTo, StringComparison.Ordinal))
        {
            return ConfirmationOutcome.ControllerMismatch;
        }

        return pending.TryConfirm(time.GetTimestamp()) ? ConfirmationOutcome.Released : ConfirmationOutcome.AlreadyAnswered;
    }
}
