using System.Text;
using Firestarter.Matching;

namespace Firestarter.Protocol;

/// <summary>
/// What a dispatch body yields: the run's match key and where things sit in the body, so that nothing is copied
/// or decoded that the dispatch does not need.
/// </summary>
internal readonly struct DispatchMessage
{
    public DispatchMessage(MatchKey key, Range message, Range runId)
    {
        Key = key;
        Message = message;
        RunId = runId;
    }

    /// <summary>The run's match key.</summary>
    public MatchKey Key { get; }

    /// <summary>Where the <c>dequeuedMessage</c> value sits in the body: exactly the bytes the supervisor sent.</summary>
    public Range Message { get; }

    /// <summary>Where the raw (still JSON-escaped) run id string sits in the body; empty when the run has none.</summary>
    public Range RunId { get; }

    /// <summary>The run id as text, for logs only: decoding it is left until a log line actually needs it.</summary>
    public string RunIdText(ReadOnlySpan<byte> body)
    {
        var raw = body[RunId];
        return raw.IsEmpty ? "(none)" : Encoding.UTF8.GetString(raw);
    }
}
