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

    private readonly OutcomeCounts _polls = new(OutcomeTags.Poll);
    private readonly OutcomeCounts _dispatches = new(OutcomeTags.Dispatch);
    private readonly OutcomeCounts _handoffs = new(OutcomeTags.Handoff);
    private readonly Histogram<double> _dispatchDuration;
    private readonly Histogram<double> _waitTime;
    private readonly DispatchWindows _windows;

    /// <param name="meterFactory">Creates the meter.</param>
    /// <param name="pool">Observed for the parked-controller gauges.</param>
    /// <param name="windows">Also fed each dispatch, for the status endpoint's recent windows.</param>
    public FirestarterMetrics(IMeterFactory meterFactory, WarmPool pool, DispatchWindows windows)
    {
        _windows = windows;
        var meter = meterFactory.Create(MeterName);

        meter.CreateObservableCounter(
            "firestarter.polls", _polls.Observe, "{poll}", $"Controller polls that ended, by outcome: {string.Join(", ", OutcomeTags.Poll)}.");
        meter.CreateObservableCounter(
            "firestarter.dispatches", _dispatches.Observe, "{dispatch}", $"Dispatches answered, by outcome: {string.Join(", ", OutcomeTags.Dispatch)}.");
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

    public void PollEnded(PollOutcome outcome) => _polls.Add((int)outcome);

    /// <summary>Records an answered dispatch; <paramref name="answeredAt"/> is the timestamp its duration ended at.</summary>
    public void Dispatched(DispatchOutcome outcome, TimeSpan duration, long answeredAt)
    {
        _dispatches.Add((int)outcome);
        _dispatchDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", OutcomeTags.Of(outcome)));
        _windows.Record(outcome, duration, answeredAt);
    }

    public void Handoff(HandoffOutcome outcome) => _handoffs.Add((int)outcome);

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
