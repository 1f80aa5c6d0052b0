using System.Globalization;
using Firestarter.Confirmation;
using Firestarter.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Firestarter.Cluster;

/// <summary>
/// Carries a run's start between instances: a controller's <c>attempts/start</c> may reach any instance behind the
/// load balancer, while the dispatch waiting for it sits on the one that handed the run out.
/// </summary>
/// <remarks>
/// An instance that sees a start no local dispatch waits for publishes it on the cluster's Redis channel; every
/// instance hears it and releases its own dispatch for exactly that run and snapshot, if any. Pub/sub rather than a
/// directory of pending runs: a start is needed only by the one instance waiting right now, and one that is not
/// heard (Redis down) leaves that dispatch to time out and answer <c>false</c>, which is safe. Runs only when both
/// clustering and confirmation are on.
/// </remarks>
internal sealed partial class ConfirmationRelay : IHostedService
{
    private readonly ClusterConnection? _connection;
    private readonly ConfirmationRegistry _registry;
    private readonly ILogger _logger;
    private int _subscribed;

    public ConfirmationRelay(ClusterFeature cluster, ConfirmationRegistry registry, IOptions<ConfirmationOptions> confirmation, ILogger<ConfirmationRelay> logger)
    {
        _connection = confirmation.Value.Enabled ? cluster.Connection : null;
        _registry = registry;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            _registry.Unmatched += Publish;
            _connection.Up += Subscribe;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            _registry.Unmatched -= Publish;
            _connection.Up -= Subscribe;
        }

        return Task.CompletedTask;
    }

    /// <summary>The channel message for <paramref name="attempt"/>: the run id's length, then both ids, so any text round-trips.</summary>
    internal static string Encode(RunAttempt attempt) =>
        string.Create(CultureInfo.InvariantCulture, $"{attempt.RunId.Length}:{attempt.RunId}{attempt.SnapshotId}");

    internal static bool TryDecode(string? message, out RunAttempt attempt)
    {
        attempt = default;
        var colon = message?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 0
            || !int.TryParse(message.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length <= 0 || length >= message!.Length - colon - 1)
        {
            return false;
        }

        attempt = new RunAttempt(message.Substring(colon + 1, length), message[(colon + 1 + length)..]);
        return true;
    }

    // On the confirming request's thread: fire and forget, never blocking or failing the forwarded start.
    private void Publish(RunAttempt attempt)
    {
        if (_connection is not { IsConnected: true, Subscriber: { } subscriber })
        {
            return;
        }

        try
        {
            subscriber.Publish(_connection.Keys.Confirmations, Encode(attempt), CommandFlags.FireAndForget);
        }
        catch (RedisException ex)
        {
            Log.PublishFailed(_logger, attempt, ex.Message);
        }
    }

    // Once per process: the client itself subscribes again after every reconnection.
    private void Subscribe()
    {
        if (_connection?.Subscriber is not { } subscriber || Interlocked.Exchange(ref _subscribed, 1) == 1)
        {
            return;
        }

        _ = SubscribeAsync(subscriber);
    }

    private async Task SubscribeAsync(ISubscriber subscriber)
    {
        try
        {
            await subscriber.SubscribeAsync(_connection!.Keys.Confirmations, (_, message) =>
            {
                if (TryDecode(message, out var attempt) && _registry.TryConfirm(attempt))
                {
                    Log.Relayed(_logger, attempt);
                }
            });
        }
        catch (RedisException ex)
        {
            // Tried again when Redis is next reachable.
            Volatile.Write(ref _subscribed, 0);
            Log.SubscribeFailed(_logger, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ConfirmationRelayed, Level = LogLevel.Debug,
            Message = "attempts/start for {Attempt}, seen by another instance, released the dispatch waiting here.")]
        public static partial void Relayed(ILogger logger, RunAttempt attempt);

        [LoggerMessage(EventId = EventIds.ConfirmationRelayPublishFailed, Level = LogLevel.Warning,
            Message = "Relaying attempts/start for {Attempt} through Redis failed: {Reason}. A dispatch waiting elsewhere times out and answers false.")]
        public static partial void PublishFailed(ILogger logger, RunAttempt attempt, string reason);

        [LoggerMessage(EventId = EventIds.ConfirmationRelaySubscribeFailed, Level = LogLevel.Warning,
            Message = "Subscribing to the cluster's confirmations failed: {Reason}. Tried again when Redis is next reachable.")]
        public static partial void SubscribeFailed(ILogger logger, string reason);
    }
}
