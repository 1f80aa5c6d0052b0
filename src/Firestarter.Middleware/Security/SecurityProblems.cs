using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Firestarter.Security;

/// <summary>The problems that refuse a request for who sent it rather than for what it says.</summary>
internal static class SecurityProblems
{
    public static Problem BadToken(string detail) =>
        new(StatusCodes.Status401Unauthorized, "bad-deployment-token", "The deployment token is not accepted.",
            $"Header '{WarmStartHeaders.DeploymentId}': {detail}");

    public static Problem TokenRequired() =>
        new(StatusCodes.Status401Unauthorized, "deployment-token-required", "A deployment token is required.",
            $"Header '{WarmStartHeaders.DeploymentId}' must be a deployment token, not a bare deployment id (Firestarter:Security:DeploymentTokens:Enforcement is Enforce).");

    public static Problem DispatchKeyRequired() =>
        new(StatusCodes.Status401Unauthorized, "dispatch-key-required", "Dispatch requires an API key.",
            "Send one of the keys in Firestarter:Security:DispatchApiKeys as 'Authorization: Bearer <key>'.")
        {
            Headers = [(HeaderNames.WWWAuthenticate, "Bearer")],
        };
}
