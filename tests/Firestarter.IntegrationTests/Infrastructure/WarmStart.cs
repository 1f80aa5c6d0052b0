using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>One match key as a controller and a dispatch spell it.</summary>
public sealed record Key(string Deployment, string Version, string Cpu, string Memory)
{
    public static Key Default { get; } = new("deployment_test", "20261126.1", "0.5", "1");

    /// <summary>The key's CPU and memory as JSON numbers (as the supervisor sends them).</summary>
    public string CpuJson => Cpu;

    public string MemoryJson => Memory;
}

/// <summary>The protocol as a test speaks it: building polls and dispatches, reading answers.</summary>
public static class WarmStart
{
    public static HttpRequestMessage Poll(Key key, string controllerId = "controller_test")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/warm-start");
        request.Headers.Add("x-trigger-workload-controller-id", controllerId);
        request.Headers.Add("x-trigger-deployment-id", key.Deployment);
        request.Headers.Add("x-trigger-deployment-version", key.Version);
        request.Headers.Add("x-trigger-machine-cpu", key.Cpu);
        request.Headers.Add("x-trigger-machine-memory", key.Memory);
        request.Headers.Add("x-trigger-worker-instance-name", "test-node");
        return request;
    }

    /// <summary>A realistic DequeuedMessage, as Trigger.dev's supervisor sends it.</summary>
    public static string Message(Key key, string runId, string? cpuJson = null, string? memoryJson = null) =>
        $$$"""{"version":"1","snapshot":{"id":"snap_{{{runId}}}","friendlyId":"snapshot_{{{runId}}}","executionStatus":"PENDING_EXECUTING","description":"Run was dequeued for execution","createdAt":"2026-11-26T12:00:00.000Z"},"dequeuedAt":"2026-11-26T12:00:00.000Z","completedWaitpoints":[],"backgroundWorker":{"id":"bw_1","friendlyId":"worker_1","version":"{{{key.Version}}}"},"deployment":{"id":"dep_1","friendlyId":"{{{key.Deployment}}}","imagePlatform":"linux/amd64"},"run":{"id":"{{{runId}}}","friendlyId":"{{{runId}}}","isTest":false,"isReplay":false,"machine":{"name":"small-1x","cpu":{{{cpuJson ?? key.CpuJson}}},"memory":{{{memoryJson ?? key.MemoryJson}}},"centsPerMs":0.0001},"attemptNumber":1,"masterQueue":"main","traceContext":{}},"environment":{"id":"env_1","type":"PRODUCTION"},"organization":{"id":"org_1"},"project":{"id":"proj_1"},"image":"registry.example/proj:{{{key.Version}}}"}""";

    public static string DispatchBody(string message) => $$"""{"dequeuedMessage":{{message}}}""";

    public static HttpRequestMessage Dispatch(string body) =>
        new(HttpMethod.Post, "/warm-start") { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    /// <summary>Dispatches and returns <c>didWarmStart</c>; fails the test on anything but a 200 JSON answer.</summary>
    public static async Task<bool> DispatchAsync(HttpClient client, Key key, string runId, CancellationToken cancellationToken = default)
    {
        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(key, runId))), cancellationToken);
        return await ReadDidWarmStartAsync(response, cancellationToken);
    }

    public static async Task<bool> ReadDidWarmStartAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"dispatch answered {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("didWarmStart").GetBoolean();
    }

    /// <summary>The run id of a delivered DequeuedMessage.</summary>
    public static string RunIdOf(string message)
    {
        using var json = JsonDocument.Parse(message);
        return json.RootElement.GetProperty("run").GetProperty("friendlyId").GetString()!;
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, checking often; fails after <paramref name="timeout"/>.
    /// For state that has no event to await (a server-side count reaching a value).
    /// </summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(5);
        }
    }

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
