using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Firestarter.Protocol;

/// <summary>
/// A refused request: an RFC 9457 <c>application/problem+json</c> answer that names what is wrong.
/// </summary>
/// <param name="Status">The 4xx status.</param>
/// <param name="Code">A stable, machine-readable name of the problem (the <c>code</c> member).</param>
/// <param name="Title">A short summary that does not change from occurrence to occurrence.</param>
/// <param name="Detail">What exactly is wrong with this request.</param>
internal sealed record Problem(int Status, string Code, string Title, string Detail)
{
    public const string ContentType = "application/problem+json";

    /// <summary>Response headers that go with the answer, such as <c>Retry-After</c> or <c>WWW-Authenticate</c>.</summary>
    public (string Name, string Value)[] Headers { get; init; } = [];

    /// <summary>The whole seconds of a <c>Retry-After</c> header for <paramref name="wait"/>: rounded up, at least one.</summary>
    public static long RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));

    /// <summary>This problem with a <c>Retry-After</c> of <paramref name="seconds"/>.</summary>
    public Problem WithRetryAfter(long seconds) =>
        this with { Headers = [.. Headers, (HeaderNames.RetryAfter, seconds.ToString(CultureInfo.InvariantCulture))] };

    public static Problem BadHeader(string detail) =>
        new(StatusCodes.Status400BadRequest, "bad-header", "The warm-start poll's headers are invalid.", detail);

    public static Problem BadBody(string detail) =>
        new(StatusCodes.Status400BadRequest, "bad-body", "The dispatch body is invalid.", detail);

    public static Problem BodyTooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The dispatch body is too large.",
            $"The body exceeds the limit of {limit} bytes (Firestarter:MaxDispatchBodySize).");

    public static Problem Disabled() =>
        new(StatusCodes.Status503ServiceUnavailable, "warm-starts-disabled", "Warm starts are switched off.",
            "This broker does not hold controllers (Firestarter:Enabled is false).");

    /// <summary>Writes the problem as the response. The response must not have started.</summary>
    public async Task WriteAsync(HttpResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        // Relaxed escaping keeps quotes and apostrophes readable; the body is JSON, never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", Title);
            json.WriteNumber("status", Status);
            json.WriteString("detail", Detail);
            json.WriteString("code", Code);
            json.WriteEndObject();
        }

        response.StatusCode = Status;
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        response.ContentType = ContentType;
        response.ContentLength = buffer.WrittenCount;
        await response.BodyWriter.WriteAsync(buffer.WrittenMemory);
    }
}
