using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Dispatching;

/// <summary>What the kernel knows about a held poll's TCP connection.</summary>
internal enum ConnectionState
{
    /// <summary>Established: the client is still there.</summary>
    Live,

    /// <summary>The client has closed or reset its end, or the server has already torn the connection down.</summary>
    Closing,

    /// <summary>Not known (no socket, not Linux): rely on the server's abort signal alone.</summary>
    Unknown,
}

/// <summary>
/// Asks the kernel, without reading anything, whether a held poll's connection is still established.
/// </summary>
/// <remarks>
/// The server learns that a client left (<see cref="HttpContext.RequestAborted"/>) only after its transport has
/// processed the close, one scheduling hop or more after the kernel saw it; under load that lag is what lets a run
/// be written to a client that has already gone. The TCP state (<c>TCP_INFO</c>) is the kernel's own, current
/// answer, and costs one system call. It is read only for sockets of the server's own TCP transport on Linux.
/// </remarks>
internal static class ConnectionProbe
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const byte TcpEstablished = 1;

    public static ConnectionState Check(HttpContext context)
    {
        if (!OperatingSystem.IsLinux()
            || context.Features.Get<IConnectionSocketFeature>()?.Socket is not { ProtocolType: ProtocolType.Tcp } socket)
        {
            return ConnectionState.Unknown;
        }

        // The first byte of struct tcp_info is the connection's state; the kernel copies only what is asked for.
        Span<byte> state = stackalloc byte[1];
        try
        {
            return socket.GetRawSocketOption(IpProtoTcp, TcpInfo, state) == 1 && state[0] == TcpEstablished
                ? ConnectionState.Live
                : ConnectionState.Closing;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // The server disposes the socket once it has processed the client's close.
            return ConnectionState.Closing;
        }
    }
}
