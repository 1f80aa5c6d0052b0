using System.Collections.Concurrent;

namespace Firestarter.Cluster;

/// <summary>Dispatches exchanged with one other instance, for the status report.</summary>
internal sealed class PeerTraffic
{
    private long _handedOnWarm;
    private long _handedOnMiss;
    private long _handedOnUnknown;
    private long _receivedWarm;
    private long _receivedMiss;

    /// <summary>Handed on to the instance and written there.</summary>
    public long HandedOnWarm => Volatile.Read(ref _handedOnWarm);

    /// <summary>Handed on to the instance, which had no controller for it (or refused it before matching).</summary>
    public long HandedOnMiss => Volatile.Read(ref _handedOnMiss);

    /// <summary>Handed on to the instance with the answer lost.</summary>
    public long HandedOnUnknown => Volatile.Read(ref _handedOnUnknown);

    /// <summary>Received from the instance and written to a controller here.</summary>
    public long ReceivedWarm => Volatile.Read(ref _receivedWarm);

    /// <summary>Received from the instance with no controller here for it.</summary>
    public long ReceivedMiss => Volatile.Read(ref _receivedMiss);

    public void HandedOn(AttemptResult result)
    {
        switch (result)
        {
            case AttemptResult.Warm:
                Interlocked.Increment(ref _handedOnWarm);
                break;
            case AttemptResult.Unknown:
                Interlocked.Increment(ref _handedOnUnknown);
                break;
            default:
                Interlocked.Increment(ref _handedOnMiss);
                break;
        }
    }

    public void Received(bool warm) => Interlocked.Increment(ref warm ? ref _receivedWarm : ref _receivedMiss);
}

/// <summary>How one attempt to hand a dispatch to one other instance went.</summary>
internal enum AttemptResult
{
    /// <summary>The instance wrote the run to one of its controllers.</summary>
    Warm,

    /// <summary>The instance had no controller for it.</summary>
    Miss,

    /// <summary>Nothing reached the instance (connection refused) or it refused the dispatch before matching: the next may be tried.</summary>
    NotReceived,

    /// <summary>The instance may have received the run and its answer was lost: nobody else may be tried.</summary>
    Unknown,
}

/// <summary>Per other instance (by id), the dispatches this instance handed on to it and received from it.</summary>
internal sealed class ClusterTraffic
{
    private readonly ConcurrentDictionary<string, PeerTraffic> _peers = new(StringComparer.Ordinal);

    public PeerTraffic For(string instanceId) => _peers.GetOrAdd(instanceId, static _ => new PeerTraffic());

    public IEnumerable<KeyValuePair<string, PeerTraffic>> Peers => _peers;
}
