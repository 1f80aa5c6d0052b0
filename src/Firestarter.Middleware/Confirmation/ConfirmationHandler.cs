using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Confirmation;

/// <summary>
/// Handles a route marked <c>"Firestarter": "Confirm"</c>, a controller's
/// <c>POST /api/v1/workload-actions/runs/{runFriendlyId}/snapshots/{snapshotFriendlyId}/attempts/start</c>: notes
/// the confirmation, then lets YARP forward the request to the workload API unchanged.
/// </summary>
/// <remarks>
/// Noting is synchronous and touches neither the request nor the response, so it never delays or alters what is
/// forwarded; a released dispatch resumes on the thread pool, not on this request's thread.
/// </remarks>
internal sealed partial class ConfirmationHandler
{
    /// <summary>The route parameter holding the run's friendly id.</summary>
    public const string RunParameter = "runFriendlyId";

    /// <summary>The route parameter holding the snapshot's friendly id.</summary>
    public const string SnapshotParameter = "snapshotFriendlyId";

    private readonly ConfirmationRegistry _registry;
    private readonly FirestarterMetrics _metrics;
    private readonly ILogger _logger;
    private readonly bool _enabled;

    public ConfirmationHandler(
        ConfirmationRegistry registry, FirestarterMetrics metrics, IOptions<ConfirmationOptions> options, ILogger<ConfirmationHandler> logger)
    {
        _registry = registry;
        _metrics = metrics;
        _logger = logger;
        _enabled = options.Value.Enabled;
    }

    public Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        if (_enabled
            && context.Request.RouteValues[RunParameter] is string { Length: > 0 } run
            && context.Request.RouteValues[SnapshotParameter] is string { Length: > 0 } snapshot)
        {
            var attempt = new RunAttempt(run, snapshot);
            var controllerId = WarmStartHeaders.ControllerIdOf(context.Request);
            ConfirmationOutcome result;
            try
            {
                result = _registry.Note(attempt, controllerId);
            }
            catch (Exception ex)
            {
                // A relay's handler failed: the start must still reach the workload API.
                Log.RelayFailed(_logger, attempt, ex);
                return next(context);
            }

            _metrics.ConfirmationSeen(result);
            if (result == ConfirmationOutcome.ControllerMismatch)
            {
                Log.ControllerMismatch(_logger, attempt, controllerId);
            }
            else
            {
                Log.Noted(_logger, attempt, result);
            }
        }

        return next(context);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ConfirmationRelayFailed, Level = LogLevel.Error,
            Message = "attempts/start for {Attempt}: handing it to the relay failed; forwarded all the same.")]
        public static partial void RelayFailed(ILogger logger, RunAttempt attempt, Exception exception);

        [LoggerMessage(EventId = EventIds.ConfirmationNoted, Level = LogLevel.Debug, Message = "attempts/start for {Attempt}: {Result}.")]
        public static partial void Noted(ILogger logger, RunAttempt attempt, ConfirmationOutcome result);

        [LoggerMessage(EventId = EventIds.ConfirmationControllerMismatch, Level = LogLevel.Warning,
            Message = "attempts/start for {Attempt} names controller {ControllerId}, not the one the run was written to: not counted as its start.")]
        public static partial void ControllerMismatch(ILogger logger, RunAttempt attempt, string? controllerId);
    }
}
