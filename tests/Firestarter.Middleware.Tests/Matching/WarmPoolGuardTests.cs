using Firestarter.Matching;
using Firestarter.Tests.TestSupport;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Tests.Matching;

/// <summary>The guard window (polls about to give up are passed over) and the wait for a key's next park.</summary>
public class WarmPoolGuardTests
{
    private static readonly MatchKey Key = new("deployment_a", "1", 1, 2);

    private static ParkedPoll Parked(WarmPool pool, long parkedAt)
    {
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), parkedAt);
        Assert.True(pool.TryPark(poll));
        return poll;
    }

    [Fact]
    public void A_poll_in_its_guard_window_is_passed_over_and_stays_parked()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var old = Parked(pool, parkedAt: 100);

        Assert.Null(pool.TryClaim(Key, guardFrom: 100, out var guarded));

        Assert.Equal(1, guarded);
        Assert.True(old.IsWaiting);
        Assert.Equal(1, pool.ParkedCount);
        Assert.Equal(1, pool.KeyCount);
        Assert.False(PollPeek.IsCompleted(old));
    }

    [Fact]
    public void Newest_first_claims_a_fresh_poll_whatever_older_ones_are_in_their_guard_window()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var old = Parked(pool, parkedAt: 100);
        var fresh = Parked(pool, parkedAt: 300);

        Assert.Same(fresh, pool.TryClaim(Key, guardFrom: 200, out var guarded));
        Assert.Equal(0, guarded);

        Assert.Null(pool.TryClaim(Key, guardFrom: 200, out guarded));
        Assert.Equal(1, guarded);
        Assert.True(old.IsWaiting);
    }

    [Fact]
    public void Oldest_first_passes_over_guarded_polls_to_the_oldest_fresh_one()
    {
        var pool = new WarmPool(SelectionOrder.OldestFirst);
        var guarded1 = Parked(pool, parkedAt: 100);
        var guarded2 = Parked(pool, parkedAt: 150);
        var fresh1 = Parked(pool, parkedAt: 300);
        Parked(pool, parkedAt: 400);

        Assert.Same(fresh1, pool.TryClaim(Key, guardFrom: 200, out var guarded));

        Assert.Equal(2, guarded);
        Assert.True(guarded1.IsWaiting);
        Assert.True(guarded2.IsWaiting);
        Assert.Equal(3, pool.ParkedCount);
    }

    [Fact]
    public void Without_a_guard_the_oldest_poll_is_claimed_as_before()
    {
        var pool = new WarmPool(SelectionOrder.OldestFirst);
        var old = Parked(pool, parkedAt: 100);

        Assert.Same(old, pool.TryClaim(Key));
    }

    [Fact]
    public void A_guarded_poll_can_still_be_abandoned_by_its_client()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var old = Parked(pool, parkedAt: 100);
        Assert.Null(pool.TryClaim(Key, guardFrom: 100, out _));

        Assert.True(pool.TryAbandon(old, PollOutcome.Aborted));

        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);
    }

    [Fact]
    public async Task A_waiting_dispatch_is_handed_the_next_park_which_never_joins_the_pool()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var old = Parked(pool, parkedAt: 100);
        var waiter = new RepollWaiter(Key);

        Assert.Null(pool.ClaimOrAwaitNextPark(waiter, guardFrom: 100, out var registered));
        Assert.True(registered);
        Assert.False(waiter.Poll.IsCompleted);

        var repoll = new ParkedPoll(Key, new DefaultHttpContext(), 500);
        Assert.True(pool.TryPark(repoll));

        Assert.Same(repoll, await waiter.Poll);
        Assert.False(repoll.IsWaiting); // claimed for the waiter: nobody else can take or abandon it
        Assert.False(pool.TryAbandon(repoll, PollOutcome.Aborted));
        Assert.Equal(1, pool.ParkedCount); // only the guarded poll
        Assert.True(old.IsWaiting);
        Assert.False(pool.TryCancelWait(waiter));

        // The next park is not served again: it waits in the pool as usual.
        var next = Parked(pool, parkedAt: 600);
        Assert.True(next.IsWaiting);
        Assert.Equal(2, pool.ParkedCount);
    }

    [Fact]
    public async Task A_key_whose_guarded_poll_left_and_whose_re_poll_was_served_leaves_the_map()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var old = Parked(pool, parkedAt: 100);
        var waiter = new RepollWaiter(Key);
        Assert.Null(pool.ClaimOrAwaitNextPark(waiter, guardFrom: 100, out _));
        Assert.True(pool.TryAbandon(old, PollOutcome.Aborted));

        var repoll = new ParkedPoll(Key, new DefaultHttpContext(), 500);
        Assert.True(pool.TryPark(repoll));

        Assert.Same(repoll, await waiter.Poll);
        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);
    }

    [Fact]
    public void A_fresh_poll_that_parked_before_the_wait_registered_is_claimed_at_once()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, parkedAt: 100);
        var fresh = Parked(pool, parkedAt: 500);
        var waiter = new RepollWaiter(Key);

        Assert.Same(fresh, pool.ClaimOrAwaitNextPark(waiter, guardFrom: 100, out var registered));
        Assert.False(registered);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_next_park_in_the_pool_and_the_key_is_retired_when_unused()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var old = Parked(pool, parkedAt: 100);
        var waiter = new RepollWaiter(Key);
        Assert.Null(pool.ClaimOrAwaitNextPark(waiter, guardFrom: 100, out _));

        // The guarded poll's client gives up; the bucket still holds the waiter.
        Assert.True(pool.TryAbandon(old, PollOutcome.Aborted));
        Assert.Equal(0, pool.KeyCount);
        Assert.Equal(1, pool.BucketCount);

        Assert.True(pool.TryCancelWait(waiter));
        Assert.Null(await waiter.Poll);
        Assert.Equal(0, pool.BucketCount);

        var repoll = Parked(pool, parkedAt: 500);
        Assert.True(repoll.IsWaiting);
        Assert.Equal(1, pool.ParkedCount);
    }

    [Fact]
    public async Task Waiters_are_served_once_each_in_arrival_order()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, parkedAt: 100);
        var first = new RepollWaiter(Key);
        var second = new RepollWaiter(Key);
        Assert.Null(pool.ClaimOrAwaitNextPark(first, guardFrom: 100, out _));
        Assert.Null(pool.ClaimOrAwaitNextPark(second, guardFrom: 100, out _));

        var a = new ParkedPoll(Key, new DefaultHttpContext(), 500);
        var b = new ParkedPoll(Key, new DefaultHttpContext(), 501);
        Assert.True(pool.TryPark(a));
        Assert.True(pool.TryPark(b));

        Assert.Same(a, await first.Poll);
        Assert.Same(b, await second.Poll);
        Assert.Equal(1, pool.ParkedCount);
    }

    [Fact]
    public async Task A_park_and_a_cancel_racing_give_the_poll_to_exactly_one_owner()
    {
        for (var i = 0; i < 500; i++)
        {
            var pool = new WarmPool(SelectionOrder.NewestFirst);
            Parked(pool, parkedAt: 100);
            var waiter = new RepollWaiter(Key);
            Assert.Null(pool.ClaimOrAwaitNextPark(waiter, guardFrom: 100, out _));
            var repoll = new ParkedPoll(Key, new DefaultHttpContext(), 500);

            using var start = new Barrier(2);
            var cancelled = false;
            var cancelling = Task.Run(() =>
            {
                start.SignalAndWait();
                cancelled = pool.TryCancelWait(waiter);
            });
            start.SignalAndWait();
            Assert.True(pool.TryPark(repoll));
            await cancelling;

            var served = await waiter.Poll;
            if (cancelled)
            {
                // The wait ended first: the poll waits in the pool, for any dispatch.
                Assert.Null(served);
                Assert.True(repoll.IsWaiting);
                Assert.Equal(2, pool.ParkedCount);
            }
            else
            {
                // The park served the waiter first: the dispatch owns the poll, which is not in the pool.
                Assert.Same(repoll, served);
                Assert.False(repoll.IsWaiting);
                Assert.Equal(1, pool.ParkedCount);
            }
        }
    }

    [Fact]
    public async Task Drain_ends_waits_and_no_wait_begins_after_it()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, parkedAt: 100);
        var waiter = new RepollWaiter(Key);
        Assert.Null(pool.ClaimOrAwaitNextPark(waiter, guardFrom: 100, out _));

        Assert.Equal(1, pool.BeginDrain());

        Assert.Null(await waiter.Poll);
        Assert.Equal(0, pool.KeyCount);
        Assert.Null(pool.ClaimOrAwaitNextPark(new RepollWaiter(Key), guardFrom: 100, out var registered));
        Assert.False(registered);
    }
}
