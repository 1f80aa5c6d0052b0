namespace Firestarter.Limits;

/// <summary>How many controllers the broker holds (<c>Firestarter:Limits</c>).</summary>
public sealed class LimitsOptions
{
    /// <summary>
    /// The most controllers parked at once; a poll beyond it gets 503 with <c>Retry-After</c>, which Trigger.dev's
    /// controller takes as "exit cleanly". 0 means no limit. Default: 0.
    /// </summary>
    public int MaxParked { get; set; }

    /// <summary>The most controllers parked at once under one match key, answered like <see cref="MaxParked"/>. 0 means no limit. Default: 0.</summary>
    public int MaxParkedPerKey { get; set; }

    /// <summary>The <c>Retry-After</c> sent with a 503 or 429 answer of a limit. Default: 10 seconds.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Requests per second per client address on the connect and dispatch routes (<c>Firestarter:RateLimits</c>),
/// applied by ASP.NET Core's rate limiter through the routes' <c>RateLimiterPolicy</c>.
/// </summary>
public sealed class RateLimitsOptions
{
    /// <summary>The policy name to put on the connect route's <c>RateLimiterPolicy</c>.</summary>
    public const string ConnectPolicy = "firestarter-connect";

    /// <summary>The policy name to put on the dispatch route's <c>RateLimiterPolicy</c>.</summary>
    public const string DispatchPolicy = "firestarter-dispatch";

    /// <summary>The limit of <c>GET /connect</c> per client address.</summary>
    public ClientRateLimit Connect { get; set; } = new();

    /// <summary>The limit of <c>POST /warm-start</c> per client address.</summary>
    public ClientRateLimit Dispatch { get; set; } = new();
}

/// <summary>A token bucket per client address.</summary>
public sealed class ClientRateLimit
{
    /// <summary>Requests per second a client address may send (also the burst it may send at once). 0 means no limit. Default: 0.</summary>
    public int PermitsPerSecond { get; set; }
}
