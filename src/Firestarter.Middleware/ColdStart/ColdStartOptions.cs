namespace Firestarter.ColdStart;

/// <summary>
/// The cold-start path: what a dispatch that finds no waiting controller gets, and how forwarding it is guarded.
/// Bound from <c>Firestarter:ColdStart</c>.
/// </summary>
public sealed class ColdStartOptions
{
    /// <summary>Respond with <c>didWarmStart:false</c>, or forward to the cold-start cluster. Default: <see cref="ColdStartMode.Respond"/>.</summary>
    public ColdStartMode Mode { get; set; } = ColdStartMode.Respond;

    /// <summary>
    /// The most a forwarded dispatch may take, all attempts included; past it the supervisor gets
    /// <c>{"didWarmStart":false}</c>. Default: 10 seconds.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Retries of a forward that provably never reached the backend (its connection was refused). A forward that may
    /// have reached it is never repeated. Default: 2.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 2;

    /// <summary>Delay before such a retry. Default: 100 milliseconds.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Share of failed forwards, within <see cref="SamplingDuration"/>, that opens the circuit. Default: 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Forwards needed within <see cref="SamplingDuration"/> before the circuit may open. Default: 10.</summary>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>The window over which failures are counted. Default: 30 seconds.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit answers <c>didWarmStart:false</c> at once before it tries again. Default: 15 seconds.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The largest backend answer relayed, in bytes; a larger one counts as a failed forward. Default: 64 KiB.</summary>
    public int MaxResponseBodySize { get; set; } = 64 * 1024;
}
