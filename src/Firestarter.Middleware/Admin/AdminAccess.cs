using Firestarter.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Firestarter.Admin;

/// <summary>
/// Decides whether an admin request may be answered: on the admin port (when one is set) and, for endpoints that
/// show numbers, with the API key (when one is set). Only admin endpoints run it; the proxy's routes never do.
/// </summary>
internal sealed class AdminAccess
{
    private const string ApiKeyHeader = "X-Api-Key";

    private readonly int? _port;
    private readonly ApiKeySet? _key;

    public AdminAccess(IOptions<OperationsOptions> options)
    {
        var operations = options.Value;
        _port = operations.Port;
        _key = operations.ApiKey is { } key ? new ApiKeySet([key]) : null;
    }

    /// <summary>Whether an API key is configured.</summary>
    public bool RequiresKey => _key is not null;

    /// <summary>
    /// The status to refuse <paramref name="context"/> with (404 off the admin port, 401 without the key), or 0 to
    /// answer it.
    /// </summary>
    public int Check(HttpContext context, bool needsKey)
    {
        // 404 rather than 403: on the public listener the admin endpoints do not exist.
        if (_port is { } port && context.Connection.LocalPort != port)
        {
            return StatusCodes.Status404NotFound;
        }

        if (needsKey && _key is { } key && !HasKey(context.Request, key))
        {
            return StatusCodes.Status401Unauthorized;
        }

        return 0;
    }

    /// <summary>An endpoint convention that lets only admitted requests reach the endpoint (see <see cref="Guard"/>).</summary>
    public Action<EndpointBuilder> Guards(bool needsKey) =>
        endpoint => endpoint.RequestDelegate = Guard(endpoint.RequestDelegate!, needsKey);

    /// <summary>Runs <paramref name="next"/> only for admitted requests; answers the others with an empty status.</summary>
    public RequestDelegate Guard(RequestDelegate next, bool needsKey) => context =>
    {
        var refusal = Check(context, needsKey);
        if (refusal == 0)
        {
            return next(context);
        }

        context.Response.StatusCode = refusal;
        if (refusal == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return Task.CompletedTask;
    };

    private static bool HasKey(HttpRequest request, ApiKeySet key)
    {
        var presented = request.Headers[ApiKeyHeader].ToString().AsSpan();
        if (presented.IsEmpty)
        {
            presented = BearerToken.Of(request);
        }

        // Constant time, so the key (or its length) cannot be learnt from response timing.
        return !presented.IsEmpty && key.Contains(presented);
    }
}
