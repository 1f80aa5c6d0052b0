using System.Globalization;
using System.Threading.RateLimiting;
using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Firestarter.Limits;

/// <summary>
/// Registers the rate-limiter policies <see cref="RateLimitsOptions.ConnectPolicy"/> and
/// <see cref="RateLimitsOptions.DispatchPolicy"/> with ASP.NET Core's rate limiter: a token bucket per client
/// address, sized from <see cref="RateLimitsOptions"/>. A route opts in with <c>"RateLimiterPolicy"</c>; the host
/// must call <c>UseRateLimiter()</c>.
/// </summary>
internal static partial class ClientRateLimiting
{
    public static void AddPolicies(RateLimiterOptions limiter, RateLimitsOptions options, ILoggerFactory loggers)
    {
        limiter.AddPolicy(RateLimitsOptions.ConnectPolicy, context => PerClient(context, options.Connect));
        limiter.AddPolicy(RateLimitsOptions.DispatchPolicy, context => PerClient(context, options.Dispatch));
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        // Only if the host has not chosen its own answer for its own policies.
        if (limiter.OnRejected is null)
        {
            var logger = loggers.CreateLogger(typeof(ClientRateLimiting).FullName!);
            limiter.OnRejected = (rejected, _) => RejectAsync(rejected, logger);
        }
    }

    private static RateLimitPartition<string> PerClient(HttpContext context, ClientRateLimit limit)
    {
        if (limit.PermitsPerSecond <= 0)
        {
            return RateLimitPartition.GetNoLimiter(string.Empty);
        }

        var client = context.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
        return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.PermitsPerSecond,
            TokensPerPeriod = limit.PermitsPerSecond,
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
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers[HeaderNames.RetryAfter] = seconds.ToString(CultureInfo.InvariantCulture);
        Log.RateLimited(logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress);

        await new Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests from this client.",
            $"This client address sends more requests than Firestarter:RateLimits allows; retry after {seconds} s.").WriteAsync(context.Response);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.RateLimited, Level = LogLevel.Debug, Message = "{Method} {Path} from {RemoteAddress} refused with 429: rate limited.")]
        public static partial void RateLimited(ILogger logger, string method, PathString path, System.Net.IPAddress? remoteAddress);
    }
}
