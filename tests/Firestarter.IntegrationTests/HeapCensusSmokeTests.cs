extern alias HeapCensus;

using Firestarter.IntegrationTests.Infrastructure;
using HeapCensus::Firestarter.HeapCensus;

namespace Firestarter.IntegrationTests;

/// <summary>
/// The heap census (bench/Firestarter.HeapCensus, which bench/run.sh reads the leak scenario's heap with) against the
/// real host as its own process: it must get the runtime's heap walk and name what it counts. No sizes are asserted
/// beyond "a heap was walked".
/// </summary>
public sealed class HeapCensusSmokeTests
{
    [Fact]
    public async Task The_census_walks_the_running_hosts_heap_and_names_its_types()
    {
        await using var host = await HostProcess.StartAsync(HostProcess.FreePort());

        var census = Census.Take(host.Id, TimeSpan.FromSeconds(30));

        var objects = census.ByType.Values.Sum(t => t.Count);
        var bytes = census.ByType.Values.Sum(t => t.Bytes);
        Assert.True(objects > 1_000, $"{objects} objects walked");
        Assert.True(bytes > 100_000, $"{bytes} bytes walked");
        // On the JIT host the runtime names the types itself; the broker's own pool is among them.
        var counted = census.ByType.Keys.Select(id => census.Names.GetValueOrDefault(id, "")).ToHashSet();
        Assert.Contains("System.String", counted);
        Assert.Contains("Firestarter.Matching.WarmPool", counted);
    }
}
