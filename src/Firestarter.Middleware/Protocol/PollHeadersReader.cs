using Firestarter.Matching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Firestarter.Protocol;

/// <summary>What a controller's <c>GET /warm-start</c> headers say, checked for shape but not for who sent them.</summary>
/// <param name="DeploymentId">The deployment header as sent: a bare deployment id or a deployment token.</param>
/// <param name="Version">The deployment's version.</param>
/// <param name="Cpu">The machine's CPU.</param>
/// <param name="Memory">The machine's memory.</param>
internal readonly record struct PollHeaders(string DeploymentId, string Version, double Cpu, double Memory)
{
    /// <summary>The match key once the deployment header has been resolved to <paramref name="deployment"/>.</summary>
    public MatchKey KeyFor(string deployment) => new(deployment, Version, Cpu, Memory);
}

/// <summary>Reads the match-key headers of a controller's <c>GET /warm-start</c>.</summary>
internal static class PollHeadersReader
{
    /// <summary>Returns null and the headers, or the problem that makes the poll unacceptable.</summary>
    public static Problem? TryRead(IHeaderDictionary headers, out PollHeaders poll)
    {
        poll = default;
        // All four are read either way (the happy path needs them all); the first problem is reported.
        var deploymentProblem = Single(headers, WarmStartHeaders.DeploymentId, out var deploymentHeader);
        var versionProblem = Single(headers, WarmStartHeaders.DeploymentVersion, out var version);
        var cpuProblem = Single(headers, WarmStartHeaders.MachineCpu, out var cpuText);
        var memoryProblem = Single(headers, WarmStartHeaders.MachineMemory, out var memoryText);
        var problem = deploymentProblem ?? versionProblem ?? cpuProblem ?? memoryProblem;
        if (problem is not null)
        {
            return problem;
        }

        if (!MatchKey.TryParseMachineSize(cpuText, out var cpu))
        {
            return Problem.BadHeader($"Header '{WarmStartHeaders.MachineCpu}' must be a finite, non-negative number (was '{Shorten(cpuText)}').");
        }

        if (!MatchKey.TryParseMachineSize(memoryText, out var memory))
        {
            return Problem.BadHeader($"Header '{WarmStartHeaders.MachineMemory}' must be a finite, non-negative number (was '{Shorten(memoryText)}').");
        }

        poll = new PollHeaders(deploymentHeader, version, cpu, memory);
        return null;
    }

    private static Problem? Single(IHeaderDictionary headers, string name, out string value)
    {
        var values = headers[name];
        if (values.Count == 1 && values[0] is { Length: > 0 } single)
        {
            value = single;
            return null;
        }

        value = string.Empty;
        return values.Count > 1
            ? Problem.BadHeader($"Header '{name}' must appear once.")
            : Problem.BadHeader($"Header '{name}' is required and must not be empty.");
    }

    // Echo a bad value back, but never a long one.
    private static string Shorten(string value) => value.Length <= 32 ? value : string.Concat(value.AsSpan(0, 32), "…");
}
