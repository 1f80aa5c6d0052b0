using Firestarter.Cluster;
using Firestarter.IntegrationTests.Infrastructure;
using Firestarter.Matching;
using Microsoft.AspNetCore.Http;
using StackExchange.Redis;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Cluster;

/// <summary>
/// How a hand-on judges the other instance's answer, against stand-ins listed in the directory as instances holding
/// the key: a known miss tries the next, an unknown fate tries no other and answers false.
/// </summary>
public sealed class ClusterHandOnTests
{
    private static readonly Key Key = new("deployment_handon", "1", "1", "1");
    private static readonly MatchKey MatchKey = new(Key.Deployment, Key.Version, 1, 1);

    /// <summary>Lists a stand-in instance under the key, with a lease that does not expire during the test.</summary>
    private static async Task ListAsync(BrokerCluster cluster, string id, Uri url)
    {
        var keys = BrokerCluster.Connection(cluster.Brokers[0]).Keys;
        await cluster.Database.HashSetAsync(keys.Lease(id), [new HashEntry("url", url.ToString()), new HashEntry("parked", 1)]);
        await cluster.Database.SetAddAsync(keys.Instances, id);
        await cluster.Database.SetAddAsync(keys.Entry(MatchKey), id);
    }

    private static Task<StubBackend> AnsweringAsync(int status, string body = """{"didWarmStart":true}""") =>
        StubBackend.StartAsync(async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });

    [Fact]
    public async Task An_unknown_fate_answers_false_and_no_second_instance_is_tried()
    {
        await using var cluster = await BrokerCluster.StartAsync(1);
        await using var failing1 = await AnsweringAsync(StatusCodes.Status500InternalServerError, "boom");
        await using var failing2 = await AnsweringAsync(StatusCodes.Status502BadGateway, "boom");
        await ListAsync(cluster, "standin_1", failing1.Address);
        await ListAsync(cluster, "standin_2", failing2.Address);
        await cluster.WaitUntilEachSeesAsync(3);
        using var client = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };

        Assert.False(await DispatchAsync(client, Key, "run_unknown"));

        // The first answered 5xx: the run may be there, so the other was never asked.
        Assert.Equal(1, failing1.Requests.Count + failing2.Requests.Count);
        var request = failing1.Requests.Concat(failing2.Requests).Single();
        Assert.Contains(ClusterDispatch.HopHeader, request.Headers.Keys, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(BrokerCluster.Connection(cluster.Brokers[0]).Proof, request.Headers[ClusterDispatch.ProofHeader]);
        Assert.Equal("run_unknown", RunIdOf(System.Text.Json.JsonDocument.Parse(request.Body).RootElement.GetProperty("dequeuedMessage").GetRawText()));
        Assert.Equal(1, BrokerCluster.Feature(cluster.Brokers[0]).Metrics!.HandOnCount(HandOnOutcome.Unknown));
    }

    [Fact]
    public async Task An_instance_that_does_not_answer_within_the_hand_on_timeout_is_an_unknown_fate()
    {
        await using var cluster = await BrokerCluster.StartAsync(1, new Dictionary<string, string?> { ["Firestarter:Cluster:HandOnTimeout"] = "00:00:00.300" });
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var hung = await StubBackend.StartAsync(async _ => await release.Task);
        await ListAsync(cluster, "standin_hung", hung.Address);
        await cluster.WaitUntilEachSeesAsync(2);
        using var client = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };

        // Answered false while the other instance still holds the request (it is released only after): its fate is unknown.
        Assert.False(await DispatchAsync(client, Key, "run_hung"));
        release.SetResult();

        Assert.Single(hung.Requests);
        Assert.Equal(1, BrokerCluster.Feature(cluster.Brokers[0]).Metrics!.HandOnCount(HandOnOutcome.Unknown));
    }

    [Fact]
    public async Task A_refused_connection_or_a_4xx_is_a_known_miss_and_the_next_instance_takes_the_run()
    {
        await using var cluster = await BrokerCluster.StartAsync(1, new Dictionary<string, string?> { ["Firestarter:Cluster:MaxHandOns"] = "3" });
        await using var refusing = await AnsweringAsync(StatusCodes.Status403Forbidden, "{}");
        await using var taking = await AnsweringAsync(StatusCodes.Status200OK);
        await ListAsync(cluster, "standin_refusing", refusing.Address);
        await ListAsync(cluster, "standin_gone", StubBackend.RefusingAddress());
        await ListAsync(cluster, "standin_taking", taking.Address);
        await cluster.WaitUntilEachSeesAsync(4);
        using var client = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };

        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(Key, "run_next"))));

        Assert.True(await ReadDidWarmStartAsync(response));
        Assert.Equal("standin_taking", response.Headers.GetValues(ClusterDispatch.ServedByHeader).Single());
        Assert.Single(taking.Requests);
        Assert.Equal(1, BrokerCluster.Feature(cluster.Brokers[0]).Metrics!.HandOnCount(HandOnOutcome.Warm));
    }

    [Fact]
    public async Task A_listed_instance_without_a_live_lease_is_no_candidate_and_is_dropped_from_the_key()
    {
        await using var cluster = await BrokerCluster.StartAsync(1);
        var keys = BrokerCluster.Connection(cluster.Brokers[0]).Keys;
        // Listed under the key, but its lease is gone (it crashed): never asked, and dropped from the key.
        await cluster.Database.SetAddAsync(keys.Entry(MatchKey), "standin_dead");
        using var client = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };

        Assert.False(await DispatchAsync(client, Key, "run_stale"));

        await EventuallyAsync(() => !cluster.Database.SetContains(keys.Entry(MatchKey), "standin_dead"), "the dead id is dropped");
        Assert.Equal(1, BrokerCluster.Feature(cluster.Brokers[0]).Metrics!.HandOnCount(HandOnOutcome.NoCandidate));
    }
}
