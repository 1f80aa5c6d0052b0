using System.Runtime.InteropServices;
using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Firestarter.ColdStart;

/// <summary>
/// Forwards a dispatch that found no waiting controller through the rest of YARP's pipeline to the dispatch route's
/// cluster (a cold-start backend), guarded by a Polly pipeline, and relays the backend's answer.
/// </summary>
/// <remarks>
/// <para>
/// Each attempt runs YARP's own pipeline (load balancing, health checks, transforms, the forwarder) with the same
/// body bytes, but with the response buffered and the request's lifetime swapped for the attempt's: so nothing
/// reaches the supervisor until the outcome is known, and the supervisor always gets either the backend's 2xx
/// answer or <c>{"didWarmStart":false}</c>, never a 5xx, a reset or a hang.
/// </para>
/// <para>
/// The Polly pipeline, outermost first: a timeout bounding the whole forward; a retry only for attempts that
/// provably never reached the backend (so no dispatch is forwarded twice); a circuit breaker that, while open,
/// answers at once without forwarding.
/// </para>
/// </remarks>
internal sealed partial class ColdStartForwarder
{
    private readonly ResiliencePipeline<ForwardAttempt> _pipeline;
    private readonly int _maxResponseBodySize;
    private readonly ILogger _logger;

    public ColdStartForwarder(IOptions<ColdStartOptions> options, TimeProvider time, ILogger<ColdStartForwarder> logger)
    {
        var coldStart = options.Value;
        _maxResponseBodySize = coldStart.MaxResponseBodySize;
        _logger = logger;
        _pipeline = BuildPipeline(coldStart, time, logger);
    }

    /// <summary>Forwards the dispatch and answers the supervisor. Returns the dispatch outcome for metrics.</summary>
    public async ValueTask<DispatchOutcome> ForwardAsync(HttpContext context, RequestDelegate next, ReadOnlyMemory<byte> body)
    {
        var features = context.Features;
        var originalBodyFeature = features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var originalLifetime = features.GetRequiredFeature<IHttpRequestLifetimeFeature>();
        var originalRequestBody = context.Request.Body;
        var proxyFeature = context.GetReverseProxyFeature();
        var clientAborted = context.RequestAborted;

        var state = new AttemptState(context, next, body, proxyFeature, proxyFeature.AvailableDestinations, _maxResponseBodySize);
        var resilienceContext = ResilienceContextPool.Shared.Get(clientAborted);
        Outcome<ForwardAttempt> outcome;
        try
        {
            outcome = await _pipeline.ExecuteOutcomeAsync(
                static (resilience, state) => AttemptAsync(state, resilience.CancellationToken), resilienceContext, state);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilienceContext);
            features.Set(originalBodyFeature);
            features.Set(originalLifetime);
            context.Request.Body = originalRequestBody;
            proxyFeature.AvailableDestinations = state.Destinations;
        }

        if (clientAborted.IsCancellationRequested)
        {
            // The supervisor left; it cold-starts on its own error path.
            return DispatchOutcome.ForwardFailed;
        }

        if (outcome.Result is { Succeeded: true, Response: { } answer })
        {
            // Status and headers were set by YARP from the backend's answer; the body was held back until now.
            context.Response.ContentLength = answer.Length;
            await context.Response.Body.WriteAsync(answer.GetBuffer().AsMemory(0, (int)answer.Length));
            Log.Forwarded(_logger, context.Response.StatusCode);
            return DispatchOutcome.Forwarded;
        }

        Log.ForwardFailed(_logger, Describe(outcome));
        context.Response.Clear();
        await ProtocolResponses.WriteJsonAsync(context.Response, ProtocolResponses.NotWarmStarted);
        return DispatchOutcome.ForwardFailed;
    }

    private static string Describe(Outcome<ForwardAttempt> outcome) => outcome.Exception switch
    {
        BrokenCircuitException => "the circuit to the cold-start cluster is open",
        TimeoutRejectedException => "the forward timed out",
        { } ex => ex.Message,
        null => outcome.Result!.Describe(),
    };

    private static async ValueTask<Outcome<ForwardAttempt>> AttemptAsync(AttemptState state, CancellationToken token)
    {
        var context = state.Context;
        var features = context.Features;
        var buffer = new CappedBufferStream(state.MaxResponseBodySize);
        var bodyFeature = new StreamResponseBodyFeature(buffer);
        var lifetime = new AttemptLifetimeFeature(token);

        // Fresh ground for each attempt: nothing from an earlier one may leak into this one's answer.
        context.Response.Clear();
        features.Set<IHttpResponseBodyFeature>(bodyFeature);
        features.Set<IHttpRequestLifetimeFeature>(lifetime);
        features.Set<IForwarderErrorFeature>(null);
        context.Request.Body = ReadOnlyStream(state.Body);
        state.ProxyFeature.AvailableDestinations = state.Destinations;

        await state.Next(context);
        await bodyFeature.CompleteAsync();

        if (token.IsCancellationRequested)
        {
            // Surfaces as a timeout (or the supervisor leaving) to the Polly pipeline.
            return Outcome.FromException<ForwardAttempt>(new OperationCanceledException(token));
        }

        if (features.Get<IForwarderErrorFeature>() is { } error)
        {
            return Outcome.FromResult(new ForwardAttempt(0, error.Error, error.Exception, null));
        }

        if (lifetime.AbortRequested)
        {
            return Outcome.FromResult(new ForwardAttempt(0, ForwarderError.ResponseBodyDestination, null, null));
        }

        buffer.Position = 0;
        return Outcome.FromResult(new ForwardAttempt(context.Response.StatusCode, ForwarderError.None, null, buffer));
    }

    // The body's bytes as a request stream, without a copy when they sit in an array (a pooled dispatch body does).
    private static MemoryStream ReadOnlyStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private static ResiliencePipeline<ForwardAttempt> BuildPipeline(ColdStartOptions options, TimeProvider time, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder<ForwardAttempt> { TimeProvider = time };
        builder.AddTimeout(new TimeoutStrategyOptions { Timeout = options.Timeout });
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<ForwardAttempt>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                // Only what provably never reached the backend: anything else might run the dispatch twice.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { NeverSent: true }),
            });
        }

        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<ForwardAttempt>
        {
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is not null || args.Outcome.Result is { IsBackendFailure: true }),
            OnOpened = args =>
            {
                Log.CircuitOpened(logger, args.BreakDuration);
                return default;
            },
            OnHalfOpened = _ =>
            {
                Log.CircuitHalfOpened(logger);
                return default;
            },
            OnClosed = _ =>
            {
                Log.CircuitClosed(logger);
                return default;
            },
        });

        return builder.Build();
    }

    private sealed record AttemptState(
        HttpContext Context,
        RequestDelegate Next,
        ReadOnlyMemory<byte> Body,
        IReverseProxyFeature ProxyFeature,
        IReadOnlyList<DestinationState> Destinations,
        int MaxResponseBodySize);

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.Forwarded, Level = LogLevel.Debug, Message = "Dispatch forwarded to the cold-start cluster, which answered {Status}.")]
        public static partial void Forwarded(ILogger logger, int status);

        [LoggerMessage(EventId = EventIds.ForwardFailed, Level = LogLevel.Warning,
            Message = "Forwarding a dispatch to the cold-start cluster failed ({Reason}); answered didWarmStart:false.")]
        public static partial void ForwardFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = EventIds.CircuitOpened, Level = LogLevel.Warning,
            Message = "The circuit to the cold-start cluster opened for {BreakDuration}: dispatches are answered didWarmStart:false without forwarding.")]
        public static partial void CircuitOpened(ILogger logger, TimeSpan breakDuration);

        [LoggerMessage(EventId = EventIds.CircuitHalfOpened, Level = LogLevel.Information, Message = "The circuit to the cold-start cluster is half-open: trying one forward.")]
        public static partial void CircuitHalfOpened(ILogger logger);

        [LoggerMessage(EventId = EventIds.CircuitClosed, Level = LogLevel.Information, Message = "The circuit to the cold-start cluster closed: forwarding again.")]
        public static partial void CircuitClosed(ILogger logger);
    }
}
