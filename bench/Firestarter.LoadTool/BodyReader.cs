using System.Runtime.CompilerServices;

namespace Firestarter.LoadTool;

/// <summary>Reads a whole response body into a caller-owned buffer, growing it when needed.</summary>
internal static class BodyReader
{
    private const int MaxBody = 16 << 20;

    /// <summary>The buffer (the given one, or a bigger replacement) and the body's length.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<(byte[] Buffer, int Length)> ReadAsync(HttpResponseMessage response, byte[] buffer, CancellationToken cancellationToken)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > buffer.Length && declared <= MaxBody)
        {
            buffer = new byte[(int)declared];
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var total = 0;
            while (declared is not { } expected || total < expected)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length >= MaxBody)
                    {
                        throw new IOException($"Response body larger than {MaxBody} bytes.");
                    }

                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return (buffer, total);
        }
    }
}
