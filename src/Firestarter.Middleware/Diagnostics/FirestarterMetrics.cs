using System.Diagnostics.Metrics;
using Firestarter.Matching;

namespace Firestarter.Diagnostics;

/// <summary>
/// The broker's instruments, on the <c>Firestarter</c> meter created through <see cref="IMeterFactory"/>.
/// </summary>
/// <remarks>
/// The outcome counters are interlocked counts (<see cref="OutcomeCounts"/>) that a collector reads when it asks;
/// the histograms are recorded as things happen (with no listener attached each call is a single flag test). The
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
    private readonly OutcomeCounts _repollWaits = new(OutcomeTags.Repoll);
    private readonly Histogram<double> _repollWaitTime;
    private readonly OutcomeCounts _confirmations = new(OutcomeTags.Confirmation);
    private readonly Histogram<double> _confirmationLatency;
    private long _guardSkipped;
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

        meter.CreateObservableCounter(
            "firestarter.polls.guard_skipped", () => Volatile.Read(ref _guardSkipped), "{poll}",
            "Parked polls a dispatch passed over because they were in their guard window (their client gives up too soon to take a run).");
        meter.CreateObservableCounter(
            "firestarter.dispatches.repoll_waits", _repollWaits.Observe, "{dispatch}",
            "Dispatches whose only matching polls were in their guard window and that waited for the key's next poll, by outcome: " +
            "served (a fresh poll took the run); timed_out (the run took the cold-start path).");
        _repollWaitTime = meter.CreateHistogram(
            "firestarter.dispatch.repoll_wait_time", "s", "How long a dispatch waited for a re-poll, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        meter.CreateObservableCounter(
            "firestarter.confirmations", _confirmations.Observe, "{confirmation}",
            "attempts/start calls seen on the confirm route, by outcome: released (a waiting dispatch answers true); already_answered; " +
            "controller_mismatch (names another controller than the run was written to: refused); unknown (no dispatch here waits for it).");
        _confirmationLatency = meter.CreateHistogram(
            "firestarter.confirmation.latency", "s",
            "From a run's delivery to its controller's attempts/start, for dispatches confirmed in time: what confirmation adds to a warm start.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

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

    public void GuardSkipped(int polls) => Interlocked.Add(ref _guardSkipped, polls);

    public void RepollWaited(RepollOutcome outcome, TimeSpan waited)
    {
        _repollWaits.Add((int)outcome);
        _repollWaitTime.Record(waited.TotalSeconds, new KeyValuePair<string, object?>("outcome", OutcomeTags.Of(outcome)));
    }

    public void ConfirmationSeen(ConfirmationOutcome outcome) => _confirmations.Add((int)outcome);

    public void Confirmed(TimeSpan latency) => _confirmationLatency.Record(latency.TotalSeconds);

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
