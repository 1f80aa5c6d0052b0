using Firestarter.Cluster;
using Firestarter.Matching;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>
/// A real redis-server of its own and several in-process brokers (real Kestrel on loopback) that share it as one
/// cluster, with short cluster timings so that a test sees leases lapse and directories settle within a second.
/// </summary>
public sealed class BrokerCluster : IAsyncDisposable
{
    /// <summary>The cluster's timings in tests: beats every 200 ms, a lease of one second, flushes every 20 ms.</summary>
    public static readonly Dictionary<string, string?> FastTimings = new()
    {
        ["Firestarter:Cluster:HeartbeatInterval"] = "00:00:00.200",
        ["Firestarter:Cluster:LeaseDuration"] = "00:00:01",
        ["Firestarter:Cluster:PublishInterval"] = "00:00:00.020",
    };

    private BrokerCluster(RedisServer redis, List<BrokerFactory> brokers, ConnectionMultiplexer inspector)
    {
        Redis = redis;
        Brokers = brokers;
        Inspector = inspector;
    }

    public RedisServer Redis { get; }

    public List<BrokerFactory> Brokers { get; }

    /// <summary>The test's own connection to the cluster's Redis, to look at the directory.</summary>
    public ConnectionMultiplexer Inspector { get; }

    public IDatabase Database => Inspector.GetDatabase();

    /// <summary>The cluster's settings for a broker (also for one started as a process).</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(FastTimings) { ["Firestarter:Cluster:Redis"] = Redis.Configuration };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Starts a Redis and <paramref name="instances"/> brokers, and returns once each sees all of them alive.</summary>
    public static async Task<BrokerCluster> StartAsync(int instances, IDictionary<string, string?>? settings = null)
    {
        var redis = await RedisServer.StartAsync();
        var inspector = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { redis.Configuration },
            AbortOnConnectFail = false,
            AllowAdmin = true,
        });
        var cluster = new BrokerCluster(redis, [], inspector);
        for (var i = 0; i < instances; i++)
        {
            var broker = new BrokerFactory(cluster.Settings(settings));
            broker.Start();
            cluster.Brokers.Add(broker);
        }

        await cluster.WaitUntilEachSeesAsync(instances);
        return cluster;
    }

    /// <summary>Waits until every in-process broker's last heartbeat saw <paramref name="alive"/> live instances.</summary>
    public Task WaitUntilEachSeesAsync(int alive) =>
        WarmStart.EventuallyAsync(() => Brokers.All(b => Connection(b).Members.Count == alive), $"each broker sees {alive} live instances");

    /// <summary>Waits until every broker's directory writes are done (nothing pending, and the published count is what it holds).</summary>
    public Task WaitUntilPublishedAsync() =>
        WarmStart.EventuallyAsync(() => Brokers.All(b =>
            Feature(b).Publisher!.PendingCount == 0 && Feature(b).Publisher!.PublishedCount == b.Pool.CountByKey().Count()), "every directory is written");

    /// <summary>The instance ids the directory lists for a key.</summary>
    internal async Task<HashSet<string>> ListedAsync(MatchKey key, BrokerFactory anyBroker) =>
        [.. (await Database.SetMembersAsync(Connection(anyBroker).Keys.Entry(key))).Select(v => v.ToString())];

    internal static ClusterFeature Feature(BrokerFactory broker) => broker.Services.GetRequiredService<ClusterFeature>();

    internal static ClusterConnection Connection(BrokerFactory broker) => Feature(broker).Connection!;

    public async ValueTask DisposeAsync()
    {
        foreach (var broker in Brokers)
        {
            await broker.DisposeAsync();
        }

        await Inspector.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
