using System.Collections.Concurrent;
using System.Net;
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

        var received = new ConcurrentDictionary<string, int>();
        var inFlightWhenGivingUp = new ConcurrentBag<string>();
        var unexpected = new ConcurrentBag<string>();
        var answeredTrue = new ConcurrentBag<string>();
        var answeredFalse = new ConcurrentBag<string>();
        var gaveUp = 0;

        using var stopControllers = new CancellationTokenSource();
        var controllerTasks = Enumerable.Range(0, Controllers).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            using var controller = new RawController(address, keys[i % keys.Length], $"controller_{i}");
            while (!stopControllers.IsCancellationRequested)
            {
                // A third of the polls are given up after a short random wait, as a client whose timeout fires.
                TimeSpan? giveUpAfter = random.Next(3) == 0 ? TimeSpan.FromMilliseconds(random.Next(0, 20)) : null;
                PollResult result;
                try
                {
                    result = await controller.PollAsync(giveUpAfter, stopControllers.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                switch (result.End)
                {
                    case PollEnd.Answered when result.Status == 200:
                        received.AddOrUpdate(RunIdOf(result.Body!), 1, (_, n) => n + 1);
                        break;
                    case PollEnd.GaveUpWithRunInFlight when result.Status == 200:
                        inFlightWhenGivingUp.Add(RunIdOf(result.Body!));
                        Interlocked.Increment(ref gaveUp);
                        break;
                    case PollEnd.GaveUp:
                        Interlocked.Increment(ref gaveUp);
                        break;
                    case PollEnd.Closed:
                        break;
                    default:
                        unexpected.Add($"poll ended {result.End} with {result.Status}: {result.Body}");
                        break;
                }
            }
        })).ToList();

        await EventuallyAsync(() => broker.Pool.ParkedCount > Controllers / 2, "controllers are parked");

        using var supervisors = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Dispatchers }) { BaseAddress = address };
        using var stopDispatching = new CancellationTokenSource(Duration);
        var dispatcherTasks = Enumerable.Range(0, Dispatchers).Select(d => Task.Run(async () =>
        {
            for (var n = 0; !stopDispatching.IsCancellationRequested; n++)
            {
                var key = n % 11 == 10 ? lonelyKey : keys[(d + n) % keys.Length];
                var runId = $"run_{d}_{n}";
                using var response = await supervisors.SendAsync(Dispatch(DispatchBody(Message(key, runId))));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    unexpected.Add($"dispatch answered {(int)response.StatusCode}");
                    continue;
                }

                (await ReadDidWarmStartAsync(response) ? answeredTrue : answeredFalse).Add(runId);
            }
        })).ToList();

        await Task.WhenAll(dispatcherTasks);
        // Every run answered true was sent before its answer; stopping the controllers now makes each take
        // whatever has arrived for it.
        await stopControllers.CancelAsync();
        await Task.WhenAll(controllerTasks);

        listener.RecordObservableInstruments(); // the handoff counter reports its running totals when asked
        output.WriteLine("handoffs: " + string.Join(", ", handoffs.Select(pair => $"{pair.Key} {pair.Value}")));
        output.WriteLine($"warm {answeredTrue.Count}, cold {answeredFalse.Count}, received {received.Count}, polls given up {gaveUp}, runs in flight when a controller gave up {inFlightWhenGivingUp.Count}");
        Assert.Empty(unexpected);
        Assert.True(answeredTrue.Count > 100, "too few warm starts to judge");
        Assert.True(answeredFalse.Count > 10, "too few cold starts to judge");
        Assert.True(gaveUp > 100, "too few polls given up to judge");

        // A run that reached a controller in the instant it gave up still reached exactly that one controller.
        var inFlight = inFlightWhenGivingUp.ToHashSet();
        Assert.Equal(inFlightWhenGivingUp.Count, inFlight.Count);
        Assert.All(received, pair => Assert.True(pair.Value == 1, $"{pair.Key} was received {pair.Value} times"));
        Assert.All(inFlight, runId => Assert.False(received.ContainsKey(runId), $"{runId} reached two controllers"));
        var trueRuns = answeredTrue.ToHashSet();
        Assert.All(answeredFalse, runId => Assert.False(received.ContainsKey(runId) || inFlight.Contains(runId), $"{runId} was answered false but reached a controller"));
        Assert.All(received.Keys.Concat(inFlight), runId => Assert.Contains(runId, trueRuns));
        Assert.All(trueRuns, runId => Assert.True(received.ContainsKey(runId) || inFlight.Contains(runId), $"{runId} was answered true but reached no controller"));
    }
}
