using Microsoft.AspNetCore.Http;

namespace Firestarter.Security;

/// <summary>Reads the token of a request's <c>Authorization: Bearer &lt;token&gt;</c> header, for every key check.</summary>
/// <remarks>
/// Hand-written because ASP.NET Core's parser (<c>AuthenticationHeaderValue</c>, in HttpClient's headers) allocates on
/// every call, and a dispatch checks its key on every run.
/// </remarks>
internal static class BearerToken
{
    private const string Prefix = "Bearer ";

    /// <summary>The token when the request has exactly one <c>Authorization</c> header and it is a bearer token; else empty.</summary>
    public static ReadOnlySpan<char> Of(HttpRequest request)
    {
        var values = request.Headers.Authorization;
        return values.Count == 1 && values[0] is { } value && value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            ? value.AsSpan(Prefix.Length).Trim()
            : default;
    }
}
