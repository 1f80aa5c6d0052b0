using Firestarter.ColdStart;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Lifetime;

/// <summary>
/// Runs the pool's housekeeping for the life of the host: expires polls held past the server-side limit, and drains
/// the pool when the host begins to stop.
/// </summary>
/// <remarks>
/// Expiry is one periodic sweep rather than a timer per poll: parking stays a single allocation, and tens of
/// thousands of parked controllers cost one pass a second. Drain hangs on
/// <see cref="IHostApplicationLifetime.ApplicationStopping"/>, which fires before the server stops: parked polls
/// are released (their connections closed, so clients re-poll elsewhere) and cannot hold up the server's graceful
/// shutdown, while dispatches already writing a run finish normally.
/// </remarks>
internal sealed partial class WarmPoolLifetime : IHostedService, IDisposable
{
    /// <summary>How often expiry is checked; a poll may outlive its limit by up to this much.</summary>
    internal static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly WarmPool _pool;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly FirestarterOptions _options;
    private readonly ILogger _logger;
    private ITimer? _sweeper;
    private CancellationTokenRegistration _stopping;

    public WarmPoolLifetime(
        WarmPool pool,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        IOptions<FirestarterOptions> options,
        ILogger<WarmPoolLifetime> logger)
    {
        _pool = pool;
        _time = time;
        _lifetime = lifetime;
        _options = options.Value;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Log.Started(_logger, _options.Enabled, _options.ConnectionTimeout, _options.Keepalive,
            _options.EffectiveMaxPollDuration, _options.Selection, _options.ColdStart.Mode, _options.MaxDispatchBodySize,
            _options.EffectivePollGuardWindow, _options.EffectiveRepollWait, _options.Confirmation.Enabled, _options.Confirmation.Timeout);
        _stopping = _lifetime.ApplicationStopping.Register(Drain);
        var interval = _options.EffectiveMaxPollDuration < SweepInterval ? _options.EffectiveMaxPollDuration : SweepInterval;
        _sweeper = _time.CreateTimer(static state => ((WarmPoolLifetime)state!).Sweep(), this, interval, interval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Also covers a host stopped without ApplicationStopping having fired (it always fires first in practice).
        Drain();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _sweeper?.Dispose();
        _stopping.Dispose();
    }

    internal void Sweep()
    {
        var limit = _options.EffectiveMaxPollDuration;
        var now = _time.GetTimestamp();
        var cutoff = now - (long)(limit.TotalSeconds * _time.TimestampFrequency);
        var expired = _pool.ExpireParkedBefore(cutoff);
        if (expired > 0)
        {
            Log.Expired(_logger, expired, limit);
        }
    }

    private void Drain()
    {
        if (_pool.IsDraining)
        {
            return;
        }

        var released = _pool.BeginDrain();
        Log.Draining(_logger, released);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.Started, Level = LogLevel.Information,
            Message = "Firestarter ready: warm starts {Enabled}, connection timeout {ConnectionTimeout}, keepalive {Keepalive}, " +
                      "max poll duration {MaxPollDuration}, selection {Selection}, cold-start mode {ColdStartMode}, max dispatch body {MaxDispatchBodySize} bytes, " +
                      "poll guard window {PollGuardWindow}, re-poll wait {RepollWait}, confirmation {ConfirmationEnabled} (timeout {ConfirmationTimeout}).")]
        public static partial void Started(ILogger logger, bool enabled, TimeSpan connectionTimeout, TimeSpan keepalive,
            TimeSpan maxPollDuration, SelectionOrder selection, ColdStartMode coldStartMode, long maxDispatchBodySize,
            TimeSpan pollGuardWindow, TimeSpan repollWait, bool confirmationEnabled, TimeSpan confirmationTimeout);

        [LoggerMessage(EventId = EventIds.DrainStarted, Level = LogLevel.Information,
            Message = "Draining: no more controllers are parked, {Released} parked controllers were released to re-poll elsewhere, dispatches now take the cold-start path.")]
        public static partial void Draining(ILogger logger, int released);

        [LoggerMessage(EventId = EventIds.PollsExpired, Level = LogLevel.Debug, Message = "{Count} polls held longer than {Limit} ended with 204.")]
        public static partial void Expired(ILogger logger, int count, TimeSpan limit);
    }
}
