using Firestarter.ColdStart;

namespace Firestarter.Tests.ColdStart;

public class AttemptLifetimeFeatureTests
{
    [Fact]
    public void Abort_is_recorded_without_cancelling_the_attempts_token()
    {
        using var attempt = new CancellationTokenSource();
        var feature = new AttemptLifetimeFeature(attempt.Token);
        Assert.False(feature.AbortRequested);

        feature.Abort();

        Assert.True(feature.AbortRequested);
        Assert.False(feature.RequestAborted.IsCancellationRequested);
    }

    [Fact]
    public void RequestAborted_is_the_attempts_token()
    {
        using var attempt = new CancellationTokenSource();
        var feature = new AttemptLifetimeFeature(attempt.Token);

        attempt.Cancel();

        Assert.True(feature.RequestAborted.IsCancellationRequested);
        Assert.Equal(attempt.Token, feature.RequestAborted);
    }
}
