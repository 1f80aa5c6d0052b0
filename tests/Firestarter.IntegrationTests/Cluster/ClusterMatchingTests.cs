using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Firestarter.Cluster;
using Firestarter.IntegrationTests.Infrastructure;
using Firestarter.Matching;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Cluster;

/// <summary>Three brokers sharing one Redis match as one pool: a dispatch finds a controller parked on another instance.</summary>
public sealed class ClusterMatchingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sparse_keys_spread_round_robin_over_three_instances_warm_start_as_on_one()
    {
        await using var cluster = await BrokerCluster.StartAsync(3);
        var clients = cluster.Brokers.Select(b => new HttpClient { BaseAddress = b.Start(), Timeout = TimeSpan.FromSeconds(10) }).ToArray();
        const int Keys = 30;
        var keys = Enumerable.Range(0, Keys).Select(k => new Key($"deployment_{k}", "20261126.1", "0.5", "1")).ToArray();

        // One idle controller per deployment, as a load balancer spreads them: deployment k on instance k % 3.
        var polls = keys.Select((key, k) => clients[k % 3].SendAsync(Poll(key, $"controller_{k}"))).ToArray();
        await EventuallyAsync(() => cluster.Brokers.Sum(b => b.Pool.ParkedCount) == Keys, "every controller is parked");
        await cluster.WaitUntilPublishedAsync();

        // Each dispatch arrives at the next instance round-robin: never the one holding its controller.
        var answers = await Task.WhenAll(keys.Select((key, k) => DispatchAsync(clients[(k + 1) % 3], key, $"run_{k}")));

        output.WriteLine($"warm {answers.Count(a => a)} of {Keys}");
        Assert.All(answers, Assert.True);
        for (var k = 0; k < Keys; k++)
        {
            using var response = await polls[k];
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"run_{k}", RunIdOf(await response.Content.ReadAsStringAsync()));
        }

        Assert.Equal(Keys, cluster.Brokers.Sum(b => BrokerCluster.Feature(b).Metrics!.HandOnCount(HandOnOutcome.Warm)));
        Assert.Equal(Keys, cluster.Brokers.Sum(b => BrokerCluster.Feature(b).Metrics!.HopCount(HopOutcome.Warm)));

        // The same through the instruments, as a collector reads them from these three brokers' meters.
        var scopes = cluster.Brokers.Select(b => (object)b.Services.GetRequiredService<IMeterFactory>()).ToHashSet();
        var measured = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (scopes.Contains(instrument.Meter.Scope!) && instrument.Name.StartsWith("firestarter.cluster.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var name = instrument.Name;
            foreach (var tag in tags)
            {
                name += $"{{{tag.Key}={tag.Value}}}";
            }

            measured.AddOrUpdate(name, value, (_, sum) => sum + value);
        }

        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        listener.Start();
        listener.RecordObservableInstruments();
        output.WriteLine(string.Join(", ", measured.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key} {pair.Value}")));
        Assert.Equal(Keys, measured["firestarter.cluster.hand_ons{outcome=warm}"]);
        Assert.Equal(Keys, measured["firestarter.cluster.hops_received{outcome=warm}"]);
        Assert.Equal(3, measured["firestarter.cluster.connected"]);
        Assert.Equal(9, measured["firestarter.cluster.instances"]); // each of three sees three
        Assert.True(measured["firestarter.cluster.directory.writes{op=add}"] >= Keys);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Each_of_the_four_match_fields_still_matters_across_instances()
    {
        await using var cluster = await BrokerCluster.StartAsync(2);
        using var a = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };
        using var b = new HttpClient { BaseAddress = cluster.Brokers[1].Start() };
        var key = new Key("deployment_fields", "20261126.1", "0.5", "1");
        var poll = a.SendAsync(Poll(key));
        await EventuallyAsync(() => cluster.Brokers[0].Pool.ParkedCount == 1, "the controller is parked on the first instance");
        await cluster.WaitUntilPublishedAsync();
        Assert.Contains(BrokerCluster.Connection(cluster.Brokers[0]).InstanceId,
            await cluster.ListedAsync(new MatchKey(key.Deployment, key.Version, 0.5, 1), cluster.Brokers[0]));

        Assert.False(await DispatchAsync(b, key with { Deployment = "deployment_other" }, "run_deployment"));
        Assert.False(await DispatchAsync(b, key with { Version = "20261126.2" }, "run_version"));
        Assert.False(await DispatchAsync(b, key with { Cpu = "1" }, "run_cpu"));
        Assert.False(await DispatchAsync(b, key with { Memory = "2" }, "run_memory"));
        Assert.False(poll.IsCompleted);
        Assert.Equal(1, cluster.Brokers[0].Pool.ParkedCount);

        // Numbers are compared as numbers across instances too: "0.50" and "1.0" are the controller's key.
        using var exact = await b.SendAsync(Dispatch(DispatchBody(Message(key, "run_exact", cpuJson: "0.50", memoryJson: "1.0"))));
        Assert.True(await ReadDidWarmStartAsync(exact));
        using var delivered = await poll;
        Assert.Equal("run_exact", RunIdOf(await delivered.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Without_a_redis_the_broker_is_one_instance_with_no_cluster_part_created()
    {
        await using var broker = new BrokerFactory();
        using var client = new HttpClient { BaseAddress = broker.Start() };
        var feature = BrokerCluster.Feature(broker);

        Assert.Null(feature.Connection);
        Assert.Null(feature.Dispatch);
        Assert.Null(feature.Publisher);
        Assert.False(await DispatchAsync(client, Key.Default, "run_alone"));
        using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/firestarter/status"));
        Assert.False(status.RootElement.GetProperty("cluster").GetProperty("enabled").GetBoolean());
    }
}
