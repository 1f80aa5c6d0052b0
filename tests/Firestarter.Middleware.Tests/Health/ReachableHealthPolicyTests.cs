using System.Net;
using Firestarter.Health;
using Firestarter.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Firestarter.Tests.Health;

public class ReachableHealthPolicyTests
{
    private sealed class RecordingUpdater : IDestinationHealthUpdater
    {
        public List<DestinationHealth> Active { get; } = [];

        public void SetActive(ClusterState cluster, IEnumerable<NewActiveDestinationHealth> newHealthStates) =>
            Active.AddRange(newHealthStates.Select(state => state.NewActiveHealth));

        public void SetPassive(ClusterState cluster, DestinationState destination, DestinationHealth newHealth, TimeSpan reactivationPeriod)
        {
        }
    }

    [Fact]
    public void An_unreachable_destination_is_one_warning_naming_it_and_why_and_one_line_when_it_answers_again()
    {
        var updater = new RecordingUpdater();
        var logger = new ListLogger<ReachableHealthPolicy>();
        var policy = new ReachableHealthPolicy(updater, logger);
        var cluster = new ClusterState("supervisor");
        var destination = new DestinationState("supervisor-1");
        var refused = new HttpRequestException("Connection refused (127.0.0.1:8020)", new IOException("inner"));

        for (var probe = 0; probe < 5; probe++)
        {
            policy.ProbingCompleted(cluster, [new DestinationProbingResult(destination, null, refused)]);
        }

        using var answer = new HttpResponseMessage(HttpStatusCode.NotFound);
        policy.ProbingCompleted(cluster, [new DestinationProbingResult(destination, answer, null)]);
        policy.ProbingCompleted(cluster, [new DestinationProbingResult(destination, answer, null)]);

        Assert.Equal(
            [DestinationHealth.Healthy, DestinationHealth.Unhealthy, DestinationHealth.Unhealthy, DestinationHealth.Unhealthy, DestinationHealth.Unhealthy, DestinationHealth.Healthy, DestinationHealth.Healthy],
            updater.Active);
        var entries = logger.Entries.ToArray();
        Assert.Equal(2, entries.Length);
        Assert.Equal(LogLevel.Warning, entries[0].Level);
        Assert.Null(entries[0].Exception);
        Assert.DoesNotContain('\n', entries[0].Message);
        Assert.Contains("supervisor-1", entries[0].Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused (127.0.0.1:8020)", entries[0].Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Information, entries[1].Level);
        Assert.Contains("supervisor-1", entries[1].Message, StringComparison.Ordinal);
    }
}
