using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Firestarter.LoadTool;

/// <summary>
/// The per-process logs that make exactness checkable across processes. One line per event, <c>KIND RUN-ID</c>:
/// dispatch logs hold <c>hit</c>, <c>miss</c> and <c>error</c> lines (the broker's answer to each dispatched run),
/// received logs hold <c>recv</c> lines (one per reception; <c>misrouted</c> when it reached a controller of another
/// key). Lines starting with <c>#</c> are comments. Files are appended to, so use a fresh file per measurement.
/// </summary>
public static class RunLog
{
    internal const string Hit = "hit";
    internal const string Miss = "miss";
    internal const string Error = "error";
    internal const string Received = "recv";
    internal const string Misrouted = "misrouted";

    internal static async Task AppendAsync(string path, string header, Action<StreamWriter> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
        var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16) { NewLine = "\n" };
        await using (writer.ConfigureAwait(false))
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# firestarter-loadtool {header} pid={Environment.ProcessId} at={DateTimeOffset.UtcNow:O}"));
            write(writer);
            await writer.FlushAsync().ConfigureAwait(false);
        }
    }

    internal static void WriteLine(StreamWriter writer, string kind, string prefix, long n)
    {
        Span<char> digits = stackalloc char[20];
        n.TryFormat(digits, out var length, default, CultureInfo.InvariantCulture);
        writer.Write(kind);
        writer.Write(' ');
        writer.Write(prefix);
        writer.Write(digits[..length]);
        writer.Write('\n');
    }

    /// <summary>
    /// The comment line that carries a controller process's count of polls aborted with an answer pending
    /// (<see cref="LoadReport.PollsAbortedWithResponsePending"/>), so merge can tell the abort race from broker losses.
    /// </summary>
    internal static void WritePendingAborts(StreamWriter writer, long count) =>
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"{PendingAbortsComment}{count}\n"));

    private const string PendingAbortsComment = "# polls-aborted-with-response-pending=";

    internal static void WriteLine(StreamWriter writer, string kind, string runId)
    {
        writer.Write(kind);
        writer.Write(' ');
        writer.Write(runId);
        writer.Write('\n');
    }

    /// <summary>Reads dispatch and received logs (in any order, any mix) and checks exactness across all of them.</summary>
    public static MergeReport Merge(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var runs = new Dictionary<string, Entry>(StringComparer.Ordinal);
        long hits = 0, misses = 0, errors = 0, receptions = 0, misrouted = 0, malformed = 0, duplicateDispatches = 0, pendingAborts = 0;
        foreach (var file in files)
        {
            foreach (var line in File.ReadLines(file))
            {
                if (line.Length == 0 || line[0] == '#')
                {
                    if (line.StartsWith(PendingAbortsComment, StringComparison.Ordinal)
                        && long.TryParse(line.AsSpan(PendingAbortsComment.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var pending))
                    {
                        pendingAborts += pending;
                    }

                    continue;
                }

                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || space == line.Length - 1)
                {
                    malformed++;
                    continue;
                }

                var kind = line.AsSpan(0, space);
                ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(runs, line[(space + 1)..], out _);
                DispatchOutcome outcome;
                if (kind.SequenceEqual(Received) || kind.SequenceEqual(Misrouted))
                {
                    receptions++;
                    entry.Receptions++;
                    if (kind.SequenceEqual(Misrouted))
                    {
                        misrouted++;
                    }

                    continue;
                }
                else if (kind.SequenceEqual(Hit))
                {
                    hits++;
                    outcome = DispatchOutcome.Hit;
                }
                else if (kind.SequenceEqual(Miss))
                {
                    misses++;
                    outcome = DispatchOutcome.Miss;
                }
                else if (kind.SequenceEqual(Error))
                {
                    errors++;
                    outcome = DispatchOutcome.Error;
                }
                else
                {
                    malformed++;
                    continue;
                }

                if (entry.Outcome != DispatchOutcome.None)
                {
                    // The same run id dispatched twice: two processes shared a RunIdPrefix.
                    duplicateDispatches++;
                }

                entry.Outcome = outcome;
            }
        }

        long lost = 0, duplicated = 0, falseDelivered = 0, afterError = 0, unknown = 0;
        foreach (var entry in runs.Values)
        {
            if (entry.Receptions > 1)
            {
                duplicated++;
            }

            switch (entry.Outcome)
            {
                case DispatchOutcome.Hit when entry.Receptions == 0:
                    lost++;
                    break;
                case DispatchOutcome.Miss when entry.Receptions > 0:
                    falseDelivered++;
                    break;
                case DispatchOutcome.Error when entry.Receptions > 0:
                    afterError++;
                    break;
                case DispatchOutcome.None:
                    unknown++;
                    break;
            }
        }

        var sound = duplicated == 0 && falseDelivered == 0 && misrouted == 0 && unknown == 0
            && duplicateDispatches == 0 && malformed == 0 && hits + misses + errors > 0;
        return new MergeReport
        {
            Files = [.. files],
            Dispatches = hits + misses + errors,
            Hits = hits,
            Misses = misses,
            DispatchErrors = errors,
            Receptions = receptions,
            Lost = lost,
            Duplicated = duplicated,
            FalseDelivered = falseDelivered,
            Misrouted = misrouted,
            UnknownReceived = unknown,
            ReceivedAfterDispatchError = afterError,
            DuplicateDispatchIds = duplicateDispatches,
            MalformedLines = malformed,
            PollsAbortedWithResponsePending = pendingAborts,
            UnexplainedLost = Math.Max(0, lost - pendingAborts),
            ExactnessPassed = lost == 0 && sound,
            ExactnessPassedAllowingAbortRace = lost <= pendingAborts && sound,
        };
    }

    private struct Entry
    {
        public DispatchOutcome Outcome;
        public int Receptions;
    }
}

/// <summary>The outcome of <see cref="RunLog.Merge"/>: exactness across every process of one measurement.</summary>
public sealed class MergeReport
{
    public IReadOnlyList<string> Files { get; init; } = [];

    public long Dispatches { get; init; }

    public long Hits { get; init; }

    public long Misses { get; init; }

    public long DispatchErrors { get; init; }

    public long Receptions { get; init; }

    /// <summary>Runs answered true that no controller received.</summary>
    public long Lost { get; init; }

    /// <summary>Runs received more than once (counted once per run).</summary>
    public long Duplicated { get; init; }

    /// <summary>Runs answered false that a controller received.</summary>
    public long FalseDelivered { get; init; }

    public long Misrouted { get; init; }

    /// <summary>Received runs that no dispatch log mentions (a missing log, or a phantom run).</summary>
    public long UnknownReceived { get; init; }

    public long ReceivedAfterDispatchError { get; init; }

    /// <summary>Run ids dispatched more than once: processes shared a RunIdPrefix, so the check is meaningless.</summary>
    public long DuplicateDispatchIds { get; init; }

    public long MalformedLines { get; init; }

    /// <summary>Sum of the controller processes' polls aborted with an answer pending (from their received logs).</summary>
    public long PollsAbortedWithResponsePending { get; init; }

    /// <summary>Lost runs beyond what the client-side abort race can account for.</summary>
    public long UnexplainedLost { get; init; }

    /// <summary>Nothing lost, duplicated, false-delivered, misrouted or unknown, and the logs were sound.</summary>
    public bool ExactnessPassed { get; init; }

    /// <summary>As <see cref="ExactnessPassed"/>, but judging <see cref="UnexplainedLost"/> instead of <see cref="Lost"/>.</summary>
    public bool ExactnessPassedAllowingAbortRace { get; init; }
}
