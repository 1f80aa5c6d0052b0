using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Firestarter.IntegrationTests.Infrastructure;

namespace Firestarter.IntegrationTests.Operations;

/// <summary>Admin endpoints on a port of their own, behind an API key; the public listener does not expose them.</summary>
public sealed class AdminAccessTests
{
    private const string ApiKey = "test-admin-key-0123456789";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Admin_endpoints_answer_only_on_the_admin_port_and_numbers_only_with_the_key()
    {
        var adminPort = FreePort();
        await using var broker = new BrokerFactory(
            new Dictionary<string, string?>
            {
                ["Firestarter:Operations:Port"] = adminPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Firestarter:Operations:ApiKey"] = ApiKey,
            },
            kestrel: false);
        // The public listener first (the factory's address is the first one), then the admin port.
        broker.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, adminPort);
        });
        var publicAddress = broker.Start();
        Assert.NotEqual(adminPort, publicAddress.Port);
        using var publicClient = new HttpClient { BaseAddress = publicAddress };
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };

        foreach (var path in (string[])["/healthz", "/readyz", "/metrics", "/firestarter", "/firestarter/status", "/firestarter/page.js"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-Api-Key", ApiKey);
            using var response = await publicClient.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} on the public port answered {(int)response.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/firestarter")).StatusCode);

        foreach (var path in (string[])["/firestarter/status", "/metrics"])
        {
            using var anonymous = await admin.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

            using var wrong = new HttpRequestMessage(HttpMethod.Get, path);
            wrong.Headers.Add("X-Api-Key", ApiKey + "x");
            Assert.Equal(HttpStatusCode.Unauthorized, (await admin.SendAsync(wrong)).StatusCode);

            using var withHeader = new HttpRequestMessage(HttpMethod.Get, path);
            withHeader.Headers.Add("X-Api-Key", ApiKey);
            Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(withHeader)).StatusCode);

            using var withBearer = new HttpRequestMessage(HttpMethod.Get, path);
            withBearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            using var bearerResponse = await admin.SendAsync(withBearer);
            Assert.Equal(HttpStatusCode.OK, bearerResponse.StatusCode);
            Assert.DoesNotContain(ApiKey, await bearerResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Firestarter:Operations:Port", "70000", "Firestarter:Operations:Port")]
    [InlineData("Firestarter:Operations:ApiKey", "short", "Firestarter:Operations:ApiKey")]
    [InlineData("Firestarter:Operations:TopKeys", "0", "Firestarter:Operations:TopKeys")]
    public async Task Bad_operations_options_stop_the_host_naming_the_key(string key, string value, string named)
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { [key] = value });
        var error = Assert.ThrowsAny<Exception>(() => broker.Start());
        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }
}
