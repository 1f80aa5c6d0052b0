namespace Firestarter.Matching;

/// <summary>
/// The polls waiting under one match key, oldest to newest, as an intrusive doubly linked list under one lock.
/// </summary>
/// <remarks>
/// A linked list gives O(1) park, O(1) claim from either end (newest-first or oldest-first) and O(1) removal of an
/// aborted poll from anywhere, without allocating a node per poll. A bucket that empties stays in the pool's map
/// until a sweep finds it unused and <em>retires</em> it (removed from the map and never used again), so the pool
/// does not grow with keys nobody waits on; a park that finds a retired bucket retries with a fresh one.
/// </remarks>
internal sealed class PollBucket
{
    public PollBucket(MatchKey key) => Key = key;

    public MatchKey Key { get; }

    public Lock Gate { get; } = new();

    /// <summary>Number of linked polls. Read without the lock only for diagnostics.</summary>
    public int Count { get; private set; }

    public bool IsRetired { get; set; }

    /// <summary>Whether a poll was linked here since the pool's last sweep (a bucket nothing parks in is retired).</summary>
    public bool ParkedSinceSweep { get; set; }

    public ParkedPoll? Oldest { get; private set; }

    public ParkedPoll? Newest { get; private set; }

    /// <summary>Dispatches waiting for the next park under this key (rare: null until one waits). Guarded by <see cref="Gate"/>.</summary>
    public List<RepollWaiter>? Waiters { get; set; }

    /// <summary>No linked poll and no waiting dispatch: the bucket may be retired. Caller holds <see cref="Gate"/>.</summary>
    public bool IsUnused => Count == 0 && Waiters is not { Count: > 0 };

    /// <summary>Links a poll as the newest. Caller holds <see cref="Gate"/>.</summary>
    public void Append(ParkedPoll poll)
    {
        poll.Bucket = this;
        poll.Older = Newest;
        poll.Newer = null;
        if (Newest is null)
        {
            Oldest = poll;
        }
        else
        {
            Newest.Newer = poll;
        }

        Newest = poll;
        poll.IsLinked = true;
        ParkedSinceSweep = true;
        Count++;
    }

    /// <summary>Unlinks a poll if it is still linked. Caller holds <see cref="Gate"/>. Returns false if it was not.</summary>
    public bool Remove(ParkedPoll poll)
    {
        if (!poll.IsLinked)
        {
            return false;
        }

        if (poll.Older is null)
        {
            Oldest = poll.Newer;
        }
        else
        {
            poll.Older.Newer = poll.Newer;
        }

        if (poll.Newer is null)
        {
            Newest = poll.Older;
        }
        else
        {
            poll.Newer.Older = poll.Older;
        }

        poll.Older = null;
        poll.Newer = null;
        poll.IsLinked = false;
        Count--;
        return true;
    }
}
