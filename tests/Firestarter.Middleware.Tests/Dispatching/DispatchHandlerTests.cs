using Microsoft.Extensions.DependencyInjection;
using System.Text;
using System.Text.Json;
using Firestarter.ColdStart;
using Firestarter.Confirmation;
using Firestarter.Dispatching;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Dispatching;

public partial class DispatchHandlerTests
{
    private static readonly MatchKey Key = new(DispatchBodies.Deployment, DispatchBodies.Version, DispatchBodies.Cpu, DispatchBodies.Memory);
    private static readonly byte[] Message = Encoding.UTF8.GetBytes(DispatchBodies.Message);

    private sealed class Harness : IDisposable
    {
        private readonly List<TestContext> _contexts = [];

        public Harness(FirestarterOptions? options = null)
        {
            var wrapped = Microsoft.Extensions.Options.Options.Create(options ?? new FirestarterOptions());
            Recorder = new MetricsRecorder(Pool);
            var coldStartOptions = Microsoft.Extensions.Options.Options.Create(wrapped.Value.ColdStart);
            var coldStart = new ColdStartHandler(coldStartOptions, new ColdStartForwarder(coldStartOptions, Time, NullLogger<ColdStartForwarder>.Instance));
            Confirmations = new ConfirmationRegistry(Time);
            Handler = new DispatchHandler(
                Pool, coldStart,
                new Firestarter.Security.DispatchAuthorization(Microsoft.Extensions.Options.Options.Create(wrapped.Value.Security), NullLogger<Firestarter.Security.DispatchAuthorization>.Instance),
                Recorder.Metrics, Confirmations, Time, wrapped, NullLogger<DispatchHandler>.Instance,
                new Firestarter.Cluster.ClusterFeature(Microsoft.Extensions.Options.Options.Create(wrapped.Value.Cluster), new ServiceCollection().BuildServiceProvider()));
        }

        public WarmPool Pool { get; } = new(SelectionOrder.NewestFirst);

        public FakeTimeProvider Time { get; } = new();

        public MetricsRecorder Recorder { get; }

        public ConfirmationRegistry Confirmations { get; }

        public DispatchHandler Handler { get; }

        public int NextCalls { get; private set; }

        public IReadOnlyList<string?> Outcomes(string instrument) => Recorder.CountedOutcomes(instrument);

        /// <summary>A controller's held poll, parked directly in the pool.</summary>
        public (TestContext Client, ParkedPoll Poll) ParkController(MatchKey key)
        {
            var client = Track(new TestContext());
            var poll = new ParkedPoll(key, client.Context, Time.GetTimestamp());
            Assert.True(Pool.TryPark(poll));
            return (client, poll);
        }

        public async Task<TestContext> DispatchAsync(byte[] body, bool declareLength = true)
        {
            var supervisor = Track(new TestContext());
            supervisor.Context.Request.Method = "POST";
            supervisor.Context.Request.Body = new MemoryStream(body);
            supervisor.Context.Request.ContentLength = declareLength ? body.Length : null;
            await Handler.HandleAsync(supervisor.Context, _ =>
            {
                NextCalls++;
                return Task.CompletedTask;
            }).WaitAsync(TimeSpan.FromSeconds(10));
            return supervisor;
        }

        public void Dispose()
        {
            foreach (var context in _contexts)
            {
                context.Dispose();
            }

            Recorder.Dispose();
        }

        private TestContext Track(TestContext context)
        {
            _contexts.Add(context);
            return context;
        }
    }

    private static string Answer(TestContext supervisor) => Encoding.UTF8.GetString(supervisor.ResponseBytes);

    [Fact]
    public async Task A_dispatch_with_no_waiting_controller_answers_not_warm_started()
    {
        using var harness = new Harness();

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal(200, supervisor.Context.Response.StatusCode);
        Assert.Equal("application/json", supervisor.Context.Response.ContentType);
        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.Equal(["cold"], harness.Outcomes("firestarter.dispatches"));
        Assert.Empty(harness.Outcomes("firestarter.handoffs"));
        Assert.Equal(0, harness.NextCalls);
    }

    [Fact]
    public async Task A_matching_controller_gets_the_message_byte_for_byte_and_the_dispatch_answers_warm_started()
    {
        using var harness = new Harness();
        var (client, poll) = harness.ParkController(Key);

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":true}""", Answer(supervisor));
        Assert.Equal(Message, client.ResponseBytes);
        Assert.Equal(PollOutcome.Matched, await poll.WaitAsync());
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(["delivered"], harness.Outcomes("firestarter.handoffs"));
        Assert.Equal(["warm"], harness.Outcomes("firestarter.dispatches"));
        Assert.Equal(0, harness.NextCalls);
    }

    [Fact]
    public async Task A_controller_that_left_unnoticed_is_skipped_and_the_next_one_gets_the_run()
    {
        using var harness = new Harness();
        var (waiting, waitingPoll) = harness.ParkController(Key);
        var (gone, gonePoll) = harness.ParkController(Key);
        // Newest first: the gone controller is claimed first, and found gone before anything is written.
        gone.ClientLeaves();

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":true}""", Answer(supervisor));
        Assert.Empty(gone.ResponseBytes);
        Assert.Equal(PollOutcome.Aborted, await gonePoll.WaitAsync());
        Assert.Equal(Message, waiting.ResponseBytes);
        Assert.Equal(PollOutcome.Matched, await waitingPoll.WaitAsync());
        Assert.Equal(["delivered", "gone_before_write"], harness.Outcomes("firestarter.handoffs")); // counts, in the counter's order
    }

    [Fact]
    public async Task When_every_matching_controller_has_left_the_dispatch_is_not_warm_started()
    {
        using var harness = new Harness();
        var (first, firstPoll) = harness.ParkController(Key);
        var (second, secondPoll) = harness.ParkController(Key);
        first.ClientLeaves();
        second.ClientLeaves();

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.Equal(PollOutcome.Aborted, await firstPoll.WaitAsync());
        Assert.Equal(PollOutcome.Aborted, await secondPoll.WaitAsync());
        Assert.Equal(["gone_before_write", "gone_before_write"], harness.Outcomes("firestarter.handoffs"));
        Assert.Equal(["cold"], harness.Outcomes("firestarter.dispatches"));
    }

    [Fact]
    public async Task A_controller_under_another_key_is_left_waiting()
    {
        using var harness = new Harness();
        var (client, poll) = harness.ParkController(new MatchKey(DispatchBodies.Deployment, DispatchBodies.Version, 1, 1));

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.True(poll.IsWaiting);
        Assert.Empty(client.ResponseBytes);
    }

    [Fact]
    public async Task A_bad_body_is_refused_with_the_readers_problem_and_disturbs_no_controller()
    {
        using var harness = new Harness();
        var (_, poll) = harness.ParkController(Key);

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.WithFields(cpu: "\"0.5\"")));

        Assert.Equal(400, supervisor.Context.Response.StatusCode);
        Assert.Equal("application/problem+json", supervisor.Context.Response.ContentType);
        using var problem = JsonDocument.Parse(supervisor.ResponseBytes);
        Assert.Equal("bad-body", problem.RootElement.GetProperty("code").GetString());
        Assert.Equal("'dequeuedMessage.run.machine.cpu' must be a JSON number.", problem.RootElement.GetProperty("detail").GetString());
        Assert.True(poll.IsWaiting);
        Assert.Equal(["rejected"], harness.Outcomes("firestarter.dispatches"));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413()
    {
        using var harness = new Harness(new FirestarterOptions { MaxDispatchBodySize = 1024 });
        var (_, poll) = harness.ParkController(Key);
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(DispatchBodies.Message.Insert(1, $"\"pad\":\"{new string('x', 2000)}\",")));

        var supervisor = await harness.DispatchAsync(body, declareLength: false);

        Assert.Equal(413, supervisor.Context.Response.StatusCode);
        Assert.True(poll.IsWaiting);
        Assert.Equal(["rejected"], harness.Outcomes("firestarter.dispatches"));
    }

    [Fact]
    public async Task With_warm_starts_off_a_dispatch_is_not_warm_started_even_with_a_controller_waiting()
    {
        using var harness = new Harness(new FirestarterOptions { Enabled = false });
        var (client, poll) = harness.ParkController(Key);

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.True(poll.IsWaiting);
        Assert.Empty(client.ResponseBytes);
    }

    [Fact]
    public async Task While_draining_a_dispatch_is_not_warm_started()
    {
        using var harness = new Harness();
        harness.Pool.BeginDrain();

        var supervisor = await harness.DispatchAsync(DispatchBodies.Utf8(DispatchBodies.Valid));

        Assert.Equal("""{"didWarmStart":false}""", Answer(supervisor));
        Assert.Equal(["cold"], harness.Outcomes("firestarter.dispatches"));
    }

    [Fact]
    public async Task A_supervisor_that_left_mid_body_gets_no_answer_and_no_controller_is_claimed()
    {
        using var harness = new Harness();
        var (_, poll) = harness.ParkController(Key);
        using var supervisor = new TestContext();
        supervisor.Context.Request.Body = new MemoryStream(DispatchBodies.Utf8(DispatchBodies.Valid));
        supervisor.ClientLeaves();

        await harness.Handler.HandleAsync(supervisor.Context, _ => Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Empty(supervisor.ResponseBytes);
        Assert.True(poll.IsWaiting);
        Assert.Empty(harness.Outcomes("firestarter.dispatches"));
    }
}
