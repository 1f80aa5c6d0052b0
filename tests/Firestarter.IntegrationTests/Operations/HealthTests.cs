using System.Net;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Firestarter.IntegrationTests.Operations;

/// <summary>Readiness: unready while draining and while the supervisor cluster has no healthy destination.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Readiness_is_503_while_draining_and_liveness_stays_200()
    {
        var gate = new ShutdownGate();
        await using var broker = new BrokerFactory(services: services => services.AddHostedService(_ => gate));
        using var client = new HttpClient { BaseAddress = broker.Start() };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        broker.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await gate.Stopping.Task;
        try
        {
            using var ready = await client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("Draining", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }
        finally
        {
            gate.Release.SetResult();
        }
    }

    [Fact]
    public async Task Readiness_is_503_once_active_health_checks_find_the_supervisor_unreachable_and_200_while_it_answers()
    {
        await using var backend = await StubBackend.StartAsync(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await using var reachable = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = backend.Address.ToString(),
            ["ReverseProxy:Clusters:supervisor:HealthCheck:Active:Enabled"] = "true",
            ["ReverseProxy:Clusters:supervisor:HealthCheck:Active:Interval"] = "00:00:00.200",
        });
        using (var client = new HttpClient { BaseAddress = reachable.Start() })
        {
            // A 404 still shows the supervisor is there: the shipped policy asks only for reachability.
            await WarmStart.EventuallyAsync(() => backend.Requests.Count(r => r.PathAndQuery == "/") >= 3, "three probes reached the supervisor");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        }

        await using var unreachable = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = StubBackend.RefusingAddress().ToString(),
            ["ReverseProxy:Clusters:supervisor:HealthCheck:Active:Enabled"] = "true",
            ["ReverseProxy:Clusters:supervisor:HealthCheck:Active:Interval"] = "00:00:00.200",
        });
        using var unreadyClient = new HttpClient { BaseAddress = unreachable.Start() };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        HttpStatusCode status;
        string body;
        do
        {
            using var ready = await unreadyClient.GetAsync("/readyz");
            status = ready.StatusCode;
            body = await ready.Content.ReadAsStringAsync();
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("No healthy destination in cluster 'supervisor'", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await unreadyClient.GetAsync("/healthz")).StatusCode);
    }
}
