using Firestarter.Matching;

namespace Firestarter.Diagnostics;

/// <summary>Reporting over the pool's waiting polls, for the metrics' and the status endpoint's top lists.</summary>
internal static class ParkedCounts
{
    /// <summary>
    /// Sums <paramref name="countsByKey"/> (from <see cref="WarmPool.CountByKey"/>) per deployment, largest first, ties in
    /// ordinal order of the deployment id: the order both the metrics' and the status endpoint's top lists use.
    /// </summary>
    public static List<(string Deployment, long Count)> ByDeployment(IEnumerable<KeyValuePair<MatchKey, int>> countsByKey)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, count) in countsByKey)
        {
            sums[key.Deployment] = sums.GetValueOrDefault(key.Deployment) + count;
        }

        List<(string Deployment, long Count)> ordered = [.. sums.Select(pair => (pair.Key, pair.Value))];

        ordered.Sort(static (a, b) => b.Count != a.Count ? b.Count.CompareTo(a.Count) : string.CompareOrdinal(a.Deployment, b.Deployment));
        return ordered;
    }
}
