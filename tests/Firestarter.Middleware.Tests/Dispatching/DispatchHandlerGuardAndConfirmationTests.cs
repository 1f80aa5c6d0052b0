using Firestarter.Confirmation;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Dispatching;

/// <summary>The dispatch's side of the guard window, the wait for a re-poll, and confirmation.</summary>
public partial class DispatchHandlerTests
{
    private static readonly RunAttempt ValidAttempt = new("run_1234", "snapshot_1");

    private static FirestarterOptions Guarded(bool confirm = false) => new()
    {
        ConnectionTimeout = TimeSpan.FromSeconds(10),
        PollGuardWindow = TimeSpan.FromSeconds(1),
        RepollWait = TimeSpan.FromSeconds(2),
        Confirmation = { Enabled = confirm, Timeout = TimeSpan.FromSeconds(5) },
    };

    [Fact]
    public async Task A_run_whose_only_controller_is_about_to_give_up_goes_to_its_re_poll()
    {
        using var harness = new Harness(Guarded());
        var (old, oldPoll) = harness.ParkController(Key);
        harness.Time.Advance(TimeSpan.FromSeconds(9.5));

        var dispatch = harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));
        Assert.False(dispatch.IsCompleted);
        harness.Time.Advance(TimeSpan.FromMilliseconds(600)); // the client gives up and polls again
        Assert.True(harness.Pool.TryAbandon(oldPoll, PollOutcome.Aborted));
        var (fresh, _) = harness.ParkController(Key);
        var supervisor = await dispatch;

        Assert.Equal("""{"didWarmStart":true}""", Answer(supervisor));
        Assert.Equal(Message, fresh.ResponseBytes);
        Assert.Empty(old.ResponseBytes);
        Assert.Equal(["served"], harness.Outcomes("firestarter.dispatches.repoll_waits"));
        Assert.Equal(1, harness.Recorder.Current("firestarter.polls.guard_skipped").Single().Value);
        var waited = Assert.Single(harness.Recorder.Of("firestarter.dispatch.repoll_wait_time"));
        Assert.Equal(0.6, waited.Value, 3);
    }

    [Fact]
    public async Task With_no_re_poll_within_the_bound_the_run_takes_the_cold_start_path_and_the_guarded_poll_stays()
    {
        using var harness = new Harness(Guarded());
        var (old, oldPoll) = harness.ParkController(Key);
        harness.Time.Advance(TimeSpan.FromSeconds(9.5));

        var dispatch = harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        var supervisor = await dispatch;

        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.True(oldPoll.IsWaiting);
        Assert.Empty(old.ResponseBytes);
        Assert.Equal(["timed_out"], harness.Outcomes("firestarter.dispatches.repoll_waits"));
        Assert.Equal(1, harness.Pool.ParkedCount);
    }

    [Fact]
    public async Task A_poll_before_its_guard_window_is_handed_the_run_at_once()
    {
        using var harness = new Harness(Guarded());
        var (client, _) = harness.ParkController(Key);
        harness.Time.Advance(TimeSpan.FromSeconds(8.9));

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":true}""", Answer(supervisor));
        Assert.Equal(Message, client.ResponseBytes);
        Assert.Empty(harness.Outcomes("firestarter.dispatches.repoll_waits"));
    }

    [Fact]
    public async Task With_confirmation_the_dispatch_answers_true_once_the_exact_run_and_snapshot_start()
    {
        using var harness = new Harness(Guarded(confirm: true));
        var (client, _) = harness.ParkController(Key);

        var dispatch = harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));
        Assert.Equal(Message, client.ResponseBytes); // written before the wait
        Assert.False(dispatch.IsCompleted);
        Assert.False(harness.Confirmations.TryConfirm(new RunAttempt("run_1234", "snapshot_2")));
        Assert.False(harness.Confirmations.TryConfirm(new RunAttempt("run_9999", "snapshot_1")));
        harness.Time.Advance(TimeSpan.FromMilliseconds(40));
        Assert.False(dispatch.IsCompleted);

        Assert.True(harness.Confirmations.TryConfirm(ValidAttempt));
        var supervisor = await dispatch;

        Assert.Equal("""{"didWarmStart":true}""", Answer(supervisor));
        Assert.Equal(["warm"], harness.Outcomes("firestarter.dispatches"));
        Assert.Equal(0.04, Assert.Single(harness.Recorder.Of("firestarter.confirmation.latency")).Value, 3);
        Assert.Equal(0, harness.Confirmations.PendingCount);
    }

    [Fact]
    public async Task With_confirmation_a_run_not_started_within_the_timeout_is_answered_as_a_cold_start()
    {
        using var harness = new Harness(Guarded(confirm: true));
        var (client, _) = harness.ParkController(Key);

        var dispatch = harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));
        harness.Time.Advance(TimeSpan.FromSeconds(5));
        var supervisor = await dispatch;

        Assert.Equal(Message, client.ResponseBytes);
        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.Equal(["unconfirmed"], harness.Outcomes("firestarter.dispatches"));
        Assert.Equal(["delivered"], harness.Outcomes("firestarter.handoffs"));
        Assert.Equal(0, harness.Confirmations.PendingCount);

        // Late, it changes nothing.
        Assert.False(harness.Confirmations.TryConfirm(ValidAttempt));
    }

    [Fact]
    public async Task With_confirmation_a_start_naming_another_controller_does_not_count()
    {
        using var harness = new Harness(Guarded(confirm: true));
        var (client, _) = harness.ParkController(Key);
        client.Context.Request.Headers["x-trigger-workload-controller-id"] = "controller_a";

        var dispatch = harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));
        Assert.Equal(ConfirmationOutcome.ControllerMismatch, harness.Confirmations.Note(ValidAttempt, "controller_b"));
        harness.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal("""{"didWarmStart":false}""", Answer(await dispatch));
    }

    [Fact]
    public async Task With_confirmation_a_run_without_a_snapshot_id_is_not_handed_to_a_controller()
    {
        using var harness = new Harness(Guarded(confirm: true));
        var (client, poll) = harness.ParkController(Key);

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.WithFields()));

        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.True(poll.IsWaiting);
        Assert.Empty(client.ResponseBytes);
    }

    [Fact]
    public async Task With_confirmation_a_second_dispatch_of_a_run_still_awaiting_its_start_is_not_handed_out()
    {
        using var harness = new Harness(Guarded(confirm: true));
        harness.ParkController(Key);
        var (second, secondPoll) = harness.ParkController(Key);
        var first = harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        var duplicate = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":false}""", Answer(duplicate));
        Assert.False(first.IsCompleted);
        Assert.True(harness.Confirmations.TryConfirm(ValidAttempt));
        Assert.Equal("""{"didWarmStart":true}""", Answer(await first));
        // Newest first: the first dispatch took the second controller; the other one was never offered the duplicate.
        Assert.Equal(Message, second.ResponseBytes);
        Assert.False(secondPoll.IsWaiting);
        Assert.Equal(1, harness.Pool.ParkedCount);
    }
}
