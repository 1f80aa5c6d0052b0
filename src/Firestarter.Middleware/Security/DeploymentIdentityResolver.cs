using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Security;

/// <summary>
/// Turns the <c>x-trigger-deployment-id</c> header into the deployment a controller matches under: the bare id
/// itself, or the <c>deployment</c> claim of a deployment token, verified as
/// <see cref="DeploymentTokenOptions.Enforcement"/> says.
/// </summary>
/// <remarks>
/// Every controller of a deployment sends the same token bytes, poll after poll, so resolved tokens are cached:
/// the hot path pays for a token (decoding, and verifying its signature) once; a verified token is cached until it
/// expires. The cache is bounded; when full it is cleared and refills with the tokens still in use, which keeps it
/// small without any per-entry bookkeeping. Tokens that fail are not cached.
/// </remarks>
internal sealed partial class DeploymentIdentityResolver
{
    internal const int MaxCachedTokens = 4096;

    private const long NoExpiry = long.MaxValue;

    private readonly ConcurrentDictionary<string, Identity> _cache = new(StringComparer.Ordinal);
    private readonly TokenEnforcement _enforcement;
    private readonly DeploymentTokenValidator? _validator;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _verifications;

    public DeploymentIdentityResolver(IOptions<SecurityOptions> options, TimeProvider time, ILogger<DeploymentIdentityResolver> logger)
        : this(options.Value.DeploymentTokens, time, logger)
    {
    }

    internal DeploymentIdentityResolver(DeploymentTokenOptions options, TimeProvider time, ILogger logger)
    {
        _enforcement = options.Enforcement;
        _validator = _enforcement == TokenEnforcement.Disabled ? null : new DeploymentTokenValidator(options, time);
        _time = time;
        _logger = logger;
    }

    /// <summary>Tokens verified so far (each a cache miss); for tests and diagnostics.</summary>
    internal int Verifications => Volatile.Read(ref _verifications);

    /// <summary>
    /// Resolves a non-empty header value. On failure, <paramref name="problem"/> is the answer: 400 for a value
    /// that is not a readable token, 401 for one that enforcement refuses.
    /// </summary>
    public bool TryResolve(string headerValue, out string deployment, [NotNullWhen(false)] out Problem? problem)
    {
        var isToken = DeploymentToken.LooksLikeToken(headerValue);
        if (!isToken && _enforcement == TokenEnforcement.Disabled)
        {
            deployment = headerValue;
            problem = null;
            return true;
        }

        if (_cache.TryGetValue(headerValue, out var cached)
            && (cached.ValidUntilTicks == NoExpiry || _time.GetUtcNow().UtcTicks < cached.ValidUntilTicks))
        {
            deployment = cached.Deployment;
            problem = null;
            return true;
        }

        return isToken ? TryResolveToken(headerValue, out deployment, out problem) : TryResolveBareId(headerValue, out deployment, out problem);
    }

    private bool TryResolveBareId(string headerValue, out string deployment, out Problem? problem)
    {
        if (_enforcement == TokenEnforcement.Enforce)
        {
            Log.BareIdRefused(_logger, headerValue);
            deployment = string.Empty;
            problem = SecurityProblems.TokenRequired();
            return false;
        }

        // Log mode: accepted, and cached so that the warning is written once per distinct id.
        Log.BareIdAccepted(_logger, headerValue);
        deployment = headerValue;
        problem = null;
        Cache(headerValue, new Identity(deployment, NoExpiry));
        return true;
    }

    private bool TryResolveToken(string token, out string deployment, out Problem? problem)
    {
        string? failure = null;
        if (_validator is not null)
        {
            Interlocked.Increment(ref _verifications);
            var verdict = _validator.Validate(token);
            if (verdict.Failure is null)
            {
                deployment = verdict.Deployment!;
                problem = null;
                Cache(token, new Identity(deployment, verdict.ValidUntil.UtcTicks));
                return true;
            }

            failure = verdict.Failure;
            // An expired token may still sit in the cache: it must not answer again.
            _cache.TryRemove(token, out _);
            if (_enforcement == TokenEnforcement.Enforce)
            {
                Log.TokenRefused(_logger, failure);
                deployment = string.Empty;
                problem = SecurityProblems.BadToken(failure);
                return false;
            }
        }

        if (!DeploymentToken.TryReadDeploymentClaim(token, out deployment, out var detail))
        {
            problem = Problem.BadHeader($"Header '{WarmStartHeaders.DeploymentId}': {detail}");
            return false;
        }

        if (failure is not null)
        {
            // Log mode: the unverified claim is used as before, and the warning is written once per distinct token.
            Log.TokenAcceptedUnverified(_logger, deployment, failure);
        }

        problem = null;
        Cache(token, new Identity(deployment, NoExpiry));
        return true;
    }

    private void Cache(string headerValue, Identity identity)
    {
        if (_cache.Count >= MaxCachedTokens)
        {
            _cache.Clear();
        }

        _cache[headerValue] = identity;
    }

    /// <summary>A resolved header value: its deployment, and until when (UTC ticks) the answer holds.</summary>
    private sealed record Identity(string Deployment, long ValidUntilTicks);

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.TokenRefused, Level = LogLevel.Debug, Message = "Poll refused: {Failure}")]
        public static partial void TokenRefused(ILogger logger, string failure);

        [LoggerMessage(EventId = EventIds.BareIdRefused, Level = LogLevel.Debug,
            Message = "Poll with the bare deployment id {Deployment} refused: a deployment token is required.")]
        public static partial void BareIdRefused(ILogger logger, string deployment);

        [LoggerMessage(EventId = EventIds.TokenAcceptedUnverified, Level = LogLevel.Warning,
            Message = "A deployment token for {Deployment} failed verification ({Failure}); accepted because enforcement is Log. Enforce would refuse it with 401.")]
        public static partial void TokenAcceptedUnverified(ILogger logger, string deployment, string failure);

        [LoggerMessage(EventId = EventIds.BareIdAccepted, Level = LogLevel.Warning,
            Message = "A controller polled with the bare deployment id {Deployment} instead of a token; accepted because enforcement is Log. Enforce would refuse it with 401.")]
        public static partial void BareIdAccepted(ILogger logger, string deployment);
    }
}
