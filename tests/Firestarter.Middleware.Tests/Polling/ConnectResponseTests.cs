using System.Text;
using System.Text.Json;
using Firestarter.Polling;

namespace Firestarter.Tests.Polling;

public class ConnectResponseTests
{
    private static (long ConnectionTimeoutMs, long KeepaliveMs) Parse(byte[] encoded)
    {
        using var json = JsonDocument.Parse(encoded);
        var members = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["connectionTimeoutMs", "keepaliveMs"], members);
        return (json.RootElement.GetProperty("connectionTimeoutMs").GetInt64(), json.RootElement.GetProperty("keepaliveMs").GetInt64());
    }

    [Fact]
    public void Defaults_are_thirty_seconds_and_five_minutes()
    {
        var encoded = ConnectResponse.Encode(new FirestarterOptions());

        Assert.Equal("""{"connectionTimeoutMs":30000,"keepaliveMs":300000}""", Encoding.UTF8.GetString(encoded));
        Assert.Equal((30_000, 300_000), Parse(encoded));
    }

    [Fact]
    public void Custom_timings_are_sent_in_milliseconds()
    {
        var options = new FirestarterOptions
        {
            ConnectionTimeout = TimeSpan.FromMilliseconds(1500),
            Keepalive = TimeSpan.FromMinutes(2),
        };

        Assert.Equal((1500, 120_000), Parse(ConnectResponse.Encode(options)));
    }

    [Fact]
    public void Timings_beyond_a_32_bit_millisecond_count_are_not_truncated()
    {
        var options = new FirestarterOptions
        {
            ConnectionTimeout = TimeSpan.FromDays(30),
            Keepalive = TimeSpan.FromDays(60),
        };

        Assert.Equal((2_592_000_000, 5_184_000_000), Parse(ConnectResponse.Encode(options)));
    }

    [Fact]
    public void When_disabled_both_are_zero()
    {
        var options = new FirestarterOptions
        {
            Enabled = false,
            ConnectionTimeout = TimeSpan.FromSeconds(10),
            Keepalive = TimeSpan.FromMinutes(1),
        };

        var encoded = ConnectResponse.Encode(options);

        Assert.Equal("""{"connectionTimeoutMs":0,"keepaliveMs":0}""", Encoding.UTF8.GetString(encoded));
        Assert.Equal((0, 0), Parse(encoded));
    }
}
