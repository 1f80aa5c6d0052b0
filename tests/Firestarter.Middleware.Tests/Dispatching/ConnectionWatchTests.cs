using System.Net;
using System.Net.Sockets;
using Firestarter.Dispatching;
using Firestarter.Tests.TestSupport;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Tests.Dispatching;

public class ConnectionWatchTests
{
    [Fact]
    public void Without_a_socket_every_reading_is_unknown()
    {
        using var client = new TestContext();

        var watch = ConnectionWatch.Start(client.Context, out var first);
        var second = watch.Read();

        Assert.Equal(new TcpReading(TcpState.Unknown, 0, false), first);
        Assert.Equal(new TcpReading(TcpState.Unknown, 0, false), second);
    }

    [Fact]
    public async Task A_live_connection_reads_established_and_counts_what_the_client_acknowledged()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // TCP_INFO is read on Linux only; elsewhere the first test covers the behaviour.
        }

        using var pair = await SocketPair.OpenAsync();

        var watch = ConnectionWatch.Start(pair.ServerContext, out var before);
        await pair.Server.SendAsync(new byte[100]);
        var received = 0;
        var buffer = new byte[100];
        while (received < 100)
        {
            received += await pair.Client.ReceiveAsync(buffer.AsMemory(received));
        }

        var after = await ReadUntilAsync(watch, r => r.BytesAcked >= before.BytesAcked + 100);

        Assert.Equal(TcpState.Established, before.State);
        Assert.True(before.HasBytesAcked);
        Assert.Equal(TcpState.Established, after.State);
        Assert.Equal(before.BytesAcked + 100, after.BytesAcked);
    }

    [Fact]
    public async Task A_client_that_closed_its_end_reads_closed_by_client()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // TCP_INFO is read on Linux only; elsewhere the first test covers the behaviour.
        }

        using var pair = await SocketPair.OpenAsync();
        var watch = ConnectionWatch.Start(pair.ServerContext, out _);

        pair.Client.Shutdown(SocketShutdown.Send);

        Assert.Equal(TcpState.ClosedByClient, (await ReadUntilAsync(watch, r => r.State != TcpState.Established)).State);
    }

    [Fact]
    public async Task A_client_reset_reads_closed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // TCP_INFO is read on Linux only; elsewhere the first test covers the behaviour.
        }

        using var pair = await SocketPair.OpenAsync();
        var watch = ConnectionWatch.Start(pair.ServerContext, out _);

        pair.Client.LingerState = new LingerOption(true, 0);
        pair.Client.Close();

        Assert.Equal(TcpState.Closed, (await ReadUntilAsync(watch, r => r.State != TcpState.Established)).State);
    }

    [Fact]
    public async Task A_watch_does_not_hold_up_the_server_closing_its_socket_and_reads_torn_down_after()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // TCP_INFO is read on Linux only.
        }

        using var pair = await SocketPair.OpenAsync();
        var watch = ConnectionWatch.Start(pair.ServerContext, out var first);
        pair.Client.LingerState = new LingerOption(true, 0);
        pair.Client.Close();

        // The server closes its socket as it does when a client leaves mid-write. Closing waits for every
        // reference on the handle, so a watch that kept one would hang here.
        await Task.Run(pair.Server.Dispose).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(TcpState.Established, first.State);
        Assert.Equal(new TcpReading(TcpState.TornDown, 0, false), watch.Read());
        ConnectionWatch.Start(pair.ServerContext, out var late);
        Assert.Equal(TcpState.TornDown, late.State);
    }

    // The kernel updates the state as it processes the peer's segments; on loopback that is all but immediate.
    private static async Task<TcpReading> ReadUntilAsync(ConnectionWatch watch, Func<TcpReading, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        var reading = watch.Read();
        while (!done(reading) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
            reading = watch.Read();
        }

        return reading;
    }

    private sealed class SocketPair : IDisposable
    {
        private SocketPair(Socket client, Socket server)
        {
            Client = client;
            Server = server;
            ServerContext = new DefaultHttpContext();
            ServerContext.Features.Set<IConnectionSocketFeature>(new SocketFeature(server));
        }

        public Socket Client { get; }

        public Socket Server { get; }

        public HttpContext ServerContext { get; }

        public static async Task<SocketPair> OpenAsync()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var accept = listener.AcceptAsync();
            await client.ConnectAsync(listener.LocalEndPoint!);
            return new SocketPair(client, await accept);
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }

        private sealed class SocketFeature(Socket socket) : IConnectionSocketFeature
        {
            public Socket Socket { get; } = socket;
        }
    }
}
