using Firestarter.Cluster;
using Firestarter.ColdStart;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Protocol;
using Firestarter.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Dispatching;

/// <summary>
/// Handles the supervisor's <c>POST /warm-start</c>: finds a waiting controller with the run's match key, writes the
/// run into its held request, and answers <c>{"didWarmStart":true}</c> only once that write is known to have
/// happened; otherwise the run takes the cold-start path.
/// </summary>
internal sealed partial class DispatchHandler
{
    private readonly WarmPool _pool;
    private readonly ColdStartHandler _coldStart;
    private readonly DispatchAuthorization _authorization;
    private readonly FirestarterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ClusterDispatch? _cluster;
    private readonly bool _enabled;
    private readonly long _maxBodySize;
    private readonly int _maxDepth;

    public DispatchHandler(
        WarmPool pool,
        ColdStartHandler coldStart,
        DispatchAuthorization authorization,
        FirestarterMetrics metrics,
        TimeProvider time,
        IOptions<FirestarterOptions> options,
        ILogger<DispatchHandler> logger,
        ClusterFeature cluster)
    {
        _cluster = cluster.Dispatch;
        _pool = pool;
        _coldStart = coldStart;
        _authorization = authorization;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _enabled = options.Value.Enabled;
        _maxBodySize = options.Value.MaxDispatchBodySize;
        _maxDepth = options.Value.MaxJsonDepth;
    }

    public async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        var started = _time.GetTimestamp();
        // Before the body is read: an unauthorized dispatch costs nothing and never reaches the cold-start backend.
        if (_authorization.Check(context) is { } unauthorized)
        {
            await RejectAsync(context, unauthorized, started);
            return;
        }

        // A dispatch handed on by another instance of the cluster: authorized above like any, and proven to come from the cluster.
        var hop = _cluster is not null && ClusterDispatch.IsHop(context.Request);
        if (hop && _cluster!.CheckHop(context) is { } notFromCluster)
        {
            await notFromCluster.WriteAsync(context.Response);
            return;
        }

        var (body, problem) = await DispatchBody.ReadAsync(context, _maxBodySize);
        if (body is null)
        {
            if (problem is null)
            {
                Log.ClientGone(_logger);
                return;
            }

            await RejectAsync(context, problem, started);
            return;
        }

        using (body)
        {
            if (!DispatchMessageReader.TryRead(body.Span, _maxDepth, out var message, out var detail))
            {
                await RejectAsync(context, Problem.BadBody(detail!), started);
                return;
            }

            // While draining, nothing is handed out here: the supervisor cold-starts, and parked controllers are released.
            var warm = _enabled && !_pool.IsDraining && await TryWarmStartAsync(body, message);
            if (_cluster is not null)
            {
                // A handed-on dispatch is matched here only and answered plainly: never handed on again, never cold-started here.
                if (hop)
                {
                    _cluster.HopAnswered(context, warm);
                    await ProtocolResponses.WriteJsonAsync(context.Response, warm ? ProtocolResponses.WarmStarted : ProtocolResponses.NotWarmStarted);
                    return;
                }

                // Another instance may hold a controller for the key, draining or not here.
                warm = warm || (_enabled && await _cluster.HandOnAsync(context, message.Key, body.Memory) == HandOnOutcome.Warm);
            }

            if (warm)
            {
                await ProtocolResponses.WriteJsonAsync(context.Response, ProtocolResponses.WarmStarted);
                Complete(DispatchOutcome.Warm, started, body, message);
                return;
            }

            var outcome = await _coldStart.AnswerAsync(context, next, body.Memory);
            Complete(outcome, started, body, message);
        }
    }

    /// <summary>
    /// Offers the run to waiting controllers, one at a time, until one takes it or none is left.
    /// </summary>
    private async ValueTask<bool> TryWarmStartAsync(DispatchBody body, DispatchMessage message)
    {
        var run = body.Memory[message.Message];
        while (_pool.TryClaim(message.Key) is { } poll)
        {
            var result = await Handoff.WriteRunAsync(poll, run);
            _metrics.Handoff(result);
            if (result is HandoffOutcome.Delivered or HandoffOutcome.DeliveredAsClientLeft)
            {
                return true;
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var runId = message.RunIdText(body.Span);
                Log.ControllerGone(_logger, runId, message.Key, result);
            }
        }

        return false;
    }

    private void Complete(DispatchOutcome outcome, long started, DispatchBody body, DispatchMessage message)
    {
        Measure(outcome, started);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var runId = message.RunIdText(body.Span);
            if (outcome == DispatchOutcome.Warm)
            {
                Log.WarmStarted(_logger, runId, message.Key);
            }
            else
            {
                var tag = OutcomeTags.Of(outcome);
                Log.ColdStarted(_logger, runId, message.Key, tag);
            }
        }
    }

    private async Task RejectAsync(HttpContext context, Problem problem, long started)
    {
        Log.Rejected(_logger, problem.Status, problem.Detail);
        await problem.WriteAsync(context.Response);
        Measure(DispatchOutcome.Rejected, started);
    }

    // One clock reading ends the dispatch: for its duration and for the status windows' bucket.
    private void Measure(DispatchOutcome outcome, long started)
    {
        var answered = _time.GetTimestamp();
        _metrics.Dispatched(outcome, _time.GetElapsedTime(started, answered), answered);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.DispatchWarmStarted, Level = LogLevel.Debug, Message = "Run {RunId} warm-started under {Key}.")]
        public static partial void WarmStarted(ILogger logger, string runId, MatchKey key);

        [LoggerMessage(EventId = EventIds.DispatchColdStarted, Level = LogLevel.Debug, Message = "Run {RunId} under {Key} took the cold-start path: {Outcome}.")]
        public static partial void ColdStarted(ILogger logger, string runId, MatchKey key, string outcome);

        [LoggerMessage(EventId = EventIds.DispatchRejected, Level = LogLevel.Debug, Message = "Dispatch rejected with {Status}: {Detail}")]
        public static partial void Rejected(ILogger logger, int status, string detail);

        [LoggerMessage(EventId = EventIds.HandoffControllerGone, Level = LogLevel.Debug,
            Message = "Run {RunId}: the controller claimed under {Key} was gone ({Result}); offering the run to the next one.")]
        public static partial void ControllerGone(ILogger logger, string runId, MatchKey key, HandoffOutcome result);

        [LoggerMessage(EventId = EventIds.DispatchClientGone, Level = LogLevel.Debug, Message = "The supervisor went away while sending a dispatch.")]
        public static partial void ClientGone(ILogger logger);
    }
}
