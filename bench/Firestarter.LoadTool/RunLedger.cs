namespace Firestarter.LoadTool;

/// <summary>How the broker answered the dispatch of a run.</summary>
internal enum DispatchOutcome : byte
{
    /// <summary>Not answered (yet).</summary>
    None = 0,

    /// <summary><c>{"didWarmStart":true}</c>: exactly one controller must receive the run.</summary>
    Hit = 1,

    /// <summary><c>{"didWarmStart":false}</c>: no controller may receive the run.</summary>
    Miss = 2,

    /// <summary>Non-2xx, unreadable answer, transport error or timeout: delivery is unknown.</summary>
    Error = 3,
}

/// <summary>
/// Every run this process dispatched, indexed by its sequence number: the broker's answer and how many times the
/// process's controllers received it. Lock-free on the hot paths; grows in chunks of 65,536 runs (5 bytes a run).
/// </summary>
internal sealed class RunLedger
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;

    private readonly Lock _growLock = new();
    private Chunk?[] _chunks = new Chunk?[64];
    private long _issued;
    private long _distinctReceived;

    /// <summary>Highest sequence number handed out (numbers start at 1).</summary>
    public long Issued => Volatile.Read(ref _issued);

    /// <summary>Runs received at least once.</summary>
    public long DistinctReceived => Volatile.Read(ref _distinctReceived);

    /// <summary>Hands out the next sequence number, with room to record it.</summary>
    public long Next()
    {
        var n = Interlocked.Increment(ref _issued);
        var index = n >> ChunkBits;
        var chunks = Volatile.Read(ref _chunks);
        if (index >= chunks.Length || chunks[index] is null)
        {
            Grow(index);
        }

        return n;
    }

    public void SetOutcome(long n, DispatchOutcome outcome) => ChunkOf(n)!.Outcomes[n & ChunkMask] = outcome;

    /// <summary>Counts one reception of run n; false when n was never handed out (a run this process did not dispatch).</summary>
    public bool TryReceive(long n, bool misrouted)
    {
        if (n < 1 || n > Issued || ChunkOf(n) is not { } chunk)
        {
            return false;
        }

        var slot = (int)(n & ChunkMask);
        if (Interlocked.Increment(ref chunk.Receptions[slot]) == 1)
        {
            Interlocked.Increment(ref _distinctReceived);
        }

        if (misrouted)
        {
            chunk.Misrouted[slot] = true;
        }

        return true;
    }

    /// <summary>Reads run n back (call after every dispatcher and controller has stopped).</summary>
    public (DispatchOutcome Outcome, int Receptions, bool Misrouted) Get(long n)
    {
        var chunk = ChunkOf(n);
        if (chunk is null)
        {
            return default;
        }

        var slot = (int)(n & ChunkMask);
        return (chunk.Outcomes[slot], Volatile.Read(ref chunk.Receptions[slot]), chunk.Misrouted[slot]);
    }

    private Chunk? ChunkOf(long n)
    {
        var index = n >> ChunkBits;
        var chunks = Volatile.Read(ref _chunks);
        return index < chunks.Length ? chunks[index] : null;
    }

    private void Grow(long index)
    {
        lock (_growLock)
        {
            var chunks = _chunks;
            if (index >= chunks.Length)
            {
                var bigger = new Chunk?[Math.Max(chunks.Length * 2, (int)index + 1)];
                Array.Copy(chunks, bigger, chunks.Length);
                chunks = bigger;
            }

            chunks[index] ??= new Chunk();
            Volatile.Write(ref _chunks, chunks);
        }
    }

    private sealed class Chunk
    {
        public readonly DispatchOutcome[] Outcomes = new DispatchOutcome[ChunkSize];
        public readonly int[] Receptions = new int[ChunkSize];
        public readonly bool[] Misrouted = new bool[ChunkSize];
    }
}
