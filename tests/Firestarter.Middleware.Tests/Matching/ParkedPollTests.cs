using Microsoft.AspNetCore.Http;
using Firestarter.Matching;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Matching;

public class ParkedPollTests
{
    private static readonly MatchKey Key = new("d", "v", 1, 1);

    [Fact]
    public void A_new_poll_waits_and_keeps_its_key_park_time_and_request()
    {
        var context = new DefaultHttpContext();
        var poll = new ParkedPoll(Key, context, 1234);

        Assert.True(poll.IsWaiting);
        Assert.Equal(Key, poll.Key);
        Assert.Equal(1234, poll.ParkedAt);
        Assert.Same(context, poll.Context);
        Assert.False(PollPeek.IsCompleted(poll));
    }

    [Fact]
    public void Only_the_first_claim_succeeds()
    {
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), 0);

        Assert.True(poll.TryClaim());
        Assert.False(poll.TryClaim());
        Assert.False(poll.IsWaiting);
    }

    [Fact]
    public void A_claimed_poll_cannot_be_abandoned()
    {
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), 0);

        Assert.True(poll.TryClaim());
        Assert.False(poll.TryAbandon());
    }

    [Fact]
    public void An_abandoned_poll_cannot_be_claimed_or_abandoned_again()
    {
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), 0);

        Assert.True(poll.TryAbandon());
        Assert.False(poll.TryClaim());
        Assert.False(poll.TryAbandon());
        Assert.False(poll.IsWaiting);
    }

    [Theory]
    [InlineData(nameof(PollOutcome.Matched))]
    [InlineData(nameof(PollOutcome.Aborted))]
    [InlineData(nameof(PollOutcome.Expired))]
    [InlineData(nameof(PollOutcome.Drained))]
    public async Task Complete_ends_the_wait_with_the_outcome(string outcomeName)
    {
        var outcome = Enum.Parse<PollOutcome>(outcomeName);
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), 0);
        Assert.True(poll.TryClaim());
        Assert.False(PollPeek.IsCompleted(poll));

        poll.Complete(outcome);

        Assert.True(PollPeek.IsCompleted(poll));
        Assert.Equal(outcome, await poll.WaitAsync());
    }

    [Fact]
    public void Completing_twice_is_refused()
    {
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), 0);
        poll.Complete(PollOutcome.Matched);

        Assert.Throws<InvalidOperationException>(() => poll.Complete(PollOutcome.Aborted));
    }

    [Theory]
    [InlineData((int)PollOutcome.Matched, true)]
    [InlineData((int)PollOutcome.Aborted, false)]
    [InlineData((int)PollOutcome.Expired, false)]
    [InlineData((int)PollOutcome.Drained, false)]
    public async Task A_delivered_waiter_resumes_on_the_dispatchs_stack_every_other_one_on_the_thread_pool(int outcomeValue, bool inline)
    {
        var outcome = (PollOutcome)outcomeValue;
        var poll = new ParkedPoll(Key, new DefaultHttpContext(), 0);
        var insideComplete = 0;
        var completingThread = Environment.CurrentManagedThreadId;

        // Without a synchronisation context (ConfigureAwait(false)), only the poll itself decides whether its
        // waiter's continuation runs inline in Complete or is queued.
        async Task<bool> WaitAndReportWhetherInline()
        {
            await poll.WaitAsync().ConfigureAwait(false);
            return Volatile.Read(ref insideComplete) == 1 && Environment.CurrentManagedThreadId == completingThread;
        }

        // Runs synchronously up to its await, so the continuation is registered before Complete.
        var waiter = WaitAndReportWhetherInline();
        Assert.False(waiter.IsCompleted);

        Volatile.Write(ref insideComplete, 1);
        poll.Complete(outcome);
        Volatile.Write(ref insideComplete, 0);

        Assert.Equal(inline, await waiter.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
