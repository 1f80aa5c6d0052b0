using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>Draining on shutdown: parked controllers are released to re-poll elsewhere, no run is lost.</summary>
public sealed class ShutdownTests
{
    private static HttpClient ClientFor(Uri address) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = address };

    [Fact]
    public async Task When_the_host_begins_to_stop_parked_polls_are_closed_without_a_response_and_dispatches_cold_start()
    {
        var gate = new ShutdownGate();
        await using var broker = new BrokerFactory(services: services => services.AddHostedService(_ => gate));
        using var client = ClientFor(broker.Start());
        var polls = Enumerable.Range(0, 10).Select(i => client.SendAsync(Poll(Key.Default, $"c{i}"))).ToList();
        await EventuallyAsync(() => broker.Pool.ParkedCount == 10, "ten polls are parked");

        broker.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await gate.Stopping.Task;

        foreach (var poll in polls)
        {
            // No status at all: the connection closes, which Trigger.dev's controller treats as a network error
            // and answers by polling again (reaching another instance).
            await Assert.ThrowsAsync<HttpRequestException>(() => poll);
        }

        Assert.Equal(0, broker.Pool.ParkedCount);
        Assert.False(await DispatchAsync(client, Key.Default, "run_while_draining"));
        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(Poll(Key.Default, "late")));
        gate.Release.SetResult();
    }

    [Fact]
    public async Task Stopping_with_parked_polls_and_dispatches_in_flight_loses_nothing_and_finishes_promptly()
    {
        var broker = new BrokerFactory();
        var address = broker.Start();
        using var controllers = ClientFor(address);
        using var supervisors = ClientFor(address);
        var received = new ConcurrentDictionary<string, int>();
        var answeredTrue = new ConcurrentBag<string>();
        var badAnswers = new ConcurrentBag<string>();

        var polls = Enumerable.Range(0, 50).Select(async i =>
        {
            try
            {
                using var response = await controllers.SendAsync(Poll(Key.Default, $"c{i}"));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    badAnswers.Add($"poll answered {(int)response.StatusCode}");
                    return;
                }

                received.AddOrUpdate(RunIdOf(await response.Content.ReadAsStringAsync()), 1, (_, n) => n + 1);
            }
            catch (HttpRequestException)
            {
                // Released by the drain: the expected end for a poll that got no run.
            }
        }).ToList();
        await EventuallyAsync(() => broker.Pool.ParkedCount == 50, "fifty polls are parked");

        using var stopDispatching = new CancellationTokenSource();
        var dispatchers = Enumerable.Range(0, 8).Select(async d =>
        {
            for (var n = 0; !stopDispatching.IsCancellationRequested; n++)
            {
                var runId = $"run_{d}_{n}";
                try
                {
                    using var response = await supervisors.SendAsync(Dispatch(DispatchBody(Message(Key.Default, runId))));
                    if (await ReadDidWarmStartAsync(response))
                    {
                        answeredTrue.Add(runId);
                    }
                }
                catch (HttpRequestException)
                {
                    return; // the server has stopped accepting: this dispatch was never in flight
                }
            }
        }).ToList();

        await EventuallyAsync(() => !answeredTrue.IsEmpty, "some dispatches have been warm-started");
        var clock = Stopwatch.StartNew();
        await broker.DisposeAsync();
        clock.Stop();
        await stopDispatching.CancelAsync();
        await Task.WhenAll(polls.Concat(dispatchers));

        Assert.Empty(badAnswers);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed}");
        foreach (var runId in answeredTrue)
        {
            Assert.True(received.TryGetValue(runId, out var count) && count == 1, $"{runId} was answered true but received {count} times");
        }

        Assert.All(received, pair => Assert.Contains(pair.Key, answeredTrue));
    }
}
