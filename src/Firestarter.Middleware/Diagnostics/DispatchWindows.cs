namespace Firestarter.Diagnostics;

/// <summary>
/// Dispatch counts by outcome and a latency histogram over the last 15 minutes, in 10-second buckets kept in a ring,
/// for the status endpoint and page (Prometheus keeps the long history; this answers "how is it doing right now"
/// without one).
/// </summary>
/// <remarks>
/// Fed from <see cref="FirestarterMetrics.Dispatched"/>: a dispatch costs a timestamp and two interlocked
/// increments. A bucket is cleared when time first reaches it again, under a lock taken once per bucket (every
/// 10 seconds), so counts are never lost to a concurrent reset. Readers sum the buckets without locks; a snapshot
/// may include a dispatch or two of the current instant, which is fine for a status view.
/// </remarks>
internal sealed class DispatchWindows
{
    /// <summary>The width of one bucket.</summary>
    public static readonly TimeSpan BucketWidth = TimeSpan.FromSeconds(10);

    /// <summary>Buckets in the longest window (15 minutes).</summary>
    public const int HistoryBuckets = 90;

    /// <summary>Upper bounds of the latency buckets, in seconds (the last bucket holds everything above).</summary>
    internal static readonly double[] LatencyBounds = FirestarterMetrics.DispatchDurationBounds;

    // A few spare slots so the oldest bucket of the longest window is never the one being reset.
    private const int SlotCount = HistoryBuckets + 6;

    private readonly TimeProvider _time;
    private readonly long _ticksPerBucket;
    private readonly Slot[] _slots;

    public DispatchWindows(TimeProvider time)
    {
        _time = time;
        _ticksPerBucket = (long)(BucketWidth.TotalSeconds * time.TimestampFrequency);
        _slots = new Slot[SlotCount];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot();
        }

        StartedAt = time.GetUtcNow();
        StartedTimestamp = time.GetTimestamp();
    }

    /// <summary>When the broker started (wall clock).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>When the broker started (monotonic), for uptime.</summary>
    public long StartedTimestamp { get; }

    /// <summary>Counts one dispatch. Called once per dispatch; never blocks except at a bucket's first use.</summary>
    /// <param name="outcome">The dispatch's outcome.</param>
    /// <param name="duration">From its arrival to its answer.</param>
    /// <param name="answeredAt">
    /// When it was answered, a timestamp of this instance's <see cref="TimeProvider"/>: the caller has just read the
    /// clock for the duration, so the bucket comes from that reading rather than a second one.
    /// </param>
    public void Record(DispatchOutcome outcome, TimeSpan duration, long answeredAt)
    {
        var slot = Current(answeredAt / _ticksPerBucket);
        Interlocked.Increment(ref slot.Outcomes[(int)outcome]);
        Interlocked.Increment(ref slot.Latency[LatencyBucket(duration.TotalSeconds)]);
    }

    /// <summary>Sums the last <paramref name="buckets"/> buckets, the current one included.</summary>
    public WindowSummary Summarize(int buckets)
    {
        var now = _time.GetTimestamp() / _ticksPerBucket;
        var outcomes = new long[OutcomeCount];
        var latency = new long[LatencyBounds.Length + 1];
        for (var epoch = now - buckets + 1; epoch <= now; epoch++)
        {
            var slot = _slots[SlotOf(epoch)];
            if (Volatile.Read(ref slot.Epoch) != epoch)
            {
                continue;
            }

            for (var i = 0; i < outcomes.Length; i++)
            {
                outcomes[i] += Volatile.Read(ref slot.Outcomes[i]);
            }

            for (var i = 0; i < latency.Length; i++)
            {
                latency[i] += Volatile.Read(ref slot.Latency[i]);
            }
        }

        return new WindowSummary(outcomes, Quantile(latency, 0.5), Quantile(latency, 0.99));
    }

    /// <summary>Warm and cold (every non-warm, non-rejected outcome) dispatches per bucket, oldest first.</summary>
    public (long[] Warm, long[] Cold) Series()
    {
        var now = _time.GetTimestamp() / _ticksPerBucket;
        var warm = new long[HistoryBuckets];
        var cold = new long[HistoryBuckets];
        for (var i = 0; i < HistoryBuckets; i++)
        {
            var epoch = now - HistoryBuckets + 1 + i;
            var slot = _slots[SlotOf(epoch)];
            if (Volatile.Read(ref slot.Epoch) != epoch)
            {
                continue;
            }

            warm[i] = Volatile.Read(ref slot.Outcomes[(int)DispatchOutcome.Warm]);
            cold[i] = Volatile.Read(ref slot.Outcomes[(int)DispatchOutcome.Cold]) + Volatile.Read(ref slot.Outcomes[(int)DispatchOutcome.Forwarded]) +
                      Volatile.Read(ref slot.Outcomes[(int)DispatchOutcome.ForwardFailed]) + Volatile.Read(ref slot.Outcomes[(int)DispatchOutcome.Unconfirmed]);
        }

        return (warm, cold);
    }

    private static readonly int OutcomeCount = OutcomeTags.Dispatch.Length;

    internal static int LatencyBucket(double seconds)
    {
        for (var i = 0; i < LatencyBounds.Length; i++)
        {
            if (seconds <= LatencyBounds[i])
            {
                return i;
            }
        }

        return LatencyBounds.Length;
    }

    /// <summary>
    /// The <paramref name="q"/> quantile in seconds, interpolated within its bucket (so an estimate, as Prometheus'
    /// <c>histogram_quantile</c> gives); null with no samples. Samples above the last bound count as the last bound.
    /// </summary>
    internal static double? Quantile(long[] latency, double q)
    {
        long total = 0;
        foreach (var count in latency)
        {
            total += count;
        }

        if (total == 0)
        {
            return null;
        }

        var rank = q * total;
        long seen = 0;
        for (var i = 0; i < latency.Length; i++)
        {
            if (latency[i] == 0 || seen + latency[i] < rank)
            {
                seen += latency[i];
                continue;
            }

            if (i == LatencyBounds.Length)
            {
                return LatencyBounds[^1];
            }

            var lower = i == 0 ? 0 : LatencyBounds[i - 1];
            var upper = LatencyBounds[i];
            return lower + ((upper - lower) * (rank - seen) / latency[i]);
        }

        return LatencyBounds[^1];
    }

    private static int SlotOf(long epoch) => (int)(((epoch % SlotCount) + SlotCount) % SlotCount);

    private Slot Current(long epoch)
    {
        var slot = _slots[SlotOf(epoch)];
        if (Volatile.Read(ref slot.Epoch) != epoch)
        {
            Reset(slot, epoch);
        }

        return slot;
    }

    private static void Reset(Slot slot, long epoch)
    {
        lock (slot)
        {
            if (slot.Epoch == epoch)
            {
                return;
            }

            // Clear before publishing the new epoch: a writer that sees the new epoch counts into cleared counters.
            Array.Clear(slot.Outcomes);
            Array.Clear(slot.Latency);
            Volatile.Write(ref slot.Epoch, epoch);
        }
    }

    private sealed class Slot
    {
        public long Epoch = long.MinValue;
        public readonly long[] Outcomes = new long[OutcomeCount];
        public readonly long[] Latency = new long[LatencyBounds.Length + 1];
    }
}

/// <summary>Dispatches over one window: counts by outcome and latency quantiles in seconds.</summary>
internal sealed class WindowSummary(long[] outcomes, double? p50, double? p99)
{
    public long Warm => outcomes[(int)DispatchOutcome.Warm];

    public long Cold => outcomes[(int)DispatchOutcome.Cold];

    public long Forwarded => outcomes[(int)DispatchOutcome.Forwarded];

    public long ForwardFailed => outcomes[(int)DispatchOutcome.ForwardFailed];

    public long Rejected => outcomes[(int)DispatchOutcome.Rejected];

    /// <summary>Runs handed to a controller that did not start them in time (with confirmation on); answered as cold.</summary>
    public long Unconfirmed => outcomes[(int)DispatchOutcome.Unconfirmed];

    /// <summary>Dispatches that carried a run: warm plus every cold-start outcome (rejected ones carried none).</summary>
    public long Runs => Warm + Cold + Forwarded + ForwardFailed + Unconfirmed;

    /// <summary>The share of runs that were warm-started; null with no runs.</summary>
    public double? HitRate => Runs == 0 ? null : (double)Warm / Runs;

    /// <summary>
    /// With confirmation on, the share of runs handed to a controller that it then started (warm, of warm and
    /// unconfirmed); null with none handed out.
    /// </summary>
    public double? ConfirmationRate => Warm + Unconfirmed == 0 ? null : (double)Warm / (Warm + Unconfirmed);

    public double? P50 => p50;

    public double? P99 => p99;
}
