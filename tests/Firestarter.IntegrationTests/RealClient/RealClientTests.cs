using System.Globalization;
using System.Text.RegularExpressions;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Firestarter.IntegrationTests.RealClient;

[CollectionDefinition(nameof(RealClientTests), DisableParallelization = true)]
public sealed class RealClientRunsAlone;

/// <summary>
/// Trigger.dev's own clients (<c>WarmStartClient</c> polling, <c>WorkloadHttpClient.startRunAttempt</c> starting)
/// against the real host, with the poll timeout compressed so that many polls reach their deadline within seconds.
/// </summary>
/// <remarks>Run alone: a node process with dozens of controllers and the broker share the machine's cores.</remarks>
[Collection(nameof(RealClientTests))]
public sealed class RealClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    /// <summary>A workload API that refuses every call without asking for a retry, as the engine refuses a second start.</summary>
    private static Task<StubBackend> StartWorkloadApiAsync() => StubBackend.StartAsync(async context =>
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.Headers["x-should-retry"] = "false";
        await context.Response.WriteAsJsonAsync(new { error = "test workload API" });
    });

    private static BrokerFactory Broker(StubBackend workloadApi, string connectionTimeout, params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = workloadApi.Address.ToString(),
            ["Firestarter:ConnectionTimeout"] = connectionTimeout,
            ["Firestarter:Keepalive"] = "00:05:00",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return new BrokerFactory(all);
    }

    [Fact]
    public async Task Churn_at_a_compressed_timeout_loses_no_run_runs_none_twice_and_stays_warm()
    {
        await using var workloadApi = await StartWorkloadApiAsync();
        // Polls time out every half second, so many reach their deadline within the test; the default guard window,
        // half of that, is longer than a busy machine's node event loop runs late (see bench/RESULTS.md).
        await using var broker = Broker(workloadApi, "00:00:00.5");
        var address = broker.Start();

        var summary = await TriggerClient.ChurnAsync(address, new Dictionary<string, object>
        {
            ["controllers"] = 30, ["deployments"] = 15, ["dispatchers"] = 4, ["durationMs"] = 3000, ["startAttempts"] = false,
        }, Limit);
        output.WriteLine(summary.ToString());

        var dispatched = summary.GetProperty("dispatched").GetInt32();
        Assert.True(dispatched >= 100, $"too few dispatches to mean anything: {summary}");
        Assert.Equal(0, summary.GetProperty("errors").GetInt32());
        Assert.Equal(0, summary.GetProperty("lost").GetInt32());
        Assert.Equal(0, summary.GetProperty("duplicated").GetInt32());
        Assert.Equal(0, summary.GetProperty("falseYetReceived").GetInt32());
        Assert.True(summary.GetProperty("warmRatio").GetDouble() >= 0.95, $"nearly every dispatch should stay warm: {summary}");

        // The guard was exercised: dispatches met polls near their deadline and passed them over.
        using var client = new HttpClient { BaseAddress = address };
        var metrics = await client.GetStringAsync("/metrics");
        Assert.True(Counter(metrics, "firestarter_polls_guard_skipped_total") > 0, $"no poll was ever in its guard window: {summary}");
    }

    [Fact]
    public async Task With_confirmation_no_run_whose_controller_died_before_starting_it_is_answered_true()
    {
        await using var workloadApi = await StartWorkloadApiAsync();
        await using var broker = Broker(
            workloadApi, "00:00:00.2", ("Firestarter:Confirmation:Enabled", "true"), ("Firestarter:Confirmation:Timeout", "00:00:02"));
        var address = broker.Start();

        var summary = await TriggerClient.ChurnAsync(address, new Dictionary<string, object>
        {
            // A dispatch whose controller died waits out the timeout, so more dispatchers keep runs flowing meanwhile.
            ["controllers"] = 30, ["deployments"] = 15, ["dispatchers"] = 8, ["durationMs"] = 3000, ["startAttempts"] = true, ["dieFraction"] = 0.1,
        }, Limit);
        output.WriteLine(summary.ToString());

        Assert.True(summary.GetProperty("died").GetInt32() > 0, $"no controller died holding a run: {summary}");
        Assert.True(summary.GetProperty("started").GetInt32() >= 20, $"too few runs started to mean anything: {summary}");
        Assert.Equal(0, summary.GetProperty("errors").GetInt32());
        Assert.Equal(0, summary.GetProperty("diedAnsweredTrue").GetInt32());
        Assert.Equal(0, summary.GetProperty("startedAnsweredFalse").GetInt32());
        Assert.Equal(0, summary.GetProperty("trueNotStarted").GetInt32());
        Assert.Equal(0, summary.GetProperty("duplicated").GetInt32());

        // Every start went on to the workload API unchanged.
        var starts = workloadApi.Requests.Count(r => r.PathAndQuery.EndsWith("/attempts/start", StringComparison.Ordinal));
        Assert.Equal(summary.GetProperty("started").GetInt32(), starts);
    }

    private static double Counter(string prometheus, string name)
    {
        var total = 0.0;
        foreach (Match match in Regex.Matches(prometheus, $@"^{name}(?:\{{[^}}]*\}})? ([0-9.eE+-]+)$", RegexOptions.Multiline))
        {
            total += double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return total;
    }
}
