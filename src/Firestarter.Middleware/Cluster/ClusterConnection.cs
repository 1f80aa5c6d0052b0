using System.Security.Cryptography;
using Firestarter.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Firestarter.Cluster;

/// <summary>One instance of the cluster as the last heartbeat saw it.</summary>
/// <param name="Id">The instance's id, new for every process start.</param>
/// <param name="Url">How the other instances reach it.</param>
/// <param name="Parked">Controllers waiting on it at its last heartbeat.</param>
/// <param name="IsSelf">Whether it is this instance.</param>
internal sealed record ClusterMember(string Id, Uri Url, long Parked, bool IsSelf);

/// <summary>
/// This instance's place in the cluster: its id and URL, the connection to the cluster's Redis, the other live
/// instances as the last heartbeat saw them, and the shared proof of a handed-on dispatch.
/// </summary>
/// <remarks>
/// The one owner of the Redis connection: the directory, the heartbeat and the hand-on use it, and so may anything
/// else that needs the cluster's Redis (<see cref="Database"/>, <see cref="Subscriber"/>). Registered only when
/// clustering is on. Connecting never blocks the host's start and never fails it: the client reconnects by itself,
/// and until it is connected every instance simply works alone.
/// </remarks>
internal sealed partial class ClusterConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _redisOptions;
    private readonly string _redisDisplay;
    private readonly ILogger _logger;
    private ConnectionMultiplexer? _multiplexer;
    private IReadOnlyList<ClusterMember> _members = [];
    private ProofKey? _proof;
    private int _connected = -1;

    public ClusterConnection(IOptions<ClusterOptions> options, ILogger<ClusterConnection> logger)
    {
        Options = options.Value;
        _logger = logger;
        Keys = new DirectoryKeys(Options.KeyPrefix);
        InstanceId = Guid.NewGuid().ToString("N");
        _redisOptions = ConfigurationOptions.Parse(Options.Redis!);
        // Redis down must never hold up a dispatch or the host: no failing start, commands fail at once while
        // disconnected (rather than queue), and the client keeps reconnecting in the background.
        _redisOptions.AbortOnConnectFail = false;
        _redisOptions.BacklogPolicy = BacklogPolicy.FailFast;
        // Back within a second of a Redis restart rather than the client's default of several.
        _redisOptions.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 250, maxDeltaBackOffMilliseconds: 5000);
        _redisOptions.ClientName ??= "firestarter-" + InstanceId[..8];
        _redisDisplay = _redisOptions.ToString(includePassword: false);
        if (Options.Secret is { } secret)
        {
            _proof = new ProofKey(secret);
        }
    }

    public ClusterOptions Options { get; }

    public DirectoryKeys Keys { get; }

    /// <summary>This instance's id: a new GUID per process, so a crashed instance's entries die with its lease.</summary>
    public string InstanceId { get; }

    /// <summary>How the other instances reach this one; null until the server has bound its addresses.</summary>
    public Uri? InstanceUrl { get; set; }

    /// <summary>Whether Redis is connected right now.</summary>
    public bool IsConnected => _multiplexer?.IsConnected ?? false;

    /// <summary>The cluster's Redis database, or null before the first connection attempt.</summary>
    public IDatabase? Database => _multiplexer?.GetDatabase();

    /// <summary>The cluster's Redis pub/sub, or null before the first connection attempt.</summary>
    public ISubscriber? Subscriber => _multiplexer?.GetSubscriber();

    /// <summary>The live instances at the last heartbeat, this one included.</summary>
    public IReadOnlyList<ClusterMember> Members
    {
        get => Volatile.Read(ref _members);
        set => Volatile.Write(ref _members, value);
    }

    /// <summary>The proof this instance sends with a hand-on, or null while it is not known yet.</summary>
    public string? Proof => Volatile.Read(ref _proof)?.Secret;

    /// <summary>Raised when the connection comes back after a loss: Redis may have restarted empty.</summary>
    public event Action? Restored;

    /// <summary>Raised each time Redis becomes reachable: the first connection and every one after a loss.</summary>
    public event Action? Up;

    /// <summary>Whether <paramref name="presented"/> is this cluster's proof, compared in constant time.</summary>
    public bool IsValidProof(string? presented) =>
        presented is not null && Volatile.Read(ref _proof) is { } proof && proof.Keys.Contains(presented);

    /// <summary>Sets the shared proof read from Redis (a configured one never changes).</summary>
    public void UseSharedSecret(string secret)
    {
        if (Options.Secret is null && Volatile.Read(ref _proof)?.Secret != secret)
        {
            Volatile.Write(ref _proof, new ProofKey(secret));
        }
    }

    /// <summary>A new random secret, offered to Redis when none is stored yet.</summary>
    public static string NewSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Starts connecting; returns once the first attempt ended, connected or not.</summary>
    public async Task ConnectAsync()
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(_redisOptions);
        multiplexer.ConnectionFailed += (_, e) => Changed(e.ConnectionType, e.FailureType.ToString());
        multiplexer.ConnectionRestored += (_, e) => Changed(e.ConnectionType, null);
        _multiplexer = multiplexer;
        Changed(ConnectionType.Interactive, multiplexer.IsConnected ? null : "not reachable");
    }

    private void Changed(ConnectionType type, string? failure)
    {
        if (type != ConnectionType.Interactive)
        {
            return;
        }

        var connected = failure is null ? 1 : 0;
        var before = Interlocked.Exchange(ref _connected, connected);
        if (before == connected)
        {
            return;
        }

        if (connected == 1)
        {
            Log.Connected(_logger, _redisDisplay, InstanceId);
            Up?.Invoke();
            if (before == 0)
            {
                Restored?.Invoke();
            }
        }
        else
        {
            Log.ConnectionLost(_logger, _redisDisplay, failure!);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false);
            await multiplexer.DisposeAsync();
        }
    }

    private sealed class ProofKey(string secret)
    {
        public string Secret { get; } = secret;

        public ApiKeySet Keys { get; } = new([secret]);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = Diagnostics.EventIds.ClusterConnected, Level = LogLevel.Information,
            Message = "Cluster: connected to Redis {Redis} as instance {InstanceId}.")]
        public static partial void Connected(ILogger logger, string redis, string instanceId);

        [LoggerMessage(EventId = Diagnostics.EventIds.ClusterConnectionLost, Level = LogLevel.Warning,
            Message = "Cluster: Redis {Redis} is not reachable ({Failure}); matching only local controllers until it is back.")]
        public static partial void ConnectionLost(ILogger logger, string redis, string failure);
    }
}
