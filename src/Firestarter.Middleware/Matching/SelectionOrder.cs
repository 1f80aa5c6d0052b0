namespace Firestarter.Matching;

/// <summary>
/// Which waiting controller a dispatch takes when several wait for the same match key.
/// </summary>
public enum SelectionOrder
{
    /// <summary>
    /// The most recently parked controller (the default). Its connection is the freshest, so it is the least
    /// likely to be given up by its client at the moment the run is written; surplus controllers age out.
    /// </summary>
    NewestFirst,

    /// <summary>The controller that has waited longest: fair, but more often close to its client's timeout.</summary>
    OldestFirst,
}
