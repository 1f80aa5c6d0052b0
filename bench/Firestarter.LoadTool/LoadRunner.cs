using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Firestarter.LoadTool;

/// <summary>
/// Runs one load against a warm-start broker: controllers long-polling <c>GET /warm-start</c>, dispatchers posting
/// runs to <c>POST /warm-start</c>, and at the end an exactness check of who received what.
/// </summary>
public static class LoadRunner
{
    /// <inheritdoc cref="RunAsync(LoadOptions, TextWriter, CancellationToken)"/>
    public static Task<LoadReport> RunAsync(LoadOptions options, CancellationToken cancellationToken = default) =>
        RunAsync(options, TextWriter.Null, cancellationToken);

    /// <summary>
    /// Runs the load described by <paramref name="options"/> and reports on it. Progress lines go to
    /// <paramref name="log"/>. Cancelling <paramref name="cancellationToken"/> ends the run early but gracefully: the
    /// dispatchers stop (their requests in flight finish), the controllers stop, and the report covers what ran
    /// (<see cref="LoadReport.Cancelled"/>). Throws <see cref="ArgumentException"/> for invalid options and
    /// <see cref="InvalidOperationException"/> when a target does not answer <c>GET /connect</c>.
    /// </summary>
    public static async Task<LoadReport> RunAsync(LoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid load options: " + string.Join(" ", errors), nameof(options));
        }

        var run = new Run(options, log);
        return await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class Run(LoadOptions options, TextWriter log)
    {
        private readonly string _prefix = options.RunIdPrefix ?? "run_" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 6) + "_";
        private readonly MatchKey[] _keys = MatchKey.CreateAll(options.Keys);
        private readonly IReadOnlyList<Uri> _controllerTargets = options.GetControllerTargets();
        private readonly IReadOnlyList<Uri> _dispatcherTargets = options.GetDispatcherTargets();
        private readonly bool _runControllers = options.Role != LoadRole.Dispatchers && options.Controllers > 0;
        private readonly bool _runDispatchers = options.Role != LoadRole.Controllers && options.Dispatchers > 0;
        private readonly Counter _controllerConnections = new();
        private readonly Counter _dispatcherConnections = new();
        private readonly Counter _controllersReady = new();
        private readonly LatencyHistogram _latency = new();
        private readonly LatencyHistogram _localHitLatency = new();
        private readonly LatencyHistogram _handedOnHitLatency = new();
        private readonly RunLedger _ledger = new();

        public async Task<LoadReport> ExecuteAsync(CancellationToken cancellationToken)
        {
            WarmUpCode();
            CheckFileLimit();
            using var connectLimiter = new SemaphoreSlim(options.ConnectConcurrency);
            var perControllerTarget = (options.Controllers + _controllerTargets.Count - 1) / _controllerTargets.Count;
            var perDispatcherTarget = (options.Dispatchers + _dispatcherTargets.Count - 1) / _dispatcherTargets.Count;
            using var controllerClient = new HttpMessageInvoker(
                HttpClients.CreateHandler(connectLimiter, _controllerConnections, Math.Max(1, perControllerTarget), trackPolls: true), disposeHandler: true);
            using var dispatcherClient = new HttpMessageInvoker(
                HttpClients.CreateHandler(connectLimiter, _dispatcherConnections, Math.Max(1, perDispatcherTarget), trackPolls: false), disposeHandler: true);

            var probed = new HashSet<Uri>();
            foreach (var target in (_runControllers ? _controllerTargets : []).Concat(_runDispatchers ? _dispatcherTargets : []))
            {
                if (probed.Add(target))
                {
                    await ProbeAsync(dispatcherClient, target, cancellationToken).ConfigureAwait(false);
                }
            }

            // Controllers first, and all of them polling, before the first dispatch.
            using var stopControllers = new CancellationTokenSource();
            Controller[] controllers = [];
            Task[] controllerTasks = [];
            Dispatcher[] dispatchers = [];
            long measureFrom, measureEnded;
            double cpuSeconds, cpuWindow;
            try
            {
                if (_runControllers)
                {
                    controllers = StartControllers(controllerClient, stopControllers.Token, out controllerTasks);
                    await WaitForControllersAsync(controllers, cancellationToken).ConfigureAwait(false);
                }

                measureFrom = Stopwatch.GetTimestamp() + Ticks(options.Warmup);
                var stopAt = measureFrom + Ticks(options.Duration);
                log.WriteLine(options.Warmup > 0
                    ? $"warming up {options.Warmup:0.###} s, then measuring {options.Duration:0.###} s"
                    : $"measuring {options.Duration:0.###} s");

                Task[] dispatcherTasks = [];
                if (_runDispatchers)
                {
                    dispatchers = StartDispatchers(dispatcherClient, measureFrom, stopAt, cancellationToken, out dispatcherTasks);
                }

                await DelayUntilAsync(measureFrom, cancellationToken).ConfigureAwait(false);
                var cpuAtStart = Environment.CpuUsage.TotalTime;
                var measureStarted = Stopwatch.GetTimestamp();
                if (_runDispatchers)
                {
                    await Task.WhenAll(dispatcherTasks).ConfigureAwait(false);
                    measureEnded = Math.Max(measureFrom, MaxFinishedAt(dispatchers));
                }
                else
                {
                    await DelayUntilAsync(stopAt, cancellationToken).ConfigureAwait(false);
                    measureEnded = Stopwatch.GetTimestamp();
                }

                cpuSeconds = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalSeconds;
                cpuWindow = Stopwatch.GetElapsedTime(measureStarted).TotalSeconds;
                if (_runControllers && _runDispatchers)
                {
                    await DrainAsync(dispatchers).ConfigureAwait(false);
                }
            }
            finally
            {
                // Also when something above failed: no controller outlives the run.
                if (_runControllers)
                {
                    log.WriteLine("stopping controllers");
                    await stopControllers.CancelAsync().ConfigureAwait(false);
                    await Task.WhenAll(controllerTasks).ConfigureAwait(false);
                }
            }

            var report = BuildReport(controllers, dispatchers, measureFrom, measureEnded, cpuSeconds, cpuWindow, cancellationToken.IsCancellationRequested);
            await WriteLogsAsync(controllers).ConfigureAwait(false);
            return report;
        }

        // Load, once, everything the hot paths and the report use, while file descriptors are still to be had: with
        // ~19,000 sockets open, a lazily loaded assembly can fail to load for want of one.
        private void WarmUpCode()
        {
            var bodies = new DispatchBodies(_keys, _prefix);
            var body = new byte[bodies.MaxLength];
            var length = bodies.Write(body, 0, 1);
            // The poll answer is the dequeuedMessage: the dispatch body without its {"dequeuedMessage": wrapper.
            var wrapper = "{\"dequeuedMessage\":".Length;
            if (!WireParsing.TryReadDelivery(body.AsSpan(wrapper, length - wrapper - 1), out var run) || !_keys[0].Matches(run))
            {
                throw new InvalidOperationException("Self-check failed: the load tool cannot read its own run body back.");
            }

            if (WireParsing.TryReadDidWarmStart("{\"didWarmStart\":true}"u8) != true)
            {
                throw new InvalidOperationException("Self-check failed: the load tool cannot read a dispatch answer.");
            }

            _ = ReportText.ToText(new LoadReport()) + ReportText.ToJson(new LoadReport()) + ReportText.ToJson(new MergeReport());
            _ = new LatencyHistogram().Summarize();
        }

        private void CheckFileLimit()
        {
            var sockets = (_runControllers ? (long)options.Controllers : 0) + (_runDispatchers ? options.Dispatchers : 0);
            if (FileLimit() is { } limit && sockets + 150 > limit)
            {
                log.WriteLine($"warning: {sockets} connections, but this process may open only {limit} files (ulimit -n): "
                    + "spread the controllers over several processes (--Role controllers), see README.md");
            }
        }

        // The soft RLIMIT_NOFILE, from /proc (Linux); null where that is not available.
        private static long? FileLimit()
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/limits"))
                {
                    if (line.StartsWith("Max open files", StringComparison.Ordinal))
                    {
                        var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
                    }
                }
            }
            catch (IOException)
            {
                // Not Linux.
            }
            catch (UnauthorizedAccessException)
            {
                // Not readable.
            }

            return null;
        }

        private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

        private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
        {
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
            if (remaining <= TimeSpan.Zero)
            {
                return;
            }

            try
            {
                await Task.Delay(remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Cancelled: the run ends early, gracefully.
            }
        }

        private static long MaxFinishedAt(Dispatcher[] dispatchers)
        {
            long max = 0;
            foreach (var dispatcher in dispatchers)
            {
                max = Math.Max(max, dispatcher.Stats.FinishedAt);
            }

            return max;
        }

        private async Task ProbeAsync(HttpMessageInvoker client, Uri target, CancellationToken cancellationToken)
        {
            var uri = new Uri(target, "connect");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            try
            {
                using var response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET {uri} answered HTTP {(int)response.StatusCode}: {Shorten(body)}");
                }

                log.WriteLine($"GET {uri}: {Shorten(body)}");
            }
            catch (HttpRequestException ex)
            {
                throw new InvalidOperationException($"GET {uri} failed: {ex.Message}", ex);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"GET {uri}: no answer within 10 s.", ex);
            }
        }

        private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

        private Controller[] StartControllers(HttpMessageInvoker client, CancellationToken stop, out Task[] tasks)
        {
            var plan = new ControllerPlan
            {
                Client = client,
                Targets = _controllerTargets,
                Keys = _keys,
                SparseKeys = options.SparseKeys,
                // Only a process that dispatches can tell its own runs from others'.
                Ledger = _runDispatchers ? _ledger : null,
                RunIdPrefix = Encoding.UTF8.GetBytes(_prefix),
                AbortRate = options.AbortRate,
                AbortMaxDelayMs = options.AbortMaxDelayMs,
                PollTimeout = TimeSpan.FromSeconds(options.PollTimeout),
                KeepReceivedIds = options.ReceivedLog is not null,
                Seed = options.Seed is { } seed ? (ulong)seed : (ulong)Random.Shared.NextInt64(),
                OnFirstPollWritten = _controllersReady.Increment,
            };
            var controllers = new Controller[options.Controllers];
            tasks = new Task[controllers.Length];
            for (var i = 0; i < controllers.Length; i++)
            {
                controllers[i] = new Controller(plan, i);
                tasks[i] = controllers[i].RunAsync(stop);
            }

            log.WriteLine($"started {controllers.Length} controllers over {_keys.Length} keys ({string.Join(", ", _controllerTargets)})");
            return controllers;
        }

        private async Task WaitForControllersAsync(Controller[] controllers, CancellationToken cancellationToken)
        {
            var count = controllers.Length;
            var waiting = Stopwatch.StartNew();
            var limit = TimeSpan.FromSeconds(options.StartupTimeout);
            while (_controllersReady.Value < count && waiting.Elapsed < limit && !cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var ready = _controllersReady.Value;
            log.WriteLine(ready >= count
                ? $"{count} controllers polling after {waiting.Elapsed.TotalSeconds:0.00} s"
                : $"warning: only {ready} of {count} controllers polling after {waiting.Elapsed.TotalSeconds:0.00} s (first error: {FirstError(controllers) ?? "none"})");
            if (!cancellationToken.IsCancellationRequested)
            {
                // Let the broker park the last polls that went out.
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
            }
        }

        private Dispatcher[] StartDispatchers(HttpMessageInvoker client, long measureFrom, long stopAt, CancellationToken stop, out Task[] tasks)
        {
            var plan = new DispatcherPlan
            {
                Client = client,
                Targets = _dispatcherTargets,
                Bodies = new DispatchBodies(_keys, _prefix),
                KeyCount = _keys.Length,
                Ledger = _ledger,
                Latency = _latency,
                LocalHitLatency = _localHitLatency,
                HandedOnHitLatency = _handedOnHitLatency,
                Timeout = TimeSpan.FromSeconds(options.DispatchTimeout),
                MeasureFrom = measureFrom,
                StopAt = stopAt,
            };
            var dispatchers = new Dispatcher[options.Dispatchers];
            tasks = new Task[dispatchers.Length];
            for (var i = 0; i < dispatchers.Length; i++)
            {
                dispatchers[i] = new Dispatcher(plan, i);
                tasks[i] = dispatchers[i].RunAsync(stop);
            }

            log.WriteLine($"started {dispatchers.Length} dispatchers, run ids {_prefix}N ({string.Join(", ", _dispatcherTargets)})");
            return dispatchers;
        }

        // Runs answered true may still be on their way to a controller: wait until every one has arrived (or the
        // drain time is up), plus a moment for a late duplicate to show.
        private async Task DrainAsync(Dispatcher[] dispatchers)
        {
            long hits = 0;
            foreach (var dispatcher in dispatchers)
            {
                hits += dispatcher.Stats.Hits;
            }

            var drain = Stopwatch.StartNew();
            var limit = TimeSpan.FromSeconds(options.Drain);
            while (_ledger.DistinctReceived < hits && drain.Elapsed < limit)
            {
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
            }

            var settle = limit - drain.Elapsed;
            if (settle > TimeSpan.Zero)
            {
                await Task.Delay(settle < TimeSpan.FromMilliseconds(100) ? settle : TimeSpan.FromMilliseconds(100), CancellationToken.None).ConfigureAwait(false);
            }

            log.WriteLine($"drained {drain.Elapsed.TotalSeconds:0.00} s: {_ledger.DistinctReceived} of {hits} hits received");
        }

        private static string? FirstError(Controller[] controllers)
        {
            foreach (var controller in controllers)
            {
                if (controller.Stats.FirstError is { } error)
                {
                    return error;
                }
            }

            return null;
        }

        private LoadReport BuildReport(Controller[] controllers, Dispatcher[] dispatchers, long measureFrom, long measureEnded, double cpuSeconds, double cpuWindow, bool cancelled)
        {
            var d = new DispatcherStats();
            string? firstDispatchError = null;
            foreach (var dispatcher in dispatchers)
            {
                var s = dispatcher.Stats;
                d.Measured += s.Measured;
                d.MeasuredHits += s.MeasuredHits;
                d.MeasuredMisses += s.MeasuredMisses;
                d.MeasuredHandedOnHits += s.MeasuredHandedOnHits;
                d.Total += s.Total;
                d.Hits += s.Hits;
                d.Misses += s.Misses;
                d.HttpErrors += s.HttpErrors;
                d.TransportErrors += s.TransportErrors;
                d.Timeouts += s.Timeouts;
                d.BadAnswers += s.BadAnswers;
                firstDispatchError ??= s.FirstError;
            }

            var c = new ControllerStats();
            foreach (var controller in controllers)
            {
                var s = controller.Stats;
                c.Polls += s.Polls;
                c.Delivered += s.Delivered;
                c.NoContent += s.NoContent;
                c.Aborted += s.Aborted;
                c.AbortedWithResponsePending += s.AbortedWithResponsePending;
                c.StoppedWithResponsePending += s.StoppedWithResponsePending;
                c.TimedOut += s.TimedOut;
                c.HttpErrors += s.HttpErrors;
                c.TransportErrors += s.TransportErrors;
                c.BadBodies += s.BadBodies;
                c.Misrouted += s.Misrouted;
                c.Foreign += s.Foreign;
                c.Unknown += s.Unknown;
            }

            // Exactness: only a process that both dispatched and polled can match the two sides.
            var checkedHere = _runControllers && _runDispatchers;
            long lost = 0, duplicated = 0, falseDelivered = 0, afterError = 0;
            if (checkedHere)
            {
                var issued = _ledger.Issued;
                for (long n = 1; n <= issued; n++)
                {
                    var (outcome, receptions, _) = _ledger.Get(n);
                    if (receptions > 1)
                    {
                        duplicated++;
                    }

                    switch (outcome)
                    {
                        case DispatchOutcome.Hit when receptions == 0:
                            lost++;
                            break;
                        case DispatchOutcome.Miss when receptions > 0:
                            falseDelivered++;
                            break;
                        case DispatchOutcome.Error or DispatchOutcome.None when receptions > 0:
                            afterError++;
                            break;
                    }
                }
            }

            var measuredSeconds = Math.Max(0, Stopwatch.GetElapsedTime(measureFrom, measureEnded).TotalSeconds);
            var answered = d.MeasuredHits + d.MeasuredMisses;
            return new LoadReport
            {
                Role = options.Role,
                ControllerTargets = _runControllers ? [.. _controllerTargets.Select(t => t.ToString())] : [],
                DispatcherTargets = _runDispatchers ? [.. _dispatcherTargets.Select(t => t.ToString())] : [],
                Controllers = _runControllers ? options.Controllers : 0,
                Dispatchers = _runDispatchers ? options.Dispatchers : 0,
                Keys = options.Keys,
                AbortRate = options.AbortRate,
                RunIdPrefix = _runDispatchers ? _prefix : "",
                WarmupSeconds = options.Warmup,
                MeasuredSeconds = Math.Round(measuredSeconds, 3),
                Cancelled = cancelled,
                Dispatches = answered,
                DispatchesPerSecond = measuredSeconds > 0 ? Math.Round(answered / measuredSeconds, 1) : 0,
                Hits = d.MeasuredHits,
                Misses = d.MeasuredMisses,
                HitRate = answered > 0 ? Math.Round((double)d.MeasuredHits / answered, 5) : 0,
                DispatchLatencyMs = _latency.Summarize(),
                HandedOnHits = d.MeasuredHandedOnHits,
                LocalHitLatencyMs = _localHitLatency.Summarize(),
                HandedOnHitLatencyMs = _handedOnHitLatency.Summarize(),
                TotalDispatches = d.Total,
                TotalHits = d.Hits,
                TotalMisses = d.Misses,
                DispatchHttpErrors = d.HttpErrors,
                DispatchTransportErrors = d.TransportErrors,
                DispatchTimeouts = d.Timeouts,
                DispatchBadAnswers = d.BadAnswers,
                FirstDispatchError = firstDispatchError,
                ControllersReady = (int)Math.Min(_controllersReady.Value, int.MaxValue),
                Polls = c.Polls,
                PollsDelivered = c.Delivered,
                PollsNoContent = c.NoContent,
                PollsAborted = c.Aborted,
                PollsAbortedWithResponsePending = c.AbortedWithResponsePending,
                PollsTimedOut = c.TimedOut,
                PollsStoppedWithResponsePending = c.StoppedWithResponsePending,
                ControllerHttpErrors = c.HttpErrors,
                ControllerTransportErrors = c.TransportErrors,
                ControllerBadBodies = c.BadBodies,
                FirstControllerError = FirstError(controllers),
                ControllerConnectionsOpened = _controllerConnections.Value,
                DispatcherConnectionsOpened = _dispatcherConnections.Value,
                ExactnessChecked = checkedHere,
                Lost = lost,
                Duplicated = duplicated,
                FalseDelivered = falseDelivered,
                Misrouted = c.Misrouted,
                UnknownReceived = c.Unknown,
                ReceivedAfterDispatchError = afterError,
                ForeignReceived = c.Foreign,
                ExactnessPassed = lost == 0 && duplicated == 0 && falseDelivered == 0 && c.Misrouted == 0 && c.Unknown == 0,
                UnexplainedLost = Math.Max(0, lost - c.AbortedWithResponsePending),
                ExactnessPassedAllowingAbortRace = lost <= c.AbortedWithResponsePending && duplicated == 0 && falseDelivered == 0 && c.Misrouted == 0 && c.Unknown == 0,
                ClientCpuSeconds = Math.Round(cpuSeconds, 3),
                ClientCpuPercent = cpuWindow > 0 ? Math.Round(100 * cpuSeconds / cpuWindow, 1) : 0,
            };
        }

        private async Task WriteLogsAsync(Controller[] controllers)
        {
            if (options.DispatchLog is { } dispatchLog && _runDispatchers)
            {
                await RunLog.AppendAsync(dispatchLog, $"dispatch-log prefix={_prefix}", writer =>
                {
                    var issued = _ledger.Issued;
                    for (long n = 1; n <= issued; n++)
                    {
                        var kind = _ledger.Get(n).Outcome switch
                        {
                            DispatchOutcome.Hit => RunLog.Hit,
                            DispatchOutcome.Miss => RunLog.Miss,
                            _ => RunLog.Error,
                        };
                        RunLog.WriteLine(writer, kind, _prefix, n);
                    }
                }).ConfigureAwait(false);
                log.WriteLine($"appended {_ledger.Issued} dispatches to {dispatchLog}");
            }

            if (options.ReceivedLog is { } receivedLog && _runControllers)
            {
                long lines = 0, pending = 0;
                foreach (var controller in controllers)
                {
                    pending += controller.Stats.AbortedWithResponsePending;
                }

                await RunLog.AppendAsync(receivedLog, "received-log", writer =>
                {
                    RunLog.WritePendingAborts(writer, pending);
                    if (_runDispatchers)
                    {
                        var issued = _ledger.Issued;
                        for (long n = 1; n <= issued; n++)
                        {
                            var (_, receptions, misrouted) = _ledger.Get(n);
                            for (var i = 0; i < receptions; i++)
                            {
                                RunLog.WriteLine(writer, misrouted ? RunLog.Misrouted : RunLog.Received, _prefix, n);
                                lines++;
                            }
                        }
                    }

                    foreach (var controller in controllers)
                    {
                        var ids = controller.Stats.ForeignIds;
                        var misrouted = controller.Stats.ForeignMisrouted;
                        for (var i = 0; i < (ids?.Count ?? 0); i++)
                        {
                            RunLog.WriteLine(writer, misrouted![i] ? RunLog.Misrouted : RunLog.Received, ids![i]);
                            lines++;
                        }
                    }
                }).ConfigureAwait(false);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"appended {lines} receptions to {receivedLog}"));
            }
        }
    }
}
