using System.Globalization;
using System.Text;

namespace Firestarter.LoadTool;

/// <summary>
/// One match key of the reference benchmark's scheme (shared/bench/poll.lua and dispatch.lua): key k is deployment
/// <c>deployment_k</c>, version <c>20261126.(k%3)</c>, cpu 0.5 and memory 1 when k is odd, cpu 1 and memory 2 when even.
/// </summary>
internal sealed class MatchKey
{
    private MatchKey(int index)
    {
        Index = index;
        Deployment = "deployment_" + index.ToString(CultureInfo.InvariantCulture);
        Version = "20261126." + (index % 3).ToString(CultureInfo.InvariantCulture);
        var odd = index % 2 == 1;
        // As JavaScript prints the numbers, which is how a controller sends them in its headers.
        Cpu = odd ? "0.5" : "1";
        Memory = odd ? "1" : "2";
        CpuValue = odd ? 0.5 : 1;
        MemoryValue = odd ? 1 : 2;
        DeploymentUtf8 = Encoding.UTF8.GetBytes(Deployment);
        VersionUtf8 = Encoding.UTF8.GetBytes(Version);
    }

    public int Index { get; }

    public string Deployment { get; }

    public string Version { get; }

    public string Cpu { get; }

    public string Memory { get; }

    public double CpuValue { get; }

    public double MemoryValue { get; }

    public byte[] DeploymentUtf8 { get; }

    public byte[] VersionUtf8 { get; }

    public static MatchKey[] CreateAll(int count)
    {
        var keys = new MatchKey[count];
        for (var k = 0; k < count; k++)
        {
            keys[k] = new MatchKey(k);
        }

        return keys;
    }

    /// <summary>Does a delivered run carry this key?</summary>
    public bool Matches(in DeliveredRun run) =>
        run.Deployment.SequenceEqual(DeploymentUtf8)
        && run.Version.SequenceEqual(VersionUtf8)
        && run.Cpu == CpuValue
        && run.Memory == MemoryValue;
}

/// <summary>
/// Writes the body of <c>POST /warm-start</c> for key k and run number n: the reference benchmark's realistic
/// <c>dequeuedMessage</c> (dispatch.lua's <c>body(k, i)</c>), with run id and friendly id <c>prefix + n</c> and
/// snapshot ids <c>snap_n</c> / <c>snapshot_n</c>. The literal parts are encoded once per key; a body is then a few copies.
/// </summary>
internal sealed class DispatchBodies
{
    private const char SequenceMark = '\u0001';
    private const char RunIdMark = '\u0002';

    private readonly Segment[][] _segments;
    private readonly byte[] _prefix;

    public DispatchBodies(MatchKey[] keys, string runIdPrefix)
    {
        _prefix = Encoding.UTF8.GetBytes(runIdPrefix);
        _segments = new Segment[keys.Length][];
        var maxLiteral = 0;
        for (var k = 0; k < keys.Length; k++)
        {
            _segments[k] = Split(Template(keys[k]));
            var literal = 0;
            foreach (var segment in _segments[k])
            {
                literal += segment.Literal.Length;
            }

            maxLiteral = Math.Max(maxLiteral, literal);
        }

        // Two sequence numbers and two run ids, each at most 20 digits.
        MaxLength = maxLiteral + (2 * 20) + (2 * (_prefix.Length + 20));
    }

    /// <summary>Upper bound of a body's length in bytes.</summary>
    public int MaxLength { get; }

    /// <summary>The run id of run number n.</summary>
    public string RunId(long n) => Encoding.UTF8.GetString(_prefix) + n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the body of run n (key k) into destination (at least <see cref="MaxLength"/> long).</summary>
    public int Write(Span<byte> destination, int key, long n)
    {
        var written = 0;
        foreach (var segment in _segments[key])
        {
            segment.Literal.CopyTo(destination[written..]);
            written += segment.Literal.Length;
            if (segment.Then == RunIdMark)
            {
                _prefix.CopyTo(destination[written..]);
                written += _prefix.Length;
            }

            if (segment.Then != '\0')
            {
                n.TryFormat(destination[written..], out var digits, default, CultureInfo.InvariantCulture);
                written += digits;
            }
        }

        return written;
    }

    private static string Template(MatchKey key)
    {
        var k = key.Index.ToString(CultureInfo.InvariantCulture);
        const char I = SequenceMark;
        const char R = RunIdMark;
        return "{\"dequeuedMessage\":{\"version\":\"1\",\"snapshot\":{\"id\":\"snap_" + I + "\",\"friendlyId\":\"snapshot_" + I
            + "\",\"executionStatus\":\"PENDING_EXECUTING\",\"description\":\"Run was dequeued for execution\",\"createdAt\":\"2026-11-26T12:00:00.000Z\"},"
            + "\"dequeuedAt\":\"2026-11-26T12:00:00.000Z\",\"completedWaitpoints\":[],"
            + "\"backgroundWorker\":{\"id\":\"bw_" + k + "\",\"friendlyId\":\"worker_" + k + "\",\"version\":\"" + key.Version + "\"},"
            + "\"deployment\":{\"id\":\"dep_" + k + "\",\"friendlyId\":\"" + key.Deployment + "\",\"imagePlatform\":\"linux/amd64\"},"
            + "\"run\":{\"id\":\"" + R + "\",\"friendlyId\":\"" + R + "\",\"isTest\":false,\"isReplay\":false,"
            + "\"machine\":{\"name\":\"small-1x\",\"cpu\":" + key.Cpu + ",\"memory\":" + key.Memory + ",\"centsPerMs\":0.0001},"
            + "\"attemptNumber\":1,\"masterQueue\":\"main\",\"traceContext\":{\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}},"
            + "\"environment\":{\"id\":\"env_1\",\"type\":\"PRODUCTION\"},\"organization\":{\"id\":\"org_1\"},\"project\":{\"id\":\"proj_1\"},"
            + "\"image\":\"registry.example/proj:" + key.Version + "\"}}";
    }

    private static Segment[] Split(string template)
    {
        var segments = new List<Segment>();
        var start = 0;
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] is SequenceMark or RunIdMark)
            {
                segments.Add(new Segment(Encoding.UTF8.GetBytes(template[start..i]), template[i]));
                start = i + 1;
            }
        }

        segments.Add(new Segment(Encoding.UTF8.GetBytes(template[start..]), '\0'));
        return [.. segments];
    }

    /// <summary>A literal, then a placeholder: <see cref="SequenceMark"/>, <see cref="RunIdMark"/> or none.</summary>
    private readonly record struct Segment(byte[] Literal, char Then);
}
