using System.Collections.Concurrent;
using System.Net;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>
/// The books of an exactly-once test: which runs controllers received (and how often), which dispatches were
/// answered true or false, and anything unexpected; then the checks that every true run reached exactly one
/// controller and no false run reached any.
/// </summary>
public sealed class RunLedger
{
    private int _gaveUp;
    private int _closed;

    public ConcurrentDictionary<string, int> Received { get; } = new();

    /// <summary>Runs that reached a controller in the instant it gave up (it still has them).</summary>
    public ConcurrentBag<string> InFlightWhenGivingUp { get; } = [];

    public ConcurrentBag<string> AnsweredTrue { get; } = [];

    public ConcurrentBag<string> AnsweredFalse { get; } = [];

    public ConcurrentBag<string> Unexpected { get; } = [];

    public int GaveUp => Volatile.Read(ref _gaveUp);

    /// <summary>Polls the broker ended by closing the connection (a drain, or a broker that died).</summary>
    public int Closed => Volatile.Read(ref _closed);

    /// <summary>
    /// A controller polling until <paramref name="stop"/>, giving up on a third of its polls after a short random
    /// wait; after a closed connection it polls at <paramref name="next"/>'s address (the same broker, or another).
    /// </summary>
    public async Task ControllerAsync(int seed, Key key, Func<int, Uri> next, CancellationToken stop)
    {
        var random = new Random(seed);
        var attempt = 0;
        var controller = new RawController(next(attempt), key, $"controller_{seed}");
        try
        {
            while (!stop.IsCancellationRequested)
            {
                TimeSpan? giveUpAfter = random.Next(3) == 0 ? TimeSpan.FromMilliseconds(random.Next(0, 20)) : null;
                PollResult result;
                try
                {
                    result = await controller.PollAsync(giveUpAfter, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // The broker is gone (connection refused): poll elsewhere, as a controller behind a load balancer would.
                    result = new PollResult(PollEnd.Closed, 0, null);
                }

                Record(result);
                if (result.End == PollEnd.Closed)
                {
                    controller.Dispose();
                    controller = new RawController(next(++attempt), key, $"controller_{seed}");
                }
            }
        }
        finally
        {
            controller.Dispose();
        }
    }

    /// <summary>Dispatches one run and books the answer.</summary>
    public async Task DispatchAsync(HttpClient client, Key key, string runId)
    {
        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(key, runId))));
        if (response.StatusCode != HttpStatusCode.OK)
        {
            Unexpected.Add($"dispatch answered {(int)response.StatusCode}");
            return;
        }

        (await ReadDidWarmStartAsync(response) ? AnsweredTrue : AnsweredFalse).Add(runId);
    }

    public void Record(PollResult result)
    {
        switch (result.End)
        {
            case PollEnd.Answered when result.Status == 200:
                Received.AddOrUpdate(RunIdOf(result.Body!), 1, (_, n) => n + 1);
                break;
            case PollEnd.GaveUpWithRunInFlight when result.Status == 200:
                InFlightWhenGivingUp.Add(RunIdOf(result.Body!));
                Interlocked.Increment(ref _gaveUp);
                break;
            case PollEnd.GaveUp:
                Interlocked.Increment(ref _gaveUp);
                break;
            case PollEnd.Closed:
                Interlocked.Increment(ref _closed);
                break;
            default:
                Unexpected.Add($"poll ended {result.End} with {result.Status}: {result.Body}");
                break;
        }
    }

    public string Summary =>
        $"warm {AnsweredTrue.Count}, cold {AnsweredFalse.Count}, received {Received.Count}, polls given up {GaveUp}, polls closed {Closed}, " +
        $"runs in flight when a controller gave up {InFlightWhenGivingUp.Count}";

    /// <summary>
    /// Every run answered true reached exactly one controller; no run reached two; a run answered false reached none,
    /// except at most <paramref name="unknownFates"/> runs whose hand-on lost its answer (they may have been written,
    /// and were answered false on purpose: the engine starts only one attempt of a run).
    /// </summary>
    public void AssertExactlyOnce(long unknownFates = 0)
    {
        Assert.Empty(Unexpected);
        var inFlight = InFlightWhenGivingUp.ToHashSet();
        Assert.Equal(InFlightWhenGivingUp.Count, inFlight.Count);
        Assert.All(Received, pair => Assert.True(pair.Value == 1, $"{pair.Key} was received {pair.Value} times"));
        Assert.All(inFlight, runId => Assert.False(Received.ContainsKey(runId), $"{runId} reached two controllers"));
        var trueRuns = AnsweredTrue.ToHashSet();
        var falseReceived = AnsweredFalse.Where(runId => Received.ContainsKey(runId) || inFlight.Contains(runId)).ToList();
        Assert.True(falseReceived.Count <= unknownFates,
            $"{falseReceived.Count} runs answered false reached a controller ({string.Join(", ", falseReceived.Take(5))}), with {unknownFates} unknown fates");
        Assert.All(Received.Keys.Concat(inFlight).Except(falseReceived), runId => Assert.Contains(runId, trueRuns));
        Assert.All(trueRuns, runId => Assert.True(Received.ContainsKey(runId) || inFlight.Contains(runId), $"{runId} was answered true but reached no controller"));
    }
}
