using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Firestarter.ColdStart;

/// <summary>
/// Answers a dispatch that no waiting controller took, by the configured <see cref="ColdStartMode"/>.
/// </summary>
internal sealed class ColdStartHandler(IOptions<ColdStartOptions> options, ColdStartForwarder forwarder)
{
    private readonly bool _forward = options.Value.Mode == ColdStartMode.Forward;

    /// <summary>Answers the supervisor; returns the dispatch outcome for metrics.</summary>
    public async ValueTask<DispatchOutcome> AnswerAsync(HttpContext context, RequestDelegate next, ReadOnlyMemory<byte> body)
    {
        if (_forward)
        {
            return await forwarder.ForwardAsync(context, next, body);
        }

        await ProtocolResponses.WriteJsonAsync(context.Response, ProtocolResponses.NotWarmStarted);
        return DispatchOutcome.Cold;
    }
}
