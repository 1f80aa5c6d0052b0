using System.Text;
using System.Text.Json;
using Firestarter.Diagnostics;
using Firestarter.Dispatching;
using Firestarter.Matching;
using Firestarter.Polling;
using Firestarter.Tests.TestSupport;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Polling;

public class PollHandlerTests
{
    private static readonly MatchKey Key = new("deployment_abc", "20240101.1", 0.5, 1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private sealed class Harness : IDisposable
    {
        public Harness(bool enabled = true)
        {
            Recorder = new MetricsRecorder(Pool);
            var options = Microsoft.Extensions.Options.Options.Create(new FirestarterOptions { Enabled = enabled });
            Handler = new PollHandler(
                Pool,
                Identities,
                new Firestarter.Limits.ParkingLimits(Microsoft.Extensions.Options.Options.Create(options.Value.Limits), NullLogger<Firestarter.Limits.ParkingLimits>.Instance),
                Recorder.Metrics,
                Time,
                options,
                NullLogger<PollHandler>.Instance);
        }

        public WarmPool Pool { get; } = new(SelectionOrder.NewestFirst);

        public Firestarter.Security.DeploymentIdentityResolver Identities { get; } = TestSupport.Identities.Unverified();

        public FakeTimeProvider Time { get; } = new();

        public MetricsRecorder Recorder { get; }

        public PollHandler Handler { get; }

        public IReadOnlyList<string?> PollOutcomes => Recorder.CountedOutcomes("firestarter.polls");

        public void Dispose() => Recorder.Dispose();
    }

    private static TestContext Controller(string deployment = "deployment_abc", string cpu = "0.5")
    {
        var client = new TestContext();
        var headers = client.Context.Request.Headers;
        headers["x-trigger-deployment-id"] = deployment;
        headers["x-trigger-deployment-version"] = "20240101.1";
        headers["x-trigger-machine-cpu"] = cpu;
        headers["x-trigger-machine-memory"] = "1";
        return client;
    }

    [Fact]
    public async Task A_poll_is_parked_until_a_dispatch_writes_a_run_into_it()
    {
        using var harness = new Harness();
        using var client = Controller();

        var handling = harness.Handler.HandleAsync(client.Context);

        Assert.False(handling.IsCompleted);
        Assert.Equal(1, harness.Pool.ParkedCount);
        harness.Time.Advance(TimeSpan.FromSeconds(3));
        var poll = harness.Pool.TryClaim(Key);
        Assert.Same(client.Context, poll!.Context);
        Assert.Equal(HandoffOutcome.Delivered, await Handoff.WriteRunAsync(poll, """{"run":1}"""u8.ToArray()));

        await handling.WaitAsync(Patience);

        Assert.Equal("""{"run":1}""", Encoding.UTF8.GetString(client.ResponseBytes));
        Assert.Equal(200, client.Context.Response.StatusCode);
        Assert.Equal(["matched"], harness.PollOutcomes);
        Assert.Equal(3, Assert.Single(harness.Recorder.Of("firestarter.poll.wait_time")).Value);
        Assert.Equal(0, client.Lifetime.AbortCalls);
    }

    [Fact]
    public async Task A_parked_poll_no_longer_holds_the_headers_its_key_was_made_from_but_keeps_its_controller_id()
    {
        using var harness = new Harness();
        using var client = Controller();
        var headers = client.Context.Request.Headers;
        headers["x-trigger-workload-controller-id"] = "controller_1";
        headers["x-trigger-worker-instance-name"] = "node-1";
        headers["x-other"] = "kept";

        var handling = harness.Handler.HandleAsync(client.Context);

        Assert.Equal(1, harness.Pool.ParkedCount);
        foreach (var matched in new[] { "x-trigger-deployment-id", "x-trigger-deployment-version", "x-trigger-machine-cpu", "x-trigger-machine-memory", "x-trigger-worker-instance-name" })
        {
            Assert.False(headers.ContainsKey(matched), matched);
        }

        Assert.Equal("controller_1", headers["x-trigger-workload-controller-id"]);
        Assert.Equal("kept", headers["x-other"]);
        // The key still matches: a dispatch for it finds the poll and writes the run.
        var poll = harness.Pool.TryClaim(Key);
        Assert.Same(client.Context, poll!.Context);
        Assert.Equal(HandoffOutcome.Delivered, await Handoff.WriteRunAsync(poll, """{"run":1}"""u8.ToArray()));
        await handling.WaitAsync(Patience);
        Assert.Equal("""{"run":1}""", Encoding.UTF8.GetString(client.ResponseBytes));
    }

    [Fact]
    public async Task A_client_that_gives_up_leaves_the_pool_at_once_and_gets_nothing()
    {
        using var harness = new Harness();
        using var client = Controller();
        var handling = harness.Handler.HandleAsync(client.Context);

        client.ClientLeaves();
        await handling.WaitAsync(Patience);

        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(0, harness.Pool.KeyCount);
        Assert.Null(harness.Pool.TryClaim(Key));
        Assert.Empty(client.ResponseBytes);
        Assert.False(client.Context.Response.HasStarted);
        Assert.Equal(["aborted"], harness.PollOutcomes);
    }

    [Fact]
    public async Task A_poll_whose_client_a_dispatch_found_gone_is_closed_never_answered_with_an_empty_200()
    {
        using var harness = new Harness();
        using var client = Controller();
        var handling = harness.Handler.HandleAsync(client.Context);

        // A dispatch claimed the poll and found the client gone before the server had noticed.
        var poll = harness.Pool.TryClaim(Key)!;
        poll.Complete(PollOutcome.Aborted);
        await handling.WaitAsync(Patience);

        Assert.Equal(1, client.Lifetime.AbortCalls);
        Assert.Empty(client.ResponseBytes);
        Assert.False(client.Context.Response.HasStarted);
        Assert.Equal(["aborted"], harness.PollOutcomes);
    }

    [Fact]
    public async Task A_client_already_gone_when_it_parks_leaves_the_pool_at_once()
    {
        using var harness = new Harness();
        using var client = Controller();
        client.ClientLeaves();

        await harness.Handler.HandleAsync(client.Context).WaitAsync(Patience);

        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(["aborted"], harness.PollOutcomes);
    }

    [Fact]
    public async Task An_expired_poll_ends_with_204_and_no_body()
    {
        using var harness = new Harness();
        using var client = Controller();
        var handling = harness.Handler.HandleAsync(client.Context);

        Assert.Equal(1, harness.Pool.ExpireParkedBefore(harness.Time.GetTimestamp()));
        await handling.WaitAsync(Patience);

        Assert.Equal(204, client.Context.Response.StatusCode);
        Assert.Empty(client.ResponseBytes);
        Assert.Equal(["expired"], harness.PollOutcomes);
    }

    [Fact]
    public async Task A_drained_poll_is_closed_without_a_response()
    {
        using var harness = new Harness();
        using var client = Controller();
        var handling = harness.Handler.HandleAsync(client.Context);

        harness.Pool.BeginDrain();
        await handling.WaitAsync(Patience);

        Assert.Equal(1, client.Lifetime.AbortCalls);
        Assert.Empty(client.ResponseBytes);
        Assert.Equal(["drained"], harness.PollOutcomes);
    }

    [Fact]
    public async Task A_poll_arriving_while_draining_is_closed_at_once_without_parking()
    {
        using var harness = new Harness();
        harness.Pool.BeginDrain();
        using var client = Controller();

        await harness.Handler.HandleAsync(client.Context).WaitAsync(Patience);

        Assert.Equal(1, client.Lifetime.AbortCalls);
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Empty(client.ResponseBytes);
        Assert.Equal(["drained"], harness.PollOutcomes);
    }

    [Fact]
    public async Task A_poll_with_bad_headers_is_refused_with_a_problem_and_not_parked()
    {
        using var harness = new Harness();
        using var client = Controller(cpu: "lots");

        await harness.Handler.HandleAsync(client.Context).WaitAsync(Patience);

        Assert.Equal(400, client.Context.Response.StatusCode);
        Assert.Equal("application/problem+json", client.Context.Response.ContentType);
        // Only a parked poll gives up its matched headers.
        Assert.Equal("lots", client.Context.Request.Headers["x-trigger-machine-cpu"]);
        using var problem = JsonDocument.Parse(client.ResponseBytes);
        Assert.Equal("bad-header", problem.RootElement.GetProperty("code").GetString());
        Assert.Contains("x-trigger-machine-cpu", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(["rejected"], harness.PollOutcomes);
    }

    [Fact]
    public async Task With_warm_starts_off_a_poll_is_refused_with_503()
    {
        using var harness = new Harness(enabled: false);
        using var client = Controller();

        await harness.Handler.HandleAsync(client.Context).WaitAsync(Patience);

        Assert.Equal(503, client.Context.Response.StatusCode);
        using var problem = JsonDocument.Parse(client.ResponseBytes);
        Assert.Equal("warm-starts-disabled", problem.RootElement.GetProperty("code").GetString());
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(["rejected"], harness.PollOutcomes);
    }

    [Fact]
    public async Task A_token_in_the_header_parks_the_poll_under_its_deployment_claim()
    {
        using var harness = new Harness();
        using var client = Controller(deployment: Tokens.ForDeployment("deployment_abc"));
        var handling = harness.Handler.HandleAsync(client.Context);

        var poll = harness.Pool.TryClaim(Key);

        Assert.NotNull(poll);
        await Handoff.WriteRunAsync(poll, "{}"u8.ToArray());
        await handling.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_bad_token_in_the_header_is_refused_with_the_tokens_problem_and_not_parked()
    {
        using var harness = new Harness();
        using var client = Controller(deployment: Tokens.WithPayload("""{"deployment":42}"""));

        await harness.Handler.HandleAsync(client.Context).WaitAsync(Patience);

        Assert.Equal(400, client.Context.Response.StatusCode);
        using var problem = JsonDocument.Parse(client.ResponseBytes);
        Assert.Equal(
            "Header 'x-trigger-deployment-id': The deployment token's 'deployment' claim must be a non-empty string.",
            problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(["rejected"], harness.PollOutcomes);
    }

    [Fact]
    public async Task The_resolver_passed_in_is_the_one_used()
    {
        using var harness = new Harness();
        var token = Tokens.ForDeployment("deployment_abc");
        Assert.True(harness.Identities.TryResolve(token, out var cached, out _));
        using var client = Controller(deployment: token);
        var handling = harness.Handler.HandleAsync(client.Context);

        var poll = harness.Pool.TryClaim(Key);

        Assert.NotNull(poll);
        Assert.Same(cached, poll.Key.Deployment);
        await Handoff.WriteRunAsync(poll, "{}"u8.ToArray());
        await handling.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_held_poll_leaves_its_request_timeout_to_its_route()
    {
        // WarmStartRouteFilter gives poll routes the Disable timeout policy unless the route sets its own timeout,
        // which the handler must not override.
        using var harness = new Harness();
        using var client = Controller();
        var timeout = new RecordingTimeoutFeature();
        client.Context.Features.Set<IHttpRequestTimeoutFeature>(timeout);

        var handling = harness.Handler.HandleAsync(client.Context);

        Assert.Equal(0, timeout.DisableCalls);
        client.ClientLeaves();
        await handling.WaitAsync(Patience);
    }

    private sealed class RecordingTimeoutFeature : IHttpRequestTimeoutFeature
    {
        public CancellationToken RequestTimeoutToken => CancellationToken.None;

        public int DisableCalls { get; private set; }

        public void DisableTimeout() => DisableCalls++;
    }
}
