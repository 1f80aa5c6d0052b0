using BenchmarkDotNet.Attributes;
using Firestarter.Matching;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Benchmarks;

/// <summary>
/// The pool's park/claim and park/abandon, single-threaded (no contention): the cost of the bucket lookup, the
/// bucket's lock and the poll's state transition. Each operation parks a new <see cref="ParkedPoll"/>, the one
/// object a parked controller costs the pool; its allocation is part of the numbers.
/// </summary>
[MemoryDiagnoser]
public class WarmPoolBenchmarks
{
    private static readonly MatchKey Key = new(Samples.Deployment, Samples.Version, Samples.Cpu, Samples.Memory);
    // The pool never touches a poll's request; one context stands in for every held one.
    private static readonly DefaultHttpContext Held = new();
    private WarmPool _pool = null!;

    /// <summary>Controllers already waiting under the key (0: every park creates and every claim retires the bucket).</summary>
    [Params(0, 100)]
    public int Waiting { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pool = new WarmPool(SelectionOrder.NewestFirst);
        for (var i = 0; i < Waiting; i++)
        {
            _pool.TryPark(new ParkedPoll(Key, Held, 0));
        }
    }

    [Benchmark]
    public bool Park_then_claim()
    {
        _pool.TryPark(new ParkedPoll(Key, Held, 0));
        var claimed = _pool.TryClaim(Key);
        claimed?.Complete(PollOutcome.Matched);
        return claimed is not null;
    }

    [Benchmark]
    public bool Park_then_abandon()
    {
        var poll = new ParkedPoll(Key, Held, 0);
        _pool.TryPark(poll);
        return _pool.TryAbandon(poll, PollOutcome.Aborted);
    }
}
