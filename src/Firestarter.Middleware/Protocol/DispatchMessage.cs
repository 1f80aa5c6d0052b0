using System.Text;
using Firestarter.Matching;

namespace Firestarter.Protocol;

/// <summary>
/// What a dispatch body yields: the run's match key and where things sit in the body, so that nothing is copied
/// or decoded that the dispatch does not need.
/// </summary>
internal readonly struct DispatchMessage
{
    public DispatchMessage(MatchKey key, Range message, Range runId, Range runFriendlyId = default, Range snapshotFriendlyId = default)
    {
        Key = key;
        Message = message;
        RunId = runId;
        RunFriendlyId = runFriendlyId;
        SnapshotFriendlyId = snapshotFriendlyId;
    }

    /// <summary>The run's match key.</summary>
    public MatchKey Key { get; }

    /// <summary>Where the <c>dequeuedMessage</c> value sits in the body: exactly the bytes the supervisor sent.</summary>
    public Range Message { get; }

    /// <summary>Where the raw (still JSON-escaped) run id string sits in the body; empty when the run has none.</summary>
    public Range RunId { get; }

    /// <summary>Where the raw <c>run.friendlyId</c> string sits in the body; empty when the run has none.</summary>
    public Range RunFriendlyId { get; }

    /// <summary>Where the raw <c>snapshot.friendlyId</c> string sits in the body; empty when the message has none.</summary>
    public Range SnapshotFriendlyId { get; }

    /// <summary>Whether the message names both the run and the snapshot that a controller's <c>attempts/start</c> names.</summary>
    public bool HasAttemptIds => !IsEmpty(RunFriendlyId) && !IsEmpty(SnapshotFriendlyId);

    /// <summary>The JSON string at <paramref name="range"/> (from this reader's ranges), unescaped.</summary>
    public static string Text(ReadOnlySpan<byte> body, Range range)
    {
        var raw = body[range];
        if (raw.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(raw);
        }

        // The range excludes the quotes; read the whole token again to unescape it.
        var (start, length) = range.GetOffsetAndLength(body.Length);
        var reader = new System.Text.Json.Utf8JsonReader(body.Slice(start - 1, length + 2));
        reader.Read();
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate: no controller can name it back, so the raw text (which matches nothing) will do.
            return Encoding.UTF8.GetString(raw);
        }
    }

    /// <summary>Whether a range from the reader covers no text (the field was absent or an empty string).</summary>
    internal static bool IsEmpty(Range range) => range.End.Value <= range.Start.Value;

    /// <summary>The run id as text, for logs only: decoding it is left until a log line actually needs it.</summary>
    public string RunIdText(ReadOnlySpan<byte> body)
    {
        var raw = body[RunId];
        return raw.IsEmpty ? "(none)" : Encoding.UTF8.GetString(raw);
    }
}
