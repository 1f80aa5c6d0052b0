using Firestarter.Matching;
using StackExchange.Redis;

namespace Firestarter.Cluster;

/// <summary>Writes this instance's directory entries to the cluster's Redis, pipelined in one round trip.</summary>
internal sealed class RedisDirectoryStore : IDirectoryStore
{
    private readonly ClusterConnection _connection;

    public RedisDirectoryStore(ClusterConnection connection) => _connection = connection;

    public bool IsAvailable => _connection.IsConnected;

    public async Task WriteAsync(IReadOnlyList<MatchKey> added, IReadOnlyList<MatchKey> removed, CancellationToken cancellationToken)
    {
        if (!_connection.IsConnected || _connection.Database is not { } database)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "The cluster's Redis is not connected.", null, CommandStatus.WaitingToBeSent);
        }

        RedisValue self = _connection.InstanceId;
        var keys = _connection.Keys;
        var batch = database.CreateBatch();
        var writes = new Task[added.Count + removed.Count];
        var i = 0;
        foreach (var key in added)
        {
            writes[i++] = batch.SetAddAsync(keys.Entry(key), self);
        }

        foreach (var key in removed)
        {
            writes[i++] = batch.SetRemoveAsync(keys.Entry(key), self);
        }

        batch.Execute();
        await Task.WhenAll(writes).WaitAsync(_connection.Options.LookupTimeout * 4, cancellationToken);
    }
}
