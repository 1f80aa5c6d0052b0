using System.Diagnostics.Metrics;

namespace Firestarter.Confirmation;

/// <summary>
/// The confirmation instruments, on the broker's <c>Firestarter</c> meter: confirmations seen on the proxy by what
/// they did, and how long a delivered run took to be started.
/// </summary>
/// <remarks>Dispatches that were not confirmed in time are counted by <c>firestarter.dispatches</c> as <c>unconfirmed</c>.</remarks>
internal sealed class ConfirmationMetrics
{
    /// <summary>The <c>outcome</c> tag of each <see cref="ConfirmationResult"/>, indexed by it.</summary>
    internal static readonly string[] ResultTags = ["released", "already_answered", "controller_mismatch", "unknown"];

    private readonly long[] _results = new long[ResultTags.Length];
    private readonly Histogram<double> _latency;

    public ConfirmationMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Diagnostics.FirestarterMetrics.MeterName);
        meter.CreateObservableCounter(
            "firestarter.confirmations", Observe, "{confirmation}",
            "attempts/start calls seen on the confirm route, by outcome: released (a waiting dispatch answers true); already_answered; " +
            "controller_mismatch (names another controller than the run was written to: refused); unknown (no dispatch here waits for it).");
        _latency = meter.CreateHistogram(
            "firestarter.confirmation.latency", "s",
            "From a run's delivery to its controller's attempts/start, for dispatches confirmed in time: what confirmation adds to a warm start.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    public void Seen(ConfirmationResult result) => Interlocked.Increment(ref _results[(int)result]);

    /// <summary>How many confirmations had <paramref name="result"/> (for the status report).</summary>
    public long Count(ConfirmationResult result) => Volatile.Read(ref _results[(int)result]);

    public void Confirmed(TimeSpan latency) => _latency.Record(latency.TotalSeconds);

    private IEnumerable<Measurement<long>> Observe()
    {
        for (var i = 0; i < _results.Length; i++)
        {
            var count = Volatile.Read(ref _results[i]);
            if (count > 0)
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("outcome", ResultTags[i]));
            }
        }
    }
}
