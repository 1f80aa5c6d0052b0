using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Cluster;

/// <summary>
/// The cluster's parts when clustering is on (<see cref="ClusterOptions.Redis"/> set), else nulls: the other
/// components take the parts from here and skip every cluster step on a null, so a single instance creates no
/// Redis connection, no timer and no client, and its request paths pay one null test.
/// </summary>
internal sealed class ClusterFeature
{
    public ClusterFeature(IOptions<ClusterOptions> options, IServiceProvider services)
    {
        if (!options.Value.IsEnabled)
        {
            return;
        }

        Connection = services.GetRequiredService<ClusterConnection>();
        Publisher = services.GetRequiredService<DirectoryPublisher>();
        Dispatch = services.GetRequiredService<ClusterDispatch>();
        Metrics = services.GetRequiredService<ClusterMetrics>();
        Traffic = services.GetRequiredService<ClusterTraffic>();
    }

    /// <summary>The connection to the cluster's Redis (also for other components that need the cluster's Redis).</summary>
    public ClusterConnection? Connection { get; }

    /// <summary>The pool's observer that keeps the directory in step.</summary>
    public DirectoryPublisher? Publisher { get; }

    /// <summary>Hands dispatches on and checks handed-on ones.</summary>
    public ClusterDispatch? Dispatch { get; }

    public ClusterMetrics? Metrics { get; }

    public ClusterTraffic? Traffic { get; }
}

/// <summary>Registers the cluster's services; they are created only when clustering is on (<see cref="ClusterFeature"/>).</summary>
internal static class ClusterServiceCollectionExtensions
{
    public static IServiceCollection AddFirestarterCluster(this IServiceCollection services)
    {
        services.AddSingleton<ClusterFeature>();
        services.AddSingleton<ClusterConnection>();
        services.AddSingleton<ClusterMetrics>();
        services.AddSingleton<ClusterTraffic>();
        services.AddSingleton<RedisDirectoryStore>();
        services.AddSingleton<ClusterDispatch>();
        // The pool tells the publisher of its keys, and the publisher reads the pool's state at flush time: resolved
        // lazily on both sides, so neither needs the other to exist first.
        services.AddSingleton(sp =>
        {
            var pool = new Lazy<Matching.WarmPool>(sp.GetRequiredService<Matching.WarmPool>);
            return new DirectoryPublisher(
                sp.GetRequiredService<RedisDirectoryStore>(),
                key => pool.Value.HasWaiting(key),
                () => pool.Value.CountByKey().Select(pair => pair.Key),
                sp.GetRequiredService<ClusterMetrics>(),
                sp.GetRequiredService<ILogger<DirectoryPublisher>>());
        });
        services.AddHostedService<ClusterService>();
        services.AddHostedService<ConfirmationRelay>();
        return services;
    }
}
