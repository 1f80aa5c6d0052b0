using System.Diagnostics;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Firestarter.IntegrationTests.Operations;

/// <summary>Forwarded requests keep the caller's trace, with and without OpenTelemetry tracing switched on.</summary>
public sealed class TracingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forwarded_requests_carry_the_callers_trace_id(bool otlp)
    {
        await using var backend = await StubBackend.StartAsync(context => context.Response.WriteAsync("ok"));
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = backend.Address.ToString(),
        };
        if (otlp)
        {
            // Tracing on, exporting to nowhere: export failures must not touch forwarding.
            settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = StubBackend.RefusingAddress().ToString();
        }

        await using var broker = new BrokerFactory(settings);
        using var client = new HttpClient { BaseAddress = broker.Start() };
        var traceId = ActivityTraceId.CreateRandom();
        var traceparent = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/anything");
        request.Headers.Add("traceparent", traceparent);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();

        var forwarded = backend.Requests.Single(r => r.PathAndQuery == "/api/v1/anything");
        Assert.True(forwarded.Headers.TryGetValue("traceparent", out var received), "the forwarded request has no traceparent");
        Assert.Equal(traceId.ToString(), received.Split('-')[1]);
    }
}

/// <summary>With tracing on, a parked poll leaves no span, found by its route's metadata wherever the route is.</summary>
public sealed class PollSpanTests
{
    [Fact]
    public async Task A_polls_span_is_dropped_and_a_dispatchs_kept_on_routes_moved_by_configuration()
    {
        var recorded = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "Microsoft.AspNetCore.Hosting.HttpRequestIn")
                {
                    recorded[activity.TraceId.ToString()] = activity.Recorded;
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = StubBackend.RefusingAddress().ToString(),
            ["ReverseProxy:Routes:warm-start-poll:Match:Path"] = "/traced-test/held",
            ["ReverseProxy:Routes:warm-start-dispatch:Match:Path"] = "/traced-test/dispatch",
        });
        using var client = new HttpClient { BaseAddress = broker.Start() };
        var key = Key.Default with { Deployment = "deployment_traced" };

        var pollTrace = ActivityTraceId.CreateRandom();
        var dispatchTrace = ActivityTraceId.CreateRandom();
        var poll = WarmStart.Poll(key);
        poll.RequestUri = new Uri("/traced-test/held", UriKind.Relative);
        poll.Headers.Add("traceparent", $"00-{pollTrace}-{ActivitySpanId.CreateRandom()}-01");
        var parked = client.SendAsync(poll);
        await WarmStart.EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");
        using var dispatch = WarmStart.Dispatch(WarmStart.DispatchBody(WarmStart.Message(key, "run_traced")));
        dispatch.RequestUri = new Uri("/traced-test/dispatch", UriKind.Relative);
        dispatch.Headers.Add("traceparent", $"00-{dispatchTrace}-{ActivitySpanId.CreateRandom()}-01");
        using var dispatched = await client.SendAsync(dispatch);
        Assert.True(await WarmStart.ReadDidWarmStartAsync(dispatched));
        using var delivered = await parked;
        await WarmStart.EventuallyAsync(
            () => recorded.ContainsKey(pollTrace.ToString()) && recorded.ContainsKey(dispatchTrace.ToString()), "both requests' spans ended");

        Assert.False(recorded[pollTrace.ToString()]);
        Assert.True(recorded[dispatchTrace.ToString()]);
    }
}
