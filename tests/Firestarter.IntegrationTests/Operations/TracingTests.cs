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
