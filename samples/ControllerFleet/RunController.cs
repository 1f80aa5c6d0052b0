using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace ControllerFleet;

/// <summary>
/// One stand-in run controller, speaking the warm-start protocol as Trigger.dev's run controller does between runs:
/// <c>GET /connect</c> for the timings, then <c>GET /warm-start</c> long polls until a run arrives or the keepalive
/// runs out. A run is "executed" (a random 0.5–2 s) and the controller waits for the next one, as a warm container.
/// </summary>
internal sealed class RunController : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private const int ConnectRetries = 3;
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private readonly int _number;
    private readonly ControllerProfile _profile;
    private readonly string _workerInstanceName;
    // A fresh id per controller, like the real one's default (controller_<uuid>).
    private readonly string _controllerId = $"controller_{Guid.NewGuid()}";
    private readonly HttpClient _http;
    private TimeSpan _backoff = FirstBackoff;

    public RunController(int number, ControllerProfile profile, Uri broker, string workerInstanceName)
    {
        _number = number;
        _profile = profile;
        _workerInstanceName = workerInstanceName;
        // Its own handler, hence its own connection: aborting this controller's held poll (which closes the
        // connection under it) can never disturb another controller's. Timeouts are ours, per request, so the
        // client's own is off.
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = broker,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>How many runs this controller got by warm start.</summary>
    public int Runs { get; private set; }

    /// <summary>Lives until the broker has no more use for this controller, or until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        Say($"ready for {_profile} as {_controllerId}");
        try
        {
            // Like the real controller, ask /connect again before every wait: the broker may have changed its
            // timings, or switched warm starts off, while the last run executed.
            while (await ConnectAsync(stop) is { } timings && await WaitForRunAsync(timings, stop) is { } run)
            {
                await ExecuteAsync(run, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Say($"stopped after {Runs} runs");
        }
    }

    /// <summary><c>GET /connect</c>: the poll timings, or null when this controller should exit.</summary>
    private async Task<Timings?> ConnectAsync(CancellationToken stop)
    {
        for (var attempt = 0; ; attempt++)
        {
            string failure;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(ConnectTimeout);
                using var response = await _http.GetAsync(new Uri("/connect", UriKind.Relative), timeout.Token);
                if (response.IsSuccessStatusCode)
                {
                    var timings = Timings.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
                    if (timings.ConnectionTimeout <= TimeSpan.Zero || timings.Keepalive <= TimeSpan.Zero)
                    {
                        Exit($"warm starts are switched off (/connect answered {timings})");
                        return null;
                    }

                    return timings;
                }

                // A server error may pass; anything else is the broker's final word.
                if ((int)response.StatusCode < 500)
                {
                    Exit($"/connect answered {(int)response.StatusCode}");
                    return null;
                }

                failure = $"status {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                failure = ex.Message;
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                failure = $"no answer within {ConnectTimeout.TotalSeconds:0} s";
            }
            catch (JsonException ex)
            {
                Exit($"/connect answered something unreadable ({ex.Message})");
                return null;
            }

            // The real controller makes a few quick attempts, then gives up and exits.
            if (attempt == ConnectRetries)
            {
                Exit($"cannot connect to the broker ({failure})");
                return null;
            }

            var delay = TimeSpan.FromMilliseconds(200 << attempt);
            Say($"/connect failed ({failure}); retrying in {delay.TotalMilliseconds:0} ms");
            await Task.Delay(delay, stop);
        }
    }

    /// <summary>Long-polls <c>GET /warm-start</c>: the next run, or null when this controller should exit.</summary>
    private async Task<Run?> WaitForRunAsync(Timings timings, CancellationToken stop)
    {
        var waitStarted = Stopwatch.GetTimestamp();
        _backoff = FirstBackoff;
        // As in the real controller, the keepalive is checked before each poll: no new poll starts once it has
        // passed, but a poll already held runs its full connection timeout.
        while (Stopwatch.GetElapsedTime(waitStarted) < timings.Keepalive)
        {
            using var request = CreatePollRequest();
            using var hold = CancellationTokenSource.CreateLinkedTokenSource(stop);
            hold.CancelAfter(timings.ConnectionTimeout);
            HttpResponseMessage response;
            try
            {
                // The token only covers the wait for the response headers: once the broker answers, the run is ours.
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, hold.Token);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // Held for the whole connection timeout with no run: abandon this request, poll again at once.
                _backoff = FirstBackoff;
                var again = Stopwatch.GetElapsedTime(waitStarted) < timings.Keepalive ? "; polling again" : "";
                Say($"no run in {timings.ConnectionTimeout.TotalSeconds:0.#} s{again}");
                continue;
            }
            catch (HttpRequestException ex)
            {
                await BackOffAsync($"broker unreachable ({ex.Message})", stop);
                continue;
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    // The broker refuses this controller (bad headers, warm starts off...): the real one exits.
                    Exit($"GET /warm-start answered {(int)response.StatusCode}{await ReadDetailAsync(response, stop)}");
                    return null;
                }

                string body;
                try
                {
                    body = await response.Content.ReadAsStringAsync(stop);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    await BackOffAsync($"connection lost while reading the run ({ex.Message})", stop);
                    continue;
                }

                _backoff = FirstBackoff;
                if (body.Length == 0)
                {
                    // 204 (or an empty 200): the broker held the poll as long as it would. Poll again.
                    Say($"broker answered {(int)response.StatusCode} without a run; polling again");
                    continue;
                }

                if (!Run.TryParse(body, out var run, out var problem))
                {
                    Exit($"got a run it cannot read ({problem})");
                    return null;
                }

                run.Waited = Stopwatch.GetElapsedTime(waitStarted);
                return run;
            }
        }

        Exit($"no run within the keepalive of {timings.Keepalive.TotalSeconds:0} s");
        return null;
    }

    private HttpRequestMessage CreatePollRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/warm-start", UriKind.Relative));
        var headers = request.Headers;
        headers.Add("x-trigger-workload-controller-id", _controllerId);
        headers.Add("x-trigger-deployment-id", _profile.Deployment);
        headers.Add("x-trigger-deployment-version", _profile.Version);
        headers.Add("x-trigger-machine-cpu", _profile.Cpu);
        headers.Add("x-trigger-machine-memory", _profile.Memory);
        headers.Add("x-trigger-worker-instance-name", _workerInstanceName);
        return request;
    }

    /// <summary>After a network error: wait 250 ms, doubling up to 5 s, then retry (the wait counts toward the keepalive).</summary>
    private async Task BackOffAsync(string why, CancellationToken stop)
    {
        Say($"{why}; retrying in {_backoff.TotalMilliseconds:0} ms");
        await Task.Delay(_backoff, stop);
        _backoff = _backoff * 2 < MaxBackoff ? _backoff * 2 : MaxBackoff;
    }

    /// <summary>Stands in for running the task: 0.5 to 2 seconds of "work".</summary>
    private async Task ExecuteAsync(Run run, CancellationToken stop)
    {
        Runs++;
        if (!run.Matches(_profile))
        {
            Say($"WARNING: run {run.Id} is for {run.Key}, not for this controller's {_profile}");
        }

        var duration = TimeSpan.FromMilliseconds(Random.Shared.Next(500, 2001));
        Say($"got run {run.Id} (warm start) after waiting {run.Waited.TotalSeconds:0.0} s; executing it for {duration.TotalMilliseconds:0} ms");
        await Task.Delay(duration, stop);
        Say($"finished run {run.Id}; waiting for the next one");
    }

    private void Exit(string reason) => Say($"exits: {reason} (after {Runs} runs)");

    private void Say(string text) => Output.Line($"controller {_number} {text}");

    /// <summary>The start of an error answer's body, for the log; best effort.</summary>
    private static async Task<string> ReadDetailAsync(HttpResponseMessage response, CancellationToken stop)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(stop);
            text = text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");
            return text.Length == 0 ? "" : $": {text}";
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return "";
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>What <c>GET /connect</c> answers.</summary>
    private readonly record struct Timings(TimeSpan ConnectionTimeout, TimeSpan Keepalive)
    {
        public static Timings Parse(string json)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return new Timings(Milliseconds(root, "connectionTimeoutMs"), Milliseconds(root, "keepaliveMs"));
        }

        // A missing or non-numeric value counts as 0, which switches warm starts off.
        private static TimeSpan Milliseconds(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.TryGetDouble(out var ms) && double.IsFinite(ms)
                ? TimeSpan.FromMilliseconds(Math.Max(ms, 0))
                : TimeSpan.Zero;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"connectionTimeoutMs={ConnectionTimeout.TotalMilliseconds}, keepaliveMs={Keepalive.TotalMilliseconds}");
    }

    /// <summary>The run a poll delivered: the fields this controller logs and checks.</summary>
    private sealed class Run
    {
        private Run(string id, string deployment, string version, double cpu, double memory)
        {
            Id = id;
            Deployment = deployment;
            Version = version;
            Cpu = cpu;
            Memory = memory;
        }

        public string Id { get; }

        public string Deployment { get; }

        public string Version { get; }

        public double Cpu { get; }

        public double Memory { get; }

        public TimeSpan Waited { get; set; }

        public string Key => string.Create(CultureInfo.InvariantCulture, $"{Deployment}/{Version} cpu={Cpu} mem={Memory}");

        /// <summary>
        /// Whether the broker kept its promise: the run is for this controller's deployment, version and machine.
        /// Sizes compare as numbers, as the broker compares them ("1" in a header is 1 in the run).
        /// </summary>
        public bool Matches(ControllerProfile profile) =>
            Deployment == profile.Deployment
            && Version == profile.Version
            && double.TryParse(profile.Cpu, NumberStyles.Float, CultureInfo.InvariantCulture, out var cpu) && cpu == Cpu
            && double.TryParse(profile.Memory, NumberStyles.Float, CultureInfo.InvariantCulture, out var memory) && memory == Memory;

        /// <summary>Reads a DequeuedMessage. Only the run's id is required; the real controller would reject more.</summary>
        public static bool TryParse(string json, [NotNullWhen(true)] out Run? run, [NotNullWhen(false)] out string? problem)
        {
            run = null;
            try
            {
                using var document = JsonDocument.Parse(json);
                var message = document.RootElement;
                if (Find(message, "run", "friendlyId") is not { ValueKind: JsonValueKind.String } id)
                {
                    problem = "no run.friendlyId";
                    return false;
                }

                run = new Run(
                    id.GetString()!,
                    Find(message, "deployment", "friendlyId")?.ToString() ?? "?",
                    Find(message, "backgroundWorker", "version")?.ToString() ?? "?",
                    Number(Find(message, "run", "machine", "cpu")),
                    Number(Find(message, "run", "machine", "memory")));
                problem = null;
                return true;
            }
            catch (JsonException ex)
            {
                problem = ex.Message;
                return false;
            }
        }

        private static JsonElement? Find(JsonElement element, params ReadOnlySpan<string> path)
        {
            foreach (var name in path)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
                {
                    return null;
                }
            }

            return element;
        }

        private static double Number(JsonElement? element) =>
            element is { ValueKind: JsonValueKind.Number } number ? number.GetDouble() : double.NaN;
    }
}
