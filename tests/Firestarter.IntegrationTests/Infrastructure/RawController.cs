using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>How one poll of a <see cref="RawController"/> ended.</summary>
public enum PollEnd
{
    /// <summary>A response arrived (see the status and body).</summary>
    Answered,

    /// <summary>The controller gave up and closed its connection; nothing had arrived.</summary>
    GaveUp,

    /// <summary>The controller gave up, and a run arrived in the instant between its last look and its barrier.</summary>
    GaveUpWithRunInFlight,

    /// <summary>The server closed the connection without a response.</summary>
    Closed,
}

public readonly record struct PollResult(PollEnd End, int Status, string? Body);

/// <summary>
/// A run controller on a raw socket, which can give up on a poll the way Trigger.dev's does (it closes its
/// connection) while accounting exactly for every byte that reached it.
/// </summary>
/// <remarks>
/// An HTTP client library cannot tell a run that arrived in the instant it gave up from one that never came, so
/// a test built on one could not judge exactness. This controller gives up in two steps: anything that has
/// already arrived is taken as the answer (the connection stays open); otherwise it half-closes its connection
/// (<c>shutdown(send)</c>: the broker sees the client leave, exactly as it sees a close) and reads on until the
/// broker closes its end. TCP delivers everything the broker wrote before that close, so a run written in the
/// instant the controller gave up is seen, and reported as <see cref="PollEnd.GaveUpWithRunInFlight"/>: the one
/// case in which a real client, which closes outright, could lose a run by leaving.
/// </remarks>
public sealed class RawController : IDisposable
{
    private readonly IPEndPoint _endpoint;
    private readonly byte[] _request;
    private readonly byte[] _buffer = new byte[256 * 1024];
    private Socket? _socket;

    public RawController(Uri broker, Key key, string controllerId)
    {
        _endpoint = new IPEndPoint(IPAddress.Parse(broker.Host), broker.Port);
        _request = Encoding.ASCII.GetBytes(
            "GET /warm-start HTTP/1.1\r\n" +
            $"Host: {broker.Authority}\r\n" +
            $"x-trigger-workload-controller-id: {controllerId}\r\n" +
            $"x-trigger-deployment-id: {key.Deployment}\r\n" +
            $"x-trigger-deployment-version: {key.Version}\r\n" +
            $"x-trigger-machine-cpu: {key.Cpu}\r\n" +
            $"x-trigger-machine-memory: {key.Memory}\r\n" +
            "x-trigger-worker-instance-name: raw\r\n\r\n");
    }

    /// <summary>Polls once; gives up after <paramref name="giveUpAfter"/> (or when <paramref name="stop"/> fires).</summary>
    public async Task<PollResult> PollAsync(TimeSpan? giveUpAfter, CancellationToken stop)
    {
        if (_socket is null)
        {
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await _socket.ConnectAsync(_endpoint, stop);
            // Reads are only ever attempted after a zero-byte receive said data is there; never block a thread.
            _socket.Blocking = false;
        }

        var socket = _socket;
        await socket.SendAsync(_request, SocketFlags.None, stop);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (giveUpAfter is { } delay)
        {
            giveUp.CancelAfter(delay);
        }

        var filled = 0;
        while (true)
        {
            // Wait for data with a zero-byte receive: giving up then never races a read that took bytes away.
            try
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, giveUp.Token);
            }
            catch (OperationCanceledException)
            {
                return await GiveUpAsync(socket, filled);
            }
            catch (SocketException)
            {
                Close();
                return new PollResult(PollEnd.Closed, 0, null);
            }

            var read = ReadAvailable(socket, ref filled);
            if (read < 0)
            {
                continue;
            }

            if (read == 0)
            {
                Close();
                return new PollResult(PollEnd.Closed, 0, null);
            }

            if (TryParse(filled, out var status, out var body))
            {
                return new PollResult(PollEnd.Answered, status, body);
            }
        }
    }

    public void Dispose() => Close();

    private async Task<PollResult> GiveUpAsync(Socket socket, int filled)
    {
        // Already here before giving up: that is the answer, and the connection stays as it is.
        if (filled > 0 || socket.Available > 0)
        {
            return await ReadRestAsync(socket, filled, PollEnd.Answered);
        }

        // Tell the broker we left, then take whatever it had already written until it closes its end.
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var result = new PollResult(PollEnd.GaveUp, 0, null);
        while (true)
        {
            try
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                break;
            }

            var read = ReadAvailable(socket, ref filled);
            if (read == 0)
            {
                break;
            }

            if (read > 0 && TryParse(filled, out var status, out var body))
            {
                result = new PollResult(PollEnd.GaveUpWithRunInFlight, status, body);
            }
        }

        Close();
        return result;
    }

    // Reads the rest of a response whose first bytes are here; on loopback the whole of it is, or is about to be.
    private async Task<PollResult> ReadRestAsync(Socket socket, int filled, PollEnd end)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        int status;
        string? body;
        while (!TryParse(filled, out status, out body))
        {
            if (socket.Available == 0)
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token);
            }

            if (ReadAvailable(socket, ref filled) == 0)
            {
                throw new InvalidOperationException("A response was cut off mid-way.");
            }
        }

        return new PollResult(end, status, body);
    }

    // Reads what the kernel holds, without blocking: the count read, 0 at the end of the stream or on an error,
    // -1 when nothing is there yet.
    private int ReadAvailable(Socket socket, ref int filled)
    {
        var read = socket.Receive(_buffer, filled, _buffer.Length - filled, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return -1;
        }

        if (error != SocketError.Success)
        {
            return 0;
        }

        filled += read;
        return read;
    }

    private bool TryParse(int filled, out int status, out string? body)
    {
        status = 0;
        body = null;
        var data = _buffer.AsSpan(0, filled);
        var headerEnd = data.IndexOf("\r\n\r\n"u8);
        if (headerEnd < 0)
        {
            return false;
        }

        var head = Encoding.ASCII.GetString(data[..headerEnd]);
        status = int.Parse(head.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var length = 0;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        if (filled < headerEnd + 4 + length)
        {
            return false;
        }

        body = Encoding.UTF8.GetString(data.Slice(headerEnd + 4, length));
        return true;
    }

    private void Close()
    {
        _socket?.Dispose();
        _socket = null;
    }
}
