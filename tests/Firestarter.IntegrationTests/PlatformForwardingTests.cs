using System.Net;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Firestarter.IntegrationTests;

/// <summary>Everything that is not a warm-start route reaches the platform's supervisor through YARP.</summary>
public sealed class PlatformForwardingTests
{
    [Fact]
    public async Task Other_requests_are_forwarded_to_the_supervisor_cluster_with_their_trace_context()
    {
        await using var supervisor = await StubBackend.StartAsync(async context =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            await context.Response.WriteAsync("from-supervisor");
        });
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = supervisor.Address.ToString(),
        });
        using var client = new HttpClient { BaseAddress = broker.Start() };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/workload-actions/runs/run_1/snapshots/latest?x=1")
        {
            Content = new StringContent("""{"hello":"platform"}"""),
        };
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("from-supervisor", await response.Content.ReadAsStringAsync());
        var forwarded = Assert.Single(supervisor.Requests);
        Assert.Equal("POST", forwarded.Method);
        Assert.Equal("/api/v1/workload-actions/runs/run_1/snapshots/latest?x=1", forwarded.PathAndQuery);
        Assert.Equal("""{"hello":"platform"}""", System.Text.Encoding.UTF8.GetString(forwarded.Body));
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", forwarded.Headers["traceparent"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_get_to_connect_is_answered_by_the_broker_and_not_forwarded()
    {
        await using var supervisor = await StubBackend.StartAsync(context => Task.CompletedTask);
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = supervisor.Address.ToString(),
        });
        using var client = new HttpClient { BaseAddress = broker.Start() };

        using var response = await client.GetAsync("/connect");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(supervisor.Requests);
    }

    [Theory]
    [InlineData("/runs/123", HttpStatusCode.Accepted)]
    [InlineData("/runs/abc", HttpStatusCode.Created)]
    public async Task A_route_with_a_regex_constraint_matches_as_configured(string path, HttpStatusCode expected)
    {
        // YARP routes are route templates: a drop-in for an existing configuration must read the constraints they may hold.
        await using var supervisor = await StubBackend.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status201Created;
            return Task.CompletedTask;
        });
        await using var numbered = await StubBackend.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return Task.CompletedTask;
        });
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = supervisor.Address.ToString(),
            ["ReverseProxy:Clusters:numbered:Destinations:numbered-1:Address"] = numbered.Address.ToString(),
            ["ReverseProxy:Routes:numbered-runs:ClusterId"] = "numbered",
            ["ReverseProxy:Routes:numbered-runs:Match:Path"] = "/runs/{id:regex(^[0-9]+$)}",
        });
        using var client = new HttpClient { BaseAddress = broker.Start() };

        using var response = await client.GetAsync(path);

        // A number takes the constrained route; anything else falls through to the platform's catch-all.
        Assert.Equal(expected, response.StatusCode);
    }
}
