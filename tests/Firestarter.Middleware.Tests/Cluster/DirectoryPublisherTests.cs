using Firestarter.Cluster;
using Firestarter.Matching;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Cluster;

public class DirectoryPublisherTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private static readonly MatchKey A = new("deployment_a", "1", 1, 1);
    private static readonly MatchKey B = new("deployment_b", "1", 0.5, 2);

    private sealed class FakeStore : IDirectoryStore
    {
        public List<(MatchKey[] Added, MatchKey[] Removed)> Writes { get; } = [];

        public bool IsAvailable { get; set; } = true;

        public bool Fail { get; set; }

        public TaskCompletionSource? Gate { get; set; }

        public async Task WriteAsync(IReadOnlyList<MatchKey> added, IReadOnlyList<MatchKey> removed, CancellationToken cancellationToken)
        {
            Writes.Add(([.. added], [.. removed]));
            if (Gate is { } gate)
            {
                await gate.Task;
            }

            if (Fail)
            {
                throw new TimeoutException("store down");
            }
        }
    }

    /// <summary>A pool's state as the publisher reads it: keys with a waiting controller.</summary>
    private sealed class Harness : IDisposable
    {
        public Harness()
        {
            Publisher = new DirectoryPublisher(Store, Held.Contains, () => [.. Held]);
            Publisher.Start(Time, Interval);
        }

        public FakeTimeProvider Time { get; } = new();

        public FakeStore Store { get; } = new();

        public HashSet<MatchKey> Held { get; } = [];

        public DirectoryPublisher Publisher { get; }

        /// <summary>The pool's transition as the pool reports it.</summary>
        public void Set(MatchKey key, bool available)
        {
            if (available ? Held.Add(key) : Held.Remove(key))
            {
                Publisher.KeyAvailabilityChanged(key, available);
            }
        }

        public void Tick() => Time.Advance(Interval);

        public void Dispose() => Publisher.Dispose();
    }

    [Fact]
    public void A_new_key_is_written_at_the_next_interval_not_when_it_changes()
    {
        using var h = new Harness();
        h.Set(A, true);
        Assert.Empty(h.Store.Writes);

        h.Tick();

        var write = Assert.Single(h.Store.Writes);
        Assert.Equal([A], write.Added);
        Assert.Empty(write.Removed);
        Assert.Equal(1, h.Publisher.PublishedCount);
    }

    [Fact]
    public void Keys_changed_within_one_interval_go_in_one_batch()
    {
        using var h = new Harness();
        var c = new MatchKey("deployment_c", "1", 1, 1);
        h.Set(A, true);
        h.Set(B, true);
        h.Tick();
        h.Set(B, false);
        h.Tick(); // B is found empty once: not yet removed
        h.Set(c, true);
        h.Set(A, false);

        h.Tick();

        Assert.Equal(2, h.Store.Writes.Count);
        Assert.Equal([c], h.Store.Writes[1].Added);
        Assert.Equal([B], h.Store.Writes[1].Removed);
        h.Tick();
        Assert.Equal([A], h.Store.Writes[2].Removed);
    }

    [Fact]
    public void A_key_found_empty_is_removed_only_if_the_next_flush_finds_it_empty_too()
    {
        using var h = new Harness();
        h.Set(A, true);
        h.Tick();

        // An idle controller renewing its poll: the key is empty at one flush and has its controller again by the next.
        h.Set(A, false);
        h.Tick();
        h.Set(A, true);
        h.Tick();
        h.Tick();
        Assert.Single(h.Store.Writes);

        // Gone for good: removed at the second flush that finds it empty.
        h.Set(A, false);
        h.Tick();
        Assert.Single(h.Store.Writes);
        h.Tick();
        Assert.Equal([A], h.Store.Writes[1].Removed);
        Assert.Equal(0, h.Publisher.PublishedCount);
    }

    [Fact]
    public void A_key_that_empties_and_fills_again_within_one_interval_costs_no_write()
    {
        using var h = new Harness();
        h.Set(A, true);
        h.Tick();

        h.Set(A, false);
        h.Set(A, true);
        h.Tick();
        // And the other way round: a key that comes and goes between two flushes was never worth announcing.
        h.Set(B, true);
        h.Set(B, false);
        h.Tick();

        Assert.Single(h.Store.Writes);
        Assert.Equal(0, h.Publisher.PendingCount);
    }

    [Fact]
    public void Nothing_is_written_while_the_store_is_unavailable_and_everything_pending_is_written_once_it_is_back()
    {
        using var h = new Harness();
        h.Store.IsAvailable = false;
        h.Set(A, true);
        h.Set(B, true);
        h.Tick();
        h.Tick();
        Assert.Empty(h.Store.Writes);

        h.Store.IsAvailable = true;
        h.Tick();

        var write = Assert.Single(h.Store.Writes);
        Assert.Equal(new HashSet<MatchKey> { A, B }, write.Added.ToHashSet());
    }

    [Fact]
    public void A_failed_write_is_made_again_even_when_the_state_has_come_back_to_what_was_last_published()
    {
        using var h = new Harness();
        h.Set(A, true);
        h.Tick();
        h.Store.Fail = true;
        h.Set(A, false);
        h.Tick();
        h.Tick(); // the removal fails: Redis may or may not have dropped A

        h.Store.Fail = false;
        h.Set(A, true);
        h.Tick();

        // Back to "A is here", as last published; but the failed removal may have landed, so A is written again.
        Assert.Equal(3, h.Store.Writes.Count);
        Assert.Equal([A], h.Store.Writes[2].Added);
        Assert.Equal(1, h.Publisher.PublishedCount);
    }

    [Fact]
    public void A_republish_writes_every_held_key_again_and_removes_the_ones_no_longer_held()
    {
        using var h = new Harness();
        h.Set(A, true);
        h.Set(B, true);
        h.Tick();
        // B leaves while its removal cannot be written; then the directory is found to have lost everything.
        h.Store.IsAvailable = false;
        h.Set(B, false);
        h.Publisher.RequestRepublish();
        h.Store.IsAvailable = true;

        h.Tick();

        var write = h.Store.Writes[^1];
        Assert.Equal([A], write.Added);
        Assert.Equal([B], write.Removed);
    }

    [Fact]
    public async Task Withdrawing_removes_every_published_key_and_nothing_is_written_after()
    {
        using var h = new Harness();
        h.Set(A, true);
        h.Set(B, true);
        h.Tick();

        h.Publisher.Stop();
        var removed = await h.Publisher.WithdrawAsync(CancellationToken.None);
        h.Set(A, false);
        h.Set(B, false);
        h.Set(new MatchKey("deployment_c", "1", 1, 1), true);
        h.Tick();
        await h.Publisher.FlushAsync(CancellationToken.None);

        Assert.Equal(2, removed);
        Assert.Equal(2, h.Store.Writes.Count);
        Assert.Equal(new HashSet<MatchKey> { A, B }, h.Store.Writes[1].Removed.ToHashSet());
        Assert.Empty(h.Store.Writes[1].Added);
    }

    [Fact]
    public void A_tick_while_a_write_is_in_flight_does_not_start_another()
    {
        using var h = new Harness();
        h.Store.Gate = new TaskCompletionSource();
        h.Set(A, true);
        h.Tick();
        h.Set(B, true);
        h.Tick();
        h.Tick();
        Assert.Single(h.Store.Writes);

        h.Store.Gate.SetResult();
        h.Store.Gate = null;
        h.Tick();

        Assert.Equal(2, h.Store.Writes.Count);
        Assert.Equal([B], h.Store.Writes[1].Added);
    }
}
