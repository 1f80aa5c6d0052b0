using Firestarter.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Firestarter.Tests.Diagnostics;

public class DispatchWindowsTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(2);

    [Fact]
    public void Counts_by_outcome_land_in_each_window_that_covers_them()
    {
        var time = new FakeTimeProvider();
        var windows = new DispatchWindows(time);
        windows.Record(DispatchOutcome.Warm, Fast, time.GetTimestamp());
        time.Advance(TimeSpan.FromMinutes(2));
        windows.Record(DispatchOutcome.Warm, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.Cold, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.Forwarded, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.ForwardFailed, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.Rejected, Fast, time.GetTimestamp());

        var minute = windows.Summarize(6);
        Assert.Equal(1, minute.Warm);
        Assert.Equal(1, minute.Cold);
        Assert.Equal(1, minute.Forwarded);
        Assert.Equal(1, minute.ForwardFailed);
        Assert.Equal(1, minute.Rejected);
        Assert.Equal(4, minute.Runs);
        Assert.Equal(0.25, minute.HitRate);

        var five = windows.Summarize(30);
        Assert.Equal(2, five.Warm);
        Assert.Equal(0.4, five.HitRate);
    }

    [Fact]
    public void Unconfirmed_runs_count_as_cold_runs_and_set_the_confirmation_rate()
    {
        var time = new FakeTimeProvider();
        var windows = new DispatchWindows(time);
        Assert.Null(windows.Summarize(6).ConfirmationRate);
        for (var i = 0; i < 3; i++)
        {
            windows.Record(DispatchOutcome.Warm, Fast, time.GetTimestamp());
        }

        windows.Record(DispatchOutcome.Unconfirmed, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.Cold, Fast, time.GetTimestamp());

        var minute = windows.Summarize(6);
        Assert.Equal(1, minute.Unconfirmed);
        Assert.Equal(5, minute.Runs);
        Assert.Equal(0.6, minute.HitRate);
        Assert.Equal(0.75, minute.ConfirmationRate);
        Assert.Equal(2, windows.Series().Cold[^1]);
    }

    [Fact]
    public void Buckets_older_than_the_window_are_dropped_and_reused_buckets_start_empty()
    {
        var time = new FakeTimeProvider();
        var windows = new DispatchWindows(time);
        windows.Record(DispatchOutcome.Warm, Fast, time.GetTimestamp());
        Assert.Equal(1, windows.Summarize(90).Warm);

        time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(0, windows.Summarize(90).Warm);
        Assert.Null(windows.Summarize(90).HitRate);
        Assert.Null(windows.Summarize(90).P50);

        // A full turn of the ring later the same slot is reused: it must not carry the old count.
        time.Advance(TimeSpan.FromSeconds(10 * 96) - TimeSpan.FromMinutes(16));
        windows.Record(DispatchOutcome.Cold, Fast, time.GetTimestamp());
        var summary = windows.Summarize(6);
        Assert.Equal(0, summary.Warm);
        Assert.Equal(1, summary.Cold);
    }

    [Fact]
    public void Series_holds_warm_and_every_cold_outcome_per_bucket_oldest_first()
    {
        var time = new FakeTimeProvider();
        var windows = new DispatchWindows(time);
        windows.Record(DispatchOutcome.Warm, Fast, time.GetTimestamp());
        time.Advance(DispatchWindows.BucketWidth);
        windows.Record(DispatchOutcome.Cold, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.Forwarded, Fast, time.GetTimestamp());
        windows.Record(DispatchOutcome.Rejected, Fast, time.GetTimestamp());

        var (warm, cold) = windows.Series();
        Assert.Equal(DispatchWindows.HistoryBuckets, warm.Length);
        Assert.Equal(1, warm[^2]);
        Assert.Equal(0, warm[^1]);
        Assert.Equal(2, cold[^1]);
        Assert.Equal(1, warm.Sum() + cold.Sum() - 2);
    }

    [Fact]
    public void Quantiles_interpolate_within_the_bucket_and_cap_at_the_last_bound()
    {
        var latency = new long[DispatchWindows.LatencyBounds.Length + 1];
        // 100 samples in (1 ms, 2.5 ms]: the median is half-way through that bucket.
        latency[DispatchWindows.LatencyBucket(0.002)] = 100;
        Assert.Equal(0.00175, DispatchWindows.Quantile(latency, 0.5)!.Value, 6);

        latency[^1] = 100;
        Assert.Equal(10, DispatchWindows.Quantile(latency, 0.99));
        Assert.Null(DispatchWindows.Quantile(new long[latency.Length], 0.5));
    }

    [Fact]
    public void Concurrent_records_are_all_counted()
    {
        var windows = new DispatchWindows(TimeProvider.System);
        Parallel.For(0, 20_000, i => windows.Record(i % 2 == 0 ? DispatchOutcome.Warm : DispatchOutcome.Cold, Fast, TimeProvider.System.GetTimestamp()));
        var summary = windows.Summarize(DispatchWindows.HistoryBuckets);
        Assert.Equal(20_000, summary.Runs);
    }
}
