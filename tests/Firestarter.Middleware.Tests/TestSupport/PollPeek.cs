using Firestarter.Matching;

namespace Firestarter.Tests.TestSupport;

internal static class PollPeek
{
    /// <summary>
    /// Whether the poll's wait has been completed, looked at without consuming the wait: the poll is its own
    /// value-task source, and asking it for its status has no side effect.
    /// </summary>
#pragma warning disable CA2012 // The ValueTask is only asked whether it completed; nothing awaits or stores it.
    public static bool IsCompleted(ParkedPoll poll) => poll.WaitAsync().IsCompleted;
#pragma warning restore CA2012
}
