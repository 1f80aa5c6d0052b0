namespace Firestarter.ColdStart;

/// <summary>What the broker does with a dispatch that no waiting controller can take.</summary>
public enum ColdStartMode
{
    /// <summary>Answer <c>{"didWarmStart":false}</c>: the supervisor cold-starts the run itself (the default).</summary>
    Respond,

    /// <summary>
    /// Let YARP forward the same dispatch, byte for byte, to the dispatch route's cluster (a cold-start backend) and
    /// relay its answer; guarded by a Polly pipeline so that a failing backend yields <c>{"didWarmStart":false}</c>.
    /// </summary>
    Forward,
}
