using System.Diagnostics;
using System.Net;
using System.Text;

namespace Firestarter.LoadTool;

/// <summary>Counters of one dispatcher; written by its dispatcher only and summed at the end.</summary>
internal sealed class DispatcherStats
{
    /// <summary>Dispatches started inside the measured window (and their answers).</summary>
    public long Measured;
    public long MeasuredHits;
    public long MeasuredMisses;
    public long MeasuredHandedOnHits;

    /// <summary>Every dispatch, warm-up included.</summary>
    public long Total;
    public long Hits;
    public long Misses;
    public long HttpErrors;
    public long TransportErrors;
    public long Timeouts;
    public long BadAnswers;
    public string? FirstError;

    /// <summary>When this dispatcher's last dispatch finished (Stopwatch timestamp).</summary>
    public long FinishedAt;
}

/// <summary>Settings shared by every dispatcher of a run.</summary>
internal sealed class DispatcherPlan
{
    public required HttpMessageInvoker Client { get; init; }

    public required IReadOnlyList<Uri> Targets { get; init; }

    public required DispatchBodies Bodies { get; init; }

    public required int KeyCount { get; init; }

    public required RunLedger Ledger { get; init; }

    public required LatencyHistogram Latency { get; init; }

    /// <summary>Hits answered by the instance dispatched to, and hits another instance of a cluster served (its answer names it).</summary>
    public required LatencyHistogram LocalHitLatency { get; init; }

    public required LatencyHistogram HandedOnHitLatency { get; init; }

    public required TimeSpan Timeout { get; init; }

    /// <summary>Stopwatch timestamps: dispatches starting at or after MeasureFrom are measured; none start at or after StopAt.</summary>
    public required long MeasureFrom { get; init; }

    public required long StopAt { get; init; }
}

/// <summary>
/// One supervisor: a closed loop of <c>POST /warm-start</c>, each with a new run (unique id), round-robin over the
/// match keys, recording the answer and the latency (request start to the answer's last byte).
/// </summary>
internal sealed class Dispatcher(DispatcherPlan plan, int index)
{
    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromMilliseconds(50);

    /// <summary>Firestarter's cluster names the instance that served a hit handed on to it.</summary>
    private const string ServedByHeader = "x-firestarter-served-by";

    private readonly Uri _uri = new(plan.Targets[index % plan.Targets.Count], "warm-start");
    private readonly byte[] _body = new byte[plan.Bodies.MaxLength];
    private byte[] _answer = new byte[256];

    public DispatcherStats Stats { get; } = new();

    public async Task RunAsync(CancellationToken stop)
    {
        await Task.Yield();
        var timeout = new CancellationTokenSource();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                if (started >= plan.StopAt)
                {
                    break;
                }

                var n = plan.Ledger.Next();
                var length = plan.Bodies.Write(_body, (int)(n % plan.KeyCount), n);
                var content = new ByteArrayContent(_body, 0, length);
                content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                var outcome = DispatchOutcome.Error;
                var handedOn = false;
                using (var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = content })
                {
                    timeout.CancelAfter(plan.Timeout);
                    try
                    {
                        using var response = await plan.Client.SendAsync(request, timeout.Token).ConfigureAwait(false);
                        int answerLength;
                        (_answer, answerLength) = await BodyReader.ReadAsync(response, _answer, timeout.Token).ConfigureAwait(false);
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            Stats.HttpErrors++;
                            Stats.FirstError ??= $"POST {_uri}: HTTP {(int)response.StatusCode} {Encoding.UTF8.GetString(_answer, 0, Math.Min(answerLength, 200))}";
                        }
                        else if (WireParsing.TryReadDidWarmStart(_answer.AsSpan(0, answerLength)) is { } didWarmStart)
                        {
                            outcome = didWarmStart ? DispatchOutcome.Hit : DispatchOutcome.Miss;
                            handedOn = response.Headers.Contains(ServedByHeader);
                        }
                        else
                        {
                            Stats.BadAnswers++;
                            Stats.FirstError ??= $"POST {_uri}: 200 without didWarmStart: {Encoding.UTF8.GetString(_answer, 0, Math.Min(answerLength, 200))}";
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        Stats.Timeouts++;
                        Stats.FirstError ??= $"POST {_uri}: no answer within {plan.Timeout.TotalSeconds} s";
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException)
                    {
                        Stats.TransportErrors++;
                        Stats.FirstError ??= $"POST {_uri}: {ex.Message}";
                    }
                }

                var finished = Stopwatch.GetTimestamp();
                if (!timeout.TryReset())
                {
                    timeout.Dispose();
                    timeout = new CancellationTokenSource();
                }

                plan.Ledger.SetOutcome(n, outcome);
                Count(outcome, handedOn, started, finished);
                if (outcome == DispatchOutcome.Error)
                {
                    await Backoff(stop).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            timeout.Dispose();
            Stats.FinishedAt = Stopwatch.GetTimestamp();
        }
    }

    private void Count(DispatchOutcome outcome, bool handedOn, long started, long finished)
    {
        Stats.Total++;
        var hit = outcome == DispatchOutcome.Hit;
        var miss = outcome == DispatchOutcome.Miss;
        Stats.Hits += hit ? 1 : 0;
        Stats.Misses += miss ? 1 : 0;
        if (started >= plan.MeasureFrom)
        {
            Stats.Measured++;
            Stats.MeasuredHits += hit ? 1 : 0;
            Stats.MeasuredMisses += miss ? 1 : 0;
            if (hit || miss)
            {
                var microseconds = (long)((finished - started) * MicrosecondsPerTick);
                plan.Latency.Record(microseconds);
                if (hit)
                {
                    (handedOn ? plan.HandedOnHitLatency : plan.LocalHitLatency).Record(microseconds);
                    Stats.MeasuredHandedOnHits += handedOn ? 1 : 0;
                }
            }
        }
    }

    private static async Task Backoff(CancellationToken stop)
    {
        try
        {
            await Task.Delay(ErrorBackoff, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
