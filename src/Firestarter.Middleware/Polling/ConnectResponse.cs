using System.Text;

namespace Firestarter.Polling;

/// <summary>
/// The answer to <c>GET /connect</c>: how long a controller should hold each poll and how long it should keep
/// polling in total. Both zero tells Trigger.dev's controller that warm starts are off, and it exits cleanly.
/// </summary>
internal static class ConnectResponse
{
    public static byte[] Encode(FirestarterOptions options)
    {
        var connectionTimeoutMs = options.Enabled ? (long)options.ConnectionTimeout.TotalMilliseconds : 0;
        var keepaliveMs = options.Enabled ? (long)options.Keepalive.TotalMilliseconds : 0;
        return Encoding.UTF8.GetBytes(
            $$"""{"connectionTimeoutMs":{{connectionTimeoutMs}},"keepaliveMs":{{keepaliveMs}}}""");
    }
}
