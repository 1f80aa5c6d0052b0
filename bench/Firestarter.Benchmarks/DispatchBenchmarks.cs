using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Firestarter.Dispatching;
using Firestarter.Matching;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Firestarter.Benchmarks;

/// <summary>Which loggers the broker's services get.</summary>
public enum LoggerSetup
{
    /// <summary>No logging provider at all: every IsEnabled is false. The floor.</summary>
    None,

    /// <summary>
    /// The host's default: a real console provider at Information (per-request Debug messages off). Any
    /// allocation above <see cref="None"/> is logging's.
    /// </summary>
    Information,
}

/// <summary>
/// A whole <c>POST /warm-start</c> through <see cref="DispatchHandler"/>, resolved from the broker's own
/// registrations (<c>AddFirestarter</c>), with a real logger: body read, field extraction, claim, the run written
/// into a parked controller's response, the answer written, metrics recorded. Kestrel is replaced by reused
/// <see cref="DefaultHttpContext"/>s whose request body is a ready pipe and whose response pipe discards what is
/// written, so the allocations counted are the broker's own (plus the one <see cref="ParkedPoll"/> a warm dispatch
/// needs parked first). No socket: the TCP check reads "unknown", as off Linux.
/// </summary>
[MemoryDiagnoser]
public class DispatchBenchmarks
{
    private static readonly MatchKey Key = new(Samples.Deployment, Samples.Version, Samples.Cpu, Samples.Memory);
    private static readonly RequestDelegate Next = _ => Task.CompletedTask;
    private ServiceProvider _services = null!;
    private DispatchHandler _handler = null!;
    private WarmPool _pool = null!;
    private DefaultHttpContext _supervisor = null!;
    private DefaultHttpContext _controller = null!;

    [Params(LoggerSetup.None, LoggerSetup.Information)]
    public LoggerSetup Logging { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddLogging(builder =>
        {
            builder.SetMinimumLevel(LogLevel.Information);
            if (Logging == LoggerSetup.Information)
            {
                builder.AddSimpleConsole();
            }
        });
        services.AddFirestarter();
        _services = services.BuildServiceProvider();
        _handler = _services.GetRequiredService<DispatchHandler>();
        _pool = _services.GetRequiredService<WarmPool>();

        _supervisor = new DefaultHttpContext();
        _supervisor.Request.Method = HttpMethods.Post;
        _supervisor.Request.Path = "/warm-start";
        _supervisor.Request.ContentType = "application/json";
        _supervisor.Request.ContentLength = Samples.DispatchBody.Length;
        _supervisor.Features.Set<IRequestBodyPipeFeature>(new ReadyBody(Samples.DispatchBody));
        _supervisor.Features.Set<IHttpResponseBodyFeature>(new DiscardingResponseBody());

        _controller = new DefaultHttpContext();
        _controller.Features.Set<IHttpResponseBodyFeature>(new DiscardingResponseBody());
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>A controller is waiting: the run is written into its response and the answer is true.</summary>
    [Benchmark]
    public async Task Warm_dispatch()
    {
        _pool.TryPark(new ParkedPoll(Key, _controller, 0));
        await _handler.HandleAsync(_supervisor, Next);
    }

    /// <summary>No controller waits: the answer is false (cold-start mode "answer", the default).</summary>
    [Benchmark]
    public async Task Cold_dispatch() => await _handler.HandleAsync(_supervisor, Next);

    /// <summary>A request body already received in full, as Kestrel's pipe holds a small body that arrived with its headers.</summary>
    private sealed class ReadyBody(byte[] body) : PipeReader, IRequestBodyPipeFeature
    {
        private readonly ReadResult _result = new(new ReadOnlySequence<byte>(body), isCanceled: false, isCompleted: true);

        public PipeReader Reader => this;

        public override bool TryRead(out ReadResult result)
        {
            result = _result;
            return true;
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => new(_result);

        public override void AdvanceTo(SequencePosition consumed)
        {
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
        }

        public override void CancelPendingRead()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }
    }

    /// <summary>A response pipe that takes every write at once and keeps nothing.</summary>
    private sealed class DiscardingResponseBody : PipeWriter, IHttpResponseBodyFeature
    {
        private readonly byte[] _buffer = new byte[16 * 1024];

        public Stream Stream => Stream.Null;

        public PipeWriter Writer => this;

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task CompleteAsync() => Task.CompletedTask;

        public override void Advance(int bytes)
        {
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer;

        public override Span<byte> GetSpan(int sizeHint = 0) => _buffer;

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => default;

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }
    }
}
