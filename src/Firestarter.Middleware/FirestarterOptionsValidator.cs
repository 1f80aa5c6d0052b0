using System.Globalization;
using System.Text;
using Firestarter.Admin;
using Firestarter.Cluster;
using Firestarter.Security;
using Microsoft.Extensions.Options;

namespace Firestarter;

/// <summary>
/// Checks <see cref="FirestarterOptions"/> when the host starts; each failure names the configuration key.
/// </summary>
/// <remarks>
/// Hand-written rather than data annotations with <c>[OptionsValidator]</c>: the generator words every failure as
/// "Member: The field Type.Member must be …" (its Range even ignores ErrorMessage), losing the key and the bad value.
/// </remarks>
internal sealed class FirestarterOptionsValidator : IValidateOptions<FirestarterOptions>
{
    private const string S = FirestarterOptions.SectionName;

    private const int MinApiKeyLength = 16;

    private static readonly TimeSpan MaxClientTimer = TimeSpan.FromMilliseconds(int.MaxValue);

    public ValidateOptionsResult Validate(string? name, FirestarterOptions options)
    {
        var failures = new List<string>();

        Positive(failures, $"{S}:ConnectionTimeout", options.ConnectionTimeout);
        Positive(failures, $"{S}:Keepalive", options.Keepalive);
        // Both go to the controller as milliseconds for JavaScript timers, which hold at most 2^31-1.
        AtMost(failures, $"{S}:ConnectionTimeout", options.ConnectionTimeout, MaxClientTimer);
        AtMost(failures, $"{S}:Keepalive", options.Keepalive, MaxClientTimer);
        if (options.Keepalive < options.ConnectionTimeout)
        {
            failures.Add($"{S}:Keepalive ({options.Keepalive}) must not be shorter than {S}:ConnectionTimeout ({options.ConnectionTimeout}).");
        }

        if (options.MaxPollDuration is { } maxPoll)
        {
            Positive(failures, $"{S}:MaxPollDuration", maxPoll);
            AtMost(failures, $"{S}:MaxPollDuration", maxPoll, 2 * MaxClientTimer);
        }

        if (options.PollGuardWindow is { } guard && (guard < TimeSpan.Zero || guard >= options.ConnectionTimeout))
        {
            failures.Add($"{S}:PollGuardWindow ({guard}) must be at least zero and shorter than {S}:ConnectionTimeout ({options.ConnectionTimeout}).");
        }

        if (options.RepollWait is { } repollWait)
        {
            if (repollWait < TimeSpan.Zero)
            {
                failures.Add($"{S}:RepollWait must not be negative.");
            }

            AtMost(failures, $"{S}:RepollWait", repollWait, options.ConnectionTimeout);
        }

        if (options.Confirmation is null)
        {
            failures.Add($"{S}:Confirmation must not be null.");
        }
        else
        {
            Positive(failures, $"{S}:Confirmation:Timeout", options.Confirmation.Timeout);
            AtMost(failures, $"{S}:Confirmation:Timeout", options.Confirmation.Timeout, TimeSpan.FromMinutes(1));
        }

        if (!Enum.IsDefined(options.Selection))
        {
            failures.Add($"{S}:Selection must be NewestFirst or OldestFirst.");
        }

        InRange(failures, $"{S}:MaxDispatchBodySize", options.MaxDispatchBodySize, 1024, int.MaxValue);
        InRange(failures, $"{S}:MaxJsonDepth", options.MaxJsonDepth, 8, 256);

        var cold = options.ColdStart;
        if (cold is null)
        {
            failures.Add($"{S}:ColdStart must not be null.");
        }
        else
        {
            if (!Enum.IsDefined(cold.Mode))
            {
                failures.Add($"{S}:ColdStart:Mode must be Respond or Forward.");
            }

            Positive(failures, $"{S}:ColdStart:Timeout", cold.Timeout);
            InRange(failures, $"{S}:ColdStart:MaxRetryAttempts", cold.MaxRetryAttempts, 0, 10);
            if (cold.RetryDelay < TimeSpan.Zero)
            {
                failures.Add($"{S}:ColdStart:RetryDelay must not be negative (was {cold.RetryDelay}).");
            }

            if (!(cold.FailureRatio > 0 && cold.FailureRatio <= 1))
            {
                failures.Add($"{S}:ColdStart:FailureRatio must be greater than 0 and at most 1 (was {cold.FailureRatio.ToString(CultureInfo.InvariantCulture)}).");
            }

            InRange(failures, $"{S}:ColdStart:MinimumThroughput", cold.MinimumThroughput, 2, int.MaxValue);
            // Polly's own bounds for the circuit breaker.
            if (cold.SamplingDuration < TimeSpan.FromMilliseconds(500))
            {
                failures.Add($"{S}:ColdStart:SamplingDuration must be at least 500 milliseconds (was {cold.SamplingDuration}).");
            }

            if (cold.BreakDuration < TimeSpan.FromMilliseconds(500))
            {
                failures.Add($"{S}:ColdStart:BreakDuration must be at least 500 milliseconds (was {cold.BreakDuration}).");
            }

            InRange(failures, $"{S}:ColdStart:MaxResponseBodySize", cold.MaxResponseBodySize, 64, 16 * 1024 * 1024);
        }

        ValidateSecurity(failures, options.Security);
        ValidateLimits(failures, options);
        ValidateOperations(failures, options.Operations);
        ValidateCluster(failures, options.Cluster);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateSecurity(List<string> failures, SecurityOptions? security)
    {
        if (security?.DeploymentTokens is not { } tokens || security.DispatchApiKeys is null)
        {
            failures.Add($"{S}:Security, its DeploymentTokens and DispatchApiKeys must not be null.");
            return;
        }

        const string T = $"{S}:Security:DeploymentTokens";
        if (!Enum.IsDefined(tokens.Enforcement))
        {
            failures.Add($"{T}:Enforcement must be Disabled, Log or Enforce.");
        }
        else if (tokens.Enforcement != TokenEnforcement.Disabled)
        {
            // HS256 with Microsoft.IdentityModel needs a key of at least 256 bits.
            if (string.IsNullOrEmpty(tokens.Secret))
            {
                failures.Add($"{T}:Secret (or {DeploymentTokenOptions.SecretEnvironmentVariable}) is required when {T}:Enforcement is {tokens.Enforcement}.");
            }
            else if (Encoding.UTF8.GetByteCount(tokens.Secret) < 32)
            {
                failures.Add($"{T}:Secret (or {DeploymentTokenOptions.SecretEnvironmentVariable}) must be at least 32 bytes for HS256.");
            }

            if (string.IsNullOrWhiteSpace(tokens.Issuer))
            {
                failures.Add($"{T}:Issuer must not be empty.");
            }

            if (string.IsNullOrWhiteSpace(tokens.Audience))
            {
                failures.Add($"{T}:Audience must not be empty.");
            }
        }

        if (tokens.ClockSkew < TimeSpan.Zero || tokens.ClockSkew > TimeSpan.FromHours(1))
        {
            failures.Add($"{T}:ClockSkew must be between 00:00:00 and 01:00:00 (was {tokens.ClockSkew}).");
        }

        for (var i = 0; i < security.DispatchApiKeys.Count; i++)
        {
            // Short keys can be guessed; whitespace around a key would never match what a client sends.
            if (security.DispatchApiKeys[i] is not { Length: >= 16 } key || key.Trim().Length != key.Length)
            {
                failures.Add($"{S}:Security:DispatchApiKeys:{i} must be at least 16 characters without surrounding whitespace.");
            }
        }
    }

    private static void ValidateLimits(List<string> failures, FirestarterOptions options)
    {
        if (options.Limits is not { } limits || options.RateLimits?.Connect is null || options.RateLimits.Dispatch is null)
        {
            failures.Add($"{S}:Limits and {S}:RateLimits (Connect, Dispatch) must not be null.");
            return;
        }

        InRange(failures, $"{S}:Limits:MaxParked", limits.MaxParked, 0, int.MaxValue);
        InRange(failures, $"{S}:Limits:MaxParkedPerKey", limits.MaxParkedPerKey, 0, int.MaxValue);
        if (limits.RetryAfter < TimeSpan.FromSeconds(1) || limits.RetryAfter > TimeSpan.FromDays(1))
        {
            failures.Add($"{S}:Limits:RetryAfter must be between 00:00:01 and 1.00:00:00 (was {limits.RetryAfter}).");
        }

        InRange(failures, $"{S}:RateLimits:Connect:PermitsPerSecond", options.RateLimits.Connect.PermitsPerSecond, 0, 1_000_000);
        InRange(failures, $"{S}:RateLimits:Dispatch:PermitsPerSecond", options.RateLimits.Dispatch.PermitsPerSecond, 0, 1_000_000);
    }

    private static void ValidateOperations(List<string> failures, OperationsOptions? operations)
    {
        const string O = $"{S}:Operations";
        if (operations is null)
        {
            failures.Add($"{O} must not be null.");
            return;
        }

        if (operations.Port is { } port)
        {
            InRange(failures, $"{O}:Port", port, 1, 65535);
        }

        // A key shorter than this is guessable; the check exists so a placeholder does not ship.
        if (operations.ApiKey is { Length: < MinApiKeyLength })
        {
            failures.Add($"{O}:ApiKey must be at least {MinApiKeyLength} characters long (or left out).");
        }

        if (string.IsNullOrWhiteSpace(operations.SupervisorCluster))
        {
            failures.Add($"{O}:SupervisorCluster must name a YARP cluster.");
        }

        InRange(failures, $"{O}:TopKeys", operations.TopKeys, 1, 1000);
    }

    private static void ValidateCluster(List<string> failures, ClusterOptions? cluster)
    {
        const string C = $"{S}:Cluster";
        if (cluster is null)
        {
            failures.Add($"{C} must not be null.");
            return;
        }

        if (cluster.IsEnabled)
        {
            try
            {
                _ = StackExchange.Redis.ConfigurationOptions.Parse(cluster.Redis!);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"{C}:Redis is not a StackExchange.Redis configuration string: {ex.Message}");
            }
        }

        if (cluster.InstanceUrl is { Length: > 0 } url
            && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add($"{C}:InstanceUrl must be an absolute http or https URL, e.g. http://10.0.3.7:8080 (was '{url}').");
        }

        if (string.IsNullOrWhiteSpace(cluster.KeyPrefix) || cluster.KeyPrefix.Any(char.IsWhiteSpace))
        {
            failures.Add($"{C}:KeyPrefix must be a non-empty word without spaces.");
        }

        if (cluster.Secret is { Length: < MinApiKeyLength })
        {
            failures.Add($"{C}:Secret must be at least {MinApiKeyLength} characters long (or left out, to share a random one through Redis).");
        }

        Positive(failures, $"{C}:HeartbeatInterval", cluster.HeartbeatInterval);
        Positive(failures, $"{C}:PublishInterval", cluster.PublishInterval);
        Positive(failures, $"{C}:LookupTimeout", cluster.LookupTimeout);
        Positive(failures, $"{C}:HandOnTimeout", cluster.HandOnTimeout);
        if (cluster.LeaseDuration < 2 * cluster.HeartbeatInterval)
        {
            failures.Add($"{C}:LeaseDuration ({cluster.LeaseDuration}) must be at least twice {C}:HeartbeatInterval ({cluster.HeartbeatInterval}).");
        }

        InRange(failures, $"{C}:MaxHandOns", cluster.MaxHandOns, 0, 5);
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key} must be positive (was {value}).");
        }
    }

    private static void AtMost(List<string> failures, string key, TimeSpan value, TimeSpan max)
    {
        if (value > max)
        {
            failures.Add($"{key} must be at most {max} (was {value}).");
        }
    }

    /// <summary>Adds "<paramref name="key"/> must be between …" unless <paramref name="value"/> is in [min, max].</summary>
    private static void InRange(List<string> failures, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{key} must be between {min} and {max} (was {value}).");
        }
    }
}
