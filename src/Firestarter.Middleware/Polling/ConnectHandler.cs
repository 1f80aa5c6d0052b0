using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Firestarter.Polling;

/// <summary>Answers a controller's <c>GET /connect</c> with the poll timings (encoded once, at start).</summary>
internal sealed class ConnectHandler(IOptions<FirestarterOptions> options)
{
    private readonly byte[] _answer = ConnectResponse.Encode(options.Value);

    public Task HandleAsync(HttpContext context)
    {
        var write = ProtocolResponses.WriteJsonAsync(context.Response, _answer);
        return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
    }
}
