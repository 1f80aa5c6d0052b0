using System.Text;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Benchmarks;

/// <summary>
/// The inputs the benchmarks share, shaped like the reference load (shared/bench/dispatch.lua, poll.lua): key 1 is
/// deployment_1, version 20261126.1, cpu 0.5, memory 1.
/// </summary>
public static class Samples
{
    public const string Deployment = "deployment_1";
    public const string Version = "20261126.1";
    public const double Cpu = 0.5;
    public const double Memory = 1;

    /// <summary>A realistic <c>POST /warm-start</c> body, byte for byte as dispatch.lua builds it for key 1.</summary>
    public static readonly byte[] DispatchBody = Encoding.UTF8.GetBytes(
        "{\"dequeuedMessage\":{\"version\":\"1\",\"snapshot\":{\"id\":\"snap_1\",\"friendlyId\":\"snapshot_1\"," +
        "\"executionStatus\":\"PENDING_EXECUTING\",\"description\":\"Run was dequeued for execution\",\"createdAt\":\"2026-11-26T12:00:00.000Z\"}," +
        "\"dequeuedAt\":\"2026-11-26T12:00:00.000Z\",\"completedWaitpoints\":[]," +
        "\"backgroundWorker\":{\"id\":\"bw_1\",\"friendlyId\":\"worker_1\",\"version\":\"20261126.1\"}," +
        "\"deployment\":{\"id\":\"dep_1\",\"friendlyId\":\"deployment_1\",\"imagePlatform\":\"linux/amd64\"}," +
        "\"run\":{\"id\":\"run_1\",\"friendlyId\":\"run_1\",\"isTest\":false,\"isReplay\":false," +
        "\"machine\":{\"name\":\"small-1x\",\"cpu\":0.5,\"memory\":1,\"centsPerMs\":0.0001}," +
        "\"attemptNumber\":1,\"masterQueue\":\"main\",\"traceContext\":{\"traceparent\":\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"}}," +
        "\"environment\":{\"id\":\"env_1\",\"type\":\"PRODUCTION\"},\"organization\":{\"id\":\"org_1\"},\"project\":{\"id\":\"proj_1\"}," +
        "\"image\":\"registry.example/proj:20261126.1\"}}");

    /// <summary>
    /// A controller's <c>GET /warm-start</c> headers: poll.lua's six plus what an HTTP client adds. Built as Kestrel
    /// hands them over: one value per header, the values as strings.
    /// </summary>
    public static HeaderDictionary PollHeaders(string deploymentId) => new()
    {
        ["Host"] = "127.0.0.1:8080",
        ["User-Agent"] = "node",
        ["Accept"] = "*/*",
        ["Accept-Encoding"] = "gzip, deflate",
        ["Connection"] = "keep-alive",
        ["x-trigger-workload-controller-id"] = "controller_bench",
        ["x-trigger-deployment-id"] = deploymentId,
        ["x-trigger-deployment-version"] = Version,
        ["x-trigger-machine-cpu"] = "0.5",
        ["x-trigger-machine-memory"] = "1",
        ["x-trigger-worker-instance-name"] = "bench-node",
    };

    /// <summary>A JWT-shaped deployment token whose payload carries <c>deployment</c> (only the payload is read).</summary>
    public static string DeploymentToken(string deployment) =>
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        + Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"sub":"controller","deployment":"{{deployment}}","iat":1700000000}"""))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_')
        + ".c2lnbmF0dXJl";
}
