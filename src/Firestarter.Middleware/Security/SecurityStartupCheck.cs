using Firestarter.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Firestarter.Security;

/// <summary>Says at start what the security options leave open, so that an open broker is a choice, not an accident.</summary>
internal sealed partial class SecurityStartupCheck(
    DispatchAuthorization dispatch,
    ILogger<SecurityStartupCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (dispatch.IsOpen)
        {
            Log.DispatchOpen(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.DispatchOpen, Level = LogLevel.Warning,
            Message = "Dispatch is open: no Firestarter:Security:DispatchApiKeys are set, so anyone who can reach the dispatch route can hand runs to controllers. Set API keys, or put an AuthorizationPolicy on the route (README.md#security-and-limits).")]
        public static partial void DispatchOpen(ILogger logger);
    }
}
