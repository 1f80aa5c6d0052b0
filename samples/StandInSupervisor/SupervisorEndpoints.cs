using System.Diagnostics;
using System.Text.Json;

namespace StandInSupervisor;

/// <summary>
/// What the stand-in supervisor serves over HTTP, behind the broker: the cold-start backend (where the broker, in
/// Forward mode, sends a run no controller was waiting for) and the platform backend (everything else the broker
/// passes through).
/// </summary>
internal sealed partial class SupervisorEndpoints(SupervisorOptions options, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
{
    // Headers worth showing for forwarded traffic: the trace context, and what YARP adds when it forwards.
    private static readonly string[] ForwardingHeaders = ["traceparent", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

    // Short category names keep the single-line console output readable.
    private readonly ILogger _coldStartLog = loggers.CreateLogger("cold-start");
    private readonly ILogger _platformLog = loggers.CreateLogger("platform");

    /// <summary>
    /// <c>POST /cold-start/warm-start</c> and <c>POST /warm-start</c>: a dispatch no warm controller took. A real
    /// cold-start backend would start a container for the run here; this one logs it and answers
    /// <c>{"didWarmStart":false}</c>, unless told to be slow or to fail.
    /// </summary>
    public async Task<IResult> ColdStartAsync(HttpRequest request, CancellationToken aborted)
    {
        var started = Stopwatch.GetTimestamp();
        RunSummary run;
        try
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: aborted);
            run = RunSummary.From(body.RootElement);
        }
        catch (JsonException ex)
        {
            Log.UnreadableDispatch(_coldStartLog, ex.Message);
            return Results.BadRequest(new { error = "The body must be {\"dequeuedMessage\":{...}}." });
        }

        if (options.ColdStart.DelayMs > 0)
        {
            // Ctrl+C ends the delay too: the server waits for requests in flight before it stops.
            using var delay = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime.ApplicationStopping);
            try
            {
                await Task.Delay(options.ColdStart.DelayMs, delay.Token);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The broker stopped waiting (its forward timeout) and answered the supervisor itself.
                Log.Abandoned(_coldStartLog, run.RunId, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return Results.Empty;
            }
            catch (OperationCanceledException)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }
        }

        if (options.ColdStart.FailWith != 0)
        {
            Log.SimulatedFailure(_coldStartLog, run.RunId, options.ColdStart.FailWith);
            return Results.Json(new { error = "simulated cold-start failure" }, statusCode: options.ColdStart.FailWith);
        }

        Log.ColdStart(_coldStartLog, run.RunId, run.Deployment, run.Version, run.Cpu, run.Memory);
        return Results.Json(new { didWarmStart = false });
    }

    /// <summary>
    /// Any other request: the platform traffic the broker forwards to the supervisor untouched. Logs it and answers
    /// 200, so a curl through the broker shows who answered.
    /// </summary>
    public IResult Platform(HttpRequest request)
    {
        var present = ForwardingHeaders
            .Where(name => request.Headers.ContainsKey(name))
            .Select(name => $"{name}={request.Headers[name]}");
        var headers = string.Join(' ', present);
        var pathAndQuery = $"{request.Path}{request.QueryString}";
        Log.PlatformRequest(_platformLog, request.Method, pathAndQuery,
            headers.Length > 0 ? headers : "(no forwarding headers: not via the broker?)");
        return Results.Json(new { ok = true, servedBy = "stand-in-supervisor", path = request.Path.Value });
    }

    /// <summary>The fields of a dispatched run worth logging; "?" where the body lacks one.</summary>
    private readonly record struct RunSummary(string RunId, string Deployment, string Version, string Cpu, string Memory)
    {
        public static RunSummary From(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("dequeuedMessage", out var message))
            {
                throw new JsonException("no 'dequeuedMessage' object");
            }

            return new RunSummary(
                Read(message, "run", "friendlyId"),
                Read(message, "deployment", "friendlyId"),
                Read(message, "backgroundWorker", "version"),
                Read(message, "run", "machine", "cpu"),
                Read(message, "run", "machine", "memory"));
        }

        private static string Read(JsonElement element, params ReadOnlySpan<string> path)
        {
            foreach (var name in path)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
                {
                    return "?";
                }
            }

            // Strings without their quotes; numbers exactly as the supervisor wrote them.
            return element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 11, Level = LogLevel.Information,
            Message = "COLD START run {RunId} for {Deployment}/{Version} cpu={Cpu} mem={Memory} (a container would start now)")]
        public static partial void ColdStart(ILogger logger, string runId, string deployment, string version, string cpu, string memory);

        [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Cold start of run {RunId} fails with {Status} (simulated by --ColdStart:FailWith)")]
        public static partial void SimulatedFailure(ILogger logger, string runId, int status);

        [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Cold start of run {RunId} abandoned by the caller after {ElapsedMs} ms (--ColdStart:DelayMs too long for it)")]
        public static partial void Abandoned(ILogger logger, string runId, long elapsedMs);

        [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Cold-start request with an unreadable body: {Reason}")]
        public static partial void UnreadableDispatch(ILogger logger, string reason);

        [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "PLATFORM {Method} {Path} {Headers}")]
        public static partial void PlatformRequest(ILogger logger, string method, string path, string headers);
    }
}
