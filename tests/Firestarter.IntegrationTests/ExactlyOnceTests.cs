using System.Collections.Concurrent;
using Firestarter.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>
/// Many controllers, many dispatchers, controllers giving up at random: every run answered <c>true</c> reaches
/// exactly one controller, and no run answered <c>false</c> reaches any.
/// </summary>
public sealed class ExactlyOnceTests(ITestOutputHelper output)
{
    private const int Controllers = 200;
    private const int Dispatchers = 50;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Under_concurrent_dispatch_and_random_aborts_no_run_is_lost_or_duplicated()
    {
        await using var broker = new BrokerFactory();
        var address = broker.Start();
        var handoffs = new ConcurrentDictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Firestarter" && instrument.Name == "firestarter.handoffs")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                handoffs.AddOrUpdate((string)tag.Value!, value, (_, n) => n + value);
            }
        });
        listener.Start();

        // Ten keys with controllers, and one without any, so that both warm and cold starts happen.
        var keys = Enumerable.Range(0, 10).Select(k => new Key($"deployment_{k}", $"20261126.{k % 3}", k % 2 == 1 ? "0.5" : "1", k % 2 == 1 ? "1" : "2")).ToArray();
        var lonelyKey = new Key("deployment_without_controllers", "1", "1", "1");

        var ledger = new RunLedger();
        using var stopControllers = new CancellationTokenSource();
        var controllerTasks = Enumerable.Range(0, Controllers).Select(i =>
            Task.Run(() => ledger.ControllerAsync(i, keys[i % keys.Length], _ => address, stopControllers.Token))).ToList();

        await EventuallyAsync(() => broker.Pool.ParkedCount > Controllers / 2, "controllers are parked");

        using var supervisors = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Dispatchers }) { BaseAddress = address };
        using var stopDispatching = new CancellationTokenSource(Duration);
        var dispatcherTasks = Enumerable.Range(0, Dispatchers).Select(d => Task.Run(async () =>
        {
            for (var n = 0; !stopDispatching.IsCancellationRequested; n++)
            {
                await ledger.DispatchAsync(supervisors, n % 11 == 10 ? lonelyKey : keys[(d + n) % keys.Length], $"run_{d}_{n}");
            }
        })).ToList();

        await Task.WhenAll(dispatcherTasks);
        // Every run answered true was sent before its answer; stopping the controllers now makes each take
        // whatever has arrived for it.
        await stopControllers.CancelAsync();
        await Task.WhenAll(controllerTasks);

        listener.RecordObservableInstruments(); // the handoff counter reports its running totals when asked
        output.WriteLine("handoffs: " + string.Join(", ", handoffs.Select(pair => $"{pair.Key} {pair.Value}")));
        output.WriteLine(ledger.Summary);
        Assert.True(ledger.AnsweredTrue.Count > 100, "too few warm starts to judge");
        Assert.True(ledger.AnsweredFalse.Count > 10, "too few cold starts to judge");
        Assert.True(ledger.GaveUp > 100, "too few polls given up to judge");

        // Every true run reached exactly one controller (one that reached a controller in the instant it gave up
        // still reached exactly that one), none reached two, and no false run reached any.
        ledger.AssertExactlyOnce();
    }
}
