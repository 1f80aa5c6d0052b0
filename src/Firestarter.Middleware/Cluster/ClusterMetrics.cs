using System.Diagnostics.Metrics;

namespace Firestarter.Cluster;

/// <summary>
/// The cluster's instruments, <c>firestarter.cluster.*</c> on the broker's <c>Firestarter</c> meter (the factory
/// gives every caller of one name the same meter). Registered only when clustering is on.
/// </summary>
internal sealed class ClusterMetrics
{
    private readonly long[] _handOns = new long[ClusterOutcomeNames.OfHandOn.Length];
    private readonly long[] _hops = new long[ClusterOutcomeNames.OfHop.Length];
    private readonly Histogram<double> _handOnDuration;
    private long _directoryAdds;
    private long _directoryRemoves;

    public ClusterMetrics(IMeterFactory meterFactory, ClusterConnection connection)
    {
        var meter = meterFactory.Create("Firestarter");
        meter.CreateObservableUpDownCounter(
            "firestarter.cluster.connected", () => connection.IsConnected ? 1L : 0L, "{state}", "1 while this instance is connected to the cluster's Redis, else 0.");
        meter.CreateObservableUpDownCounter(
            "firestarter.cluster.instances", () => (long)connection.Members.Count, "{instance}",
            "Live instances of the cluster (leases seen at the last heartbeat), this one included.");
        meter.CreateObservableCounter(
            "firestarter.cluster.directory.writes", ObserveDirectoryWrites, "{write}",
            "Directory entries written to Redis, by op: add (a key's first waiting controller here), remove (its last one left).");
        meter.CreateObservableCounter(
            "firestarter.cluster.hand_ons", () => Observe(_handOns, ClusterOutcomeNames.OfHandOn), "{dispatch}",
            "Dispatches that missed locally and were offered to other instances, by outcome: warm, miss, unknown (fate lost: the fallback), " +
            "no_candidate, unavailable (Redis not reachable in time).");
        meter.CreateObservableCounter(
            "firestarter.cluster.hops_received", () => Observe(_hops, ClusterOutcomeNames.OfHop), "{dispatch}",
            "Dispatches handed on to this instance by another, by outcome: warm, miss, refused.");
        _handOnDuration = meter.CreateHistogram(
            "firestarter.cluster.hand_on.duration", "s", "Time from a local miss to the hand-on's end (Redis lookup and the other instances' answers), by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    public void HandedOn(HandOnOutcome outcome, TimeSpan duration)
    {
        Interlocked.Increment(ref _handOns[(int)outcome]);
        _handOnDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", ClusterOutcomeNames.OfHandOn[(int)outcome]));
    }

    public void HopReceived(HopOutcome outcome) => Interlocked.Increment(ref _hops[(int)outcome]);

    public void DirectoryWritten(int added, int removed)
    {
        Interlocked.Add(ref _directoryAdds, added);
        Interlocked.Add(ref _directoryRemoves, removed);
    }

    /// <summary>The count of each hand-on outcome so far (for the status report).</summary>
    public long HandOnCount(HandOnOutcome outcome) => Volatile.Read(ref _handOns[(int)outcome]);

    public long HopCount(HopOutcome outcome) => Volatile.Read(ref _hops[(int)outcome]);

    public long DirectoryWrites => Volatile.Read(ref _directoryAdds) + Volatile.Read(ref _directoryRemoves);

    private IEnumerable<Measurement<long>> ObserveDirectoryWrites()
    {
        yield return new(Volatile.Read(ref _directoryAdds), new KeyValuePair<string, object?>("op", "add"));
        yield return new(Volatile.Read(ref _directoryRemoves), new KeyValuePair<string, object?>("op", "remove"));
    }

    private static IEnumerable<Measurement<long>> Observe(long[] counts, string[] names)
    {
        for (var i = 0; i < counts.Length; i++)
        {
            var count = Volatile.Read(ref counts[i]);
            if (count > 0)
            {
                yield return new(count, new KeyValuePair<string, object?>("outcome", names[i]));
            }
        }
    }
}
