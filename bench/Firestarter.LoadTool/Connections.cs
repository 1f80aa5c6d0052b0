using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Firestarter.LoadTool;

/// <summary>A counter shared between threads (connections opened, controllers ready).</summary>
internal sealed class Counter
{
    private long _value;

    public long Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}

/// <summary>
/// What a controller's connection tells about its current poll. The controller's async flow carries it
/// (<see cref="Current"/>), so the connection that writes the poll's request can attach itself to it.
/// </summary>
internal sealed class PollConnectionSlot
{
    private static readonly AsyncLocal<PollConnectionSlot?> s_current = new();
    private int _everWritten;
    private volatile TrackedConnectionStream? _connection;

    /// <summary>The slot of the controller whose async flow is running (set once at the controller's start).</summary>
    public static PollConnectionSlot? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <summary>Called once, the first time one of this controller's polls is on the wire.</summary>
    public Action? FirstWrite { get; init; }

    /// <summary>The connection that carried the current poll, if its request was written.</summary>
    public TrackedConnectionStream? Connection => _connection;

    public void BeginPoll() => _connection = null;

    internal void Attach(TrackedConnectionStream connection)
    {
        _connection = connection;
        if (_everWritten == 0 && Interlocked.Exchange(ref _everWritten, 1) == 0)
        {
            FirstWrite?.Invoke();
        }
    }
}

/// <summary>
/// A controller connection's socket stream that remembers whether response bytes had arrived when it was closed.
/// When a poll is aborted (its connection closed) just as the broker wrote a run into it, the run is lost on the
/// client's side of the race and no broker could have prevented it; this is how the report tells those losses apart.
/// </summary>
internal sealed class TrackedConnectionStream(Socket socket) : Stream
{
    private readonly NetworkStream _inner = new(socket, ownsSocket: true);
    private long _readSinceWrite;
    private int _unreadAtClose;
    private int _closed;

    /// <summary>Closed with bytes of an answer read but not yet consumed by a completed request, or still unread in the socket.</summary>
    public bool ClosedWithResponsePending => Volatile.Read(ref _closed) == 1 && (Volatile.Read(ref _readSinceWrite) > 0 || Volatile.Read(ref _unreadAtClose) > 0);

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = _inner.ReadAsync(buffer, cancellationToken);
        if (read.IsCompletedSuccessfully)
        {
            var count = read.Result;
            CountRead(count);
            return new ValueTask<int>(count);
        }

        return AwaitRead(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        var count = _inner.Read(buffer);
        CountRead(count);
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BeforeWrite();
        return _inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        BeforeWrite();
        _inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _closed, 1) == 0)
        {
            try
            {
                Volatile.Write(ref _unreadAtClose, socket.Available);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already broken: nothing to tell.
            }

            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void BeforeWrite()
    {
        // A new request: whatever was read so far belonged to an answer that has been consumed.
        Volatile.Write(ref _readSinceWrite, 0);
        PollConnectionSlot.Current?.Attach(this);
    }

    private void CountRead(int count)
    {
        if (count > 0)
        {
            Interlocked.Add(ref _readSinceWrite, count);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AwaitRead(ValueTask<int> read)
    {
        var count = await read.ConfigureAwait(false);
        CountRead(count);
        return count;
    }
}

/// <summary>Builds the two HTTP/1.1 clients: one connection per in-flight request, no pool lifetime, no extras.</summary>
internal static class HttpClients
{
    /// <param name="maxConnectionsPerServer">
    /// The most requests in flight to one target (controllers or dispatchers sharing it): every in-flight long poll
    /// gets its own connection (HTTP/1.1 has no multiplexing), and never more. The bound matters: a request cancelled
    /// while its connection is still being opened leaves that connection to the pool, so without it aborted polls
    /// would pile up idle connections, and one process has only so many file descriptors.
    /// </param>
    public static SocketsHttpHandler CreateHandler(SemaphoreSlim connectLimiter, Counter connections, int maxConnectionsPerServer, bool trackPolls) => new()
    {
        MaxConnectionsPerServer = maxConnectionsPerServer,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        // No traceparent header, no diagnostics handler on the hot path.
        ActivityHeadersPropagator = null,
        ConnectCallback = async (context, cancellationToken) =>
        {
            await connectLimiter.WaitAsync(cancellationToken).ConfigureAwait(false);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                connections.Increment();
                return trackPolls ? new TrackedConnectionStream(socket) : new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            finally
            {
                connectLimiter.Release();
            }
        },
    };
}
