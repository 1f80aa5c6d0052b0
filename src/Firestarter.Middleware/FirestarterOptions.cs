using Firestarter.Admin;
using Firestarter.ColdStart;
using Firestarter.Limits;
using Firestarter.Matching;
using Firestarter.Security;

namespace Firestarter;

/// <summary>
/// Options of the warm-start broker, bound from the <c>Firestarter</c> configuration section.
/// </summary>
/// <remarks>
/// Validated when the host starts (<c>AddFirestarter</c>):
/// a bad value stops the host with a message that names the key.
/// </remarks>
public sealed class FirestarterOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Firestarter";

    /// <summary>
    /// Whether the broker offers warm starts. When false, <c>/connect</c> answers zero timeouts (Trigger.dev's
    /// controller then exits cleanly), polls are refused with 503 and every dispatch takes the cold-start path.
    /// Default: <see langword="true"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How long a controller holds one poll before it gives up and polls again; sent to controllers by
    /// <c>/connect</c> as <c>connectionTimeoutMs</c>. Default: 30 seconds.
    /// </summary>
    public TimeSpan ConnectionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a controller keeps polling in total without a run before it exits; sent by <c>/connect</c> as
    /// <c>keepaliveMs</c>. Must not be shorter than <see cref="ConnectionTimeout"/>. Default: 5 minutes.
    /// </summary>
    public TimeSpan Keepalive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The longest the broker holds a poll, for clients that never give up; such a poll then ends with 204 and the
    /// client polls again. Expiry is checked about once a second. Default: null, meaning twice
    /// <see cref="ConnectionTimeout"/>.
    /// </summary>
    public TimeSpan? MaxPollDuration { get; set; }

    /// <summary>
    /// The last stretch of a poll's life, before its client's deadline (<see cref="ConnectionTimeout"/> after it
    /// parked), in which it is not handed a run: a run written just as the client's timer aborts its request is
    /// acknowledged by the client's kernel and then dropped by the client. Such a poll stays parked until its client
    /// re-polls. Zero turns the guard off. Must be shorter than <see cref="ConnectionTimeout"/>.
    /// Default: null, meaning half of <see cref="ConnectionTimeout"/>, at most 1 second.
    /// </summary>
    public TimeSpan? PollGuardWindow { get; set; }

    /// <summary>
    /// How long a dispatch whose only matching polls are in their guard window waits for the next poll to park under
    /// its key (the controller's re-poll at its deadline) before it takes the cold-start path. Zero: no wait.
    /// Default: null, meaning twice the effective <see cref="PollGuardWindow"/>.
    /// </summary>
    public TimeSpan? RepollWait { get; set; }

    /// <summary>
    /// Which waiting controller a dispatch takes when several match. Default: <see cref="SelectionOrder.NewestFirst"/>.
    /// </summary>
    public SelectionOrder Selection { get; set; } = SelectionOrder.NewestFirst;

    /// <summary>The largest dispatch body accepted, in bytes; larger ones get 413. Default: 1 MiB.</summary>
    public long MaxDispatchBodySize { get; set; } = 1024 * 1024;

    /// <summary>The deepest JSON nesting accepted in a dispatch body; deeper ones get 400. Default: 64.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>
    /// Answer <c>didWarmStart:true</c> only once the run has left the process (handed to the kernel's socket), not
    /// merely once it sits in the server's output buffer, and only if the connection is still established then.
    /// Default: <see langword="true"/>.
    /// </summary>
    /// <remarks>
    /// The broker judges a handoff when the run's write completes; the write completes once the bytes are in the
    /// kernel when Kestrel's socket transport schedules inline (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>).
    /// That setting applies to every endpoint of the application (no handler may then block a transport thread), so the
    /// library does not change it: the host does, and src/ProxyHost turns it on while this option is true. In a host
    /// that leaves it off, a handoff is judged once the run sits in Kestrel's output buffer.
    /// </remarks>
    public bool ConfirmDelivery { get; set; } = true;

    /// <summary>Whether a warm start waits for its controller to start the run before answering <c>true</c>.</summary>
    public Confirmation.ConfirmationOptions Confirmation { get; set; } = new();

    /// <summary>What happens to a dispatch that finds no waiting controller.</summary>
    public ColdStartOptions ColdStart { get; set; } = new();

    /// <summary>Where and to whom the admin endpoints (health, status, metrics) answer.</summary>
    public OperationsOptions Operations { get; set; } = new();

    /// <summary>Who may park controllers and who may dispatch: deployment tokens and dispatch API keys.</summary>
    public SecurityOptions Security { get; set; } = new();

    /// <summary>How many controllers the broker holds, in total and per key.</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>Requests per second per client address on the connect and dispatch routes.</summary>
    public RateLimitsOptions RateLimits { get; set; } = new();

    /// <summary>Several instances sharing one warm pool through Redis (off unless a Redis is configured).</summary>
    public Cluster.ClusterOptions Cluster { get; set; } = new();

    /// <summary>The guard window in effect: <see cref="PollGuardWindow"/>, or half the connection timeout up to 1 second.</summary>
    internal TimeSpan EffectivePollGuardWindow =>
        PollGuardWindow ?? TimeSpan.FromTicks(Math.Min(ConnectionTimeout.Ticks / 2, TimeSpan.TicksPerSecond));

    /// <summary>
    /// The re-poll wait in effect: <see cref="RepollWait"/>, or twice the guard window; none without a guard window,
    /// since only a guarded poll makes a dispatch wait.
    /// </summary>
    internal TimeSpan EffectiveRepollWait =>
        EffectivePollGuardWindow > TimeSpan.Zero ? RepollWait ?? EffectivePollGuardWindow * 2 : TimeSpan.Zero;

    /// <summary>The server-side poll limit in effect: <see cref="MaxPollDuration"/> or twice the connection timeout.</summary>
    internal TimeSpan EffectiveMaxPollDuration => MaxPollDuration ?? ConnectionTimeout * 2;
}
