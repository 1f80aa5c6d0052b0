using System.Net;
using System.Net.WebSockets;
using System.Text;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Firestarter.IntegrationTests;

/// <summary>
/// The confirm route over real HTTP: a controller's <c>attempts/start</c> passes through to the workload API
/// unchanged, and releases a waiting dispatch only for exactly the run and snapshot it dispatched.
/// </summary>
public sealed class ConfirmationTests
{
    private static readonly Key Key = new("deployment_confirm", "20261207.1", "0.5", "1");

    private static Task<StubBackend> StartWorkloadApiAsync() => StubBackend.StartAsync(async context =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsync("""{"from":"workload-api"}""");
    });

    private static BrokerFactory Broker(StubBackend workloadApi, string timeout = "00:00:05") => new(new Dictionary<string, string?>
    {
        ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = workloadApi.Address.ToString(),
        ["Firestarter:Confirmation:Enabled"] = "true",
        ["Firestarter:Confirmation:Timeout"] = timeout,
    });

    private static HttpRequestMessage Start(string run, string snapshot) =>
        new(HttpMethod.Post, $"/api/v1/workload-actions/runs/{run}/snapshots/{snapshot}/attempts/start")
        {
            Content = new StringContent("""{"isWarmStart":true}""", Encoding.UTF8, "application/json"),
        };

    [Fact]
    public async Task A_start_for_a_run_this_broker_did_not_dispatch_is_forwarded_unchanged_and_changes_nothing()
    {
        await using var workloadApi = await StartWorkloadApiAsync();
        await using var broker = Broker(workloadApi);
        using var client = new HttpClient { BaseAddress = broker.Start() };
        using var request = Start("run_elsewhere", "snapshot_elsewhere");
        request.Headers.Add("x-trigger-workload-runner-id", "runner_1");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"from":"workload-api"}""", await response.Content.ReadAsStringAsync());
        var forwarded = Assert.Single(workloadApi.Requests);
        Assert.Equal("POST", forwarded.Method);
        Assert.Equal("/api/v1/workload-actions/runs/run_elsewhere/snapshots/snapshot_elsewhere/attempts/start", forwarded.PathAndQuery);
        Assert.Equal("""{"isWarmStart":true}""", Encoding.UTF8.GetString(forwarded.Body));
        Assert.Equal("runner_1", forwarded.Headers["x-trigger-workload-runner-id"]);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("firestarter_confirmations_total{otel_scope_name=\"Firestarter\",outcome=\"unknown\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_start_for_another_run_or_snapshot_cannot_confirm_a_dispatch_but_the_exact_one_does()
    {
        await using var workloadApi = await StartWorkloadApiAsync();
        await using var broker = Broker(workloadApi, timeout: "00:00:01");
        var address = broker.Start();
        using var controller = new HttpClient { BaseAddress = address };
        using var platform = new HttpClient { BaseAddress = address };

        // Forged: the dispatched run with another snapshot, and another run with the dispatched snapshot.
        var (forgedRun, forgedAnswer) = await DispatchAndStartAsync(broker, controller, platform, "run_forged",
            [("run_forged", "snapshot_other"), ("run_other", "snapshot_run_forged")]);
        Assert.Equal("run_forged", forgedRun);
        Assert.False(forgedAnswer);

        var (run, answer) = await DispatchAndStartAsync(broker, controller, platform, "run_started", [("run_started", "snapshot_run_started")]);
        Assert.Equal("run_started", run);
        Assert.True(answer);

        // All three starts went on to the workload API.
        Assert.Equal(3, workloadApi.Requests.Count);

        // The status shows one run started of the two handed out.
        using var status = System.Text.Json.JsonDocument.Parse(await platform.GetStringAsync("/firestarter/status"));
        var minute = status.RootElement.GetProperty("dispatches").GetProperty("1m");
        Assert.Equal(1, minute.GetProperty("warm").GetInt64());
        Assert.Equal(1, minute.GetProperty("unconfirmed").GetInt64());
        Assert.Equal(0.5, minute.GetProperty("confirmationRate").GetDouble());
    }

    [Fact]
    public async Task A_start_that_reaches_another_instance_releases_the_dispatch_through_the_relay_seam()
    {
        // The cluster's relay (Redis pub/sub) in miniature: what instance A sees and nobody there waits for is
        // handed to instance B's registry.
        await using var workloadApi = await StartWorkloadApiAsync();
        await using var a = Broker(workloadApi);
        await using var b = Broker(workloadApi);
        var registryOfB = b.Services.GetRequiredService<Firestarter.Confirmation.ConfirmationRegistry>();
        var relayed = new List<bool>();
        a.Services.GetRequiredService<Firestarter.Confirmation.ConfirmationRegistry>().Unmatched += attempt =>
        {
            lock (relayed)
            {
                relayed.Add(registryOfB.TryConfirm(attempt));
            }
        };
        using var controller = new HttpClient { BaseAddress = b.Start() };
        using var supervisor = new HttpClient { BaseAddress = b.Start() };
        using var workloadViaA = new HttpClient { BaseAddress = a.Start() };

        var poll = controller.SendAsync(WarmStart.Poll(Key));
        await WarmStart.EventuallyAsync(() => b.Pool.ParkedCount == 1, "the controller is parked on B");
        var dispatch = WarmStart.DispatchAsync(supervisor, Key, "run_relayed");
        using (var delivered = await poll)
        {
            Assert.Equal("run_relayed", WarmStart.RunIdOf(await delivered.Content.ReadAsStringAsync()));
        }

        using (var started = await workloadViaA.SendAsync(Start("run_relayed", "snapshot_run_relayed")))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        }

        Assert.True(await dispatch);
        Assert.Equal([true], relayed);
    }

    private static async Task<(string Delivered, bool DidWarmStart)> DispatchAndStartAsync(
        BrokerFactory broker, HttpClient controller, HttpClient platform, string runId, (string Run, string Snapshot)[] starts)
    {
        var poll = controller.SendAsync(WarmStart.Poll(Key));
        await WarmStart.EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the controller is parked");
        var dispatch = WarmStart.DispatchAsync(platform, Key, runId);

        using var delivered = await poll;
        var deliveredRun = WarmStart.RunIdOf(await delivered.Content.ReadAsStringAsync());
        foreach (var (run, snapshot) in starts)
        {
            using var started = await platform.SendAsync(Start(run, snapshot));
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        }

        return (deliveredRun, await dispatch);
    }

    [Fact]
    public async Task The_catch_all_route_forwards_websocket_upgrades_to_the_workload_api()
    {
        // Trigger.dev's controller keeps a socket.io connection (WebSocket transport) to the workload API.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var workloadApi = builder.Build();
        workloadApi.UseWebSockets();
        workloadApi.Run(async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
            var echo = Encoding.UTF8.GetBytes($"echo {context.Request.Path}{context.Request.QueryString}: " + Encoding.UTF8.GetString(buffer, 0, received.Count));
            await socket.SendAsync(echo, WebSocketMessageType.Text, true, context.RequestAborted);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
        });
        await workloadApi.StartAsync();
        var workloadAddress = workloadApi.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:supervisor:Destinations:supervisor-1:Address"] = workloadAddress + "/",
        });
        var address = broker.Start();

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{address.Authority}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("40/workload"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1024];
        var answer = await socket.ReceiveAsync(buffer, CancellationToken.None);

        Assert.Equal("echo /socket.io/?EIO=4&transport=websocket: 40/workload", Encoding.UTF8.GetString(buffer, 0, answer.Count));
    }
}
