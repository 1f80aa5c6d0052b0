namespace Firestarter.Confirmation;

/// <summary>
/// A run at one of its snapshots, by the friendly ids the platform puts in the dequeued message
/// (<c>run.friendlyId</c>, <c>snapshot.friendlyId</c>) and the controller puts in its <c>attempts/start</c> path.
/// </summary>
/// <remarks>Compared ordinally on both ids: a confirmation releases a dispatch only for exactly its pair.</remarks>
internal readonly record struct RunAttempt(string RunId, string SnapshotId)
{
    public override string ToString() => $"{RunId}/{SnapshotId}";
}
