namespace Firestarter.Security;

/// <summary>Who may park controllers and who may dispatch runs (<c>Firestarter:Security</c>).</summary>
public sealed class SecurityOptions
{
    /// <summary>How polls' deployment tokens are checked.</summary>
    public DeploymentTokenOptions DeploymentTokens { get; set; } = new();

    /// <summary>
    /// The API keys a dispatch may present as <c>Authorization: Bearer &lt;key&gt;</c>. When any is set, a dispatch
    /// without one of them gets 401 and is never forwarded. When none is set, dispatch is open to anyone who can
    /// reach the route, and the host warns so at start. Each key must be at least 16 characters. Default: none.
    /// </summary>
    public IList<string> DispatchApiKeys { get; set; } = [];
}

/// <summary>
/// Checking the deployment tokens Trigger.dev's supervisor can stamp controllers with
/// (<c>Firestarter:Security:DeploymentTokens</c>).
/// </summary>
public sealed class DeploymentTokenOptions
{
    /// <summary>The environment variable the secret is read from when <see cref="Secret"/> is not set.</summary>
    public const string SecretEnvironmentVariable = "WORKLOAD_TOKEN_SECRET";

    /// <summary>What a poll's token (or bare deployment id) must pass. Default: <see cref="TokenEnforcement.Disabled"/>.</summary>
    public TokenEnforcement Enforcement { get; set; } = TokenEnforcement.Disabled;

    /// <summary>
    /// The HS256 secret the supervisor signs tokens with (its UTF-8 bytes, at least 32 of them). Required unless
    /// <see cref="Enforcement"/> is <see cref="TokenEnforcement.Disabled"/>; when not set it is read from the
    /// <c>WORKLOAD_TOKEN_SECRET</c> environment variable (or configuration key). Default: none.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>The issuer a token must name. Default: <c>https://id.trigger.dev</c>.</summary>
    public string Issuer { get; set; } = "https://id.trigger.dev";

    /// <summary>The audience a token must name. Default: <c>https://api.trigger.dev</c>.</summary>
    public string Audience { get; set; } = "https://api.trigger.dev";

    /// <summary>Tolerated clock difference when checking <c>exp</c> and <c>nbf</c>. Default: 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>How strictly polls' deployment tokens are checked, as Trigger.dev's platform names the modes.</summary>
public enum TokenEnforcement
{
    /// <summary>Tokens are decoded, not verified; bare deployment ids are accepted.</summary>
    Disabled,

    /// <summary>
    /// Tokens are verified, but a failing token or a bare id is only logged (once per distinct value) and the poll
    /// parks as in <see cref="Disabled"/>: a way to find out what <see cref="Enforce"/> would refuse.
    /// </summary>
    Log,

    /// <summary>A poll whose token fails verification, or that sends a bare id, gets 401 and never parks.</summary>
    Enforce,
}
