using Firestarter.Cluster;
using Firestarter.ColdStart;
using Firestarter.Confirmation;
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
    private readonly ConfirmationRegistry _confirmations;
    private readonly ClusterDispatch? _cluster;
    private readonly bool _enabled;
    private readonly long _maxBodySize;
    private readonly int _maxDepth;
    private readonly long _guardAge;
    private readonly TimeSpan _repollWait;
    private readonly bool _confirm;
    private readonly TimeSpan _confirmTimeout;

    public DispatchHandler(
        WarmPool pool,
        ColdStartHandler coldStart,
        DispatchAuthorization authorization,
        FirestarterMetrics metrics,
        ConfirmationRegistry confirmations,
        TimeProvider time,
        IOptions<FirestarterOptions> options,
        ILogger<DispatchHandler> logger,
        ClusterFeature cluster)
    {
        var o = options.Value;
        _cluster = cluster.Dispatch;
        _pool = pool;
        _coldStart = coldStart;
        _authorization = authorization;
        _metrics = metrics;
        _confirmations = confirmations;
        _time = time;
        _logger = logger;
        _enabled = o.Enabled;
        _maxBodySize = o.MaxDispatchBodySize;
        _maxDepth = o.MaxJsonDepth;
        var guard = o.EffectivePollGuardWindow;
        // A poll this old (in timestamp ticks) is in its guard window; with no guard, none is.
        _guardAge = guard > TimeSpan.Zero ? (long)((o.ConnectionTimeout - guard).TotalSeconds * time.TimestampFrequency) : long.MaxValue;
        _repollWait = o.EffectiveRepollWait;
        _confirm = o.Confirmation.Enabled;
        _confirmTimeout = o.Confirmation.Timeout;
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

            // While draining, nothing is handed out: the supervisor cold-starts, and parked controllers are released.
            var warm = _enabled && !_pool.IsDraining
                ? await (_confirm ? TryConfirmedWarmStartAsync(body, message) : TryWarmStartAsync(body, message, null))
                : WarmStart.NotHandedOut;
            if (_cluster is not null)
            {
                // A handed-on dispatch is matched here only and answered plainly: never handed on again, never cold-started here.
                if (hop)
                {
                    await _cluster.AnswerHopAsync(context, warm == WarmStart.Started, handedOut: warm != WarmStart.NotHandedOut);
                    return;
                }

                // Another instance may hold a controller for the key, draining or not here. Not after an unconfirmed
                // handoff here: that run already sits with a controller, so it takes the fallback.
                if (warm == WarmStart.NotHandedOut && _enabled && await _cluster.HandOnAsync(context, message.Key, body.Memory) == HandOnOutcome.Warm)
                {
                    warm = WarmStart.Started;
                }
            }

            if (warm == WarmStart.Started)
            {
                await ProtocolResponses.WriteJsonAsync(context.Response, ProtocolResponses.WarmStarted);
                Complete(DispatchOutcome.Warm, started, body, message);
                return;
            }

            var outcome = await _coldStart.AnswerAsync(context, next, body.Memory);
            Complete(warm == WarmStart.Unconfirmed ? DispatchOutcome.Unconfirmed : outcome, started, body, message);
        }
    }

    /// <summary>How offering a run to the waiting controllers went.</summary>
    private enum WarmStart
    {
        /// <summary>A controller took the run (and, with confirmation, started it).</summary>
        Started,

        /// <summary>No controller took it: the run was never handed out.</summary>
        NotHandedOut,

        /// <summary>A controller took it but did not start it within the confirmation timeout.</summary>
        Unconfirmed,
    }

    /// <summary>
    /// With confirmation on: registers the run's wait for its <c>attempts/start</c> before it is handed out, offers
    /// it, and once delivered waits (bounded) for the controller to start it.
    /// </summary>
    private async ValueTask<WarmStart> TryConfirmedWarmStartAsync(DispatchBody body, DispatchMessage message)
    {
        if (!message.HasAttemptIds)
        {
            // Nothing could confirm it: a controller must not be spent on a run that would then be cold-started.
            var runId = message.RunIdText(body.Span);
            Log.NotConfirmable(_logger, runId);
            return WarmStart.NotHandedOut;
        }

        var attempt = new RunAttempt(DispatchMessage.Text(body.Span, message.RunFriendlyId), DispatchMessage.Text(body.Span, message.SnapshotFriendlyId));
        if (_confirmations.TryRegister(attempt) is not { } pending)
        {
            // Another dispatch of the same run and snapshot is in flight: at most one of them can be started.
            Log.AlreadyPending(_logger, attempt);
            return WarmStart.NotHandedOut;
        }

        try
        {
            return await TryWarmStartAsync(body, message, pending);
        }
        finally
        {
            _confirmations.Remove(pending);
        }
    }

    /// <summary>
    /// Offers the run to waiting controllers, one at a time, until one takes it or none is left; polls in their guard
    /// window are passed over, and when only such polls match, the run waits briefly for the key's next park.
    /// </summary>
    private async ValueTask<WarmStart> TryWarmStartAsync(DispatchBody body, DispatchMessage message, PendingConfirmation? pending)
    {
        var run = body.Memory[message.Message];
        var waited = false;
        while (true)
        {
            var guardFrom = _guardAge == long.MaxValue ? long.MinValue : _time.GetTimestamp() - _guardAge;
            var poll = _pool.TryClaim(message.Key, guardFrom, out var guarded);
            if (guarded > 0)
            {
                _metrics.GuardSkipped(guarded);
            }

            if (poll is null)
            {
                // Wait only when a controller is about to re-poll, and only once per dispatch.
                if (guarded == 0 || waited || _repollWait <= TimeSpan.Zero)
                {
                    return WarmStart.NotHandedOut;
                }

                waited = true;
                poll = await AwaitRepollAsync(message, body, guardFrom);
                if (poll is null)
                {
                    return WarmStart.NotHandedOut;
                }
            }

            // Read before the handoff: the poll's request is recycled once the handoff completes it.
            var controllerId = pending is null ? null : WarmStartHeaders.ControllerIdOf(poll.Context.Request);
            var result = await Handoff.WriteRunAsync(poll, run);
            _metrics.Handoff(result);
            if (result is HandoffOutcome.Delivered or HandoffOutcome.DeliveredAsClientLeft)
            {
                if (pending is null)
                {
                    return WarmStart.Started;
                }

                pending.HandedTo(controllerId);
                return await AwaitStartAsync(pending, body, message);
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var runId = message.RunIdText(body.Span);
                Log.ControllerGone(_logger, runId, message.Key, result);
            }
        }
    }

    /// <summary>Waits, up to the re-poll bound, for the next poll to park under the run's key; null when none does.</summary>
    private async ValueTask<ParkedPoll?> AwaitRepollAsync(DispatchMessage message, DispatchBody body, long guardFrom)
    {
        var waiter = new RepollWaiter(message.Key);
        var began = _time.GetTimestamp();
        var poll = _pool.ClaimOrAwaitNextPark(waiter, guardFrom, out var registered);
        if (registered)
        {
            using var timer = _time.CreateTimer(
                static state => { var (pool, w) = ((WarmPool, RepollWaiter))state!; pool.TryCancelWait(w); },
                (_pool, waiter), _repollWait, Timeout.InfiniteTimeSpan);
            poll = await waiter.Poll;
        }

        var waitedFor = _time.GetElapsedTime(began);
        _metrics.RepollWaited(poll is null ? RepollOutcome.TimedOut : RepollOutcome.Served, waitedFor);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var runId = message.RunIdText(body.Span);
            Log.AwaitedRepoll(_logger, runId, message.Key, poll is not null, waitedFor);
        }

        return poll;
    }

    private async ValueTask<WarmStart> AwaitStartAsync(PendingConfirmation pending, DispatchBody body, DispatchMessage message)
    {
        var delivered = _time.GetTimestamp();
        if (await pending.WaitAsync(_confirmTimeout, _time))
        {
            var latency = pending.ConfirmedAt > delivered ? _time.GetElapsedTime(delivered, pending.ConfirmedAt) : TimeSpan.Zero;
            _metrics.Confirmed(latency);
            Log.Confirmed(_logger, pending.Attempt, latency);
            return WarmStart.Started;
        }

        Log.Unconfirmed(_logger, pending.Attempt.RunId, pending.Attempt.SnapshotId, message.Key, _confirmTimeout);
        return WarmStart.Unconfirmed;
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

        [LoggerMessage(EventId = EventIds.DispatchUnconfirmed, Level = LogLevel.Warning,
            Message = "Run {RunId} (snapshot {SnapshotId}) was handed to a controller under {Key} that did not start it within {Timeout}: answered as a cold start.")]
        public static partial void Unconfirmed(ILogger logger, string runId, string snapshotId, MatchKey key, TimeSpan timeout);

        [LoggerMessage(EventId = EventIds.DispatchConfirmed, Level = LogLevel.Debug, Message = "Run {Attempt} started {Latency} after its delivery.")]
        public static partial void Confirmed(ILogger logger, RunAttempt attempt, TimeSpan latency);

        [LoggerMessage(EventId = EventIds.DispatchAwaitedRepoll, Level = LogLevel.Debug,
            Message = "Run {RunId}: every poll under {Key} was in its guard window; a re-poll took it: {Served}, after {Waited}.")]
        public static partial void AwaitedRepoll(ILogger logger, string runId, MatchKey key, bool served, TimeSpan waited);

        [LoggerMessage(EventId = EventIds.ConfirmationAlreadyPending, Level = LogLevel.Warning,
            Message = "Run {Attempt} is already being dispatched and awaits its start: this dispatch takes the cold-start path.")]
        public static partial void AlreadyPending(ILogger logger, RunAttempt attempt);

        [LoggerMessage(EventId = EventIds.DispatchNotConfirmable, Level = LogLevel.Warning,
            Message = "Run {RunId}: the dispatch lacks run.friendlyId or snapshot.friendlyId, so its start could not be confirmed: it takes the cold-start path.")]
        public static partial void NotConfirmable(ILogger logger, string runId);
    }
}
