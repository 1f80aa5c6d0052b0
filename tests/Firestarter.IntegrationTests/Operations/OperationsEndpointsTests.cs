using System.Net;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Operations;

/// <summary>The admin endpoints on the default configuration (same listener, no key): metrics, health, status.</summary>
public sealed class OperationsEndpointsTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private static Key NewKey(string deployment) => new($"{deployment}_{Guid.NewGuid():N}", "20261126.1", "0.5", "1");

    /// <summary>Parks <paramref name="count"/> controllers under <paramref name="key"/>; returns their polls.</summary>
    private async Task<List<Task<HttpResponseMessage>>> ParkAsync(HttpClient client, Key key, int count)
    {
        var before = fixture.Broker.Pool.ParkedCount;
        var polls = Enumerable.Range(0, count).Select(i => client.SendAsync(Poll(key, $"controller_{i}"))).ToList();
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment && pair.Value == count), $"{count} polls are parked");
        return polls;
    }

    [Fact]
    public async Task Metrics_endpoint_serves_the_broker_instruments_in_prometheus_text()
    {
        using var client = fixture.CreateClient();
        var key = NewKey("metrics");
        var polls = await ParkAsync(client, key, 2);
        Assert.True(await DispatchAsync(client, key, "run_metrics_warm"));
        Assert.False(await DispatchAsync(client, NewKey("metrics_nobody"), "run_metrics_cold"));
        using (var connect = await client.GetAsync("/connect"))
        {
            Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
        }

        using var response = await client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        foreach (var expected in (string[])
        [
            "firestarter_dispatches_total{", "outcome=\"warm\"", "outcome=\"cold\"",
            "firestarter_polls_total{", "outcome=\"matched\"",
            "firestarter_dispatch_duration_seconds_bucket{",
            "firestarter_poll_wait_time_seconds_bucket{",
            "firestarter_handoffs_total{",
            "firestarter_controllers_parked ",
            "firestarter_controllers_parked_by_deployment{",
            "firestarter_draining ",
            "http_server_request_duration_seconds_bucket{",
        ])
        {
            Assert.True(text.Contains(expected, StringComparison.Ordinal), $"/metrics lacks {expected}:\n{text}");
        }

        Assert.Contains($"deployment=\"{key.Deployment}\"", text, StringComparison.Ordinal);
        // Polls and dispatches have their own durations; a held poll would swamp ASP.NET Core's request duration.
        Assert.Contains("http_route=\"/connect\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http_route=\"/warm-start\"", text, StringComparison.Ordinal);
        // Not exported: every held poll would count as an active request (Telemetry.IsDropped).
        Assert.DoesNotContain("http_server_active_requests", text, StringComparison.Ordinal);
        foreach (var poll in polls.Where(p => !p.IsCompleted))
        {
            Assert.True(await DispatchAsync(client, key, "run_metrics_release"));
        }

        await Task.WhenAll(polls);
    }

    [Fact]
    public async Task Liveness_and_readiness_answer_200_while_serving()
    {
        using var client = fixture.CreateClient();
        using var live = await client.GetAsync("/healthz");
        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Status_reports_parked_controllers_recent_dispatches_and_configuration_without_secrets()
    {
        using var client = fixture.CreateClient();
        var busy = NewKey("status_busy");
        var quiet = NewKey("status_quiet");
        var busyPolls = await ParkAsync(client, busy, 3);
        var quietPolls = await ParkAsync(client, quiet, 1);

        using var before = JsonDocument.Parse(await client.GetStringAsync("/firestarter/status"));
        var warmBefore = before.RootElement.GetProperty("dispatches").GetProperty("1m").GetProperty("warm").GetInt64();
        var coldBefore = before.RootElement.GetProperty("dispatches").GetProperty("1m").GetProperty("cold").GetInt64();

        Assert.True(await DispatchAsync(client, busy, "run_status_warm"));
        Assert.False(await DispatchAsync(client, NewKey("status_nobody"), "run_status_cold"));

        using var response = await client.GetAsync("/firestarter/status");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = status.RootElement;
        Assert.False(root.GetProperty("draining").GetBoolean());
        Assert.True(root.GetProperty("uptimeSeconds").GetDouble() >= 0);
        var parked = root.GetProperty("parked");
        Assert.True(parked.GetProperty("total").GetInt32() >= 3);
        var deployments = parked.GetProperty("byDeployment").EnumerateArray()
            .ToDictionary(d => d.GetProperty("deployment").GetString()!, d => d.GetProperty("count").GetInt32());
        Assert.Equal(2, deployments[busy.Deployment]);
        Assert.Equal(1, deployments[quiet.Deployment]);
        var busyKey = parked.GetProperty("byKey").EnumerateArray().Single(k => k.GetProperty("deployment").GetString() == busy.Deployment);
        Assert.Equal("20261126.1", busyKey.GetProperty("version").GetString());
        Assert.Equal(0.5, busyKey.GetProperty("cpu").GetDouble());
        Assert.Equal(2, busyKey.GetProperty("count").GetInt32());

        foreach (var window in (string[])["1m", "5m", "15m"])
        {
            var summary = root.GetProperty("dispatches").GetProperty(window);
            Assert.True(summary.GetProperty("warm").GetInt64() >= 1, window);
            Assert.True(summary.GetProperty("p99Ms").GetDouble() > 0, window);
            var hitRate = summary.GetProperty("hitRate").GetDouble();
            Assert.InRange(hitRate, 0, 1);
        }

        var oneMinute = root.GetProperty("dispatches").GetProperty("1m");
        Assert.Equal(warmBefore + 1, oneMinute.GetProperty("warm").GetInt64());
        Assert.Equal(coldBefore + 1, oneMinute.GetProperty("cold").GetInt64());
        var series = root.GetProperty("series");
        Assert.Equal(90, series.GetProperty("warm").GetArrayLength());
        Assert.True(series.GetProperty("warm").EnumerateArray().Sum(v => v.GetInt64()) >= 1);

        var configuration = root.GetProperty("configuration");
        Assert.Equal("Respond", configuration.GetProperty("coldStart").GetProperty("mode").GetString());
        Assert.False(configuration.GetProperty("operations").GetProperty("apiKeyRequired").GetBoolean());

        foreach (var _ in Enumerable.Range(0, 2))
        {
            Assert.True(await DispatchAsync(client, busy, "run_status_release"));
        }

        Assert.True(await DispatchAsync(client, quiet, "run_status_release_quiet"));
        await Task.WhenAll(busyPolls.Concat(quietPolls));
    }

    [Theory]
    [InlineData("/firestarter", "text/html")]
    [InlineData("/firestarter/page.css", "text/css")]
    [InlineData("/firestarter/page.js", "text/javascript")]
    public async Task Status_page_files_are_served_from_the_library_with_content_type_and_etag(string path, string mediaType)
    {
        using var client = fixture.CreateClient();
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.ETag);
        Assert.True(response.Headers.CacheControl?.NoCache);

        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag);
        using var revalidated = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }
}
