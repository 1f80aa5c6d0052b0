using System.Net;
using System.Text.Json;
using Firestarter.Cluster;
using Firestarter.IntegrationTests.Infrastructure;
using Firestarter.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Cluster;

/// <summary>Who may hand a dispatch on, and what a draining instance does to the directory.</summary>
public sealed class ClusterSecurityAndDrainTests
{
    private const string DispatchKey = "dispatch-key-for-the-cluster-tests";

    private static HttpRequestMessage Hop(string body, string? authorization, string? proof)
    {
        var request = Dispatch(body);
        request.Headers.Add(ClusterDispatch.HopHeader, "some_instance");
        if (authorization is not null)
        {
            request.Headers.Add("Authorization", authorization);
        }

        if (proof is not null)
        {
            request.Headers.Add(ClusterDispatch.ProofHeader, proof);
        }

        return request;
    }

    [Fact]
    public async Task A_handed_on_dispatch_is_refused_without_a_dispatch_key_or_without_the_clusters_proof_and_matched_locally_only_with_both()
    {
        await using var cluster = await BrokerCluster.StartAsync(2, new Dictionary<string, string?> { ["Firestarter:Security:DispatchApiKeys:0"] = DispatchKey });
        using var a = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };
        using var b = new HttpClient { BaseAddress = cluster.Brokers[1].Start() };
        var key = new Key("deployment_secure", "1", "1", "1");
        var poll = a.SendAsync(Poll(key));
        await EventuallyAsync(() => cluster.Brokers[0].Pool.ParkedCount == 1, "the controller is parked");
        var proof = BrokerCluster.Connection(cluster.Brokers[0]).Proof;
        Assert.NotNull(proof);
        var body = DispatchBody(Message(key, "run_secure"));

        using (var noKey = await a.SendAsync(Hop(body, authorization: null, proof)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        }

        using (var noProof = await a.SendAsync(Hop(body, $"Bearer {DispatchKey}", proof: null)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, noProof.StatusCode);
            Assert.Contains("not-from-cluster", await noProof.Content.ReadAsStringAsync());
        }

        using (var wrongProof = await a.SendAsync(Hop(body, $"Bearer {DispatchKey}", proof + "x")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, wrongProof.StatusCode);
        }

        Assert.False(poll.IsCompleted);
        Assert.Equal(1, cluster.Brokers[0].Pool.ParkedCount);

        // Authorized and proven: matched locally. A miss here answers false and is never handed on or cold-started.
        using (var miss = await b.SendAsync(Hop(DispatchBody(Message(key with { Deployment = "deployment_nobody" }, "run_miss")), $"Bearer {DispatchKey}", proof)))
        {
            Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
            Assert.Equal("""{"didWarmStart":false}""", await miss.Content.ReadAsStringAsync());
        }

        using (var hop = await a.SendAsync(Hop(body, $"Bearer {DispatchKey}", proof)))
        {
            Assert.True(await ReadDidWarmStartAsync(hop));
        }

        using var delivered = await poll;
        Assert.Equal("run_secure", RunIdOf(await delivered.Content.ReadAsStringAsync()));
        Assert.Equal(2, BrokerCluster.Feature(cluster.Brokers[0]).Metrics!.HopCount(HopOutcome.Refused));
    }

    [Fact]
    public async Task A_supervisor_without_a_dispatch_key_is_refused_before_any_hand_on()
    {
        await using var cluster = await BrokerCluster.StartAsync(2, new Dictionary<string, string?> { ["Firestarter:Security:DispatchApiKeys:0"] = DispatchKey });
        using var a = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };
        using var b = new HttpClient { BaseAddress = cluster.Brokers[1].Start() };
        var key = new Key("deployment_keyed", "1", "1", "1");
        var poll = a.SendAsync(Poll(key));
        await EventuallyAsync(() => cluster.Brokers[0].Pool.ParkedCount == 1, "the controller is parked");
        await cluster.WaitUntilPublishedAsync();

        using var refused = await b.SendAsync(Dispatch(DispatchBody(Message(key, "run_unkeyed"))));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // The supervisor's key travels with the hand-on, and the other instance accepts it.
        using var keyed = Dispatch(DispatchBody(Message(key, "run_keyed")));
        keyed.Headers.Add("Authorization", $"Bearer {DispatchKey}");
        using var answer = await b.SendAsync(keyed);
        Assert.True(await ReadDidWarmStartAsync(answer));
        using var delivered = await poll;
        Assert.Equal("run_keyed", RunIdOf(await delivered.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_draining_instance_withdraws_its_entries_and_lease_at_once_and_its_status_shows_the_cluster_before()
    {
        await using var cluster = await BrokerCluster.StartAsync(2);
        var draining = cluster.Brokers[0];
        using var a = new HttpClient { BaseAddress = draining.Start() };
        using var b = new HttpClient { BaseAddress = cluster.Brokers[1].Start() };
        var key = new Key("deployment_drain", "1", "1", "1");
        var matchKey = new MatchKey(key.Deployment, key.Version, 1, 1);
        var poll = a.SendAsync(Poll(key));
        await EventuallyAsync(() => draining.Pool.ParkedCount == 1, "the controller is parked");
        await cluster.WaitUntilPublishedAsync();
        var id = BrokerCluster.Connection(draining).InstanceId;
        Assert.Contains(id, await cluster.ListedAsync(matchKey, draining));

        // The other instance's status lists both, with the parked count of each as of its last heartbeat.
        await EventuallyAsync(() =>
        {
            using var status = JsonDocument.Parse(b.GetStringAsync("/firestarter/status").GetAwaiter().GetResult());
            var json = status.RootElement.GetProperty("cluster");
            var instances = json.GetProperty("instances").EnumerateArray().ToList();
            return json.GetProperty("connected").GetBoolean() && instances.Count == 2
                && instances.Any(i => i.GetProperty("id").GetString() == id && i.GetProperty("parked").GetInt64() == 1 && !i.GetProperty("self").GetBoolean());
        }, "the other instance's status shows this one with its controller");

        using (var status = JsonDocument.Parse(await b.GetStringAsync("/firestarter/status")))
        {
            // The configuration summary names the Redis and the timings, never a password or the secret.
            var configuration = status.RootElement.GetProperty("configuration").GetProperty("cluster");
            Assert.True(configuration.GetProperty("enabled").GetBoolean());
            Assert.Equal(cluster.Redis.Configuration, configuration.GetProperty("redis").GetString());
            Assert.Equal("00:00:01", configuration.GetProperty("leaseDuration").GetString());
        }

        var keys = BrokerCluster.Connection(draining).Keys;
        draining.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        // Well within the lease (one second here): the entry and the lease are gone because the instance withdrew them.
        var stopped = DateTime.UtcNow;
        await EventuallyAsync(() => !cluster.Database.SetContains(keys.Entry(matchKey), id) && !cluster.Database.KeyExists(keys.Lease(id)),
            "the draining instance's entry and lease are gone", TimeSpan.FromSeconds(5));
        Assert.True(DateTime.UtcNow - stopped < TimeSpan.FromMilliseconds(900), "withdrawn only as the lease lapsed, not at once");
        Assert.False(await DispatchAsync(b, key, "run_after_drain"));
        // The parked controller was released (its connection closed) to poll elsewhere.
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => poll);
    }
}
