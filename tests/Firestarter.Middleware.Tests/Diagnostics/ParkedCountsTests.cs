using Firestarter.Diagnostics;
using Firestarter.Matching;

namespace Firestarter.Tests.Diagnostics;

public class ParkedCountsTests
{
    [Fact]
    public void Counts_by_deployment_sum_every_key_of_a_deployment_largest_first_ties_by_id()
    {
        var counts = new Dictionary<MatchKey, int>
        {
            [new MatchKey("b", "v1", 1, 1)] = 2,
            [new MatchKey("a", "v1", 1, 1)] = 1,
            [new MatchKey("a", "v2", 0.5, 2)] = 1,
            [new MatchKey("c", "v1", 1, 1)] = 5,
        };

        Assert.Equal([("c", 5L), ("a", 2L), ("b", 2L)], ParkedCounts.ByDeployment(counts));
        Assert.Empty(ParkedCounts.ByDeployment([]));
    }
}
