using Firestarter.Cluster;
using Firestarter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Cluster;

/// <summary>
/// Many controllers and dispatchers over three instances, controllers giving up at random, each key's controllers on
/// one instance and its dispatches arriving anywhere: every run answered <c>true</c> reaches exactly one controller,
/// and no run answered <c>false</c> reaches any.
/// </summary>
public sealed class ClusterExactlyOnceTests(ITestOutputHelper output)
{
    private const int Keys = 15;
    private const int ControllersPerKey = 6;
    private const int Dispatchers = 30;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(2.5);

    [Fact]
    public async Task Under_churn_across_instances_with_random_aborts_no_run_is_lost_or_duplicated()
    {
        await using var cluster = await BrokerCluster.StartAsync(3);
        var addresses = cluster.Brokers.Select(b => b.Start()).ToArray();
        var keys = Enumerable.Range(0, Keys).Select(k => new Key($"deployment_{k}", $"20261126.{k % 3}", "1", "2")).ToArray();
        var lonelyKey = new Key("deployment_without_controllers", "1", "1", "1");
        var ledger = new RunLedger();

        using var stopControllers = new CancellationTokenSource();
        var controllers = Enumerable.Range(0, Keys * ControllersPerKey).Select(i =>
            Task.Run(() => ledger.ControllerAsync(i, keys[i % Keys], _ => addresses[i % Keys % 3], stopControllers.Token))).ToList();
        await EventuallyAsync(() => cluster.Brokers.Sum(b => b.Pool.ParkedCount) > Keys * ControllersPerKey / 2, "controllers are parked");
        await cluster.WaitUntilPublishedAsync();

        var clients = addresses.Select(a => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Dispatchers }) { BaseAddress = a }).ToArray();
        using var stopDispatching = new CancellationTokenSource(Duration);
        var dispatchers = Enumerable.Range(0, Dispatchers).Select(d => Task.Run(async () =>
        {
            // Each dispatch arrives at any instance, as a load balancer sends it: two in three miss locally.
            var random = new Random(d);
            for (var n = 0; !stopDispatching.IsCancellationRequested; n++)
            {
                var key = n % 11 == 10 ? lonelyKey : keys[(d + n) % Keys];
                await ledger.DispatchAsync(clients[random.Next(3)], key, $"run_{d}_{n}");
            }
        })).ToList();

        await Task.WhenAll(dispatchers);
        await stopControllers.CancelAsync();
        await Task.WhenAll(controllers);

        var metrics = cluster.Brokers.Select(b => BrokerCluster.Feature(b).Metrics!).ToList();
        var handedOn = metrics.Sum(m => m.HandOnCount(HandOnOutcome.Warm));
        var unknown = metrics.Sum(m => m.HandOnCount(HandOnOutcome.Unknown));
        output.WriteLine(ledger.Summary);
        output.WriteLine($"handed on and warm {handedOn}, miss {metrics.Sum(m => m.HandOnCount(HandOnOutcome.Miss))}, unknown {unknown}, " +
            $"no candidate {metrics.Sum(m => m.HandOnCount(HandOnOutcome.NoCandidate))}");
        Assert.True(ledger.AnsweredTrue.Count > 100, "too few warm starts to judge");
        Assert.True(handedOn > 50, "too few warm starts through another instance to judge");
        Assert.True(ledger.AnsweredFalse.Count > 10, "too few cold starts to judge");
        Assert.True(ledger.GaveUp > 50, "too few polls given up to judge");
        ledger.AssertExactlyOnce(unknown);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
