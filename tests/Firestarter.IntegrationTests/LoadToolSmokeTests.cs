extern alias LoadTool;

using Firestarter.IntegrationTests.Infrastructure;
using LoadTool::Firestarter.LoadTool;
using Xunit.Abstractions;

namespace Firestarter.IntegrationTests;

/// <summary>
/// The load tool (bench/Firestarter.LoadTool) run in-process against the real host on real Kestrel for a moment:
/// it must work end to end against this broker, and its exactness check must pass. No timing is asserted.
/// </summary>
public sealed class LoadToolSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_short_load_with_aborts_passes_the_load_tools_exactness_check()
    {
        await using var broker = new BrokerFactory();
        var address = broker.Start();
        var options = new LoadOptions
        {
            Target = address.ToString().TrimEnd('/'),
            Controllers = 20,
            Dispatchers = 4,
            Keys = 4,
            AbortRate = 0.2,
            AbortMaxDelayMs = 20,
            Duration = 1.5,
            Drain = 2,
            Seed = 1,
        };
        using var log = new StringWriter();

        var report = await LoadRunner.RunAsync(options, log, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine(log.ToString());
        output.WriteLine(ReportText.ToText(report));
        Assert.True(report.ExactnessChecked);
        Assert.True(report.Dispatches > 0, "no dispatch was measured");
        Assert.True(report.Hits > 0, "no dispatch was warm-started");
        Assert.True(report.PollsAborted > 0, "no poll was aborted");
        Assert.Equal(0, report.Duplicated);
        Assert.Equal(0, report.FalseDelivered);
        Assert.Equal(0, report.Misrouted);
        Assert.Equal(0, report.UnknownReceived);
        Assert.Equal(0, report.UnexplainedLost);
        Assert.True(report.ExactnessPassedAllowingAbortRace);
        Assert.Equal(0, report.DispatchHttpErrors + report.DispatchTransportErrors + report.DispatchBadAnswers);
    }
}
