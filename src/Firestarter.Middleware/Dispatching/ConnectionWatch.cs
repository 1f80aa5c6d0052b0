using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Dispatching;

/// <summary>What the kernel says about a held poll's TCP connection at one instant.</summary>
internal enum TcpState
{
    /// <summary>No answer: not a TCP socket of the server's own transport, or not Linux.</summary>
    Unknown,

    /// <summary>Established: both ends open.</summary>
    Established,

    /// <summary>The client has closed its end (its FIN arrived): it sends no more, and gave up if it was waiting.</summary>
    ClosedByClient,

    /// <summary>The connection is gone: reset by the client, or closed on both ends.</summary>
    Closed,

    /// <summary>The server had already closed its socket when the reading was taken.</summary>
    TornDown,

    /// <summary>Any other state (the server has begun to close it).</summary>
    Other,
}

/// <summary>A reading of a connection: its state, and how many bytes the client's kernel has acknowledged so far.</summary>
internal readonly record struct TcpReading(TcpState State, ulong BytesAcked, bool HasBytesAcked);

/// <summary>
/// Reads a held poll's TCP connection in the kernel (<c>TCP_INFO</c>) before and after the write of a run, without
/// touching its data.
/// </summary>
/// <remarks>
/// <para>
/// The server learns that a client left (<see cref="HttpContext.RequestAborted"/>) only once its transport has
/// processed the close, a scheduling hop or more after the kernel saw it; under load that lag is what lets a run be
/// written to a client that is already gone. The kernel's TCP state is current, and costs one system call.
/// </para>
/// <para>
/// Comparing the acknowledged byte count before and after the write tells the two ends of a write apart: a client
/// whose kernel reset the connection without acknowledging the run refused it (it never got it); a client whose
/// kernel acknowledged it has it, whatever it does next.
/// </para>
/// <para>
/// Each reading goes through the server's own socket handle, with a reference held for that one call only, so the
/// descriptor cannot be closed (and its number given to another connection) under it. No reference is held across
/// the write: the server aborts a connection while holding its output lock and then closes the socket, which waits
/// for every reference, while the write waits for that lock. So the server may have closed the socket by the time
/// of the reading after the write; that reading is then <see cref="TcpState.TornDown"/>, and the write's own result
/// says what it needs to (see <see cref="Handoff"/>): the server completes a connection's output under the same lock
/// before it closes the socket, so a write that found it completed sent nothing. Only sockets of the server's own TCP
/// transport on Linux are watched; elsewhere readings are <see cref="TcpState.Unknown"/> and the server's abort
/// signal is all there is.
/// </para>
/// </remarks>
internal readonly partial struct ConnectionWatch
{
    private const int IpProtoTcp = 6;
    private const int TcpInfoOption = 11;

    // struct tcp_info: eight one-byte fields, twenty-four 32-bit fields, then 64-bit pacing_rate, max_pacing_rate
    // and bytes_acked (Linux 4.1 and later).
    private const int BytesAckedOffset = 120;
    private const int ReadLength = BytesAckedOffset + sizeof(ulong);

    // The server's handle of the poll's socket; null when the connection is not watched.
    private readonly SafeHandle? _handle;

    private ConnectionWatch(SafeHandle handle) => _handle = handle;

    /// <summary>Starts watching the poll's connection and takes the first reading.</summary>
    public static ConnectionWatch Start(HttpContext context, out TcpReading reading)
    {
        if (!OperatingSystem.IsLinux()
            || context.Features.Get<IConnectionSocketFeature>()?.Socket is not { ProtocolType: ProtocolType.Tcp } socket)
        {
            reading = default;
            return default;
        }

        var watch = new ConnectionWatch(socket.SafeHandle);
        reading = watch.Read();
        return watch;
    }

    /// <summary>Reads the connection now.</summary>
    public TcpReading Read()
    {
        if (_handle is null)
        {
            return default;
        }

        var added = false;
        try
        {
            // The reference spans this one call: the server's descriptor cannot be closed under it.
            _handle.DangerousAddRef(ref added);
            return Read((int)_handle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // The server has closed its socket: it does so once it has processed the client's close, or aborted the
            // connection, at times before it has signalled the request's abort.
            return new TcpReading(TcpState.TornDown, 0, false);
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    private static TcpReading Read(int descriptor)
    {
        Span<byte> info = stackalloc byte[ReadLength];
        var length = ReadLength;
        if (GetSocketOption(descriptor, IpProtoTcp, TcpInfoOption, info, ref length) != 0 || length < 1)
        {
            return default;
        }

        var state = info[0] switch
        {
            1 => TcpState.Established, // TCP_ESTABLISHED
            8 => TcpState.ClosedByClient, // TCP_CLOSE_WAIT
            7 => TcpState.Closed, // TCP_CLOSE
            _ => TcpState.Other,
        };
        return length >= ReadLength
            ? new TcpReading(state, BinaryPrimitives.ReadUInt64LittleEndian(info[BytesAckedOffset..]), true)
            : new TcpReading(state, 0, false);
    }

    // No SetLastError: a failed call only means "no reading", and errno is never read, so saving it around each of
    // the handoff's calls would be work for nothing.
    [LibraryImport("libc", EntryPoint = "getsockopt")]
    private static partial int GetSocketOption(int socket, int level, int optionName, Span<byte> optionValue, ref int optionLength);
}
