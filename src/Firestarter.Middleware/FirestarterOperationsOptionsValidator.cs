using Firestarter.Admin;
using Microsoft.Extensions.Options;

namespace Firestarter;

/// <summary>Checks <c>Firestarter:Operations</c> when the host starts; each failure names the key.</summary>
internal sealed class FirestarterOperationsOptionsValidator : IValidateOptions<FirestarterOptions>
{
    private const string S = FirestarterOptions.SectionName + ":Operations";

    /// <summary>A key shorter than this is guessable; the check exists so a placeholder does not ship.</summary>
    internal const int MinApiKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, FirestarterOptions options)
    {
        var operations = options.Operations;
        if (operations is null)
        {
            return ValidateOptionsResult.Fail($"{S} must not be null.");
        }

        var failures = new List<string>();
        if (operations.Port is { } port)
        {
            FirestarterOptionsValidator.InRange(failures, $"{S}:Port", port, 1, 65535);
        }

        if (operations.ApiKey is { } key && key.Length < MinApiKeyLength)
        {
            failures.Add($"{S}:ApiKey must be at least {MinApiKeyLength} characters long (or left out).");
        }

        if (string.IsNullOrWhiteSpace(operations.SupervisorCluster))
        {
            failures.Add($"{S}:SupervisorCluster must name a YARP cluster.");
        }

        FirestarterOptionsValidator.InRange(failures, $"{S}:TopKeys", operations.TopKeys, 1, 1000);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
