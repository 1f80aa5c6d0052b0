using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>Deployment tokens as Trigger.dev's supervisor signs them (HS256, its issuer and audience, its claims).</summary>
public static class DeploymentTokens
{
    public const string Secret = "test-workload-token-secret-of-at-least-32-bytes";
    public const string Issuer = "https://id.trigger.dev";
    public const string Audience = "https://api.trigger.dev";

    public static string Create(
        string deployment,
        string secret = Secret,
        string issuer = Issuer,
        string audience = Audience,
        DateTime? expires = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.AddMinutes(-10),
            Expires = expires ?? now.AddHours(1),
            Claims = new Dictionary<string, object>
            {
                ["ver"] = "1",
                ["deployment"] = deployment,
                ["deployment_version"] = "20261126.1",
                ["environment_id"] = "env_1",
                ["environment_type"] = "PRODUCTION",
                ["org_id"] = "org_1",
                ["project_id"] = "proj_1",
            },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>Settings that turn enforcement on with <see cref="Secret"/>.</summary>
    public static Dictionary<string, string?> Settings(string enforcement = "Enforce") => new()
    {
        ["Firestarter:Security:DeploymentTokens:Enforcement"] = enforcement,
        ["WORKLOAD_TOKEN_SECRET"] = Secret,
    };
}
