namespace Firestarter.Cluster;

/// <summary>
/// Options of the cluster (<c>Firestarter:Cluster</c>): several broker instances sharing one warm pool through a
/// directory in Redis. With <see cref="Redis"/> empty (the default) the broker is a single instance and none of
/// this runs.
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string, e.g. <c>redis:6379,password=…,ssl=true</c>. Empty (the default):
    /// no cluster, the broker matches only the controllers parked on itself.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// How the other instances reach this one, e.g. <c>http://10.0.3.7:8080</c> (in Kubernetes: the pod IP from an
    /// environment variable). Default: the first address the server listens on, known once it has bound; a
    /// wildcard host (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) is replaced by the machine's host name.
    /// </summary>
    public string? InstanceUrl { get; set; }

    /// <summary>Prefix of every Redis key, so that two clusters can share one Redis. Default: <c>firestarter</c>.</summary>
    public string KeyPrefix { get; set; } = "firestarter";

    /// <summary>
    /// The proof that a handed-on dispatch comes from this cluster. Default: null, meaning a random secret that the
    /// first instance stores in Redis and the others read from there (anyone who can read the Redis is trusted).
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>How often an instance renews its lease and reads the other instances' state. Default: 1 second.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an instance's lease lives without a heartbeat: an instance that crashed stops receiving dispatches
    /// within this time. At least twice <see cref="HeartbeatInterval"/>. Default: 5 seconds.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the keys whose controllers came or went are written to Redis, in one pipelined batch. A key that
    /// empties and fills again within one interval costs no write. Default: 50 milliseconds.
    /// </summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The longest a dispatch waits for Redis to name the instances holding its key; then it takes the fallback.
    /// Default: 250 milliseconds.
    /// </summary>
    public TimeSpan LookupTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The longest a dispatch waits for another instance's answer, on top of the time that instance may hold it
    /// by design (its wait for a controller's re-poll, <c>Firestarter:RepollWait</c>, and, with confirmation on, for
    /// the run's start, <c>Firestarter:Confirmation:Timeout</c>). After that the run's fate is unknown and the
    /// dispatch takes the fallback, counted as <c>unknown</c>. Default: 2 seconds.
    /// </summary>
    public TimeSpan HandOnTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long another instance may hold a handed-on dispatch by design; derived from the root options.</summary>
    internal TimeSpan AnswerHold { get; set; }

    /// <summary>How many other instances a dispatch that missed locally is offered to, at most. Default: 2.</summary>
    public int MaxHandOns { get; set; } = 2;

    /// <summary>Whether clustering is on (a Redis is configured).</summary>
    internal bool IsEnabled => !string.IsNullOrWhiteSpace(Redis);
}
