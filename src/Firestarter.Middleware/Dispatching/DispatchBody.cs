using System.Buffers;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Dispatching;

/// <summary>
/// A dispatch body read whole into a pooled buffer, so that its bytes can be parsed, handed to a controller and,
/// on the cold-start path, forwarded again, all without a copy on the managed heap. Return it with
/// <see cref="Dispose"/>.
/// </summary>
internal sealed class DispatchBody : IDisposable
{
    private byte[] _buffer;

    private DispatchBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>The pooled array behind the body (its first <see cref="Length"/> bytes are the body).</summary>
    public byte[] Array => _buffer;

    /// <summary>
    /// Reads the request body up to <paramref name="limit"/> bytes. Returns null with a problem when the body is too
    /// large or malformed, and null without one when the client went away mid-body.
    /// </summary>
    public static async ValueTask<(DispatchBody? Body, Problem? Problem)> ReadAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return (null, Problem.BodyTooLarge(limit));
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(request.ContentLength ?? 4096, limit));
        var length = 0;
        try
        {
            var reader = request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                var data = result.Buffer;
                if (length + data.Length > limit)
                {
                    reader.AdvanceTo(data.End);
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, Problem.BodyTooLarge(limit));
                }

                if (length + data.Length > buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(buffer.Length * 2L, length + data.Length), limit));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                data.CopyTo(buffer.AsSpan(length));
                length += (int)data.Length;
                reader.AdvanceTo(data.End);
                if (result.IsCompleted)
                {
                    return (new DispatchBody(buffer, length), null);
                }
            }
        }
        catch (BadHttpRequestException ex)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return (null, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? Problem.BodyTooLarge(limit)
                : Problem.BadBody($"The body could not be read: {ex.Message}"));
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The supervisor went away mid-body: there is nobody to answer.
            ArrayPool<byte>.Shared.Return(buffer);
            return (null, null);
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
