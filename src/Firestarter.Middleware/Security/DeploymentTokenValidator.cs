using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Firestarter.Security;

/// <summary>
/// Verifies a deployment token (HS256 signature, issuer, audience, expiry) with Microsoft.IdentityModel and reads
/// the deployment it names.
/// </summary>
/// <remarks>
/// Called only when <see cref="DeploymentIdentityResolver"/> has not seen the token before: the result is
/// cached there until the token expires, so a deployment's controllers pay for the verification once.
/// </remarks>
internal sealed class DeploymentTokenValidator
{
    private readonly JsonWebTokenHandler _handler = new();
    private readonly TokenValidationParameters _parameters;

    public DeploymentTokenValidator(DeploymentTokenOptions options, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.Secret);
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.Secret)),
            // Only what the supervisor signs with: no "none", no algorithm confusion with other key types.
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = options.ClockSkew,
            // The library reads the system clock; this reads ours, so expiry follows the host's TimeProvider.
            LifetimeValidator = (notBefore, expires, _, parameters) => IsCurrent(time.GetUtcNow().UtcDateTime, notBefore, expires, parameters.ClockSkew),
        };
    }

    /// <summary>The verdict on one token.</summary>
    /// <param name="Deployment">The <c>deployment</c> claim, when the token is valid.</param>
    /// <param name="ValidUntil">When the token stops being valid (its <c>exp</c> plus the tolerated skew).</param>
    /// <param name="Failure">Why the token is not valid, or null.</param>
    public readonly record struct Verdict(string? Deployment, DateTimeOffset ValidUntil, string? Failure);

    public Verdict Validate(string token)
    {
        // With a fixed symmetric key and no configuration manager, validation does no I/O and completes
        // synchronously; waiting on it here blocks nothing.
        var result = _handler.ValidateTokenAsync(token, _parameters).GetAwaiter().GetResult();
        if (!result.IsValid)
        {
            return new Verdict(null, default, Describe(result.Exception));
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        if (!jwt.TryGetPayloadValue<string>("deployment", out var deployment) || string.IsNullOrEmpty(deployment))
        {
            return new Verdict(null, default, "The deployment token has no 'deployment' claim.");
        }

        return new Verdict(deployment, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + _parameters.ClockSkew, null);
    }

    private static bool IsCurrent(DateTime now, DateTime? notBefore, DateTime? expires, TimeSpan skew) =>
        expires is { } exp && now < exp + skew && (notBefore is not { } nbf || nbf - skew <= now);

    // Says which check failed without echoing the library's message (it can contain the token).
    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException or SecurityTokenInvalidLifetimeException => "The deployment token has expired, has no expiry or is not valid yet.",
        SecurityTokenInvalidIssuerException => "The deployment token's issuer is not accepted.",
        SecurityTokenInvalidAudienceException => "The deployment token's audience is not accepted.",
        SecurityTokenInvalidAlgorithmException => "The deployment token's algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The deployment token's signature is not valid.",
        SecurityTokenMalformedException => "The deployment token is malformed.",
        _ => "The deployment token is not valid.",
    };
}
