using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Firestarter.Diagnostics;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Firestarter.Security;

/// <summary>
/// Admits a dispatch only with one of <see cref="SecurityOptions.DispatchApiKeys"/> as its bearer token, so that
/// only the supervisor can hand out runs.
/// </summary>
/// <remarks>
/// Keys are compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>, against every
/// configured key: how long the check takes says nothing about how much of a key was right, or its length.
/// </remarks>
internal sealed partial class DispatchAuthorization
{
    private const string BearerPrefix = "Bearer ";
    private const int MaxStackKeyBytes = 512;

    private readonly byte[][] _keyDigests;
    private readonly ILogger _logger;

    public DispatchAuthorization(IOptions<FirestarterOptions> options, ILogger<DispatchAuthorization> logger)
    {
        _keyDigests = [.. options.Value.Security.DispatchApiKeys.Select(key => SHA256.HashData(Encoding.UTF8.GetBytes(key)))];
        _logger = logger;
    }

    /// <summary>True when no key is configured: anyone who reaches the dispatch route may dispatch.</summary>
    public bool IsOpen => _keyDigests.Length == 0;

    /// <summary>
    /// Returns null when the dispatch may proceed, else the 401 to answer (with <c>WWW-Authenticate</c> set).
    /// </summary>
    public Problem? Check(HttpContext context)
    {
        if (IsOpen)
        {
            return null;
        }

        var values = context.Request.Headers.Authorization;
        if (values.Count == 1 && values[0] is { } value
            && value.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            && Matches(value.AsSpan(BearerPrefix.Length).Trim()))
        {
            return null;
        }

        Log.Unauthorized(_logger, context.Connection.RemoteIpAddress);

        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
        return SecurityProblems.DispatchKeyRequired();
    }

    private bool Matches(ReadOnlySpan<char> presented)
    {
        var length = Encoding.UTF8.GetMaxByteCount(presented.Length);
        byte[]? rented = null;
        var bytes = length <= MaxStackKeyBytes ? stackalloc byte[MaxStackKeyBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..Encoding.UTF8.GetBytes(presented, bytes)], digest);
            var matched = false;
            foreach (var key in _keyDigests)
            {
                // No early exit: every key is compared, whichever matches.
                matched |= CryptographicOperations.FixedTimeEquals(digest, key);
            }

            return matched;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.DispatchUnauthorized, Level = LogLevel.Debug,
            Message = "Dispatch from {RemoteAddress} refused with 401: no valid API key.")]
        public static partial void Unauthorized(ILogger logger, System.Net.IPAddress? remoteAddress);
    }
}
