using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>
/// SIGTERM to a real host process holding 1,000 controllers with dispatches in flight: nothing is lost or doubled,
/// the process exits within its shutdown timeout, and a new instance on the same port serves the released controllers.
/// </summary>
public sealed class RestartTests
{
    private const int Controllers = 1000;
    private const int DispatchedControllers = 100;
    private const int ShutdownTimeoutSeconds = 5;

    private static HttpClient ClientFor(int port) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    [Fact]
    public async Task The_shutdown_timeout_is_read_from_configuration()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["ShutdownTimeoutSeconds"] = "7" }, kestrel: false);
        broker.Start();
        var host = (Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Hosting.HostOptions>)broker.Services.GetService(typeof(Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Hosting.HostOptions>))!;
        Assert.Equal(TimeSpan.FromSeconds(7), host.Value.ShutdownTimeout);
    }

    [Fact]
    public async Task Sigterm_with_a_thousand_parked_controllers_and_dispatches_in_flight_loses_nothing_and_a_successor_serves_them()
    {
        Assert.True(OperatingSystem.IsLinux(), "Sends SIGTERM with kill(1); the broker runs on Linux.");
        var port = HostProcess.FreePort();
        var settings = new[] { $"--ShutdownTimeoutSeconds={ShutdownTimeoutSeconds}" };
        using var controllers = ClientFor(port);
        using var supervisors = ClientFor(port);
        var dispatched = Key.Default with { Deployment = "deployment_dispatched" };
        var idle = Key.Default with { Deployment = "deployment_idle" };
        var received = new ConcurrentDictionary<string, int>();
        var answeredTrue = new ConcurrentBag<string>();
        var answeredFalse = new ConcurrentBag<string>();
        var released = new ConcurrentBag<int>();
        var badAnswers = new ConcurrentBag<string>();

        await using (var first = await HostProcess.StartAsync(port, settings))
        {
            // A tenth of the controllers are for the key being dispatched, the rest wait under another.
            var polls = Enumerable.Range(0, Controllers).Select(async i =>
            {
                try
                {
                    using var response = await controllers.SendAsync(Poll(i < DispatchedControllers ? dispatched : idle, $"c{i}"));
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        badAnswers.Add($"poll {i} answered {(int)response.StatusCode}");
                        return;
                    }

                    received.AddOrUpdate(RunIdOf(await response.Content.ReadAsStringAsync()), 1, (_, n) => n + 1);
                }
                catch (HttpRequestException)
                {
                    // Closed without a response by the drain: re-poll, as Trigger.dev's controller does.
                    released.Add(i);
                }
            }).ToList();
            await EventuallyAsync(() => first.ParkedEvents == Controllers, "all controllers are parked");

            using var stopDispatching = new CancellationTokenSource();
            var dispatchers = Enumerable.Range(0, 8).Select(async d =>
            {
                for (var n = 0; !stopDispatching.IsCancellationRequested; n++)
                {
                    var runId = $"run_{d}_{n}";
                    try
                    {
                        using var response = await supervisors.SendAsync(Dispatch(DispatchBody(Message(dispatched, runId))));
                        (await ReadDidWarmStartAsync(response) ? answeredTrue : answeredFalse).Add(runId);
                    }
                    catch (HttpRequestException)
                    {
                        return; // refused or closed before an answer: the supervisor retries it elsewhere
                    }
                }
            }).ToList();
            await EventuallyAsync(() => answeredTrue.Count >= DispatchedControllers / 2, "dispatches are warm-starting");

            var clock = Stopwatch.StartNew();
            first.Terminate();
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(ShutdownTimeoutSeconds + 10));
            await first.WaitForExitAsync(patience.Token);
            clock.Stop();
            await stopDispatching.CancelAsync();
            await Task.WhenAll(polls.Concat(dispatchers));

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(ShutdownTimeoutSeconds), $"exit took {clock.Elapsed}");
            Assert.Equal(0, first.ExitCode);
        }

        Assert.Empty(badAnswers);
        foreach (var runId in answeredTrue)
        {
            Assert.True(received.TryGetValue(runId, out var count) && count == 1, $"{runId} was answered true but received {count} times");
        }

        Assert.All(received.Keys, runId => Assert.Contains(runId, answeredTrue));
        Assert.Equal(Controllers, received.Count + released.Count);
        Assert.True(released.Count >= Controllers - DispatchedControllers, $"only {released.Count} controllers were released");

        // The released controllers re-poll; a new instance on the same port holds and serves them.
        await using var second = await HostProcess.StartAsync(port, settings);
        var repolls = released.Select(async i =>
        {
            using var response = await controllers.SendAsync(Poll(idle, $"c{i}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return RunIdOf(await response.Content.ReadAsStringAsync());
        }).ToList();
        await EventuallyAsync(() => second.ParkedEvents == released.Count, "the released controllers are parked again");
        var runs = await Task.WhenAll(Enumerable.Range(0, released.Count).Select(n => DispatchAsync(supervisors, idle, $"run_again_{n}")));
        Assert.All(runs, Assert.True);
        Assert.Equal(released.Count, (await Task.WhenAll(repolls)).Distinct().Count());
    }
}
