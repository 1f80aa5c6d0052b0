using Microsoft.AspNetCore.Http;
using System.Collections.Concurrent;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Matching;

public class WarmPoolTests
{
    private static readonly MatchKey KeyA = new("deployment_a", "1", 1, 2);
    private static readonly MatchKey KeyB = new("deployment_b", "1", 1, 2);
    private static readonly MatchKey KeyC = new("deployment_a", "1", 2, 4);

    private static ParkedPoll Parked(WarmPool pool, MatchKey key, long parkedAt = 0)
    {
        var poll = new ParkedPoll(key, new DefaultHttpContext(), parkedAt);
        Assert.True(pool.TryPark(poll));
        return poll;
    }

    private static async Task<PollOutcome> OutcomeOf(ParkedPoll poll)
    {
        Assert.True(PollPeek.IsCompleted(poll), "the poll should have been completed");
        return await poll.WaitAsync();
    }

    [Fact]
    public async Task A_parked_poll_is_claimed_by_its_key_and_leaves_the_pool()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, KeyA);
        Assert.Equal(1, pool.ParkedCount);
        Assert.Equal(1, pool.KeyCount);

        var claimed = pool.TryClaim(KeyA);

        Assert.Same(poll, claimed);
        Assert.False(poll.IsWaiting);
        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);
        Assert.Null(pool.TryClaim(KeyA));

        // The claimer owns the poll and completes it.
        Assert.False(PollPeek.IsCompleted(poll));
        claimed!.Complete(PollOutcome.Matched);
        Assert.Equal(PollOutcome.Matched, await OutcomeOf(poll));
    }

    [Fact]
    public void A_poll_parked_under_a_key_that_has_a_bucket_takes_the_buckets_strings_instead_of_its_own()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var first = Parked(pool, KeyA);
        // Equal by value, but strings of its own, as each request's headers are.
        var own = new MatchKey(new string("deployment_a".AsSpan()), new string("1".AsSpan()), 1, 2);

        var second = Parked(pool, own);

        Assert.Equal(own, second.Key);
        Assert.Same(first.Key.Deployment, second.Key.Deployment);
        Assert.Same(first.Key.Version, second.Key.Version);
        Assert.NotSame(own.Deployment, second.Key.Deployment);
    }

    [Fact]
    public void A_key_equal_by_value_claims_the_poll()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, new MatchKey("d", "v", 0.25, 1));
        Assert.True(MatchKey.TryParseMachineSize("2.5E-1", out var cpu));
        Assert.True(MatchKey.TryParseMachineSize("1.0", out var memory));

        Assert.Same(poll, pool.TryClaim(new MatchKey(new string("d".AsSpan()), "v", cpu, memory)));
    }

    [Fact]
    public void Claiming_from_an_empty_pool_returns_null()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);

        Assert.Null(pool.TryClaim(KeyA));
        Assert.Equal(0, pool.KeyCount);
    }

    [Fact]
    public void Claiming_an_unknown_key_returns_null_and_leaves_other_keys_alone()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, KeyA);

        Assert.Null(pool.TryClaim(KeyB));
        Assert.Null(pool.TryClaim(KeyC));

        Assert.True(poll.IsWaiting);
        Assert.Equal(1, pool.ParkedCount);
        Assert.Same(poll, pool.TryClaim(KeyA));
    }

    [Theory]
    [InlineData(SelectionOrder.NewestFirst, new[] { 2, 1, 0 })]
    [InlineData(SelectionOrder.OldestFirst, new[] { 0, 1, 2 })]
    public void Claims_take_polls_in_the_configured_order(SelectionOrder order, int[] expected)
    {
        var pool = new WarmPool(order);
        var polls = Enumerable.Range(0, 3).Select(i => Parked(pool, KeyA, i)).ToArray();
        var other = Parked(pool, KeyB);

        var claimed = expected.Select(_ => pool.TryClaim(KeyA)).ToArray();

        Assert.Equal(expected.Select(i => polls[i]), claimed);
        Assert.Null(pool.TryClaim(KeyA));
        Assert.True(other.IsWaiting);
        Assert.Equal(1, pool.ParkedCount);
        Assert.Equal(1, pool.KeyCount);
    }

    [Theory]
    [InlineData(nameof(PollOutcome.Aborted))]
    [InlineData(nameof(PollOutcome.Expired))]
    [InlineData(nameof(PollOutcome.Drained))]
    public async Task TryAbandon_removes_the_poll_at_once_and_completes_it_with_the_outcome(string outcomeName)
    {
        var outcome = Enum.Parse<PollOutcome>(outcomeName);
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, KeyA);

        Assert.True(pool.TryAbandon(poll, outcome));

        Assert.Equal(outcome, await OutcomeOf(poll));
        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);
        Assert.Empty(pool.CountByKey());
        Assert.Null(pool.TryClaim(KeyA));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Abandoning_one_of_several_polls_leaves_the_others_claimable_in_order(int abandoned)
    {
        var pool = new WarmPool(SelectionOrder.OldestFirst);
        var polls = Enumerable.Range(0, 3).Select(i => Parked(pool, KeyA, i)).ToArray();

        Assert.True(pool.TryAbandon(polls[abandoned], PollOutcome.Aborted));

        Assert.Equal(2, pool.ParkedCount);
        Assert.Equal(1, pool.KeyCount);
        var remaining = polls.Where((_, i) => i != abandoned).ToArray();
        Assert.Same(remaining[0], pool.TryClaim(KeyA));
        Assert.Same(remaining[1], pool.TryClaim(KeyA));
        Assert.Null(pool.TryClaim(KeyA));
        Assert.Equal(0, pool.KeyCount);
    }

    [Fact]
    public async Task Abandon_after_claim_does_nothing()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, KeyA);
        var claimed = pool.TryClaim(KeyA);

        Assert.False(pool.TryAbandon(poll, PollOutcome.Aborted));

        // The abandon did not complete the poll: only the claimer does, and only once.
        Assert.False(PollPeek.IsCompleted(poll));
        claimed!.Complete(PollOutcome.Matched);
        Assert.Equal(PollOutcome.Matched, await OutcomeOf(poll));
        Assert.Equal(0, pool.ParkedCount);
    }

    [Fact]
    public async Task Abandon_twice_completes_only_once()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, KeyA);

        Assert.True(pool.TryAbandon(poll, PollOutcome.Aborted));
        Assert.False(pool.TryAbandon(poll, PollOutcome.Expired));

        Assert.Equal(PollOutcome.Aborted, await OutcomeOf(poll));
        Assert.Equal(0, pool.ParkedCount);
    }

    [Fact]
    public void Claim_after_abandon_skips_the_abandoned_poll()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var older = Parked(pool, KeyA, 1);
        var newer = Parked(pool, KeyA, 2);

        Assert.True(pool.TryAbandon(newer, PollOutcome.Aborted));

        Assert.Same(older, pool.TryClaim(KeyA));
        Assert.Null(pool.TryClaim(KeyA));
    }

    [Fact]
    public void A_claim_skips_a_poll_whose_abandoner_won_the_race_but_has_not_unlinked_it_yet()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var older = Parked(pool, KeyA, 1);
        var newer = Parked(pool, KeyA, 2);
        // An abandoner that has moved the poll out of waiting but not yet taken the bucket's lock.
        Assert.True(newer.TryAbandon());

        Assert.Same(older, pool.TryClaim(KeyA));

        // The losing poll was unlinked by the claim, and the pool is consistent and empty.
        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);
        Assert.False(PollPeek.IsCompleted(newer));
        // The abandoner finishes its work: the poll is no longer in the pool, so it only completes it.
        Assert.False(pool.TryAbandon(newer, PollOutcome.Aborted));
    }

    [Fact]
    public void An_emptied_bucket_is_kept_for_the_next_park_and_retired_by_a_sweep_once_nothing_parks_in_it()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, KeyA);
        Assert.NotNull(pool.TryClaim(KeyA));

        // Empty but kept: the key's next park reuses it.
        Assert.Equal(0, pool.KeyCount);
        Assert.Equal(1, pool.BucketCount);
        var again = Parked(pool, KeyA);
        Assert.Equal(1, pool.BucketCount);
        Assert.Same(again, pool.TryClaim(KeyA));

        // A sweep keeps a bucket parked in since the sweep before; the next one, with nothing parked since, retires it.
        Assert.Equal(0, pool.ExpireParkedBefore(long.MinValue));
        Assert.Equal(1, pool.BucketCount);
        Assert.Equal(0, pool.ExpireParkedBefore(long.MinValue));
        Assert.Equal(0, pool.BucketCount);
    }

    [Fact]
    public void A_drain_retires_every_emptied_bucket()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, KeyA);
        Parked(pool, KeyB);
        Assert.NotNull(pool.TryClaim(KeyA));

        Assert.Equal(1, pool.BeginDrain());

        Assert.Equal(0, pool.BucketCount);
    }

    [Fact]
    public void A_poll_can_park_again_under_a_key_whose_bucket_was_retired()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, KeyA);
        Assert.NotNull(pool.TryClaim(KeyA));
        pool.ExpireParkedBefore(long.MinValue);
        pool.ExpireParkedBefore(long.MinValue);
        Assert.Equal(0, pool.BucketCount);

        var again = Parked(pool, KeyA);

        Assert.Equal(1, pool.KeyCount);
        Assert.Equal(1, pool.ParkedCount);
        Assert.Same(again, pool.TryClaim(KeyA));
    }

    [Fact]
    public async Task ExpireParkedBefore_expires_only_polls_parked_at_or_before_the_cutoff()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var a10 = Parked(pool, KeyA, 10);
        var a20 = Parked(pool, KeyA, 20);
        var a30 = Parked(pool, KeyA, 30);
        var b15 = Parked(pool, KeyB, 15);
        var c40 = Parked(pool, KeyC, 40);

        var expired = pool.ExpireParkedBefore(20);

        Assert.Equal(3, expired);
        Assert.Equal(PollOutcome.Expired, await OutcomeOf(a10));
        Assert.Equal(PollOutcome.Expired, await OutcomeOf(a20));
        Assert.Equal(PollOutcome.Expired, await OutcomeOf(b15));
        Assert.True(a30.IsWaiting);
        Assert.True(c40.IsWaiting);
        Assert.Equal(2, pool.ParkedCount);
        // B's bucket emptied and was removed.
        Assert.Equal(2, pool.KeyCount);
        Assert.Null(pool.TryClaim(KeyB));
        Assert.Same(a30, pool.TryClaim(KeyA));
        Assert.Same(c40, pool.TryClaim(KeyC));
    }

    [Fact]
    public void ExpireParkedBefore_on_an_empty_pool_or_with_nothing_old_expires_nothing()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Assert.Equal(0, pool.ExpireParkedBefore(long.MaxValue));

        var poll = Parked(pool, KeyA, 100);
        Assert.Equal(0, pool.ExpireParkedBefore(99));
        Assert.True(poll.IsWaiting);
        Assert.Equal(1, pool.ParkedCount);
    }

    [Fact]
    public void ExpireParkedBefore_does_not_count_or_complete_a_poll_an_abandoner_already_owns()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var owned = Parked(pool, KeyA, 1);
        var old = Parked(pool, KeyA, 2);
        Assert.True(owned.TryAbandon());

        Assert.Equal(1, pool.ExpireParkedBefore(10));

        Assert.False(PollPeek.IsCompleted(owned));
        Assert.True(PollPeek.IsCompleted(old));
        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);
    }

    [Fact]
    public async Task BeginDrain_releases_every_waiting_poll_and_refuses_later_parks()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var polls = new[] { Parked(pool, KeyA), Parked(pool, KeyA), Parked(pool, KeyB), Parked(pool, KeyC) };

        var released = pool.BeginDrain();

        Assert.Equal(4, released);
        Assert.True(pool.IsDraining);
        foreach (var poll in polls)
        {
            Assert.Equal(PollOutcome.Drained, await OutcomeOf(poll));
        }

        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);

        var late = new ParkedPoll(KeyA, new DefaultHttpContext(), 0);
        Assert.False(pool.TryPark(late));
        Assert.True(late.IsWaiting);
        Assert.Equal(0, pool.ParkedCount);
        Assert.Null(pool.TryClaim(KeyA));
        Assert.Equal(0, pool.BeginDrain());
    }

    [Fact]
    public async Task BeginDrain_leaves_a_claimed_poll_to_its_claimer()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        var poll = Parked(pool, KeyA);
        var claimed = pool.TryClaim(KeyA);

        Assert.Equal(0, pool.BeginDrain());

        Assert.False(PollPeek.IsCompleted(poll));
        claimed!.Complete(PollOutcome.Matched);
        Assert.Equal(PollOutcome.Matched, await OutcomeOf(poll));
    }

    [Fact]
    public void A_new_pool_is_not_draining()
    {
        Assert.False(new WarmPool(SelectionOrder.OldestFirst).IsDraining);
    }

    [Fact]
    public void CountByKey_reports_waiting_polls_per_key_and_drops_emptied_keys()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Parked(pool, KeyA);
        Parked(pool, KeyA);
        var b = Parked(pool, KeyB);
        Parked(pool, KeyC);
        Parked(pool, KeyC);
        Parked(pool, KeyC);

        Assert.Equal(
            new Dictionary<MatchKey, int> { [KeyA] = 2, [KeyB] = 1, [KeyC] = 3 },
            pool.CountByKey().ToDictionary(pair => pair.Key, pair => pair.Value));

        Assert.True(pool.TryAbandon(b, PollOutcome.Aborted));
        Assert.NotNull(pool.TryClaim(KeyC));

        Assert.Equal(
            new Dictionary<MatchKey, int> { [KeyA] = 2, [KeyC] = 2 },
            pool.CountByKey().ToDictionary(pair => pair.Key, pair => pair.Value));
    }

    private sealed class Tracked(ParkedPoll poll)
    {
        public ParkedPoll Poll { get; } = poll;

        public Task<PollOutcome> Outcome { get; } = poll.WaitAsync().AsTask();

        public int Claims;

        public int Abandons;
    }

    [Theory]
    [InlineData(SelectionOrder.NewestFirst)]
    [InlineData(SelectionOrder.OldestFirst)]
    public async Task Concurrent_park_claim_abandon_and_expiry_end_every_poll_exactly_once(SelectionOrder order)
    {
        const int OperationsPerWorker = 15_000;
        var pool = new WarmPool(order);
        MatchKey[] keys = [KeyA, KeyB, KeyC];
        var workers = Environment.ProcessorCount * 4;
        var tracked = new ConcurrentDictionary<ParkedPoll, Tracked>();
        // Recently parked polls, for abandoners to race the claimers on.
        var recent = new ParkedPoll?[64];
        long clock = 0;
        long expiredByPool = 0;
        using var start = new Barrier(workers);

        void Work(int seed)
        {
            var random = new Random(seed);
            start.SignalAndWait();
            for (var i = 0; i < OperationsPerWorker; i++)
            {
                var dice = random.Next(100);
                // Parks outpace claims so a backlog builds up: with oldest-first
                // selection the sweeper otherwise rarely finds anything old enough.
                if (dice < 45)
                {
                    var poll = new ParkedPoll(keys[random.Next(keys.Length)], new DefaultHttpContext(), Interlocked.Increment(ref clock));
                    tracked[poll] = new Tracked(poll);
                    if (!pool.TryPark(poll))
                    {
                        throw new InvalidOperationException("A park was refused while not draining.");
                    }

                    Volatile.Write(ref recent[random.Next(recent.Length)], poll);
                }
                else if (dice < 70)
                {
                    var key = keys[random.Next(keys.Length)];
                    if (pool.TryClaim(key) is { } claimed)
                    {
                        if (claimed.Key != key)
                        {
                            throw new InvalidOperationException($"A claim for {key} returned a poll of {claimed.Key}.");
                        }

                        Interlocked.Increment(ref tracked[claimed].Claims);
                        claimed.Complete(PollOutcome.Matched);
                    }
                }
                else if (dice < 99)
                {
                    if (Volatile.Read(ref recent[random.Next(recent.Length)]) is { } victim && pool.TryAbandon(victim, PollOutcome.Aborted))
                    {
                        Interlocked.Increment(ref tracked[victim].Abandons);
                    }
                }
                else
                {
                    Interlocked.Add(ref expiredByPool, pool.ExpireParkedBefore(Interlocked.Read(ref clock) - 300));
                }
            }
        }

        var running = Enumerable.Range(0, workers)
            .Select(seed => Task.Factory.StartNew(() => Work(seed), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToArray();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30));

        // Quiescent: the pool's counts agree with the polls that are still waiting.
        var waiting = tracked.Values.Where(t => t.Poll.IsWaiting).ToList();
        Assert.Equal(waiting.Count, pool.ParkedCount);
        Assert.Equal(waiting.Count, pool.CountByKey().Sum(pair => pair.Value));
        Assert.All(waiting, t => Assert.False(t.Outcome.IsCompleted));

        // Claim what is left, key by key: every waiting poll is found exactly once.
        foreach (var key in keys)
        {
            while (pool.TryClaim(key) is { } claimed)
            {
                Interlocked.Increment(ref tracked[claimed].Claims);
                claimed.Complete(PollOutcome.Matched);
            }
        }

        Assert.Equal(0, pool.ParkedCount);
        Assert.Equal(0, pool.KeyCount);

        await Task.WhenAll(tracked.Values.Select(t => t.Outcome)).WaitAsync(TimeSpan.FromSeconds(10));
        var delivered = 0;
        var gone = 0;
        var expired = 0;
        foreach (var t in tracked.Values)
        {
            Assert.InRange(t.Claims, 0, 1);
            Assert.InRange(t.Abandons, 0, 1);
            Assert.False(t.Claims == 1 && t.Abandons == 1, "a poll was both claimed and abandoned");
            var outcome = await t.Outcome;
            switch (outcome)
            {
                case PollOutcome.Matched:
                    Assert.Equal(1, t.Claims);
                    delivered++;
                    break;
                case PollOutcome.Aborted:
                    Assert.Equal(1, t.Abandons);
                    gone++;
                    break;
                case PollOutcome.Expired:
                    Assert.Equal(0, t.Claims + t.Abandons);
                    expired++;
                    break;
                default:
                    Assert.Fail($"Unexpected outcome {outcome}.");
                    break;
            }
        }

        Assert.Equal(Interlocked.Read(ref clock), tracked.Count);
        Assert.Equal(tracked.Count, delivered + gone + expired);
        Assert.Equal(Interlocked.Read(ref expiredByPool), expired);
        // The mix really exercised every path.
        Assert.True(delivered > 0 && gone > 0 && expired > 0, $"delivered {delivered}, gone {gone}, expired {expired}");
    }
}
