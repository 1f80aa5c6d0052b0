using System.Diagnostics;
using System.Net;
using System.Text;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>Forward mode: a dispatch no controller takes goes to the cold-start cluster, guarded by Polly.</summary>
public sealed class ColdStartForwardTests
{
    private static BrokerFactory ForwardingBroker(Uri coldStart, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Firestarter:ColdStart:Mode"] = "Forward",
            ["Firestarter:ColdStart:Timeout"] = "00:00:02",
            ["Firestarter:ColdStart:RetryDelay"] = "00:00:00.010",
            ["ReverseProxy:Clusters:cold-start:Destinations:cold-start-1:Address"] = new Uri(coldStart, "cold-start/").ToString(),
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return new BrokerFactory(settings);
    }

    private static HttpClient ClientFor(BrokerFactory broker) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = broker.Start() };

    [Fact]
    public async Task An_unmatched_dispatch_is_forwarded_byte_for_byte_and_the_backend_answer_relayed()
    {
        await using var backend = await StubBackend.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"didWarmStart":true,"by":"cold-start-backend"}""");
        });
        await using var broker = ForwardingBroker(backend.Address);
        using var client = ClientFor(broker);
        var body = DispatchBody(Message(Key.Default, "run_forwarded"));

        using var response = await client.SendAsync(Dispatch(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"didWarmStart":true,"by":"cold-start-backend"}""", await response.Content.ReadAsStringAsync());
        var forwarded = Assert.Single(backend.Requests);
        Assert.Equal("POST", forwarded.Method);
        Assert.Equal("/cold-start/warm-start", forwarded.PathAndQuery);
        Assert.Equal(Encoding.UTF8.GetBytes(body), forwarded.Body);
    }

    [Fact]
    public async Task A_matched_dispatch_is_warm_started_and_never_forwarded()
    {
        await using var backend = await StubBackend.StartAsync(context => Task.CompletedTask);
        await using var broker = ForwardingBroker(backend.Address);
        using var client = ClientFor(broker);
        var poll = client.SendAsync(Poll(Key.Default));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        Assert.True(await DispatchAsync(client, Key.Default, "run_warm"));
        using var delivered = await poll;
        Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task A_backend_that_refuses_connections_yields_false_quickly()
    {
        await using var broker = ForwardingBroker(StubBackend.RefusingAddress());
        using var client = ClientFor(broker);

        var clock = Stopwatch.StartNew();
        Assert.False(await DispatchAsync(client, Key.Default, "run_down"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_slow_backend_yields_false_within_the_timeout_and_is_not_retried()
    {
        using var release = new CancellationTokenSource();
        await using var backend = await StubBackend.StartAsync(async context =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, release.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using var broker = ForwardingBroker(backend.Address, new() { ["Firestarter:ColdStart:Timeout"] = "00:00:00.300" });
        using var client = ClientFor(broker);

        var clock = Stopwatch.StartNew();
        Assert.False(await DispatchAsync(client, Key.Default, "run_slow"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        await release.CancelAsync();
        // Never twice: the forward may have reached the backend. (On a loaded machine the timeout can even end
        // the forward before the backend has read the request, so none is allowed too.)
        Assert.InRange(backend.Requests.Count, 0, 1);
    }

    [Theory]
    [InlineData(StatusCodes.Status500InternalServerError)]
    [InlineData(StatusCodes.Status503ServiceUnavailable)]
    [InlineData(StatusCodes.Status400BadRequest)]
    public async Task A_backend_answering_non_2xx_yields_false_and_is_not_retried(int status)
    {
        await using var backend = await StubBackend.StartAsync(context =>
        {
            context.Response.StatusCode = status;
            return context.Response.WriteAsync("nope");
        });
        await using var broker = ForwardingBroker(backend.Address);
        using var client = ClientFor(broker);

        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(Key.Default, "run_5xx"))));

        Assert.False(await ReadDidWarmStartAsync(response));
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task A_backend_that_reads_the_request_then_resets_before_answering_gets_exactly_one_attempt()
    {
        // The request may have been acted on: forwarding it again could start the run twice.
        await using var backend = await StubBackend.StartAsync(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });
        await using var broker = ForwardingBroker(backend.Address, new() { ["Firestarter:ColdStart:MaxRetryAttempts"] = "3" });
        using var client = ClientFor(broker);

        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(Key.Default, "run_read_then_reset"))));

        Assert.False(await ReadDidWarmStartAsync(response));
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task A_backend_that_resets_mid_answer_yields_false_and_is_not_retried()
    {
        await using var backend = await StubBackend.StartAsync(async context =>
        {
            context.Response.ContentLength = 100;
            await context.Response.WriteAsync("{\"didWarm");
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        await using var broker = ForwardingBroker(backend.Address);
        using var client = ClientFor(broker);

        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(Key.Default, "run_reset"))));

        Assert.False(await ReadDidWarmStartAsync(response));
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task After_repeated_failures_the_circuit_opens_and_dispatches_are_answered_without_forwarding()
    {
        await using var backend = await StubBackend.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        });
        await using var broker = ForwardingBroker(backend.Address, new()
        {
            ["Firestarter:ColdStart:MinimumThroughput"] = "3",
            ["Firestarter:ColdStart:FailureRatio"] = "0.5",
            ["Firestarter:ColdStart:BreakDuration"] = "00:05:00",
        });
        using var client = ClientFor(broker);

        for (var i = 0; i < 3; i++)
        {
            Assert.False(await DispatchAsync(client, Key.Default, $"run_fail_{i}"));
        }

        Assert.Equal(3, backend.Requests.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.False(await DispatchAsync(client, Key.Default, $"run_open_{i}"));
        }

        Assert.Equal(3, backend.Requests.Count);
    }
}
