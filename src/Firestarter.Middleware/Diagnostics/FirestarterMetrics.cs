using System.Diagnostics.Metrics;
using Firestarter.Matching;

namespace Firestarter.Diagnostics;

/// <summary>
/// The broker's instruments, on the <c>Firestarter</c> meter created through <see cref="IMeterFactory"/>.
/// </summary>
/// <remarks>
/// The three outcome counters are interlocked counts (<see cref="OutcomeCounts"/>) that a collector reads when it asks;
/// the two histograms are recorded on the hot path (with no listener attached each call is a single flag test). The
/// parked-controller gauges are observed from the pool only when a collector asks, so parking costs nothing.
/// </remarks>
internal sealed class FirestarterMetrics
{
    public const string MeterName = "Firestarter";

    /// <summary>Distinct deployment tags on the per-deployment gauge; the rest are summed under <see cref="OtherDeployments"/>.</summary>
    public const int MaxDeploymentTags = 50;

    public const string OtherDeployments = "_other";

    /// <summary>Bucket bounds of the dispatch duration histogram, in seconds (shared with the status windows).</summary>
    internal static readonly double[] DispatchDurationBounds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly OutcomeCounts _polls = new(Outcomes.OfPoll);
    private readonly OutcomeCounts _dispatches = new(Outcomes.OfDispatch);
    private readonly OutcomeCounts _handoffs = new(Outcomes.OfHandoff);
    private readonly Histogram<double> _dispatchDuration;
    private readonly Histogram<double> _waitTime;
    private readonly DispatchWindows? _windows;

    /// <param name="meterFactory">Creates the meter.</param>
    /// <param name="pool">Observed for the parked-controller gauges.</param>
    /// <param name="windows">Also fed each dispatch, for the status endpoint's recent windows.</param>
    public FirestarterMetrics(IMeterFactory meterFactory, WarmPool pool, DispatchWindows? windows = null)
    {
        _windows = windows;
        var meter = meterFactory.Create(MeterName);

        meter.CreateObservableCounter(
            "firestarter.polls", _polls.Observe, "{poll}", $"Controller polls that ended, by outcome: {string.Join(", ", Outcomes.OfPoll)}.");
        meter.CreateObservableCounter(
            "firestarter.dispatches", _dispatches.Observe, "{dispatch}", $"Dispatches answered, by outcome: {string.Join(", ", Outcomes.OfDispatch)}.");
        meter.CreateObservableCounter(
            "firestarter.handoffs", _handoffs.Observe, "{handoff}",
            "Runs handed to claimed controllers, by outcome: delivered; delivered_as_client_left (written as the client left: it may not have the run); " +
            "gone_before_write and refused (the controller had left, or its kernel refused the run: the run was offered to the next one).");
        _dispatchDuration = meter.CreateHistogram(
            "firestarter.dispatch.duration", "s", "Time from a dispatch's arrival to its answer, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DispatchDurationBounds });
        _waitTime = meter.CreateHistogram(
            "firestarter.poll.wait_time", "s", "How long a controller waited parked before it was handed a run.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300] });

        meter.CreateObservableUpDownCounter(
            "firestarter.controllers.parked", () => (long)pool.ParkedCount, "{controller}", "Controllers waiting for a run right now.");
        meter.CreateObservableUpDownCounter(
            "firestarter.controllers.parked_by_deployment", () => ObserveByDeployment(pool), "{controller}",
            $"Controllers waiting for a run right now, by deployment (at most {MaxDeploymentTags} deployments; the rest as '{OtherDeployments}').");
        meter.CreateObservableUpDownCounter(
            "firestarter.draining", () => pool.IsDraining ? 1 : 0, "{state}", "1 while the broker drains for shutdown, else 0.");
    }

    public void PollEnded(string outcome) => _polls.Add(outcome);

    /// <summary>Records an answered dispatch; <paramref name="answeredAt"/> is the timestamp its duration ended at.</summary>
    public void Dispatched(string outcome, TimeSpan duration, long answeredAt)
    {
        var counted = _dispatches.Add(outcome);
        _dispatchDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));
        _windows?.Record(counted, duration, answeredAt);
    }

    public void Handoff(string outcome) => _handoffs.Add(outcome);

    public void ControllerWaited(TimeSpan wait) => _waitTime.Record(wait.TotalSeconds);

    private static List<Measurement<long>> ObserveByDeployment(WarmPool pool)
    {
        // Keep the largest deployments as their own series and fold the tail, so cardinality stays bounded.
        var ordered = ParkedCounts.ByDeployment(pool.CountByKey());
        var measurements = new List<Measurement<long>>(Math.Min(ordered.Count, MaxDeploymentTags + 1));
        long other = 0;
        for (var i = 0; i < ordered.Count; i++)
        {
            if (i < MaxDeploymentTags)
            {
                measurements.Add(new(ordered[i].Count, new KeyValuePair<string, object?>("deployment", ordered[i].Deployment)));
            }
            else
            {
                other += ordered[i].Count;
            }
        }

        if (ordered.Count > MaxDeploymentTags)
        {
            measurements.Add(new(other, new KeyValuePair<string, object?>("deployment", OtherDeployments)));
        }

        return measurements;
    }
}

/// <summary>The outcome tag values, spelled once.</summary>
internal static class Outcomes
{
    public const string Matched = "matched";
    public const string Aborted = "aborted";
    public const string Expired = "expired";
    public const string Rejected = "rejected";
    public const string Drained = "drained";

    public const string Warm = "warm";
    public const string Cold = "cold";
    public const string Forwarded = "forwarded";
    public const string ForwardFailed = "forward_failed";

    public const string Delivered = "delivered";
    public const string DeliveredAsClientLeft = "delivered_as_client_left";
    public const string GoneBeforeWrite = "gone_before_write";
    public const string Refused = "refused";

    /// <summary>How a poll can end, in the order <c>firestarter.polls</c> keeps its counts.</summary>
    public static readonly string[] OfPoll = [Matched, Aborted, Expired, Rejected, Drained];

    /// <summary>How a dispatch can be answered, in the order both <c>firestarter.dispatches</c> and the status windows keep their counts.</summary>
    public static readonly string[] OfDispatch = [Warm, Cold, Rejected, Forwarded, ForwardFailed];

    /// <summary>How a handoff can end, in the order <c>firestarter.handoffs</c> keeps its counts.</summary>
    public static readonly string[] OfHandoff = [Delivered, DeliveredAsClientLeft, GoneBeforeWrite, Refused];
}
