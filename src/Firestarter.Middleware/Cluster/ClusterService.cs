using Firestarter.Diagnostics;
using Firestarter.Matching;
using IServer = Microsoft.AspNetCore.Hosting.Server.IServer;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Firestarter.Cluster;

/// <summary>
/// Runs this instance's membership of the cluster for the life of the host: connects to Redis, learns the
/// instance's URL once the server has bound, renews the lease and reads the other instances every
/// <see cref="ClusterOptions.HeartbeatInterval"/>, flushes the directory every <see cref="ClusterOptions.PublishInterval"/>,
/// and withdraws the instance's entries and lease as soon as the host begins to stop.
/// </summary>
/// <remarks>
/// The heartbeat is also how a Redis that restarted empty is noticed: the lease is renewed with <c>PEXPIRE</c>, which
/// fails on a missing key, and then every key this instance holds is written again (as after a reconnection).
/// Nothing here is on a request's path, and every Redis call is bounded, so a slow or absent Redis delays only
/// these background beats.
/// </remarks>
internal sealed partial class ClusterService : IHostedService, IAsyncDisposable
{
    private readonly ClusterConnection? _connection;
    private readonly DirectoryPublisher? _publisher;
    private readonly WarmPool _pool;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _heartbeatTimer;
    private CancellationTokenRegistration _started;
    private CancellationTokenRegistration _stoppingRegistration;
    private Task _run = Task.CompletedTask;
    private Task? _withdrawal;
    private int _beating;
    private bool _hadLease;
    private bool _heartbeatFailing;

    public ClusterService(
        ClusterFeature cluster,
        WarmPool pool,
        IServer server,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<ClusterService> logger)
    {
        _connection = cluster.Connection;
        _publisher = cluster.Publisher;
        _pool = pool;
        _server = server;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    private ClusterOptions Options => Connection.Options;

    // Set whenever clustering is on, the only case in which anything below runs.
    private ClusterConnection Connection => _connection!;

    private DirectoryPublisher Publisher => _publisher!;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            return Task.CompletedTask;
        }

        _connection.Restored += OnRestored;
        _started = _lifetime.ApplicationStarted.Register(() => _run = RunAsync());
        _stoppingRegistration = _lifetime.ApplicationStopping.Register(() => _withdrawal ??= WithdrawAsync());
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_connection is null)
        {
            return;
        }

        _withdrawal ??= WithdrawAsync();
        await _withdrawal.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            _connection.Restored -= OnRestored;
        }

        await _stopping.CancelAsync();
        _started.Dispose();
        _stoppingRegistration.Dispose();
        _publisher?.Stop();
        _heartbeatTimer?.Dispose();
        await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    /// <summary>
    /// The URL the other instances reach this one on: <see cref="ClusterOptions.InstanceUrl"/>, else the server's
    /// first address, with a wildcard host replaced by <paramref name="hostName"/>.
    /// </summary>
    internal static Uri? ResolveInstanceUrl(string? configured, IEnumerable<string> addresses, string hostName)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return new Uri(configured);
        }

        if (addresses.FirstOrDefault() is not { } first)
        {
            return null;
        }

        var address = BindingAddress.Parse(first);
        var host = address.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*" ? hostName : address.Host;
        return new UriBuilder(address.Scheme, host, address.Port, address.PathBase).Uri;
    }

    private async Task RunAsync()
    {
        var addresses = _server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        Connection.InstanceUrl = ResolveInstanceUrl(Options.InstanceUrl, addresses, System.Net.Dns.GetHostName());
        if (Connection.InstanceUrl is { } url)
        {
            Log.InstanceUrl(_logger, Connection.InstanceId, url);
        }
        else
        {
            Log.NoInstanceUrl(_logger);
        }

        try
        {
            await Connection.ConnectAsync().WaitAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (_stopping.IsCancellationRequested || _withdrawal is not null)
        {
            return;
        }

        Publisher.Start(_time, Options.PublishInterval);
        _heartbeatTimer = _time.CreateTimer(static state => ((ClusterService)state!).HeartbeatTick(), this, TimeSpan.Zero, Options.HeartbeatInterval);
    }

    private void OnRestored()
    {
        Publisher.RequestRepublish();
        HeartbeatTick();
    }

    private void HeartbeatTick()
    {
        if (Interlocked.Exchange(ref _beating, 1) == 0)
        {
            _ = HeartbeatAsync();
        }
    }

    /// <summary>Renews the lease, reads the shared secret and the other instances, all in one round trip (and one more for the leases).</summary>
    internal async Task HeartbeatAsync()
    {
        try
        {
            if (_withdrawal is not null || !Connection.IsConnected || Connection.Database is not { } database)
            {
                return;
            }

            var keys = Connection.Keys;
            var lease = keys.Lease(Connection.InstanceId);
            var timeout = Options.LeaseDuration / 2;
            var batch = database.CreateBatch();
            Task<bool>? renewed = null;
            if (Connection.InstanceUrl is { } url)
            {
                renewed = batch.KeyExpireAsync(lease, Options.LeaseDuration);
                _ = batch.HashSetAsync(lease, [new("url", url.ToString()), new("parked", _pool.ParkedCount)]);
                _ = batch.KeyExpireAsync(lease, Options.LeaseDuration);
                _ = batch.SetAddAsync(keys.Instances, Connection.InstanceId);
            }

            Task<RedisValue>? secret = null;
            if (Options.Secret is null)
            {
                _ = batch.StringSetAsync(keys.Secret, ClusterConnection.NewSecret(), when: When.NotExists);
                secret = batch.StringGetAsync(keys.Secret);
            }

            var ids = batch.SetMembersAsync(keys.Instances);
            batch.Execute();
            var members = await ids.WaitAsync(timeout, _stopping.Token);
            if (secret is not null && (await secret.WaitAsync(timeout, _stopping.Token)) is { HasValue: true } shared)
            {
                Connection.UseSharedSecret(shared.ToString());
            }

            if (renewed is not null)
            {
                if (!await renewed.WaitAsync(timeout, _stopping.Token) && _hadLease)
                {
                    // The lease was gone: Redis restarted empty, or this instance missed beats long enough to be
                    // taken for dead. Either way its entries may be gone too.
                    Log.Republishing(_logger, Connection.InstanceId);
                    Publisher.RequestRepublish();
                }

                _hadLease = true;
            }

            var before = Connection.Members;
            var now = await ReadMembersAsync(database, members, timeout);
            Connection.Members = now;
            LogMembershipChanges(before, now);
            _heartbeatFailing = false;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            if (!_heartbeatFailing && !_stopping.IsCancellationRequested)
            {
                _heartbeatFailing = true;
                Log.HeartbeatFailed(_logger, ex.Message);
            }
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }
    }

    private async Task<IReadOnlyList<ClusterMember>> ReadMembersAsync(IDatabase database, RedisValue[] ids, TimeSpan timeout)
    {
        var batch = database.CreateBatch();
        var leases = new Task<RedisValue[]>[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            leases[i] = batch.HashGetAsync(Connection.Keys.Lease(ids[i].ToString()), ["url", "parked"]);
        }

        batch.Execute();
        await Task.WhenAll(leases).WaitAsync(timeout, _stopping.Token);
        var members = new List<ClusterMember>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i].ToString();
            var fields = leases[i].Result;
            if (fields[0].HasValue && Uri.TryCreate(fields[0].ToString(), UriKind.Absolute, out var url))
            {
                members.Add(new ClusterMember(id, url, fields[1].TryParse(out long parked) ? parked : 0, id == Connection.InstanceId));
            }
            else
            {
                // Its lease expired: the instance is gone (its entries are skipped on lookup, and dropped there).
                _ = database.SetRemoveAsync(Connection.Keys.Instances, id, CommandFlags.FireAndForget);
            }
        }

        members.Sort(static (a, b) => string.CompareOrdinal(a.Url.ToString(), b.Url.ToString()));
        return members;
    }

    private void LogMembershipChanges(IReadOnlyList<ClusterMember> before, IReadOnlyList<ClusterMember> now)
    {
        foreach (var member in now)
        {
            if (!member.IsSelf && !before.Any(m => m.Id == member.Id))
            {
                Log.InstanceJoined(_logger, member.Id, member.Url, now.Count);
            }
        }

        foreach (var member in before)
        {
            if (!member.IsSelf && !now.Any(m => m.Id == member.Id))
            {
                Log.InstanceLeft(_logger, member.Id, member.Url, now.Count);
            }
        }
    }

    private async Task WithdrawAsync()
    {
        Publisher.Stop();
        _heartbeatTimer?.Dispose();
        if (!Connection.IsConnected || Connection.Database is not { } database)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(Options.LeaseDuration / 2);
            var removed = await Publisher.WithdrawAsync(timeout.Token);
            var batch = database.CreateBatch();
            var lease = batch.KeyDeleteAsync(Connection.Keys.Lease(Connection.InstanceId));
            var listed = batch.SetRemoveAsync(Connection.Keys.Instances, Connection.InstanceId);
            batch.Execute();
            await Task.WhenAll(lease, listed).WaitAsync(timeout.Token);
            Connection.Members = [];
            Log.Withdrawn(_logger, Connection.InstanceId, removed);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            Log.WithdrawFailed(_logger, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ClusterInstanceUrl, Level = LogLevel.Information,
            Message = "Cluster: this instance is {InstanceId}, reached by the others at {InstanceUrl}.")]
        public static partial void InstanceUrl(ILogger logger, string instanceId, Uri instanceUrl);

        [LoggerMessage(EventId = EventIds.ClusterNoInstanceUrl, Level = LogLevel.Warning,
            Message = "Cluster: the server has no address to announce; set Firestarter:Cluster:InstanceUrl. This instance hands dispatches on but receives none.")]
        public static partial void NoInstanceUrl(ILogger logger);

        [LoggerMessage(EventId = EventIds.ClusterRepublishing, Level = LogLevel.Warning,
            Message = "Cluster: the lease of instance {InstanceId} had gone from Redis (Redis restarted, or beats were missed); writing its directory entries again.")]
        public static partial void Republishing(ILogger logger, string instanceId);

        [LoggerMessage(EventId = EventIds.ClusterDirectoryWriteFailed, Level = LogLevel.Warning,
            Message = "Cluster: the withdrawal could not be written ({Reason}); the lease expires the entries.")]
        public static partial void WithdrawFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = EventIds.ClusterHeartbeatFailed, Level = LogLevel.Warning,
            Message = "Cluster: the heartbeat failed ({Reason}); retrying.")]
        public static partial void HeartbeatFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = EventIds.ClusterInstanceJoined, Level = LogLevel.Information,
            Message = "Cluster: instance {InstanceId} at {InstanceUrl} joined; {Alive} instances alive.")]
        public static partial void InstanceJoined(ILogger logger, string instanceId, Uri instanceUrl, int alive);

        [LoggerMessage(EventId = EventIds.ClusterInstanceLeft, Level = LogLevel.Information,
            Message = "Cluster: instance {InstanceId} at {InstanceUrl} left (withdrew, or its lease lapsed); {Alive} instances alive.")]
        public static partial void InstanceLeft(ILogger logger, string instanceId, Uri instanceUrl, int alive);

        [LoggerMessage(EventId = EventIds.ClusterWithdrawn, Level = LogLevel.Information,
            Message = "Cluster: instance {InstanceId} withdrew its lease and {Entries} directory entries.")]
        public static partial void Withdrawn(ILogger logger, string instanceId, int entries);
    }
}
