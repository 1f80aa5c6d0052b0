using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Security;

/// <summary>
/// Admits a dispatch only with one of <see cref="SecurityOptions.DispatchApiKeys"/> as its bearer token, so that
/// only the supervisor can hand out runs.
/// </summary>
/// <remarks>
/// The comparison is <see cref="ApiKeySet"/>'s: how long the check takes says nothing about the key.
/// </remarks>
internal sealed partial class DispatchAuthorization
{
    private readonly ApiKeySet _keys;
    private readonly ILogger _logger;

    public DispatchAuthorization(IOptions<SecurityOptions> options, ILogger<DispatchAuthorization> logger)
    {
        _keys = new ApiKeySet(options.Value.DispatchApiKeys);
        _logger = logger;
    }

    /// <summary>True when no key is configured: anyone who reaches the dispatch route may dispatch.</summary>
    public bool IsOpen => _keys.IsEmpty;

    /// <summary>
    /// Returns null when the dispatch may proceed, else the 401 to answer (with its <c>WWW-Authenticate</c>).
    /// </summary>
    public Problem? Check(HttpContext context)
    {
        if (IsOpen)
        {
            return null;
        }

        if (BearerToken.Of(context.Request) is { IsEmpty: false } token && _keys.Contains(token))
        {
            return null;
        }

        Log.Unauthorized(_logger, context.Connection.RemoteIpAddress);
        return SecurityProblems.DispatchKeyRequired();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.DispatchUnauthorized, Level = LogLevel.Debug,
            Message = "Dispatch from {RemoteAddress} refused with 401: no valid API key.")]
        public static partial void Unauthorized(ILogger logger, System.Net.IPAddress? remoteAddress);
    }
}
