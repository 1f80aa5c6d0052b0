using System.Net;
using Firestarter.IntegrationTests.Infrastructure;

namespace Firestarter.IntegrationTests;

/// <summary>
/// The host's configuration is checked when it starts: a bad value stops it with a message naming the key.
/// These run on the in-memory test server: only the pipeline and configuration are under test.
/// </summary>
public sealed class ConfigurationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Firestarter:ConnectionTimeout", "00:00:00", "Firestarter:ConnectionTimeout" },
        { "Firestarter:Keepalive", "00:00:01", "Firestarter:Keepalive" },
        { "Firestarter:MaxPollDuration", "-00:00:01", "Firestarter:MaxPollDuration" },
        { "Firestarter:MaxDispatchBodySize", "10", "Firestarter:MaxDispatchBodySize" },
        { "Firestarter:ColdStart:FailureRatio", "1.5", "Firestarter:ColdStart:FailureRatio" },
        { "Firestarter:ColdStart:Mode", "Teleport", "Mode" },
        { "Firestarter:ConnectionTimeout", "soon", "ConnectionTimeout" },
        { "Firestarter:ConectionTimeout", "00:00:10", "ConectionTimeout" },
        { "ReverseProxy:Routes:warm-start-poll:Metadata:Firestarter", "Pol", "warm-start-poll" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task A_bad_setting_stops_the_host_with_a_message_naming_the_key(string key, string value, string named)
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { [key] = value }, kestrel: false);

        var error = Record.Exception(() => broker.CreateClient());

        Assert.NotNull(error);
        Assert.Contains(named, Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_shipped_configuration_starts_and_serves_connect()
    {
        await using var broker = new BrokerFactory(kestrel: false);
        using var client = broker.CreateClient();

        using var response = await client.GetAsync("/connect");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Routes_can_be_moved_by_configuration_alone()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:warm-start-connect:Match:Path"] = "/broker/connect",
        }, kestrel: false);
        using var client = broker.CreateClient();

        using var moved = await client.GetAsync("/broker/connect");

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Contains("connectionTimeoutMs", await moved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string Flatten(Exception error)
    {
        var text = new System.Text.StringBuilder();
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            text.AppendLine(current.Message);
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    text.AppendLine(Flatten(inner));
                }
            }
        }

        return text.ToString();
    }
}
