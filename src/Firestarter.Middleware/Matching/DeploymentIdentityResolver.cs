using System.Collections.Concurrent;

namespace Firestarter.Matching;

/// <summary>
/// Turns the <c>x-trigger-deployment-id</c> header into the deployment a controller matches under: the bare id
/// itself, or the <c>deployment</c> claim of a deployment token.
/// </summary>
/// <remarks>
/// Every controller of a deployment sends the same token bytes, poll after poll, so decoded tokens are cached:
/// the hot path pays for a token once. The cache is bounded; when full it is cleared and refills with the tokens
/// still in use, which keeps it small without any per-entry bookkeeping.
/// </remarks>
internal sealed class DeploymentIdentityResolver
{
    internal const int MaxCachedTokens = 4096;

    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    /// <summary>Resolves a non-empty header value. On failure, <paramref name="problem"/> says why, for a 400.</summary>
    public bool TryResolve(string headerValue, out string deployment, out string? problem)
    {
        if (!DeploymentToken.LooksLikeToken(headerValue))
        {
            deployment = headerValue;
            problem = null;
            return true;
        }

        if (_tokens.TryGetValue(headerValue, out var cached))
        {
            deployment = cached;
            problem = null;
            return true;
        }

        if (!DeploymentToken.TryReadDeploymentClaim(headerValue, out deployment, out problem))
        {
            return false;
        }

        if (_tokens.Count >= MaxCachedTokens)
        {
            _tokens.Clear();
        }

        _tokens.TryAdd(headerValue, deployment);
        return true;
    }
}
