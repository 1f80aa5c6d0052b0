using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.Tests.TestSupport;

/// <summary>A request lifetime whose abort signal the test controls and whose Abort() is observable.</summary>
internal sealed class TestRequestLifetime : IHttpRequestLifetimeFeature, IDisposable
{
    public CancellationTokenSource Source { get; } = new();

    public CancellationToken RequestAborted { get => Source.Token; set => throw new NotSupportedException(); }

    public int AbortCalls { get; private set; }

    public void Abort() => AbortCalls++;

    public void Dispose() => Source.Dispose();
}

/// <summary>An HttpContext whose response body is captured and whose request lifetime the test controls.</summary>
internal sealed class TestContext : IDisposable
{
    public TestContext(Stream? responseBody = null)
    {
        ResponseBody = responseBody ?? new MemoryStream();
        Context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(ResponseBody));
        Context.Features.Set<IHttpRequestLifetimeFeature>(Lifetime);
    }

    public DefaultHttpContext Context { get; } = new();

    public Stream ResponseBody { get; }

    public TestRequestLifetime Lifetime { get; } = new();

    public byte[] ResponseBytes => ((MemoryStream)ResponseBody).ToArray();

    public void ClientLeaves() => Lifetime.Source.Cancel();

    public void Dispose()
    {
        Lifetime.Dispose();
        ResponseBody.Dispose();
    }
}

/// <summary>A stream that records what is written, and can act on or fail a write.</summary>
internal sealed class ScriptedStream(Action? onWrite = null, Exception? failWith = null) : MemoryStream
{
    public override void Write(byte[] buffer, int offset, int count)
    {
        onWrite?.Invoke();
        if (failWith is not null)
        {
            throw failWith;
        }

        base.Write(buffer, offset, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer, offset, count);
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }
}
