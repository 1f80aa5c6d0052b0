using Firestarter.Confirmation;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Confirmation;

public class ConfirmationHandlerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ConfirmationRegistry _registry;
    private readonly MetricsRecorder _recorder = new(new WarmPool(SelectionOrder.NewestFirst));

    public ConfirmationHandlerTests() => _registry = new ConfirmationRegistry(_time);

    private ConfirmationHandler Handler(bool enabled) => new(
        _registry, _recorder.Metrics, Microsoft.Extensions.Options.Options.Create(new ConfirmationOptions { Enabled = enabled }),
        NullLogger<ConfirmationHandler>.Instance);

    private static DefaultHttpContext Start(string run, string snapshot, string? controllerId = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.RouteValues["runFriendlyId"] = run;
        context.Request.RouteValues["snapshotFriendlyId"] = snapshot;
        if (controllerId is not null)
        {
            context.Request.Headers["x-trigger-workload-controller-id"] = controllerId;
        }

        return context;
    }

    private static async Task<int> InvokeAsync(ConfirmationHandler handler, HttpContext context)
    {
        var nextCalls = 0;
        await handler.HandleAsync(context, _ =>
        {
            nextCalls++;
            return Task.CompletedTask;
        });
        return nextCalls;
    }

    [Fact]
    public async Task A_start_releases_the_dispatch_for_its_run_and_snapshot_and_is_passed_on()
    {
        var pending = _registry.TryRegister(new RunAttempt("run_1", "snapshot_1"))!;

        Assert.Equal(1, await InvokeAsync(Handler(enabled: true), Start("run_1", "snapshot_1")));

        Assert.True(pending.IsConfirmed);
        Assert.Equal(["released"], _recorder.CountedOutcomes("firestarter.confirmations"));
    }

    [Fact]
    public async Task A_start_nobody_here_waits_for_is_passed_on_and_reported_for_a_relay()
    {
        var unmatched = new List<RunAttempt>();
        _registry.Unmatched += unmatched.Add;

        Assert.Equal(1, await InvokeAsync(Handler(enabled: true), Start("run_9", "snapshot_9")));

        Assert.Equal([new RunAttempt("run_9", "snapshot_9")], unmatched);
        Assert.Equal(["unknown"], _recorder.CountedOutcomes("firestarter.confirmations"));
    }

    [Fact]
    public async Task A_relay_that_throws_does_not_stop_the_start_from_being_passed_on()
    {
        _registry.Unmatched += _ => throw new InvalidOperationException("relay down");

        Assert.Equal(1, await InvokeAsync(Handler(enabled: true), Start("run_9", "snapshot_9")));
    }

    [Fact]
    public async Task A_start_naming_another_controller_is_refused_but_passed_on()
    {
        var pending = _registry.TryRegister(new RunAttempt("run_1", "snapshot_1"))!;
        pending.HandedTo("controller_a");

        Assert.Equal(1, await InvokeAsync(Handler(enabled: true), Start("run_1", "snapshot_1", controllerId: "controller_b")));

        Assert.False(pending.IsAnswered);
        Assert.Equal(["controller_mismatch"], _recorder.CountedOutcomes("firestarter.confirmations"));
    }

    [Fact]
    public async Task With_confirmation_off_a_start_is_only_passed_on()
    {
        var pending = _registry.TryRegister(new RunAttempt("run_1", "snapshot_1"))!;
        var unmatched = 0;
        _registry.Unmatched += _ => unmatched++;

        Assert.Equal(1, await InvokeAsync(Handler(enabled: false), Start("run_1", "snapshot_1")));
        Assert.Equal(1, await InvokeAsync(Handler(enabled: false), Start("run_9", "snapshot_9")));

        Assert.False(pending.IsAnswered);
        Assert.Equal(0, unmatched);
        Assert.Empty(_recorder.CountedOutcomes("firestarter.confirmations"));
    }

    [Fact]
    public async Task A_start_without_the_route_values_is_only_passed_on()
    {
        var context = new DefaultHttpContext();

        Assert.Equal(1, await InvokeAsync(Handler(enabled: true), context));

        Assert.Empty(_recorder.CountedOutcomes("firestarter.confirmations"));
    }
}
