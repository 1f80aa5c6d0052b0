using System.Numerics;

namespace Firestarter.LoadTool;

/// <summary>
/// A log-linear latency histogram in microseconds, safe to record into from many threads: exact below 512 µs, then
/// 256 buckets per power of two (at most 0.4 % relative error) up to about 2^40 µs. The maximum is kept exactly.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 8;
    private const int SubBuckets = 1 << SubBucketBits; // 256
    private const int ExactLimit = 2 * SubBuckets; // values below this get their own bucket
    private const int MaxMagnitude = 40;

    private readonly long[] _counts = new long[ExactLimit + ((MaxMagnitude - SubBucketBits) * SubBuckets)];
    private long _count;
    private long _sum;
    private long _max;

    public long Count => Volatile.Read(ref _count);

    public void Record(long microseconds)
    {
        if (microseconds < 0)
        {
            microseconds = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(microseconds)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, microseconds);
        var max = Volatile.Read(ref _max);
        while (microseconds > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, microseconds, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>p50/p95/p99/max/mean in milliseconds (zeros when nothing was recorded).</summary>
    public LatencySummary Summarize()
    {
        var count = Count;
        if (count == 0)
        {
            return new LatencySummary();
        }

        var max = Volatile.Read(ref _max);
        return new LatencySummary
        {
            Samples = count,
            P50 = Milliseconds(Math.Min(Percentile(count, 50), max)),
            P95 = Milliseconds(Math.Min(Percentile(count, 95), max)),
            P99 = Milliseconds(Math.Min(Percentile(count, 99), max)),
            Max = Milliseconds(max),
            Mean = Milliseconds((double)Volatile.Read(ref _sum) / count),
        };
    }

    private static double Milliseconds(double microseconds) => Math.Round(microseconds / 1000, 3);

    private long Percentile(long count, double percent)
    {
        var rank = (long)Math.Ceiling(count * percent / 100);
        if (rank < 1)
        {
            rank = 1;
        }

        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return RepresentativeValue(i);
            }
        }

        return Volatile.Read(ref _max);
    }

    private static int IndexOf(long value)
    {
        if (value < ExactLimit)
        {
            return (int)value;
        }

        var magnitude = 63 - BitOperations.LeadingZeroCount((ulong)value); // >= SubBucketBits + 1
        if (magnitude >= MaxMagnitude)
        {
            magnitude = MaxMagnitude - 1;
            value = (1L << MaxMagnitude) - 1;
        }

        var shift = magnitude - SubBucketBits; // >= 1
        return ExactLimit + ((shift - 1) * SubBuckets) + (int)((value >> shift) - SubBuckets);
    }

    // The middle of the bucket's range.
    private static long RepresentativeValue(int index)
    {
        if (index < ExactLimit)
        {
            return index;
        }

        var shift = ((index - ExactLimit) / SubBuckets) + 1;
        var sub = ((index - ExactLimit) % SubBuckets) + SubBuckets;
        var low = (long)sub << shift;
        return low + ((1L << shift) / 2);
    }
}
