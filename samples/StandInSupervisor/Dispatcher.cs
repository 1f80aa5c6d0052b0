using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StandInSupervisor;

/// <summary>
/// The supervisor's own job: every <c>Dispatch:IntervalMs</c> it "dequeues" a fake run and offers it to the broker
/// with <c>POST /warm-start</c>. <c>{"didWarmStart":true}</c> means a waiting controller took the run (a warm
/// start); anything else (false, an error status, no answer) means the supervisor must start a container itself.
/// </summary>
internal sealed partial class Dispatcher : BackgroundService
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly DispatchOptions _options;
    private readonly Uri _broker;
    private readonly ILogger _logger;

    // One client for every dispatch: dispatches reuse its pooled connections to the broker.
    private readonly HttpClient _http;

    // Ids are unique across restarts too: a random tag for this process, then a counter.
    private readonly string _session = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()));
    private int _sequence;

    public Dispatcher(SupervisorOptions options, ILoggerFactory loggers)
    {
        _options = options.Dispatch;
        _broker = new Uri(options.Broker);
        _logger = loggers.CreateLogger("dispatch");
        // Longer than the broker's forward timeout (10 s by default), so the broker's own answer is what we see.
        _http = new HttpClient { BaseAddress = _broker, Timeout = TimeSpan.FromSeconds(30) };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var target = new Uri(_broker, "/warm-start");
        var profiles = string.Join(", ", _options.Profiles);
        Log.Started(_logger, _options.IntervalMs, target, profiles);
        // One dispatch at a time, like a supervisor that awaits each warm-start attempt before it cold-starts:
        // a slow broker or cold-start backend therefore slows the dispatch rate, which is visible in the log.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.IntervalMs));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await DispatchOneAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task DispatchOneAsync(CancellationToken stoppingToken)
    {
        var profileIndex = Random.Shared.Next(_options.Profiles.Count);
        var profile = _options.Profiles[profileIndex];
        var runId = string.Create(CultureInfo.InvariantCulture, $"run_{_session}{++_sequence:D4}");
        var body = new JsonObject { ["dequeuedMessage"] = CreateDequeuedMessage(runId, profileIndex, profile) };

        var started = Stopwatch.GetTimestamp();
        string? coldStartReason;
        try
        {
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
            content.Headers.ContentType = Json;
            using var response = await _http.PostAsync(new Uri("/warm-start", UriKind.Relative), content, stoppingToken);
            coldStartReason = response.IsSuccessStatusCode
                ? await ReadAnswerAsync(response, stoppingToken)
                : $"status {(int)response.StatusCode}";
        }
        catch (HttpRequestException ex)
        {
            coldStartReason = $"broker unreachable: {ex.Message}";
        }
        catch (TaskCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            coldStartReason = $"no answer within {_http.Timeout.TotalSeconds:0} s";
        }

        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (coldStartReason is null)
        {
            Log.WarmStart(_logger, runId, profile, elapsedMs);
        }
        else
        {
            Log.ColdStart(_logger, runId, profile, coldStartReason, elapsedMs);
        }
    }

    /// <summary>Null for <c>{"didWarmStart":true}</c>; otherwise why the run must be cold-started.</summary>
    private static async Task<string?> ReadAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var answer = await JsonDocument.ParseAsync(
                await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            if (answer.RootElement.ValueKind == JsonValueKind.Object
                && answer.RootElement.TryGetProperty("didWarmStart", out var didWarmStart)
                && didWarmStart.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return didWarmStart.GetBoolean() ? null : "broker said false";
            }
        }
        catch (JsonException)
        {
            // Falls through: an answer we cannot read is not a warm start.
        }

        return $"status {(int)response.StatusCode} with an unreadable answer";
    }

    /// <summary>
    /// A DequeuedMessage shaped like the platform's. Only the run and snapshot ids change per run; the deployment and
    /// worker ids belong to the profile, as they would to a real deployment.
    /// </summary>
    private static JsonObject CreateDequeuedMessage(string runId, int profileIndex, RunProfile profile)
    {
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var suffix = runId["run_".Length..];
        return new JsonObject
        {
            ["version"] = "1",
            ["snapshot"] = new JsonObject
            {
                ["id"] = $"snap_{suffix}",
                ["friendlyId"] = $"snapshot_{suffix}",
                ["executionStatus"] = "PENDING_EXECUTING",
                ["description"] = "Run was dequeued for execution",
                ["createdAt"] = now,
            },
            ["dequeuedAt"] = now,
            ["completedWaitpoints"] = new JsonArray(),
            ["backgroundWorker"] = new JsonObject
            {
                ["id"] = $"bw_{profileIndex + 1}",
                ["friendlyId"] = $"worker_{profileIndex + 1}",
                ["version"] = profile.Version,
            },
            ["deployment"] = new JsonObject
            {
                ["id"] = $"dep_{profileIndex + 1}",
                ["friendlyId"] = profile.Deployment,
                ["imagePlatform"] = "linux/amd64",
            },
            ["run"] = new JsonObject
            {
                ["id"] = $"run_internal_{suffix}",
                ["friendlyId"] = runId,
                ["isTest"] = false,
                ["isReplay"] = false,
                // Numbers, as the platform sends them (0.5, 1, 2), not strings.
                ["machine"] = new JsonObject
                {
                    ["name"] = profile.Machine,
                    ["cpu"] = profile.Cpu,
                    ["memory"] = profile.Memory,
                    ["centsPerMs"] = 0.0001,
                },
                ["attemptNumber"] = 1,
                ["masterQueue"] = "main",
                ["traceContext"] = new JsonObject(),
            },
            ["environment"] = new JsonObject { ["id"] = "env_1", ["type"] = "PRODUCTION" },
            ["organization"] = new JsonObject { ["id"] = "org_1" },
            ["project"] = new JsonObject { ["id"] = "proj_1" },
            ["image"] = $"registry.example/proj:{profile.Version}",
        };
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Dispatching a run every {IntervalMs} ms to POST {Target}; profiles: {Profiles}")]
        public static partial void Started(ILogger logger, int intervalMs, Uri target, string profiles);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "WARM START run {RunId} for {Profile} ({ElapsedMs} ms): a waiting controller took it")]
        public static partial void WarmStart(ILogger logger, string runId, RunProfile profile, long elapsedMs);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "COLD START run {RunId} for {Profile} ({Reason}, {ElapsedMs} ms): the supervisor would start a container now")]
        public static partial void ColdStart(ILogger logger, string runId, RunProfile profile, string reason, long elapsedMs);
    }
}
