using System.Diagnostics.Metrics;

namespace Firestarter.Diagnostics;

/// <summary>
/// A running count per outcome, from a closed set of outcomes, read by an observable counter when a collector asks.
/// </summary>
/// <remarks>
/// A <see cref="Counter{T}"/> hands every <c>Add</c> to each listener, which then looks up the tag set to find its
/// point; here an <c>Add</c> is one interlocked increment, and tag sets are built only when a collector reads the
/// counter. Exporters see the same monotonic sums either way.
/// </remarks>
internal sealed class OutcomeCounts
{
    private readonly string[] _tags;
    private readonly long[] _counts;

    /// <param name="tags">The <c>outcome</c> tag of each outcome, by the outcome's value (an <see cref="OutcomeTags"/> array).</param>
    public OutcomeCounts(string[] tags)
    {
        _tags = tags;
        _counts = new long[tags.Length];
    }

    /// <summary>Counts one outcome, given as its enum's value.</summary>
    public void Add(int outcome) => Interlocked.Increment(ref _counts[outcome]);

    /// <summary>The count of each outcome counted at least once, tagged <c>outcome</c>.</summary>
    public IEnumerable<Measurement<long>> Observe()
    {
        for (var i = 0; i < _tags.Length; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count > 0)
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("outcome", _tags[i]));
            }
        }
    }
}
