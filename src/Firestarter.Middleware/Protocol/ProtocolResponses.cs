using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Protocol;

/// <summary>The fixed answers of the protocol, encoded once.</summary>
internal static class ProtocolResponses
{
    public const string JsonContentType = "application/json";

    public static ReadOnlyMemory<byte> WarmStarted { get; } = """{"didWarmStart":true}"""u8.ToArray();

    public static ReadOnlyMemory<byte> NotWarmStarted { get; } = """{"didWarmStart":false}"""u8.ToArray();

    /// <summary>Writes a complete JSON answer with a known length, so the client needs no chunked decoding.</summary>
    public static ValueTask<FlushResult> WriteJsonAsync(HttpResponse response, ReadOnlyMemory<byte> json)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = json.Length;
        return response.BodyWriter.WriteAsync(json);
    }
}
