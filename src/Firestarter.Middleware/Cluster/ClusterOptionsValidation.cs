namespace Firestarter.Cluster;

/// <summary>
/// The checks of <see cref="ClusterOptions"/>, each failure naming its key; run with the broker's other options on start.
/// </summary>
internal static class ClusterOptionsValidation
{
    public static void Validate(ClusterOptions? options, string section, List<string> failures)
    {
        if (options is null)
        {
            failures.Add($"{section} must not be null.");
            return;
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.Any(char.IsWhiteSpace))
        {
            failures.Add($"{section}:KeyPrefix must be a non-empty word without spaces.");
        }

        if (options.InstanceUrl is { Length: > 0 } url
            && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add($"{section}:InstanceUrl must be an absolute http or https URL, e.g. http://10.0.3.7:8080 (got '{url}').");
        }

        if (options.Secret is { } secret && secret.Length < 16)
        {
            failures.Add($"{section}:Secret must be at least 16 characters, or unset to share a random one through Redis.");
        }

        Positive(failures, $"{section}:HeartbeatInterval", options.HeartbeatInterval);
        Positive(failures, $"{section}:PublishInterval", options.PublishInterval);
        Positive(failures, $"{section}:LookupTimeout", options.LookupTimeout);
        Positive(failures, $"{section}:HandOnTimeout", options.HandOnTimeout);
        if (options.LeaseDuration < 2 * options.HeartbeatInterval)
        {
            failures.Add($"{section}:LeaseDuration ({options.LeaseDuration}) must be at least twice {section}:HeartbeatInterval ({options.HeartbeatInterval}).");
        }

        if (options.MaxHandOns is < 0 or > 5)
        {
            failures.Add($"{section}:MaxHandOns must be between 0 and 5 (got {options.MaxHandOns}).");
        }

        if (options.IsEnabled)
        {
            try
            {
                _ = StackExchange.Redis.ConfigurationOptions.Parse(options.Redis!);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"{section}:Redis is not a valid StackExchange.Redis configuration string: {ex.Message}");
            }
        }
    }

    private static void Positive(List<string> failures, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{key} must be positive (got {value}).");
        }
    }
}
