using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Diagnostics;

public class FirestarterMetricsTests
{
    private static void Park(WarmPool pool, string deployment, int count, string version = "1", double cpu = 1)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(pool.TryPark(new ParkedPoll(new MatchKey(deployment, version, cpu, 1), new Microsoft.AspNetCore.Http.DefaultHttpContext(), 0)));
        }
    }

    [Fact]
    public void All_instruments_are_published_on_the_Firestarter_meter_with_their_units()
    {
        using var recorder = new MetricsRecorder(new WarmPool(SelectionOrder.NewestFirst));

        var units = recorder.Published.ToDictionary(i => i.Name, i => i.Unit);

        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["firestarter.polls"] = "{poll}",
                ["firestarter.dispatches"] = "{dispatch}",
                ["firestarter.handoffs"] = "{handoff}",
                ["firestarter.dispatch.duration"] = "s",
                ["firestarter.poll.wait_time"] = "s",
                ["firestarter.controllers.parked"] = "{controller}",
                ["firestarter.controllers.parked_by_deployment"] = "{controller}",
                ["firestarter.draining"] = "{state}",
                ["firestarter.polls.guard_skipped"] = "{poll}",
                ["firestarter.dispatches.repoll_waits"] = "{dispatch}",
                ["firestarter.dispatch.repoll_wait_time"] = "s",
                ["firestarter.confirmations"] = "{confirmation}",
                ["firestarter.confirmation.latency"] = "s",
            },
            units);
        Assert.All(recorder.Published, i => Assert.Equal("Firestarter", i.Meter.Name));
    }

    [Theory]
    [InlineData(PollOutcome.Matched, "matched")]
    [InlineData(PollOutcome.Aborted, "aborted")]
    [InlineData(PollOutcome.Expired, "expired")]
    [InlineData(PollOutcome.Rejected, "rejected")]
    [InlineData(PollOutcome.Drained, "drained")]
    internal void PollEnded_counts_one_poll_tagged_with_its_outcome(PollOutcome ended, string outcome)
    {
        using var recorder = new MetricsRecorder(new WarmPool(SelectionOrder.NewestFirst));

        recorder.Metrics.PollEnded(ended);

        // Nothing is measured on the hot path: the counter reports its count when a collector reads it.
        Assert.Empty(recorder.All);
        var recorded = Assert.Single(recorder.Current("firestarter.polls"));
        Assert.Equal(1, recorded.Value);
        Assert.Equal(outcome, recorded.Tag("outcome"));
        Assert.Single(recorded.Tags);
    }

    [Fact]
    public void The_outcome_counters_report_running_totals_for_the_outcomes_seen_so_far()
    {
        using var recorder = new MetricsRecorder(new WarmPool(SelectionOrder.NewestFirst));

        recorder.Metrics.PollEnded(PollOutcome.Aborted);
        recorder.Metrics.PollEnded(PollOutcome.Matched);
        recorder.Metrics.PollEnded(PollOutcome.Aborted);
        var first = recorder.Current("firestarter.polls").ToDictionary(r => r.Tag("outcome")!, r => r.Value);
        recorder.Metrics.PollEnded(PollOutcome.Aborted);
        var second = recorder.Current("firestarter.polls").ToDictionary(r => r.Tag("outcome")!, r => r.Value);

        Assert.Equal(new Dictionary<string, double> { ["matched"] = 1, ["aborted"] = 2 }, first);
        Assert.Equal(new Dictionary<string, double> { ["matched"] = 1, ["aborted"] = 3 }, second);
        Assert.Empty(recorder.Current("firestarter.dispatches"));
    }

    [Fact]
    public void Every_outcome_has_one_tag_its_name_in_snake_case()
    {
        AssertTags<PollOutcome>(OutcomeTags.Poll);
        AssertTags<DispatchOutcome>(OutcomeTags.Dispatch);
        AssertTags<HandoffOutcome>(OutcomeTags.Handoff);

        static void AssertTags<T>(string[] tags)
            where T : struct, Enum
        {
            var names = Enum.GetNames<T>().Select(name => string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())));
            Assert.Equal(names, tags);
            Assert.Equal(Enumerable.Range(0, tags.Length), Enum.GetValues<T>().Select(value => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    [Fact]
    public void Dispatched_counts_the_dispatch_and_records_its_duration_in_seconds_with_the_same_outcome()
    {
        using var recorder = new MetricsRecorder(new WarmPool(SelectionOrder.NewestFirst));

        recorder.Metrics.Dispatched(DispatchOutcome.Warm, TimeSpan.FromMilliseconds(1.5), TimeProvider.System.GetTimestamp());

        var duration = Assert.Single(recorder.All);
        Assert.Equal("firestarter.dispatch.duration", duration.Instrument);
        Assert.Equal(0.0015, duration.Value, 9);
        Assert.Equal("warm", duration.Tag("outcome"));
        var count = Assert.Single(recorder.Current("firestarter.dispatches"));
        Assert.Equal(1, count.Value);
        Assert.Equal("warm", count.Tag("outcome"));
    }

    [Theory]
    [InlineData(HandoffOutcome.Delivered, "delivered")]
    [InlineData(HandoffOutcome.DeliveredAsClientLeft, "delivered_as_client_left")]
    [InlineData(HandoffOutcome.GoneBeforeWrite, "gone_before_write")]
    [InlineData(HandoffOutcome.Refused, "refused")]
    internal void Handoff_counts_one_handoff_tagged_with_its_outcome(HandoffOutcome handoff, string outcome)
    {
        using var recorder = new MetricsRecorder(new WarmPool(SelectionOrder.NewestFirst));

        recorder.Metrics.Handoff(handoff);

        Assert.Empty(recorder.All);
        var recorded = Assert.Single(recorder.Current("firestarter.handoffs"));
        Assert.Equal(1, recorded.Value);
        Assert.Equal(outcome, recorded.Tag("outcome"));
    }

    [Fact]
    public void ControllerWaited_records_the_wait_in_seconds_without_tags()
    {
        using var recorder = new MetricsRecorder(new WarmPool(SelectionOrder.NewestFirst));

        recorder.Metrics.ControllerWaited(TimeSpan.FromSeconds(2.25));

        var recorded = Assert.Single(recorder.All);
        Assert.Equal("firestarter.poll.wait_time", recorded.Instrument);
        Assert.Equal(2.25, recorded.Value);
        Assert.Empty(recorded.Tags);
    }

    [Fact]
    public void The_outcome_tag_values_are_the_documented_names()
    {
        Assert.Equal(
            ["matched", "aborted", "expired", "rejected", "drained", "warm", "cold", "rejected", "forwarded", "forward_failed", "unconfirmed",
             "delivered", "delivered_as_client_left", "gone_before_write", "refused", "served", "timed_out",
             "released", "already_answered", "controller_mismatch", "unknown"],
            [.. OutcomeTags.Poll, .. OutcomeTags.Dispatch, .. OutcomeTags.Handoff, .. OutcomeTags.Repoll, .. OutcomeTags.Confirmation]);
    }

    [Fact]
    public void The_gauges_observe_the_pool_when_collected()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        using var recorder = new MetricsRecorder(pool);
        Park(pool, "deployment_a", 2);
        Park(pool, "deployment_b", 1);

        var observed = recorder.Observe();

        Assert.Equal(3, Assert.Single(observed, r => r.Instrument == "firestarter.controllers.parked").Value);
        Assert.Equal(0, Assert.Single(observed, r => r.Instrument == "firestarter.draining").Value);
        var byDeployment = observed.Where(r => r.Instrument == "firestarter.controllers.parked_by_deployment")
            .ToDictionary(r => r.Tag("deployment")!, r => r.Value);
        Assert.Equal(new Dictionary<string, double> { ["deployment_a"] = 2, ["deployment_b"] = 1 }, byDeployment);

        pool.BeginDrain();
        observed = recorder.Observe();

        Assert.Equal(0, Assert.Single(observed, r => r.Instrument == "firestarter.controllers.parked").Value);
        Assert.Equal(1, Assert.Single(observed, r => r.Instrument == "firestarter.draining").Value);
        Assert.DoesNotContain(observed, r => r.Instrument == "firestarter.controllers.parked_by_deployment");
    }

    [Fact]
    public void Keys_of_one_deployment_are_summed_under_that_deployment()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        using var recorder = new MetricsRecorder(pool);
        Park(pool, "deployment_a", 2, version: "1");
        Park(pool, "deployment_a", 3, version: "2");
        Park(pool, "deployment_a", 1, version: "2", cpu: 4);

        var byDeployment = recorder.Observe().Where(r => r.Instrument == "firestarter.controllers.parked_by_deployment").ToList();

        var only = Assert.Single(byDeployment);
        Assert.Equal("deployment_a", only.Tag("deployment"));
        Assert.Equal(6, only.Value);
    }

    [Fact]
    public void The_per_deployment_gauge_keeps_the_largest_deployments_and_folds_the_rest_into_other()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        using var recorder = new MetricsRecorder(pool);
        // 55 deployments with 1..55 controllers: the 50 largest (6..55) keep their own tag, 1+2+3+4+5 fold.
        const int Deployments = FirestarterMetrics.MaxDeploymentTags + 5;
        for (var i = 1; i <= Deployments; i++)
        {
            Park(pool, $"deployment_{i:D2}", i);
        }

        var byDeployment = recorder.Observe()
            .Where(r => r.Instrument == "firestarter.controllers.parked_by_deployment")
            .ToDictionary(r => r.Tag("deployment")!, r => r.Value);

        Assert.Equal(FirestarterMetrics.MaxDeploymentTags + 1, byDeployment.Count);
        Assert.Equal(15, byDeployment["_other"]);
        for (var i = 6; i <= Deployments; i++)
        {
            Assert.Equal(i, byDeployment[$"deployment_{i:D2}"]);
        }

        for (var i = 1; i <= 5; i++)
        {
            Assert.False(byDeployment.ContainsKey($"deployment_{i:D2}"));
        }

        Assert.Equal(pool.ParkedCount, byDeployment.Values.Sum());
    }

    [Fact]
    public void Exactly_the_maximum_number_of_deployments_needs_no_other_tag()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        using var recorder = new MetricsRecorder(pool);
        for (var i = 0; i < FirestarterMetrics.MaxDeploymentTags; i++)
        {
            Park(pool, $"deployment_{i}", 1);
        }

        var tags = recorder.Observe()
            .Where(r => r.Instrument == "firestarter.controllers.parked_by_deployment")
            .Select(r => r.Tag("deployment"))
            .ToList();

        Assert.Equal(FirestarterMetrics.MaxDeploymentTags, tags.Count);
        Assert.DoesNotContain("_other", tags);
    }

    [Fact]
    public void One_deployment_over_the_maximum_folds_exactly_one_into_other()
    {
        var pool = new WarmPool(SelectionOrder.NewestFirst);
        using var recorder = new MetricsRecorder(pool);
        for (var i = 0; i < FirestarterMetrics.MaxDeploymentTags; i++)
        {
            Park(pool, $"deployment_{i}", 2);
        }

        Park(pool, "deployment_small", 1);

        var byDeployment = recorder.Observe()
            .Where(r => r.Instrument == "firestarter.controllers.parked_by_deployment")
            .ToDictionary(r => r.Tag("deployment")!, r => r.Value);

        Assert.Equal(FirestarterMetrics.MaxDeploymentTags + 1, byDeployment.Count);
        Assert.Equal(1, byDeployment["_other"]);
        Assert.False(byDeployment.ContainsKey("deployment_small"));
    }
}
