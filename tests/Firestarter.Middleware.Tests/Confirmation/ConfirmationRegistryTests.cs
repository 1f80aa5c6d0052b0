using Firestarter.Confirmation;
using Firestarter.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Confirmation;

public class ConfirmationRegistryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly RunAttempt Run1 = new("run_1", "snapshot_1");

    private readonly FakeTimeProvider _time = new();
    private readonly ConfirmationRegistry _registry;

    public ConfirmationRegistryTests() => _registry = new ConfirmationRegistry(_time);

    [Fact]
    public async Task A_confirmation_for_the_exact_run_and_snapshot_releases_the_wait_with_true()
    {
        var pending = _registry.TryRegister(Run1)!;
        var wait = pending.WaitAsync(Timeout, _time);
        Assert.False(wait.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(3));
        Assert.Equal(ConfirmationOutcome.Released, _registry.Note(new RunAttempt("run_1", "snapshot_1"), null));

        Assert.True(await wait);
        Assert.Equal(_time.GetTimestamp(), pending.ConfirmedAt);
    }

    [Fact]
    public async Task No_confirmation_within_the_timeout_answers_false()
    {
        var pending = _registry.TryRegister(Run1)!;
        var wait = pending.WaitAsync(Timeout, _time);

        _time.Advance(Timeout - TimeSpan.FromTicks(1));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1));

        Assert.False(await wait);
        Assert.False(pending.IsConfirmed);
    }

    [Fact]
    public async Task A_confirmation_after_the_timeout_changes_nothing()
    {
        var pending = _registry.TryRegister(Run1)!;
        var wait = pending.WaitAsync(Timeout, _time);
        _time.Advance(Timeout);
        Assert.False(await wait);

        Assert.Equal(ConfirmationOutcome.AlreadyAnswered, _registry.Note(Run1, null));
        Assert.False(pending.IsConfirmed);
    }

    [Fact]
    public async Task Confirmation_and_timeout_in_the_same_instant_answer_once_and_agree()
    {
        // Whichever wins the pending's one transition decides; the loser must report that it changed nothing.
        for (var i = 0; i < 200; i++)
        {
            var time = new FakeTimeProvider();
            var registry = new ConfirmationRegistry(time);
            var attempt = new RunAttempt($"run_{i}", "snapshot");
            var pending = registry.TryRegister(attempt)!;
            var wait = pending.WaitAsync(Timeout, time);

            var confirmed = false;
            var start = new Barrier(2);
            var confirming = Task.Run(() =>
            {
                start.SignalAndWait();
                confirmed = registry.TryConfirm(attempt);
            });
            start.SignalAndWait();
            time.Advance(Timeout);
            await confirming;

            Assert.Equal(confirmed, await wait);
            Assert.Equal(confirmed, pending.IsConfirmed);
        }
    }

    [Fact]
    public async Task A_run_confirmed_twice_is_released_once()
    {
        var pending = _registry.TryRegister(Run1)!;
        Assert.True(_registry.TryConfirm(Run1));
        Assert.False(_registry.TryConfirm(Run1));
        Assert.Equal(ConfirmationOutcome.AlreadyAnswered, _registry.Note(Run1, null));

        Assert.True(await pending.WaitAsync(Timeout, _time));
    }

    [Fact]
    public async Task A_confirmation_that_arrives_before_the_wait_begins_is_kept()
    {
        // The controller can read the run and call back before the dispatch's write has returned.
        var pending = _registry.TryRegister(Run1)!;
        Assert.True(_registry.TryConfirm(Run1));

        var wait = pending.WaitAsync(Timeout, _time);
        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
    }

    [Theory]
    [InlineData("run_2", "snapshot_1")]
    [InlineData("run_1", "snapshot_2")]
    [InlineData("RUN_1", "snapshot_1")]
    [InlineData("run_1", "snapshot_1 ")]
    public async Task A_confirmation_for_another_run_or_snapshot_cannot_release_the_wait(string run, string snapshot)
    {
        var pending = _registry.TryRegister(Run1)!;
        var wait = pending.WaitAsync(Timeout, _time);

        Assert.Equal(ConfirmationOutcome.Unknown, _registry.Note(new RunAttempt(run, snapshot), null));
        Assert.False(_registry.TryConfirm(new RunAttempt(run, snapshot)));

        _time.Advance(Timeout);
        Assert.False(await wait);
    }

    [Fact]
    public void A_confirmation_for_an_unknown_run_raises_unmatched_and_changes_nothing()
    {
        var other = _registry.TryRegister(Run1)!;
        var unmatched = new List<RunAttempt>();
        _registry.Unmatched += unmatched.Add;

        Assert.Equal(ConfirmationOutcome.Unknown, _registry.Note(new RunAttempt("run_9", "snapshot_9"), null));

        Assert.Equal([new RunAttempt("run_9", "snapshot_9")], unmatched);
        Assert.False(other.IsAnswered);
        Assert.Equal(1, _registry.PendingCount);
    }

    [Fact]
    public void A_relayed_confirmation_does_not_raise_unmatched_again()
    {
        // Otherwise a relay would bounce confirmations nobody waits for between instances.
        var unmatched = 0;
        _registry.Unmatched += _ => unmatched++;

        Assert.False(_registry.TryConfirm(new RunAttempt("run_9", "snapshot_9")));
        Assert.Equal(0, unmatched);
    }

    [Fact]
    public async Task A_confirmation_naming_another_controller_is_refused()
    {
        var pending = _registry.TryRegister(Run1)!;
        pending.HandedTo("controller_a");
        var wait = pending.WaitAsync(Timeout, _time);

        Assert.Equal(ConfirmationOutcome.ControllerMismatch, _registry.Note(Run1, "controller_b"));
        Assert.False(wait.IsCompleted);

        // Without the header (Trigger.dev's workload client sends none) or with the same id, it counts.
        Assert.Equal(ConfirmationOutcome.Released, _registry.Note(Run1, "controller_a"));
        Assert.True(await wait);
    }

    [Fact]
    public void A_second_dispatch_for_a_pending_pair_is_refused_and_removal_is_exact()
    {
        var first = _registry.TryRegister(Run1)!;
        Assert.Null(_registry.TryRegister(Run1));

        _registry.Remove(first);
        Assert.Equal(0, _registry.PendingCount);
        var second = _registry.TryRegister(Run1)!;

        // Removing the first registration again must not remove its successor.
        _registry.Remove(first);
        Assert.Equal(1, _registry.PendingCount);
        Assert.True(_registry.TryConfirm(Run1));
        Assert.True(second.IsConfirmed);
        Assert.False(first.IsConfirmed);
    }

    [Fact]
    public void After_removal_a_confirmation_is_unknown()
    {
        var pending = _registry.TryRegister(Run1)!;
        _registry.Remove(pending);

        Assert.Equal(ConfirmationOutcome.Unknown, _registry.Note(Run1, null));
        Assert.False(pending.IsAnswered);
    }
}
