using System.Threading.RateLimiting;
using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Limits;

/// <summary>
/// The rate-limiter policies <see cref="RateLimitsOptions.ConnectPolicy"/> and <see cref="RateLimitsOptions.DispatchPolicy"/>:
/// a token bucket per client address, sized from <see cref="RateLimitsOptions"/>. A route opts in with
/// <c>"RateLimiterPolicy"</c>; the host must call <c>UseRateLimiter()</c>.
/// </summary>
/// <remarks>
/// Each policy answers its own rejections (a 429 problem with <c>Retry-After</c>), so the application's rate-limiter
/// settings (its rejection status code and answer) stay as the application set them.
/// </remarks>
internal sealed partial class ClientRateLimiting : IRateLimiterPolicy<string>
{
    private readonly ClientRateLimit _limit;
    private readonly ILogger _logger;

    private ClientRateLimiting(ClientRateLimit limit, ILogger logger)
    {
        _limit = limit;
        _logger = logger;
        OnRejected = (rejected, _) => RejectAsync(rejected, _logger);
    }

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; }

    public static void AddPolicies(RateLimiterOptions limiter, RateLimitsOptions options, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(ClientRateLimiting).FullName!);
        limiter.AddPolicy(RateLimitsOptions.ConnectPolicy, new ClientRateLimiting(options.Connect, logger));
        limiter.AddPolicy(RateLimitsOptions.DispatchPolicy, new ClientRateLimiting(options.Dispatch, logger));
    }

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        if (_limit.PermitsPerSecond <= 0)
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        var permits = _limit.PermitsPerSecond;
        var client = httpContext.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
        return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = permits,
            TokensPerPeriod = permits,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            // Refuse at once rather than hold requests: a queued /connect or dispatch only adds latency.
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static async ValueTask RejectAsync(OnRejectedContext rejected, ILogger logger)
    {
        var context = rejected.HttpContext;
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Problem.RetryAfterSeconds(retryAfter);
        Log.RateLimited(logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress);

        await new Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests from this client.",
            $"This client address sends more requests than Firestarter:RateLimits allows; retry after {seconds} s.")
            .WithRetryAfter(seconds).WriteAsync(context.Response);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.RateLimited, Level = LogLevel.Debug, Message = "{Method} {Path} from {RemoteAddress} refused with 429: rate limited.")]
        public static partial void RateLimited(ILogger logger, string method, PathString path, System.Net.IPAddress? remoteAddress);
    }
}
