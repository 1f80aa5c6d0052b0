using Microsoft.AspNetCore.Http;
using Firestarter.Matching;

namespace Firestarter.Tests.Matching;

public class PollBucketTests
{
    private static readonly MatchKey Key = new("d", "v", 1, 1);

    private static (PollBucket Bucket, ParkedPoll[] Polls) BucketWith(int count)
    {
        var bucket = new PollBucket(Key);
        var polls = Enumerable.Range(0, count).Select(i => new ParkedPoll(Key, new DefaultHttpContext(), i)).ToArray();
        foreach (var poll in polls)
        {
            bucket.Append(poll);
        }

        return (bucket, polls);
    }

    private static List<ParkedPoll> OldestToNewest(PollBucket bucket)
    {
        var list = new List<ParkedPoll>();
        for (var poll = bucket.Oldest; poll is not null; poll = poll.Newer)
        {
            list.Add(poll);
        }

        return list;
    }

    private static List<ParkedPoll> NewestToOldest(PollBucket bucket)
    {
        var list = new List<ParkedPoll>();
        for (var poll = bucket.Newest; poll is not null; poll = poll.Older)
        {
            list.Add(poll);
        }

        return list;
    }

    [Fact]
    public void Appended_polls_are_linked_oldest_to_newest()
    {
        var (bucket, polls) = BucketWith(3);

        Assert.Equal(3, bucket.Count);
        Assert.Same(polls[0], bucket.Oldest);
        Assert.Same(polls[2], bucket.Newest);
        Assert.Equal(polls, OldestToNewest(bucket));
        Assert.Equal(polls.Reverse(), NewestToOldest(bucket));
        Assert.All(polls, poll => Assert.Same(bucket, poll.Bucket));
        Assert.All(polls, poll => Assert.True(poll.IsLinked));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Removing_a_poll_from_anywhere_keeps_the_rest_linked_in_order(int index)
    {
        var (bucket, polls) = BucketWith(3);

        Assert.True(bucket.Remove(polls[index]));

        var rest = polls.Where((_, i) => i != index).ToList();
        Assert.Equal(2, bucket.Count);
        Assert.Equal(rest, OldestToNewest(bucket));
        Assert.Equal(Enumerable.Reverse(rest), NewestToOldest(bucket));
        Assert.False(polls[index].IsLinked);
        Assert.Null(polls[index].Older);
        Assert.Null(polls[index].Newer);
    }

    [Fact]
    public void Removing_an_unlinked_poll_does_nothing()
    {
        var (bucket, polls) = BucketWith(2);
        Assert.True(bucket.Remove(polls[0]));

        Assert.False(bucket.Remove(polls[0]));
        Assert.False(bucket.Remove(new ParkedPoll(Key, new DefaultHttpContext(), 9)));
        Assert.Equal(1, bucket.Count);
        Assert.Same(polls[1], bucket.Oldest);
        Assert.Same(polls[1], bucket.Newest);
    }

    [Fact]
    public void Removing_the_only_poll_empties_the_bucket()
    {
        var (bucket, polls) = BucketWith(1);

        Assert.True(bucket.Remove(polls[0]));

        Assert.Equal(0, bucket.Count);
        Assert.Null(bucket.Oldest);
        Assert.Null(bucket.Newest);
    }
}
