using System.Diagnostics;
using System.Globalization;
using Firestarter.Cluster;
using Firestarter.IntegrationTests.Infrastructure;
using Firestarter.Matching;
using Xunit.Abstractions;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Cluster;

/// <summary>What the cluster does when Redis or an instance fails under load: nothing accepted is lost, nothing fails.</summary>
public sealed class ClusterFailureTests(ITestOutputHelper output)
{
    private const int Keys = 9;
    private const int ControllersPerKey = 4;
    private const int Dispatchers = 12;

    private static Key KeyOf(int k) => new($"deployment_{k}", "20261126.1", "1", "2");

    private static async Task DispatchUntilAsync(RunLedger ledger, HttpClient[] clients, Key[] keys, string phase, CancellationToken stop)
    {
        await Task.WhenAll(Enumerable.Range(0, Dispatchers).Select(d => Task.Run(async () =>
        {
            var random = new Random(d);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                await ledger.DispatchAsync(clients[random.Next(clients.Length)], keys[(d + n) % keys.Length], $"run_{phase}_{d}_{n}");
            }
        })));
    }

    [Fact]
    public async Task With_redis_stopped_mid_load_every_instance_works_locally_and_after_it_restarts_empty_the_directory_is_rebuilt()
    {
        await using var cluster = await BrokerCluster.StartAsync(3);
        var addresses = cluster.Brokers.Select(b => b.Start()).ToArray();
        var keys = Enumerable.Range(0, Keys).Select(KeyOf).ToArray();
        var ledger = new RunLedger();
        using var stopControllers = new CancellationTokenSource();
        var controllers = Enumerable.Range(0, Keys * ControllersPerKey).Select(i =>
            Task.Run(() => ledger.ControllerAsync(i, keys[i % Keys], _ => addresses[i % Keys % 3], stopControllers.Token))).ToList();
        var clients = addresses.Select(a => new HttpClient { BaseAddress = a, Timeout = TimeSpan.FromSeconds(10) }).ToArray();
        await EventuallyAsync(() => cluster.Brokers.Sum(b => b.Pool.ParkedCount) > Keys * ControllersPerKey / 2, "controllers are parked");
        await cluster.WaitUntilPublishedAsync();

        using (var before = new CancellationTokenSource(TimeSpan.FromSeconds(0.5)))
        {
            await DispatchUntilAsync(ledger, clients, keys, "before", before.Token);
        }

        var handedOnBefore = HandedOnWarm(cluster);
        Assert.True(handedOnBefore > 0, "nothing was handed on before Redis stopped");

        await cluster.Redis.StopAsync();
        await EventuallyAsync(() => cluster.Brokers.All(b => !BrokerCluster.Connection(b).IsConnected), "every instance sees Redis gone");
        var warmBeforeOutage = ledger.AnsweredTrue.Count;
        using (var outage = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await DispatchUntilAsync(ledger, clients, keys, "outage", outage.Token);
        }

        // Local only meanwhile: a third of the dispatches land where their key's controllers are, and those still warm-start.
        Assert.True(ledger.AnsweredTrue.Count > warmBeforeOutage, "no warm start while Redis was down");
        Assert.Equal(handedOnBefore, HandedOnWarm(cluster));
        Assert.True(cluster.Brokers.Sum(b => BrokerCluster.Feature(b).Metrics!.HandOnCount(HandOnOutcome.Unavailable)) > 0);
        using (var status = System.Text.Json.JsonDocument.Parse(await clients[0].GetStringAsync("/firestarter/status")))
        {
            Assert.False(status.RootElement.GetProperty("cluster").GetProperty("connected").GetBoolean());
        }

        await cluster.Redis.StartAgainAsync();
        await EventuallyAsync(() => cluster.Brokers.All(b => BrokerCluster.Connection(b).IsConnected), "every instance reconnects", TimeSpan.FromSeconds(15));
        // Rebuilt: every key an instance holds is listed under it again, and every instance has a lease.
        await EventuallyAsync(() => cluster.Brokers.All(b =>
        {
            var connection = BrokerCluster.Connection(b);
            return cluster.Database.KeyExists(connection.Keys.Lease(connection.InstanceId))
                && b.Pool.CountByKey().All(pair => cluster.Database.SetContains(connection.Keys.Entry(pair.Key), connection.InstanceId));
        }), "the directory is rebuilt", TimeSpan.FromSeconds(10));
        await cluster.WaitUntilEachSeesAsync(3);

        using (var after = new CancellationTokenSource(TimeSpan.FromSeconds(0.5)))
        {
            await DispatchUntilAsync(ledger, clients, keys, "after", after.Token);
        }

        await stopControllers.CancelAsync();
        await Task.WhenAll(controllers);
        var unknown = cluster.Brokers.Sum(b => BrokerCluster.Feature(b).Metrics!.HandOnCount(HandOnOutcome.Unknown));
        output.WriteLine($"{ledger.Summary}; handed on before {handedOnBefore}, after {HandedOnWarm(cluster) - handedOnBefore}, unknown {unknown}");
        Assert.True(HandedOnWarm(cluster) > handedOnBefore, "nothing was handed on after Redis came back");
        ledger.AssertExactlyOnce(unknown);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task An_instance_killed_mid_load_loses_nothing_its_controllers_poll_elsewhere_and_its_lease_lapses()
    {
        await using var cluster = await BrokerCluster.StartAsync(2);
        var port = HostProcess.FreePort();
        var victim = await HostProcess.StartAsync(port, [.. cluster.Settings().Select(s => $"--{s.Key}={s.Value}")]);
        var killed = false;
        try
        {
            var victimAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
            await cluster.WaitUntilEachSeesAsync(3);

            var survivors = cluster.Brokers.Select(b => b.Start()).ToArray();
            var keys = Enumerable.Range(0, Keys).Select(KeyOf).ToArray();
            var ledger = new RunLedger();
            using var stopControllers = new CancellationTokenSource();
            // A third of the keys have their controllers on the victim only; after it dies they poll at a survivor.
            var controllers = Enumerable.Range(0, Keys * ControllersPerKey).Select(i => Task.Run(() => ledger.ControllerAsync(i, keys[i % Keys],
                attempt => attempt == 0 ? (i % Keys % 3 == 2 ? victimAddress : survivors[i % Keys % 3]) : survivors[(i + attempt) % 2], stopControllers.Token))).ToList();
            var clients = survivors.Select(a => new HttpClient { BaseAddress = a, Timeout = TimeSpan.FromSeconds(10) }).ToArray();
            var victimKey = new MatchKey(keys[2].Deployment, keys[2].Version, 1, 2);
            await EventuallyAsync(() => cluster.ListedAsync(victimKey, cluster.Brokers[0]).GetAwaiter().GetResult().Count == 1, "the victim's keys are listed");

            var connection = BrokerCluster.Connection(cluster.Brokers[0]);
            var survivorIds = cluster.Brokers.Select(b => BrokerCluster.Connection(b).InstanceId).ToHashSet();
            var victimId = (await cluster.Database.SetMembersAsync(connection.Keys.Instances)).Select(id => id.ToString()).Except(survivorIds).Single();
            using (var before = new CancellationTokenSource(TimeSpan.FromSeconds(0.7)))
            {
                var load = DispatchUntilAsync(ledger, clients, keys, "load", before.Token);
                await Task.Delay(TimeSpan.FromSeconds(0.3));
                await victim.DisposeAsync(); // killed: no drain, no withdrawal
                killed = true;
                await load;
            }

            // Its lease lapses (one second here) and the survivors stop offering it anything.
            await cluster.WaitUntilEachSeesAsync(2);
            using (var after = new CancellationTokenSource(TimeSpan.FromSeconds(0.7)))
            {
                await DispatchUntilAsync(ledger, clients, keys, "after", after.Token);
            }

            // A lookup that met the dead instance's id under a key dropped it (its lease is gone).
            await EventuallyAsync(() => !cluster.Database.SetContains(connection.Keys.Entry(victimKey), victimId), "the dead instance's entry is dropped");

            // The victim's controllers re-polled at a survivor, and its keys warm-start there.
            await EventuallyAsync(() => cluster.Brokers.Any(b => b.Pool.HasWaiting(victimKey)), "a controller of the victim's key is parked at a survivor");
            await ledger.DispatchAsync(clients[0], keys[2], "run_victims_key");
            Assert.Contains("run_victims_key", ledger.AnsweredTrue);

            await stopControllers.CancelAsync();
            await Task.WhenAll(controllers);
            var metrics = cluster.Brokers.Select(b => BrokerCluster.Feature(b).Metrics!).ToList();
            var unknown = metrics.Sum(m => m.HandOnCount(HandOnOutcome.Unknown));
            output.WriteLine($"{ledger.Summary}; handed on warm {metrics.Sum(m => m.HandOnCount(HandOnOutcome.Warm))}, unknown {unknown}");
            Assert.True(ledger.Closed > 0, "no controller lost its broker");
            ledger.AssertExactlyOnce(unknown);
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
        finally
        {
            if (!killed)
            {
                await victim.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task With_redis_slow_a_local_miss_waits_only_the_lookup_timeout_and_local_hits_go_on()
    {
        await using var cluster = await BrokerCluster.StartAsync(2, new Dictionary<string, string?> { ["Firestarter:Cluster:LookupTimeout"] = "00:00:00.200" });
        using var a = new HttpClient { BaseAddress = cluster.Brokers[0].Start() };
        using var b = new HttpClient { BaseAddress = cluster.Brokers[1].Start() };
        var remote = KeyOf(1);
        var local = KeyOf(2);
        var remotePoll = a.SendAsync(Poll(remote));
        var localPoll = b.SendAsync(Poll(local));
        await EventuallyAsync(() => cluster.Brokers.All(x => x.Pool.ParkedCount == 1), "both controllers are parked");
        await cluster.WaitUntilPublishedAsync();

        // Redis answers nobody for two seconds: connected, but slow.
        await cluster.Database.ExecuteAsync("CLIENT", "PAUSE", "2000", "ALL");
        var paused = Stopwatch.StartNew();
        Assert.True(await DispatchAsync(b, local, "run_local_while_slow"));
        Assert.False(await DispatchAsync(b, remote, "run_remote_while_slow"));
        // Answered by the fallback once the lookup timed out, while Redis still answered nobody.
        Assert.True(paused.Elapsed < TimeSpan.FromSeconds(2), "the dispatches were answered only after the pause, so they judge nothing");
        Assert.True(BrokerCluster.Feature(cluster.Brokers[1]).Metrics!.HandOnCount(HandOnOutcome.Unavailable) >= 1);
        Assert.False(remotePoll.IsCompleted);

        // Once Redis answers again the controller on the other instance takes the next run.
        await EventuallyAsync(() => paused.Elapsed > TimeSpan.FromSeconds(2.2), "the pause is over");
        Assert.True(await DispatchAsync(b, remote, "run_remote_after"));
        using (var delivered = await remotePoll)
        {
            Assert.Equal("run_remote_after", RunIdOf(await delivered.Content.ReadAsStringAsync()));
        }

        using (var delivered = await localPoll)
        {
            Assert.Equal("run_local_while_slow", RunIdOf(await delivered.Content.ReadAsStringAsync()));
        }
    }

    [Fact]
    public async Task A_broker_whose_redis_is_unreachable_at_start_starts_and_works_alone()
    {
        var nowhere = StubBackend.RefusingAddress();
        await using var broker = new BrokerFactory(new Dictionary<string, string?>(BrokerCluster.FastTimings)
        {
            ["Firestarter:Cluster:Redis"] = $"127.0.0.1:{nowhere.Port.ToString(CultureInfo.InvariantCulture)},connectTimeout=500",
        });
        using var client = new HttpClient { BaseAddress = broker.Start() };
        var key = KeyOf(0);
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the controller is parked");

        Assert.True(await DispatchAsync(client, key, "run_alone"));
        Assert.False(await DispatchAsync(client, KeyOf(1), "run_nobody"));
        using var delivered = await poll;
        Assert.Equal("run_alone", RunIdOf(await delivered.Content.ReadAsStringAsync()));
        using var status = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/firestarter/status"));
        Assert.False(status.RootElement.GetProperty("cluster").GetProperty("connected").GetBoolean());
    }

    private static long HandedOnWarm(BrokerCluster cluster) =>
        cluster.Brokers.Sum(b => BrokerCluster.Feature(b).Metrics!.HandOnCount(HandOnOutcome.Warm));
}
