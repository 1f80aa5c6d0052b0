using System.IO.Pipelines;
using System.Text;
using Firestarter.Diagnostics;
using Firestarter.Dispatching;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;
using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.Tests.Dispatching;

public class HandoffTests
{
    private static readonly MatchKey Key = new("deployment_abc", "20240101.1", 0.5, 1);
    private static readonly byte[] Run = Encoding.UTF8.GetBytes("{\n  \"run\": {\"friendlyId\": \"run_1\", \"note\": \"é🚀\"}\n}");

    /// <summary>Parks a poll for the context and claims it, as a dispatch would before handing off.</summary>
    private static ParkedPoll Claimed(TestContext client)
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        Assert.True(pool.TryPark(new ParkedPoll(Key, client.Context, 0)));
        return pool.TryClaim(Key)!;
    }

    private static async Task<PollOutcome> OutcomeOf(ParkedPoll poll)
    {
        Assert.True(PollPeek.IsCompleted(poll), "the handoff must complete the poll before it returns");
        return await poll.WaitAsync();
    }

    [Fact]
    public async Task A_live_controller_gets_the_run_as_a_complete_json_response()
    {
        using var client = new TestContext();
        var poll = Claimed(client);

        var result = await Handoff.WriteRunAsync(poll, Run);

        Assert.Equal(HandoffOutcome.Delivered, result);
        Assert.Equal(200, client.Context.Response.StatusCode);
        Assert.Equal("application/json", client.Context.Response.ContentType);
        Assert.Equal(Run.Length, client.Context.Response.ContentLength);
        Assert.Equal(Run, client.ResponseBytes);
        Assert.Equal(PollOutcome.Matched, await OutcomeOf(poll));
    }

    [Fact]
    public async Task Only_the_given_slice_is_written()
    {
        using var client = new TestContext();
        var poll = Claimed(client);
        var body = Encoding.UTF8.GetBytes("""{"dequeuedMessage":{"a":1},"b":2}""");

        await Handoff.WriteRunAsync(poll, body.AsMemory(19, 7));

        Assert.Equal("""{"a":1}""", Encoding.UTF8.GetString(client.ResponseBytes));
        Assert.Equal(7, client.Context.Response.ContentLength);
    }

    [Fact]
    public async Task A_controller_that_left_before_the_write_gets_nothing_and_the_poll_ends_gone()
    {
        using var client = new TestContext();
        var poll = Claimed(client);
        client.ClientLeaves();

        var result = await Handoff.WriteRunAsync(poll, Run);

        Assert.Equal(HandoffOutcome.GoneBeforeWrite, result);
        Assert.Empty(client.ResponseBytes);
        Assert.False(client.Context.Response.HasStarted);
        Assert.Null(client.Context.Response.ContentType);
        Assert.Null(client.Context.Response.ContentLength);
        Assert.Equal(PollOutcome.Aborted, await OutcomeOf(poll));
    }

    [Fact]
    public async Task A_controller_that_leaves_during_the_write_counts_as_delivered_as_it_may_have_the_run()
    {
        TestContext? client = null;
        using var stream = new ScriptedStream(onWrite: () => client!.ClientLeaves());
        client = new TestContext(stream);
        using var _ = client;
        var poll = Claimed(client);

        var result = await Handoff.WriteRunAsync(poll, Run);

        Assert.Equal(HandoffOutcome.DeliveredAsClientLeft, result);
        Assert.Equal(Run, stream.ToArray());
        // The run may have reached the controller: it must not be offered again, so the poll counts as delivered.
        Assert.Equal(PollOutcome.Matched, await OutcomeOf(poll));
    }

    [Theory]
    [InlineData("io")]
    [InlineData("canceled")]
    [InlineData("invalid")]
    public async Task A_write_the_server_refuses_is_refused_and_the_poll_ends_gone(string failure)
    {
        Exception error = failure switch
        {
            "io" => new IOException("connection reset"),
            "canceled" => new OperationCanceledException(),
            _ => new InvalidOperationException("response already completed"),
        };
        using var stream = new ScriptedStream(failWith: error);
        using var client = new TestContext(stream);
        var poll = Claimed(client);

        var result = await Handoff.WriteRunAsync(poll, Run);

        Assert.Equal(HandoffOutcome.Refused, result);
        Assert.Equal(PollOutcome.Aborted, await OutcomeOf(poll));
    }

    [Fact]
    public async Task A_write_the_server_dropped_as_it_had_completed_the_output_is_refused_and_the_poll_ends_gone()
    {
        // Kestrel answers a write with a completed result once it has completed the connection's output (as it does
        // when it aborts the connection, before it closes the socket): nothing of the run went out.
        var output = new Pipe();
        await output.Reader.CompleteAsync();
        using var client = new TestContext();
        client.Context.Features.Set<IHttpResponseBodyFeature>(new PipeResponseBody(output.Writer));
        var poll = Claimed(client);

        var result = await Handoff.WriteRunAsync(poll, Run);

        Assert.Equal(HandoffOutcome.Refused, result);
        Assert.Equal(PollOutcome.Aborted, await OutcomeOf(poll));
    }

    [Fact]
    public async Task An_unexpected_write_failure_is_not_swallowed()
    {
        using var stream = new ScriptedStream(failWith: new NotSupportedException("boom"));
        using var client = new TestContext(stream);
        var poll = Claimed(client);

        await Assert.ThrowsAsync<NotSupportedException>(async () => await Handoff.WriteRunAsync(poll, Run));
    }

    private sealed class PipeResponseBody(PipeWriter writer) : IHttpResponseBodyFeature
    {
        public Stream Stream => writer.AsStream();

        public PipeWriter Writer => writer;

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task CompleteAsync() => writer.CompleteAsync().AsTask();
    }
}
