using System.Collections.Concurrent;

namespace Firestarter.Matching;

/// <summary>
/// The waiting controllers, by match key: where polls park and dispatches claim them.
/// </summary>
/// <remarks>
/// A concurrent map from key to a <see cref="PollBucket"/>; each bucket has its own lock, so dispatches and polls
/// for different keys never contend. A bucket that empties stays in the map for the next park under its key (with
/// few controllers per key it empties and refills on nearly every dispatch); the sweep retires the buckets nothing
/// has parked in since the sweep before, so the map does not grow with keys nobody waits on. The pool's invariants:
/// <list type="bullet">
/// <item>a poll is linked in its bucket exactly while it is waiting (or, for an instant, while its abandoner
/// has won the state transition but not yet taken the bucket's lock);</item>
/// <item>whoever moves a poll out of waiting completes it: the pool for abandon, expiry and drain,
/// the caller of <see cref="TryClaim(in MatchKey)"/> for a claim, or the waiting dispatch a park serves;</item>
/// <item>once <see cref="BeginDrain"/> has run, nothing parks again.</item>
/// </list>
/// </remarks>
internal sealed class WarmPool
{
    private readonly ConcurrentDictionary<MatchKey, PollBucket> _buckets = new();
    private readonly bool _newestFirst;
    private readonly IKeyAvailabilityObserver? _observer;
    private int _parked;
    private bool _draining;

    /// <param name="order">Which waiting poll a claim takes.</param>
    /// <param name="observer">Told when a key gains its first waiting poll or loses its last (the cluster's directory); none for a single instance.</param>
    public WarmPool(SelectionOrder order, IKeyAvailabilityObserver? observer = null)
    {
        _newestFirst = order == SelectionOrder.NewestFirst;
        _observer = observer;
    }

    /// <summary>Polls waiting right now.</summary>
    public int ParkedCount => Volatile.Read(ref _parked);

    /// <summary>Match keys with at least one waiting poll (diagnostics and tests; an instant's snapshot, counted key by key).</summary>
    public int KeyCount => CountByKey().Count();

    /// <summary>Buckets in the map, empty ones not yet retired by a sweep included (tests).</summary>
    internal int BucketCount => _buckets.Count;

    public bool IsDraining => Volatile.Read(ref _draining);

    /// <summary>Parks a waiting poll under its key. Returns false, without parking, once the pool drains.</summary>
    public bool TryPark(ParkedPoll poll)
    {
        if (EnterLiveBucket(poll.Key) is not { } bucket)
        {
            return false;
        }

        try
        {
            poll.ShareKey(bucket);
            // A dispatch waiting for this key's next park takes the poll at once (a null test when none waits).
            if (bucket.Waiters is { Count: > 0 } && TryServeWaiter(bucket, poll))
            {
                RetireIfEmpty(bucket);
                return true;
            }

            bucket.Append(poll);
            // Counted under the lock, so a claim that unlinks this poll at once never sees the count below zero.
            Interlocked.Increment(ref _parked);
            if (bucket.Count == 1)
            {
                _observer?.KeyAvailabilityChanged(poll.Key, available: true);
            }

            return true;
        }
        finally
        {
            bucket.Gate.Exit();
        }
    }

    /// <summary>
    /// Claims one waiting poll for <paramref name="key"/>, newest or oldest first as configured, and unlinks it.
    /// The caller now owns the poll and must <see cref="ParkedPoll.Complete"/> it.
    /// </summary>
    public ParkedPoll? TryClaim(in MatchKey key) => TryClaim(key, long.MinValue, out _);

    /// <summary>
    /// Claims one waiting poll for <paramref name="key"/> as <see cref="TryClaim(in MatchKey)"/> does, passing over
    /// polls parked at or before <paramref name="guardFrom"/> (a timestamp): their clients give up too soon to be
    /// handed a run. Those stay parked; <paramref name="guarded"/> says how many were passed over.
    /// </summary>
    public ParkedPoll? TryClaim(in MatchKey key, long guardFrom, out int guarded)
    {
        guarded = 0;
        while (_buckets.TryGetValue(key, out var bucket))
        {
            lock (bucket.Gate)
            {
                if (bucket.IsRetired)
                {
                    // Emptied and removed between our lookup and our lock; a park may already have made a
                    // fresh bucket for this key, so look again rather than report a miss.
                    continue;
                }

                return ClaimFrom(bucket, guardFrom, out guarded);
            }
        }

        return null;
    }

    /// <summary>
    /// For a dispatch whose key had only guarded polls: claims a poll that has parked since (as
    /// <see cref="TryClaim(in MatchKey, long, out int)"/>), or else registers <paramref name="waiter"/> to be handed
    /// the key's next park. Returns the poll claimed now, or null with the waiter registered; null with
    /// <paramref name="registered"/> false when the pool drains.
    /// </summary>
    public ParkedPoll? ClaimOrAwaitNextPark(RepollWaiter waiter, long guardFrom, out bool registered)
    {
        registered = false;
        if (EnterLiveBucket(waiter.Key) is not { } bucket)
        {
            return null;
        }

        try
        {
            if (ClaimFrom(bucket, guardFrom, out _) is { } poll)
            {
                return poll;
            }

            (bucket.Waiters ??= []).Add(waiter);
            registered = true;
            return null;
        }
        finally
        {
            bucket.Gate.Exit();
        }
    }

    /// <summary>
    /// The live bucket for <paramref name="key"/> (made if there is none) with its gate entered, for a caller that
    /// links a poll or a waiter in it and then exits the gate; null, with no gate held, once the pool drains.
    /// </summary>
    private PollBucket? EnterLiveBucket(in MatchKey key)
    {
        while (!Volatile.Read(ref _draining))
        {
            var bucket = _buckets.GetOrAdd(key, static k => new PollBucket(k));
            bucket.Gate.Enter();
            if (bucket.IsRetired)
            {
                // Emptied and removed from the map between our lookup and our lock: take a fresh one.
                bucket.Gate.Exit();
                continue;
            }

            // Checked again under the lock: BeginDrain sets the flag before it takes any bucket's lock, so whatever
            // the caller links here either is seen by the drain or sees the flag.
            if (Volatile.Read(ref _draining))
            {
                RetireIfEmpty(bucket);
                bucket.Gate.Exit();
                return null;
            }

            return bucket;
        }

        return null;
    }

    /// <summary>Ends a registered wait unserved; false if a park served it first (the caller then owns that poll).</summary>
    public bool TryCancelWait(RepollWaiter waiter)
    {
        if (!waiter.TryCancel())
        {
            return false;
        }

        if (_buckets.TryGetValue(waiter.Key, out var bucket))
        {
            lock (bucket.Gate)
            {
                // A park may have dropped it already, having found it given up.
                bucket.Waiters?.Remove(waiter);
                RetireIfEmpty(bucket);
            }
        }

        return true;
    }

    // Caller holds bucket.Gate and the bucket is live.
    private ParkedPoll? ClaimFrom(PollBucket bucket, long guardFrom, out int guarded)
    {
        guarded = 0;
        var poll = _newestFirst ? bucket.Newest : bucket.Oldest;
        while (poll is not null)
        {
            if (poll.ParkedAt <= guardFrom)
            {
                guarded++;
                if (_newestFirst)
                {
                    // Polls link in park order, so every older one is in its guard window too.
                    break;
                }

                poll = poll.Newer;
                continue;
            }

            var next = _newestFirst ? poll.Older : poll.Newer;
            Unlink(bucket, poll);
            if (poll.TryClaim())
            {
                return poll;
            }

            // Lost to an abort or expiry that has not reached the lock yet; it completes the poll itself.
            poll = next;
        }

        return null;
    }

    // Caller holds bucket.Gate; the poll is not linked and nobody else knows it yet.
    private static bool TryServeWaiter(PollBucket bucket, ParkedPoll poll)
    {
        var waiters = bucket.Waiters!;
        while (waiters.Count > 0)
        {
            var waiter = waiters[0];
            waiters.RemoveAt(0);
            // A waiter that gave up meanwhile leaves the poll waiting, to be parked.
            if (waiter.TryServe(poll))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Ends a waiting poll without a run (its client went away) and completes it with <paramref name="outcome"/>.
    /// Does nothing if a dispatch has claimed the poll or it has already ended.
    /// </summary>
    public bool TryAbandon(ParkedPoll poll, PollOutcome outcome)
    {
        if (!poll.TryAbandon())
        {
            return false;
        }

        if (poll.Bucket is { } bucket)
        {
            lock (bucket.Gate)
            {
                Unlink(bucket, poll);
            }
        }

        poll.Complete(outcome);
        return true;
    }

    /// <summary>
    /// Expires every waiting poll parked at or before <paramref name="parkedAtOrBefore"/> (a timestamp),
    /// completing each with <see cref="PollOutcome.Expired"/>. Returns how many expired.
    /// </summary>
    public int ExpireParkedBefore(long parkedAtOrBefore) => AbandonParkedBefore(parkedAtOrBefore, PollOutcome.Expired);

    /// <summary>
    /// Stops all parking and releases every waiting poll with <see cref="PollOutcome.Drained"/>.
    /// Claims already made are untouched: their dispatches finish. Returns how many polls were released.
    /// </summary>
    public int BeginDrain()
    {
        // A full fence: a park that takes a bucket's lock after this sees the flag; one that took it before
        // is found below, because its bucket was in the map before the flag was set.
        Interlocked.Exchange(ref _draining, true);
        return AbandonParkedBefore(long.MaxValue, PollOutcome.Drained);
    }

    // Abandons every waiting poll parked at or before the timestamp and completes it with the outcome.
    private int AbandonParkedBefore(long parkedAtOrBefore, PollOutcome outcome)
    {
        List<ParkedPoll>? abandoned = null;
        foreach (var (_, bucket) in _buckets)
        {
            lock (bucket.Gate)
            {
                // Oldest first; park order follows park time closely enough that stopping at the first young
                // poll only delays a rare straggler to the next sweep.
                while (bucket.Oldest is { } poll && poll.ParkedAt <= parkedAtOrBefore)
                {
                    Unlink(bucket, poll);
                    if (poll.TryAbandon())
                    {
                        (abandoned ??= []).Add(poll);
                    }
                }

                // Draining: dispatches waiting for a re-poll take the cold-start path, since nothing parks any more.
                if (bucket.Waiters is { Count: > 0 } waiters && Volatile.Read(ref _draining))
                {
                    foreach (var waiter in waiters)
                    {
                        waiter.TryCancel();
                    }

                    waiters.Clear();
                }

                // Emptied buckets are kept for the next park; one nothing has parked in since the last sweep goes,
                // and a drain takes every empty one, as nothing parks again.
                if (!bucket.ParkedSinceSweep || Volatile.Read(ref _draining))
                {
                    RetireIfEmpty(bucket);
                }

                bucket.ParkedSinceSweep = false;
            }
        }

        return CompleteAll(abandoned, outcome);
    }

    /// <summary>Whether a poll is waiting under <paramref name="key"/> at this instant (takes no lock).</summary>
    public bool HasWaiting(in MatchKey key) => _buckets.TryGetValue(key, out var bucket) && bucket.Count > 0;

    /// <summary>Waiting polls per key at this instant (for status and metrics; takes each bucket's count without its lock).</summary>
    public IEnumerable<KeyValuePair<MatchKey, int>> CountByKey()
    {
        foreach (var (key, bucket) in _buckets)
        {
            var count = bucket.Count;
            if (count > 0)
            {
                yield return new(key, count);
            }
        }
    }

    private void Unlink(PollBucket bucket, ParkedPoll poll)
    {
        if (bucket.Remove(poll))
        {
            Interlocked.Decrement(ref _parked);
            if (bucket.Count == 0)
            {
                _observer?.KeyAvailabilityChanged(bucket.Key, available: false);
            }
        }
    }

    private void RetireIfEmpty(PollBucket bucket)
    {
        if (bucket.IsUnused && !bucket.IsRetired)
        {
            bucket.IsRetired = true;
            _buckets.TryRemove(new KeyValuePair<MatchKey, PollBucket>(bucket.Key, bucket));
        }
    }

    private static int CompleteAll(List<ParkedPoll>? polls, PollOutcome outcome)
    {
        if (polls is null)
        {
            return 0;
        }

        // Completed outside the buckets' locks: completion queues the handlers' continuations.
        foreach (var poll in polls)
        {
            poll.Complete(outcome);
        }

        return polls.Count;
    }
}
