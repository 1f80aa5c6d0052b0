using Firestarter.Diagnostics;
using Firestarter.Limits;
using Firestarter.Matching;
using Firestarter.Protocol;
using Firestarter.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Polling;

/// <summary>
/// Handles a controller's <c>GET /warm-start</c>: parks it under its match key and holds the request, with no
/// response at all, until a dispatch writes a run into it, its client gives up, it expires, or the broker drains.
/// </summary>
/// <remarks>
/// The run itself is written by the dispatch that claims the poll (see <see cref="Dispatching.Handoff"/>), while
/// this handler is suspended; that way the dispatch knows whether the write happened before it answers its
/// supervisor. This handler only parks, waits and closes out the outcomes that have no run.
/// </remarks>
internal sealed partial class PollHandler
{
    private readonly WarmPool _pool;
    private readonly DeploymentIdentityResolver _identities;
    private readonly ParkingLimits _limits;
    private readonly FirestarterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _enabled;
    private readonly Action<object?> _onAborted;

    public PollHandler(
        WarmPool pool,
        DeploymentIdentityResolver identities,
        ParkingLimits limits,
        FirestarterMetrics metrics,
        TimeProvider time,
        IOptions<FirestarterOptions> options,
        ILogger<PollHandler> logger)
    {
        _pool = pool;
        _identities = identities;
        _limits = limits;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _enabled = options.Value.Enabled;
        // One delegate for every poll: the poll itself is the callback's state.
        _onAborted = state => _pool.TryAbandon((ParkedPoll)state!, PollOutcome.Aborted);
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!_enabled)
        {
            await RejectAsync(context, Problem.Disabled());
            return;
        }

        if (PollHeadersReader.TryRead(context.Request.Headers, out var headers) is { } problem)
        {
            await RejectAsync(context, problem);
            return;
        }

        // Who the controller is, from its bare deployment id or its deployment token, before anything is keyed on it.
        if (!_identities.TryResolve(headers.DeploymentId, out var deployment, out var identityProblem))
        {
            await RejectAsync(context, identityProblem);
            return;
        }

        var key = headers.KeyFor(deployment);

        // Held until the poll ends, whatever the outcome.
        using var slot = _limits.TryTake(key, out var overLimit);
        if (slot is null)
        {
            await RejectAsync(context, overLimit!);
            return;
        }

        // Read for the log before the worker's name goes with the matched headers (below).
        string? controllerId = null, instance = null;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            controllerId = WarmStartHeaders.ControllerIdOf(context.Request);
            instance = context.Request.Headers[WarmStartHeaders.WorkerInstanceName];
        }

        // The key now holds what these headers said, and a parked poll shares its bucket's key: without them the held
        // request keeps none of the strings Kestrel made for them, which otherwise stay alive as long as the poll
        // (about half a kilobyte per parked controller). Done before parking, while no other thread can see the poll.
        WarmStartHeaders.RemoveMatched(context.Request.Headers);
        var poll = new ParkedPoll(key, context, _time.GetTimestamp());
        if (!_pool.TryPark(poll))
        {
            // Draining: close without a response, so the client re-polls and reaches another instance.
            Log.RefusedWhileDraining(_logger, key);
            _metrics.PollEnded(PollOutcome.Drained);
            context.Abort();
            return;
        }

        Log.Parked(_logger, key, controllerId, instance);

        PollOutcome outcome;
        // Registered after parking: if the client is already gone, the callback runs at once and unparks the poll.
        using (context.RequestAborted.UnsafeRegister(_onAborted, poll))
        {
            outcome = await poll.WaitAsync();
        }

        // The poll's own key, not the local: a local read after the wait would be kept in the suspended state machine
        // of every parked poll.
        Log.Ended(_logger, poll.Key, outcome);
        _metrics.PollEnded(outcome);
        switch (outcome)
        {
            case PollOutcome.Matched:
                _metrics.ControllerWaited(_time.GetElapsedTime(poll.ParkedAt));
                break;
            case PollOutcome.Aborted:
                // The client left, though the server may not have noticed yet (a dispatch can learn it first, from
                // the kernel). Returning normally would send a default 200 with an empty body, which a controller
                // still reading would take for a run and crash on: close the connection instead.
                context.Abort();
                break;
            case PollOutcome.Expired:
                // 2xx with no body: Trigger.dev's controller backs off briefly and polls again.
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            case PollOutcome.Drained:
                context.Abort();
                break;
        }
    }

    private async Task RejectAsync(HttpContext context, Problem problem)
    {
        Log.Rejected(_logger, problem.Status, problem.Detail);
        _metrics.PollEnded(PollOutcome.Rejected);
        await problem.WriteAsync(context.Response);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.PollParked, Level = LogLevel.Debug,
            Message = "Controller {ControllerId} ({WorkerInstanceName}) parked under {Key}.")]
        public static partial void Parked(ILogger logger, MatchKey key, string? controllerId, string? workerInstanceName);

        [LoggerMessage(EventId = EventIds.PollRejected, Level = LogLevel.Debug, Message = "Poll rejected with {Status}: {Detail}")]
        public static partial void Rejected(ILogger logger, int status, string detail);

        [LoggerMessage(EventId = EventIds.PollEnded, Level = LogLevel.Debug, Message = "Poll under {Key} ended: {Outcome}.")]
        public static partial void Ended(ILogger logger, MatchKey key, PollOutcome outcome);

        [LoggerMessage(EventId = EventIds.PollRefusedWhileDraining, Level = LogLevel.Debug,
            Message = "Poll under {Key} refused: the broker is draining.")]
        public static partial void RefusedWhileDraining(ILogger logger, MatchKey key);
    }
}
