namespace Firestarter.Matching;

/// <summary>
/// Told by the <see cref="WarmPool"/> when a key's waiting controllers go from none to some, or from some to none.
/// </summary>
/// <remarks>
/// Called under the key's bucket lock, so an implementation only notes the key and returns; it must not block or
/// call back into the pool. The pool has none when nobody needs to know (a single instance), so parking and
/// claiming then pay one null test.
/// </remarks>
internal interface IKeyAvailabilityObserver
{
    /// <param name="key">The key whose availability changed.</param>
    /// <param name="available">True when the key now has a waiting controller, false when it has none.</param>
    void KeyAvailabilityChanged(in MatchKey key, bool available);
}
