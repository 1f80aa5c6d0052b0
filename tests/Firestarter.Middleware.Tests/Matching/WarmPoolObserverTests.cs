using Microsoft.AspNetCore.Http;
using Firestarter.Matching;

namespace Firestarter.Tests.Matching;

/// <summary>The pool tells its observer (the cluster's directory) when a key gains its first waiting poll or loses its last.</summary>
public class WarmPoolObserverTests
{
    private static readonly MatchKey KeyA = new("deployment_a", "1", 1, 2);
    private static readonly MatchKey KeyB = new("deployment_b", "1", 1, 2);

    private sealed class Recorder : IKeyAvailabilityObserver
    {
        public List<(MatchKey Key, bool Available)> Changes { get; } = [];

        public void KeyAvailabilityChanged(in MatchKey key, bool available) => Changes.Add((key, available));
    }

    private static ParkedPoll Park(WarmPool pool, MatchKey key, long parkedAt = 0)
    {
        var poll = new ParkedPoll(key, new DefaultHttpContext(), parkedAt);
        Assert.True(pool.TryPark(poll));
        return poll;
    }

    [Fact]
    public void Only_a_keys_first_poll_and_its_last_leaving_are_told()
    {
        var recorder = new Recorder();
        var pool = new WarmPool(SelectionOrder.NewestFirst, recorder);

        Park(pool, KeyA);
        Park(pool, KeyA);
        Park(pool, KeyB);
        Assert.Equal([(KeyA, true), (KeyB, true)], recorder.Changes);
        Assert.True(pool.HasWaiting(KeyA));

        pool.TryClaim(KeyA)!.Complete(PollOutcome.Matched);
        Assert.Equal(2, recorder.Changes.Count);
        pool.TryClaim(KeyA)!.Complete(PollOutcome.Matched);

        Assert.Equal((KeyA, false), recorder.Changes[^1]);
        Assert.False(pool.HasWaiting(KeyA));
        Assert.True(pool.HasWaiting(KeyB));
    }

    [Fact]
    public void Abandon_expiry_and_drain_tell_of_the_keys_they_empty()
    {
        var recorder = new Recorder();
        var pool = new WarmPool(SelectionOrder.NewestFirst, recorder);
        var abandoned = Park(pool, KeyA);
        Park(pool, KeyB, parkedAt: 10);

        Assert.True(pool.TryAbandon(abandoned, PollOutcome.Aborted));
        Assert.Equal((KeyA, false), recorder.Changes[^1]);
        Assert.Equal(1, pool.ExpireParkedBefore(10));
        Assert.Equal((KeyB, false), recorder.Changes[^1]);

        Park(pool, KeyA);
        pool.BeginDrain();
        Assert.Equal([(KeyA, true), (KeyB, true), (KeyA, false), (KeyB, false), (KeyA, true), (KeyA, false)], recorder.Changes);

        // A park refused while draining never announced its key, so nothing is told of it.
        Assert.False(pool.TryPark(new ParkedPoll(KeyB, new DefaultHttpContext(), 0)));
        Assert.Equal(6, recorder.Changes.Count);
    }
}
