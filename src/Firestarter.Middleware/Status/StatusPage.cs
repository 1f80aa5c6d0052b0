using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Firestarter.Status;

/// <summary>
/// The live status page's files (HTML, CSS, JavaScript under <c>Status/Page/</c>), shipped inside the library as
/// embedded resources and served from memory with their content types and an ETag, so the page needs no CDN, no
/// build step and no file system.
/// </summary>
internal sealed class StatusPage
{
    /// <summary>Served files by name, as the page references them.</summary>
    internal static readonly (string Name, string ContentType)[] Files =
    [
        ("index.html", "text/html; charset=utf-8"),
        ("page.css", "text/css; charset=utf-8"),
        ("page.js", "text/javascript; charset=utf-8"),
    ];

    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    public StatusPage()
    {
        var assembly = typeof(StatusPage).Assembly;
        foreach (var (name, contentType) in Files)
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
                ?? throw new InvalidOperationException($"The status page file {name} is missing from the library's resources.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var etag = "\"" + Convert.ToHexString(SHA256.HashData(bytes).AsSpan(0, 8)) + "\"";
            _assets[name] = new Asset(bytes, contentType, etag);
        }
    }

    /// <summary>The resources' logical names (set in the project file).</summary>
    internal const string ResourcePrefix = "Firestarter.Status.Page.";

    /// <summary>Answers with the file <paramref name="name"/>.</summary>
    public Task ServeAsync(HttpContext context, string name)
    {
        var asset = _assets[name];
        var response = context.Response;
        response.Headers.ETag = asset.ETag;
        // Revalidate every time: the files change only with the library, and a 304 costs one round trip.
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        var ifNoneMatch = context.Request.Headers[HeaderNames.IfNoneMatch].ToString();
        if (ifNoneMatch.Length > 0 && ifNoneMatch.Contains(asset.ETag, StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Bytes.Length;
        return response.Body.WriteAsync(asset.Bytes, context.RequestAborted).AsTask();
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
