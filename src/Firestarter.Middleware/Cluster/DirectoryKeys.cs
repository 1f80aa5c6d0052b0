using System.Globalization;
using Firestarter.Matching;
using StackExchange.Redis;

namespace Firestarter.Cluster;

/// <summary>The names of the cluster's Redis keys, all under one prefix.</summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>{prefix}:key:{match key}</c>: a set of the ids of the instances with a waiting controller for that key;</item>
/// <item><c>{prefix}:instance:{id}</c>: an instance's lease, a hash (<c>url</c>, <c>parked</c>) that expires unless renewed;</item>
/// <item><c>{prefix}:instances</c>: the set of instance ids, for listing the cluster (ids whose lease is gone are dropped);</item>
/// <item><c>{prefix}:secret</c>: the shared proof of a handed-on dispatch, unless one is configured;</item>
/// <item><c>{prefix}:confirmations</c>: the pub/sub channel on which an instance relays a run's start that it saw
/// but no dispatch of its own waits for.</item>
/// </list>
/// </remarks>
internal sealed class DirectoryKeys
{
    private readonly string _keyPrefix;
    private readonly string _instancePrefix;

    public DirectoryKeys(string prefix)
    {
        _keyPrefix = prefix + ":key:";
        _instancePrefix = prefix + ":instance:";
        Instances = prefix + ":instances";
        Secret = prefix + ":secret";
        Confirmations = RedisChannel.Literal(prefix + ":confirmations");
    }

    public RedisChannel Confirmations { get; }

    public RedisKey Instances { get; }

    public RedisKey Secret { get; }

    public RedisKey Lease(string instanceId) => _instancePrefix + instanceId;

    /// <summary>
    /// The directory entry of <paramref name="key"/>. Deployment and version are length-prefixed (they are the
    /// client's text), sizes are written in their shortest round-trip form, so equal keys have one name.
    /// </summary>
    public RedisKey Entry(in MatchKey key) => string.Create(CultureInfo.InvariantCulture,
        $"{_keyPrefix}{key.Deployment.Length}:{key.Deployment}:{key.Version.Length}:{key.Version}:{key.Cpu:R}:{key.Memory:R}");
}
