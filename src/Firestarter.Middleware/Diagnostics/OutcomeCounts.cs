using System.Diagnostics.Metrics;

namespace Firestarter.Diagnostics;

/// <summary>
/// A running count per outcome, from a closed set of outcomes, read by an observable counter when a collector asks.
/// </summary>
/// <remarks>
/// A <see cref="Counter{T}"/> hands every <c>Add</c> to each listener, and OpenTelemetry's then looks up the tag set
/// (hashing the tag's name and value) to find the point to add to: with three counters per warm start that was about
/// 1.3 % of the broker's CPU per dispatch (bench/RESULTS.md). Here an <c>Add</c> is one interlocked increment, and the
/// tag sets are built only when a collector reads the counter. Exporters see the same monotonic sums either way.
/// </remarks>
internal sealed class OutcomeCounts
{
    private readonly string[] _outcomes;
    private readonly long[] _counts;

    /// <param name="outcomes">Every outcome that may be counted; the <c>outcome</c> tag's values.</param>
    public OutcomeCounts(string[] outcomes)
    {
        _outcomes = outcomes;
        _counts = new long[outcomes.Length];
    }

    /// <summary>Counts one <paramref name="outcome"/>, which must be one of the constructor's.</summary>
    /// <returns>The outcome's position among the constructor's outcomes.</returns>
    public int Add(string outcome)
    {
        var index = IndexOf(outcome);
        Interlocked.Increment(ref _counts[index]);
        return index;
    }

    /// <summary>The count of each outcome counted at least once, tagged <c>outcome</c>.</summary>
    public IEnumerable<Measurement<long>> Observe()
    {
        for (var i = 0; i < _outcomes.Length; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count > 0)
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("outcome", _outcomes[i]));
            }
        }
    }

    private int IndexOf(string outcome)
    {
        // Callers pass the Outcomes constants, which string.Equals matches on reference before it compares text.
        for (var i = 0; i < _outcomes.Length; i++)
        {
            if (string.Equals(_outcomes[i], outcome, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(outcome), outcome, $"Not one of the counted outcomes: {string.Join(", ", _outcomes)}.");
    }
}
