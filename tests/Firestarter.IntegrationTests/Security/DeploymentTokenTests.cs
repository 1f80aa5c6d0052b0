using System.Net;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Security;

/// <summary>
/// With enforcement on, only a genuine, current deployment token parks a controller, and only under the deployment
/// the token names.
/// </summary>
public sealed class DeploymentTokenTests
{
    private static HttpClient ClientFor(BrokerFactory broker) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = broker.Start() };

    private static HttpRequestMessage PollWith(string deploymentHeader, Key key)
    {
        var request = Poll(key);
        request.Headers.Remove("x-trigger-deployment-id");
        request.Headers.TryAddWithoutValidation("x-trigger-deployment-id", deploymentHeader);
        return request;
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "bad signature", DeploymentTokens.Create("deployment_t", secret: "another-secret-that-is-at-least-32-bytes-long") },
        { "wrong issuer", DeploymentTokens.Create("deployment_t", issuer: "https://evil.example") },
        { "wrong audience", DeploymentTokens.Create("deployment_t", audience: "https://evil.example") },
        { "expired", DeploymentTokens.Create("deployment_t", expires: DateTime.UtcNow.AddMinutes(-5)) },
        { "unsigned", DeploymentTokens.Create("deployment_t")[..DeploymentTokens.Create("deployment_t").LastIndexOf('.')] + ".AAAA" },
        { "bare id", "deployment_t" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task In_enforce_mode_a_poll_without_a_valid_token_gets_401_and_is_never_parked(string why, string header)
    {
        await using var broker = new BrokerFactory(DeploymentTokens.Settings());
        using var client = ClientFor(broker);
        var key = Key.Default with { Deployment = "deployment_t" };

        using var response = await client.SendAsync(PollWith(header, key));

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{why}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, broker.Pool.ParkedCount);
        Assert.False(await DispatchAsync(client, key, "run_for_nobody"));
    }

    [Fact]
    public async Task In_enforce_mode_a_valid_token_parks_under_the_deployment_it_names_not_the_one_claimed_elsewhere()
    {
        await using var broker = new BrokerFactory(DeploymentTokens.Settings());
        using var client = ClientFor(broker);
        var token = DeploymentTokens.Create("deployment_named");
        var named = Key.Default with { Deployment = "deployment_named" };

        var poll = client.SendAsync(PollWith(token, named));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        // A run for another deployment cannot reach it; a run for the named one does.
        Assert.False(await DispatchAsync(client, named with { Deployment = "deployment_other" }, "run_other"));
        Assert.True(await DispatchAsync(client, named, "run_named"));
        using var response = await poll;
        Assert.Equal("run_named", RunIdOf(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_token_is_verified_once_and_then_answered_from_the_cache()
    {
        await using var broker = new BrokerFactory(DeploymentTokens.Settings());
        using var client = ClientFor(broker);
        var token = DeploymentTokens.Create("deployment_cached");
        var key = Key.Default with { Deployment = "deployment_cached" };
        var resolver = (Firestarter.Security.DeploymentIdentityResolver)broker.Services.GetService(typeof(Firestarter.Security.DeploymentIdentityResolver))!;

        for (var i = 0; i < 3; i++)
        {
            var poll = client.SendAsync(PollWith(token, key));
            await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");
            Assert.True(await DispatchAsync(client, key, $"run_{i}"));
            (await poll).Dispose();
        }

        Assert.Equal(1, resolver.Verifications);
    }

    [Fact]
    public async Task In_log_mode_failing_tokens_and_bare_ids_still_park()
    {
        await using var broker = new BrokerFactory(DeploymentTokens.Settings("Log"));
        using var client = ClientFor(broker);
        var key = Key.Default with { Deployment = "deployment_log" };
        var forged = DeploymentTokens.Create("deployment_log", secret: "another-secret-that-is-at-least-32-bytes-long");

        var polls = new[] { client.SendAsync(PollWith(forged, key)), client.SendAsync(PollWith("deployment_log", key)) };
        await EventuallyAsync(() => broker.Pool.ParkedCount == 2, "both polls are parked");
        Assert.True(await DispatchAsync(client, key, "run_a"));
        Assert.True(await DispatchAsync(client, key, "run_b"));
        foreach (var poll in polls)
        {
            using var response = await poll;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Enforcement_without_a_secret_stops_the_host_naming_the_key()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["Firestarter:Security:DeploymentTokens:Enforcement"] = "enforce" });
        var error = Assert.ThrowsAny<Exception>(() => broker.Start());
        Assert.Contains("Firestarter:Security:DeploymentTokens:Secret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_401_problem_says_what_is_wrong()
    {
        await using var broker = new BrokerFactory(DeploymentTokens.Settings());
        using var client = ClientFor(broker);
        using var response = await client.SendAsync(PollWith(DeploymentTokens.Create("d", expires: DateTime.UtcNow.AddMinutes(-5)), Key.Default));
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("bad-deployment-token", json.GetProperty("code").GetString());
        Assert.Contains("expired", json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
