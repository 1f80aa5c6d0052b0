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

    /// <summary>The server had already torn the connection down when the watch began.</summary>
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
/// The server may close the socket during the write, if the client leaves just then, and the last reading matters
/// most in exactly that case. So the watch reads through its own duplicate of the descriptor (<c>dup</c>), which
/// keeps the kernel's socket, and its state, until the watch is disposed, a few microseconds later. It must not
/// instead hold a reference on the server's <see cref="SafeHandle"/> across the write: the server aborts a
/// connection while holding its output lock and then closes the socket, which waits for every reference, while the
/// write waits for that lock. Only sockets of the server's own TCP transport on Linux are watched; elsewhere readings
/// are <see cref="TcpState.Unknown"/> and the server's abort signal is all there is.
/// </para>
/// </remarks>
internal readonly partial struct ConnectionWatch : IDisposable
{
    private const int IpProtoTcp = 6;
    private const int TcpInfoOption = 11;

    // struct tcp_info: eight one-byte fields, twenty-four 32-bit fields, then 64-bit pacing_rate, max_pacing_rate
    // and bytes_acked (Linux 4.1 and later).
    private const int BytesAckedOffset = 120;
    private const int ReadLength = BytesAckedOffset + sizeof(ulong);

    // Our duplicate descriptor, plus one; zero (the default) means none.
    private readonly int _descriptorPlusOne;

    private ConnectionWatch(int descriptor) => _descriptorPlusOne = descriptor + 1;

    /// <summary>Starts watching the poll's connection and takes the first reading.</summary>
    public static ConnectionWatch Start(HttpContext context, out TcpReading reading)
    {
        reading = default;
        if (!OperatingSystem.IsLinux()
            || context.Features.Get<IConnectionSocketFeature>()?.Socket is not { ProtocolType: ProtocolType.Tcp } socket)
        {
            return default;
        }

        var added = false;
        SafeHandle? handle = null;
        try
        {
            handle = socket.SafeHandle;
            // The reference only spans the dup: the server's descriptor cannot be closed (and its number reused by
            // another connection) under it.
            handle.DangerousAddRef(ref added);
            var descriptor = Duplicate((int)handle.DangerousGetHandle());
            if (descriptor < 0)
            {
                return default;
            }

            var watch = new ConnectionWatch(descriptor);
            reading = watch.Read();
            return watch;
        }
        catch (ObjectDisposedException)
        {
            // The server tears a connection down once it has processed the client's close, at times before it has
            // signalled the request's abort.
            reading = new TcpReading(TcpState.TornDown, 0, false);
            return default;
        }
        finally
        {
            if (added)
            {
                handle!.DangerousRelease();
            }
        }
    }

    /// <summary>Reads the connection now.</summary>
    public TcpReading Read()
    {
        if (_descriptorPlusOne == 0)
        {
            return default;
        }

        Span<byte> info = stackalloc byte[ReadLength];
        var length = ReadLength;
        if (GetSocketOption(_descriptorPlusOne - 1, IpProtoTcp, TcpInfoOption, info, ref length) != 0 || length < 1)
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

    /// <summary>Stops watching: closes the duplicate, so a close the server made meanwhile takes effect.</summary>
    public void Dispose()
    {
        if (_descriptorPlusOne != 0)
        {
            _ = Close(_descriptorPlusOne - 1);
        }
    }

    // No SetLastError: a failed call only means "no reading", and errno is never read, so saving it around each of
    // the handoff's four calls would be work for nothing.
    [LibraryImport("libc", EntryPoint = "getsockopt")]
    private static partial int GetSocketOption(int socket, int level, int optionName, Span<byte> optionValue, ref int optionLength);

    [LibraryImport("libc", EntryPoint = "dup")]
    private static partial int Duplicate(int descriptor);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
