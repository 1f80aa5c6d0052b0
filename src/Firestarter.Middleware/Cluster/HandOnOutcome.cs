namespace Firestarter.Cluster;

/// <summary>How the hand-on of a dispatch that missed locally ended.</summary>
internal enum HandOnOutcome
{
    /// <summary>Another instance wrote the run to one of its controllers: the dispatch answers true.</summary>
    Warm,

    /// <summary>The instances tried had no controller for the run, or refused it before matching: the fallback.</summary>
    Miss,

    /// <summary>
    /// An instance received the run and its answer was lost (timeout, connection lost, server error): the run may sit
    /// with one of its controllers or not, so no other instance is tried and the dispatch takes the fallback.
    /// </summary>
    Unknown,

    /// <summary>The directory lists no other live instance with a controller for the key.</summary>
    NoCandidate,

    /// <summary>Redis was not connected or did not answer in time: the fallback, as a single instance.</summary>
    Unavailable,
}

/// <summary>How a handed-on dispatch this instance received was answered.</summary>
internal enum HopOutcome
{
    /// <summary>Written to a local controller: answered true.</summary>
    Warm,

    /// <summary>No local controller took it: answered false.</summary>
    Miss,

    /// <summary>Refused: no valid dispatch key, or no valid proof that it comes from the cluster.</summary>
    Refused,
}

/// <summary>The metric tag values of the cluster's outcomes, spelled once.</summary>
internal static class ClusterOutcomeNames
{
    public static readonly string[] OfHandOn = ["warm", "miss", "unknown", "no_candidate", "unavailable"];

    public static readonly string[] OfHop = ["warm", "miss", "refused"];
}
