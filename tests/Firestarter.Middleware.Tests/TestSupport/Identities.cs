using Firestarter.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Firestarter.Tests.TestSupport;

internal static class Identities
{
    /// <summary>A resolver that decodes tokens without verifying them (the default enforcement, Disabled).</summary>
    public static DeploymentIdentityResolver Unverified() => new(new DeploymentTokenOptions(), TimeProvider.System, NullLogger.Instance);
}
