using Firestarter.ColdStart;

namespace Firestarter.Tests.ColdStart;

public class CappedBufferStreamTests
{
    private static readonly string[] Writers = ["array", "span", "array-async", "memory-async", "byte"];

    public static TheoryData<string> WriterNames => [.. Writers];

    private static async Task WriteAsync(CappedBufferStream stream, string writer, byte[] data)
    {
        switch (writer)
        {
            case "array":
                stream.Write(data, 0, data.Length);
                break;
            case "span":
                stream.Write(data.AsSpan());
                break;
            case "array-async":
#pragma warning disable CA1835 // The array overload is exactly what is under test.
                await stream.WriteAsync(data, 0, data.Length, CancellationToken.None);
#pragma warning restore CA1835
                break;
            case "memory-async":
                await stream.WriteAsync(data.AsMemory(), CancellationToken.None);
                break;
            default:
                foreach (var b in data)
                {
                    stream.WriteByte(b);
                }

                break;
        }
    }

    [Theory]
    [MemberData(nameof(WriterNames))]
    public async Task Writes_up_to_the_limit_are_kept(string writer)
    {
        using var stream = new CappedBufferStream(8);

        await WriteAsync(stream, writer, [1, 2, 3, 4, 5]);
        await WriteAsync(stream, writer, [6, 7, 8]);

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, stream.ToArray());
    }

    [Theory]
    [MemberData(nameof(WriterNames))]
    public async Task A_write_past_the_limit_is_refused_whole_and_names_the_setting(string writer)
    {
        using var stream = new CappedBufferStream(8);
        await WriteAsync(stream, writer, [1, 2, 3, 4, 5, 6]);

        var error = await Assert.ThrowsAsync<IOException>(() => WriteAsync(stream, writer, [7, 8, 9]));

        Assert.Contains("8 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("Firestarter:ColdStart:MaxResponseBodySize", error.Message, StringComparison.Ordinal);
        if (writer != "byte")
        {
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, stream.ToArray());
        }
        else
        {
            Assert.Equal(8, stream.Length);
        }
    }
}
