using Firestarter.Matching;

namespace Firestarter.Cluster;

/// <summary>Where <see cref="DirectoryPublisher"/> writes this instance's keys (Redis, or a fake in tests).</summary>
internal interface IDirectoryStore
{
    /// <summary>Whether a write can be tried now (Redis is connected).</summary>
    bool IsAvailable { get; }

    /// <summary>
    /// Adds this instance to the entries of <paramref name="added"/> and removes it from those of
    /// <paramref name="removed"/>, in one round trip. Throws when the store cannot be reached or does not answer in
    /// time; the writes may then have happened or not.
    /// </summary>
    Task WriteAsync(IReadOnlyList<MatchKey> added, IReadOnlyList<MatchKey> removed, CancellationToken cancellationToken);
}
