using System.Net;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;

namespace Firestarter.IntegrationTests;

public sealed class ConnectTests
{
    [Fact]
    public async Task Connect_answers_the_configured_timings()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["Firestarter:ConnectionTimeout"] = "00:00:12",
            ["Firestarter:Keepalive"] = "00:02:00",
        });
        using var client = new HttpClient { BaseAddress = broker.Start() };

        using var response = await client.GetAsync("/connect");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(12000, json.RootElement.GetProperty("connectionTimeoutMs").GetInt64());
        Assert.Equal(120000, json.RootElement.GetProperty("keepaliveMs").GetInt64());
    }
}
