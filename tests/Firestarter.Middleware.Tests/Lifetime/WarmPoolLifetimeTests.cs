using Microsoft.AspNetCore.Http;
using Firestarter.Lifetime;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Lifetime;

public class WarmPoolLifetimeTests
{
    private static readonly MatchKey Key = new("deployment_abc", "1", 1, 1);

    private sealed class FakeHostLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }

    private sealed class Harness : IDisposable
    {
        public Harness(FirestarterOptions options)
        {
            Lifetime = new WarmPoolLifetime(
                Pool, Time, Host, Microsoft.Extensions.Options.Options.Create(options), NullLogger<WarmPoolLifetime>.Instance);
        }

        public FakeTimeProvider Time { get; } = new();

        public WarmPool Pool { get; } = new(SelectionOrder.NewestFirst);

        public FakeHostLifetime Host { get; } = new();

        public WarmPoolLifetime Lifetime { get; }

        public ParkedPoll Park()
        {
            var poll = new ParkedPoll(Key, new DefaultHttpContext(), Time.GetTimestamp());
            Assert.True(Pool.TryPark(poll));
            return poll;
        }

        public void Dispose()
        {
            Lifetime.Dispose();
            Host.Dispose();
        }
    }

    private static async Task<PollOutcome> OutcomeOf(ParkedPoll poll)
    {
        Assert.True(PollPeek.IsCompleted(poll), "the poll should have ended");
        return await poll.WaitAsync();
    }

    [Fact]
    public async Task Polls_older_than_the_limit_expire_on_a_sweep_and_younger_ones_wait()
    {
        using var harness = new Harness(new FirestarterOptions { MaxPollDuration = TimeSpan.FromSeconds(20) });
        await harness.Lifetime.StartAsync(CancellationToken.None);

        var old = harness.Park();
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        var young = harness.Park();
        harness.Time.Advance(TimeSpan.FromSeconds(9));

        Assert.True(old.IsWaiting);
        Assert.Equal(2, harness.Pool.ParkedCount);

        harness.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(PollOutcome.Expired, await OutcomeOf(old));
        Assert.True(young.IsWaiting);
        Assert.Equal(1, harness.Pool.ParkedCount);

        harness.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(PollOutcome.Expired, await OutcomeOf(young));
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.Equal(0, harness.Pool.KeyCount);
    }

    [Fact]
    public async Task Without_a_max_poll_duration_the_limit_is_twice_the_connection_timeout()
    {
        using var harness = new Harness(new FirestarterOptions { ConnectionTimeout = TimeSpan.FromSeconds(5), Keepalive = TimeSpan.FromMinutes(1) });
        await harness.Lifetime.StartAsync(CancellationToken.None);
        var poll = harness.Park();

        harness.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(poll.IsWaiting);

        harness.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(PollOutcome.Expired, await OutcomeOf(poll));
    }

    [Fact]
    public async Task A_limit_under_a_second_is_swept_at_its_own_interval()
    {
        using var harness = new Harness(new FirestarterOptions { MaxPollDuration = TimeSpan.FromMilliseconds(200) });
        await harness.Lifetime.StartAsync(CancellationToken.None);
        var poll = harness.Park();

        harness.Time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.True(poll.IsWaiting);

        harness.Time.Advance(TimeSpan.FromMilliseconds(201));
        Assert.Equal(PollOutcome.Expired, await OutcomeOf(poll));
    }

    [Fact]
    public async Task Nothing_expires_before_the_host_starts_the_lifetime()
    {
        using var harness = new Harness(new FirestarterOptions { MaxPollDuration = TimeSpan.FromSeconds(1) });
        var poll = harness.Park();

        harness.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.True(poll.IsWaiting);
        await harness.Lifetime.StartAsync(CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(PollOutcome.Expired, await OutcomeOf(poll));
    }

    [Fact]
    public async Task Application_stopping_drains_the_pool()
    {
        using var harness = new Harness(new FirestarterOptions());
        await harness.Lifetime.StartAsync(CancellationToken.None);
        var first = harness.Park();
        var second = harness.Park();

        harness.Host.StopApplication();

        Assert.True(harness.Pool.IsDraining);
        Assert.Equal(PollOutcome.Drained, await OutcomeOf(first));
        Assert.Equal(PollOutcome.Drained, await OutcomeOf(second));
        Assert.Equal(0, harness.Pool.ParkedCount);
        Assert.False(harness.Pool.TryPark(new ParkedPoll(Key, new DefaultHttpContext(), 0)));
    }

    [Fact]
    public async Task StopAsync_drains_the_pool_even_without_the_stopping_signal()
    {
        using var harness = new Harness(new FirestarterOptions());
        await harness.Lifetime.StartAsync(CancellationToken.None);
        var poll = harness.Park();

        await harness.Lifetime.StopAsync(CancellationToken.None);

        Assert.True(harness.Pool.IsDraining);
        Assert.Equal(PollOutcome.Drained, await OutcomeOf(poll));
    }

    [Fact]
    public async Task StopAsync_after_application_stopping_is_harmless()
    {
        using var harness = new Harness(new FirestarterOptions());
        await harness.Lifetime.StartAsync(CancellationToken.None);
        var poll = harness.Park();
        harness.Host.StopApplication();

        await harness.Lifetime.StopAsync(CancellationToken.None);

        Assert.Equal(PollOutcome.Drained, await OutcomeOf(poll));
    }

    [Fact]
    public async Task After_dispose_nothing_is_swept_or_drained()
    {
        using var harness = new Harness(new FirestarterOptions { MaxPollDuration = TimeSpan.FromSeconds(1) });
        await harness.Lifetime.StartAsync(CancellationToken.None);
        var poll = harness.Park();

        harness.Lifetime.Dispose();
        harness.Time.Advance(TimeSpan.FromSeconds(10));
        harness.Host.StopApplication();

        Assert.True(poll.IsWaiting);
        Assert.False(harness.Pool.IsDraining);
    }
}
