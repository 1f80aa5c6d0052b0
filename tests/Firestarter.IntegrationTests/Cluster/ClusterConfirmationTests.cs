using System.Net;
using System.Text;
using Firestarter.Cluster;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Cluster;

/// <summary>
/// Confirmation across instances: the dispatch waits on the instance that handed the run out, while the controller's
/// <c>attempts/start</c> may reach any instance; it is relayed there through the cluster's Redis.
/// </summary>
public sealed class ClusterConfirmationTests
{
    private static readonly Key Key = new("deployment_cluster_confirm", "20261207.1", "0.5", "1");

    private static HttpRequestMessage Start(string run, string snapshot) =>
        new(HttpMethod.Post, $"/api/v1/workload-actions/runs/{run}/snapshots/{snapshot}/attempts/start")
        {
            Content = new StringContent("""{"isWarmStart":true}""", Encoding.UTF8, "application/json"),
        };

    private static async Task<(BrokerCluster Cluster, StubBackend WorkloadApi)> StartAsync()
    {
        var workloadApi = await StubBackend.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            await context.Response.WriteAsync("""{"from":"workload-api"}""");
        });
        var cluster = await BrokerCluster.StartAsync(3, new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = workloadApi.Address.ToString(),
            ["Firestarter:Confirmation:Enabled"] = "true",
            ["Firestarter:Confirmation:Timeout"] = "00:00:01",
        });
        return (cluster, workloadApi);
    }

    [Fact]
    public async Task A_start_seen_by_a_third_instance_releases_the_handed_on_dispatch_through_redis()
    {
        var (cluster, workloadApi) = await StartAsync();
        await using var _ = cluster;
        await using var __ = workloadApi;
        var (a, b, c) = (cluster.Brokers[0], cluster.Brokers[1], cluster.Brokers[2]);
        using var controllerOnB = new HttpClient { BaseAddress = b.Start() };
        using var supervisorOnA = new HttpClient { BaseAddress = a.Start() };
        using var workloadViaC = new HttpClient { BaseAddress = c.Start() };

        var poll = controllerOnB.SendAsync(Poll(Key));
        await EventuallyAsync(() => b.Pool.ParkedCount == 1, "the controller is parked on B");
        await cluster.WaitUntilPublishedAsync();

        var dispatch = DispatchAsync(supervisorOnA, Key, "run_across");
        using (var delivered = await poll)
        {
            Assert.Equal("run_across", RunIdOf(await delivered.Content.ReadAsStringAsync()));
        }

        // B waits for the start; it reaches C, which has no dispatch waiting for it.
        Assert.False(dispatch.IsCompleted);
        using (var started = await workloadViaC.SendAsync(Start("run_across", "snapshot_run_across")))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        }

        Assert.True(await dispatch);
        Assert.Equal(1, BrokerCluster.Feature(a).Metrics!.HandOnCount(HandOnOutcome.Warm));
        Assert.Single(workloadApi.Requests, r => r.PathAndQuery.EndsWith("/attempts/start", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_handed_out_on_another_instance_and_never_started_is_answered_false_and_offered_nowhere_else()
    {
        var (cluster, workloadApi) = await StartAsync();
        await using var _ = cluster;
        await using var __ = workloadApi;
        var (a, b, c) = (cluster.Brokers[0], cluster.Brokers[1], cluster.Brokers[2]);
        using var controllerOnB = new HttpClient { BaseAddress = b.Start() };
        using var controllerOnC = new HttpClient { BaseAddress = c.Start() };
        using var supervisorOnA = new HttpClient { BaseAddress = a.Start() };
        using var workloadViaA = new HttpClient { BaseAddress = a.Start() };

        // Two controllers for the key, on B and on C: whichever takes the run dies without starting it.
        var polls = new[] { controllerOnB.SendAsync(Poll(Key, "controller_b")), controllerOnC.SendAsync(Poll(Key, "controller_c")) };
        await EventuallyAsync(() => b.Pool.ParkedCount == 1 && c.Pool.ParkedCount == 1, "a controller is parked on B and on C");
        await cluster.WaitUntilPublishedAsync();

        var dispatch = DispatchAsync(supervisorOnA, Key, "run_never_started");
        var taken = await Task.WhenAny(polls);
        using (var delivered = await taken)
        {
            Assert.Equal("run_never_started", RunIdOf(await delivered.Content.ReadAsStringAsync()));
        }

        // A start for another snapshot of the run, seen by A, confirms nothing.
        using (var forged = await workloadViaA.SendAsync(Start("run_never_started", "snapshot_other")))
        {
            Assert.Equal(HttpStatusCode.OK, forged.StatusCode);
        }

        Assert.False(await dispatch);
        // The run may sit with that controller: its fate is unknown to A, which offered it to nobody else.
        Assert.Equal(1, BrokerCluster.Feature(a).Metrics!.HandOnCount(HandOnOutcome.Unknown));
        var other = polls.Single(p => p != taken);
        Assert.False(other.IsCompleted);
        Assert.Equal(1, b.Pool.ParkedCount + c.Pool.ParkedCount);
    }
}
