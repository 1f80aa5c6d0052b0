using Firestarter.Dispatching;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Tests.Dispatching;

public class DispatchBodyTests
{
    private static DefaultHttpContext Request(Stream body, long? contentLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        return context;
    }

    private static byte[] Bytes(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(4096)]
    public async Task A_body_with_a_length_is_read_whole(int length)
    {
        var data = Bytes(length);

        var (body, problem) = await DispatchBody.ReadAsync(Request(new MemoryStream(data), data.Length), 64 * 1024);

        using (body)
        {
            Assert.Null(problem);
            Assert.NotNull(body);
            Assert.Equal(length, body.Length);
            Assert.Equal(data, body.Span.ToArray());
            Assert.Equal(data, body.Memory.ToArray());
            Assert.Equal(data, body.Array.AsSpan(0, body.Length).ToArray());
        }
    }

    [Fact]
    public async Task A_body_without_a_length_larger_than_the_first_buffer_is_read_whole()
    {
        var data = Bytes(100_000);

        var (body, problem) = await DispatchBody.ReadAsync(Request(new MemoryStream(data), null), 1024 * 1024);

        using (body)
        {
            Assert.Null(problem);
            Assert.Equal(data, body!.Span.ToArray());
        }
    }

    [Fact]
    public async Task A_body_of_exactly_the_limit_is_accepted()
    {
        var data = Bytes(2048);

        var (body, problem) = await DispatchBody.ReadAsync(Request(new MemoryStream(data), null), 2048);

        using (body)
        {
            Assert.Null(problem);
            Assert.Equal(2048, body!.Length);
        }
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_without_reading()
    {
        var stream = new MemoryStream(Bytes(10));

        var (body, problem) = await DispatchBody.ReadAsync(Request(stream, 5000), 4096);

        Assert.Null(body);
        Assert.NotNull(problem);
        Assert.Equal(413, problem.Status);
        Assert.Equal("body-too-large", problem.Code);
        Assert.Contains("4096", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task A_body_without_a_length_that_grows_over_the_limit_is_refused()
    {
        var (body, problem) = await DispatchBody.ReadAsync(Request(new MemoryStream(Bytes(5000)), null), 4096);

        Assert.Null(body);
        Assert.Equal(413, problem!.Status);
    }

    [Fact]
    public async Task A_client_that_went_away_gets_no_body_and_no_problem()
    {
        using var aborted = new CancellationTokenSource();
        var context = Request(new MemoryStream(Bytes(10)), 10);
        context.RequestAborted = aborted.Token;
        await aborted.CancelAsync();

        var (body, problem) = await DispatchBody.ReadAsync(context, 4096);

        Assert.Null(body);
        Assert.Null(problem);
    }

    [Fact]
    public async Task A_connection_that_fails_mid_body_gets_no_body_and_no_problem()
    {
        var (body, problem) = await DispatchBody.ReadAsync(Request(new FailingStream(new IOException("reset")), null), 4096);

        Assert.Null(body);
        Assert.Null(problem);
    }

    [Fact]
    public async Task A_malformed_request_body_is_a_bad_body_problem()
    {
        var stream = new FailingStream(new BadHttpRequestException("Unexpected end of request content.", 400));

        var (body, problem) = await DispatchBody.ReadAsync(Request(stream, null), 4096);

        Assert.Null(body);
        Assert.Equal(400, problem!.Status);
        Assert.Equal("bad-body", problem.Code);
        Assert.Contains("Unexpected end of request content.", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_servers_own_too_large_error_is_a_413()
    {
        var stream = new FailingStream(new BadHttpRequestException("Request body too large.", 413));

        var (body, problem) = await DispatchBody.ReadAsync(Request(stream, null), 4096);

        Assert.Null(body);
        Assert.Equal(413, problem!.Status);
    }

    [Fact]
    public async Task Dispose_returns_the_buffer_once_and_is_idempotent()
    {
        var (body, _) = await DispatchBody.ReadAsync(Request(new MemoryStream(Bytes(10)), 10), 4096);

        body!.Dispose();
        body.Dispose();

        Assert.Empty(body.Array);
    }

    private sealed class FailingStream(Exception error) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw error;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(error);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException<int>(error);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
