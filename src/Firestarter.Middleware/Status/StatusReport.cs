using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Firestarter.Cluster;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Firestarter.Status;

/// <summary>
/// Writes <c>GET /firestarter/status</c>: uptime, parked controllers (total, top match keys and deployments), recent
/// dispatch windows, the warm/cold series the page charts, and a summary of the configuration without secrets.
/// </summary>
/// <remarks>
/// Written with <see cref="Utf8JsonWriter"/> rather than a serialised object graph: no reflection (the library is
/// AOT-compatible) and the field names are the contract the page and scripts read. Built on request only; nothing
/// here runs on the proxy's hot path.
/// </remarks>
internal sealed class StatusReport
{
    /// <summary>The windows reported, as (name, number of 10-second buckets).</summary>
    internal static readonly (string Name, int Buckets)[] Windows = [("1m", 6), ("5m", 30), ("15m", 90)];

    private readonly WarmPool _pool;
    private readonly DispatchWindows _windows;
    private readonly TimeProvider _time;
    private readonly FirestarterOptions _options;
    private readonly ClusterFeature _cluster;

    public StatusReport(WarmPool pool, DispatchWindows windows, TimeProvider time, IOptions<FirestarterOptions> options, ClusterFeature cluster)
    {
        _cluster = cluster;
        _pool = pool;
        _windows = windows;
        _time = time;
        _options = options.Value;
    }

    public async Task WriteAsync(HttpContext context)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json);
        }

        var response = context.Response;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    internal void Write(Utf8JsonWriter json)
    {
        var top = _options.Operations.TopKeys;
        json.WriteStartObject();
        json.WriteString("startedAt", _windows.StartedAt);
        json.WriteNumber("uptimeSeconds", Math.Round(_time.GetElapsedTime(_windows.StartedTimestamp).TotalSeconds, 1));
        json.WriteBoolean("draining", _pool.IsDraining);

        var byKey = _pool.CountByKey().ToList();
        json.WriteStartObject("parked");
        json.WriteNumber("total", _pool.ParkedCount);
        json.WriteNumber("keys", byKey.Count);
        json.WriteStartArray("byKey");
        foreach (var (key, count) in byKey.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key.Deployment, StringComparer.Ordinal).Take(top))
        {
            json.WriteStartObject();
            json.WriteString("deployment", key.Deployment);
            json.WriteString("version", key.Version);
            json.WriteNumber("cpu", key.Cpu);
            json.WriteNumber("memory", key.Memory);
            json.WriteNumber("count", count);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("byDeployment");
        foreach (var (deployment, count) in ParkedCounts.ByDeployment(byKey).Take(top))
        {
            json.WriteStartObject();
            json.WriteString("deployment", deployment);
            json.WriteNumber("count", count);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartObject("dispatches");
        foreach (var (name, buckets) in Windows)
        {
            WriteWindow(json, name, _windows.Summarize(buckets));
        }

        json.WriteEndObject();

        var (warm, cold) = _windows.Series();
        json.WriteStartObject("series");
        json.WriteNumber("bucketSeconds", DispatchWindows.BucketWidth.TotalSeconds);
        WriteArray(json, "warm", warm);
        WriteArray(json, "cold", cold);
        json.WriteEndObject();

        ClusterStatus.Write(json, _cluster);

        WriteConfiguration(json);
        json.WriteEndObject();
    }

    private void WriteWindow(Utf8JsonWriter json, string name, WindowSummary window)
    {
        json.WriteStartObject(name);
        json.WriteNumber("warm", window.Warm);
        json.WriteNumber("cold", window.Cold);
        json.WriteNumber("forwarded", window.Forwarded);
        json.WriteNumber("forwardFailed", window.ForwardFailed);
        json.WriteNumber("rejected", window.Rejected);
        json.WriteNumber("unconfirmed", window.Unconfirmed);
        json.WriteNumber("runs", window.Runs);
        WriteNullable(json, "hitRate", window.HitRate);
        // Null while confirmation is off: then every warm start counts as started without asking.
        WriteNullable(json, "confirmationRate", _options.Confirmation.Enabled ? window.ConfirmationRate : null);
        WriteNullable(json, "p50Ms", window.P50 * 1000);
        WriteNullable(json, "p99Ms", window.P99 * 1000);
        json.WriteEndObject();
    }

    private void WriteConfiguration(Utf8JsonWriter json)
    {
        var o = _options;
        json.WriteStartObject("configuration");
        json.WriteBoolean("enabled", o.Enabled);
        json.WriteString("connectionTimeout", Invariant(o.ConnectionTimeout));
        json.WriteString("keepalive", Invariant(o.Keepalive));
        json.WriteString("maxPollDuration", Invariant(o.EffectiveMaxPollDuration));
        json.WriteString("selection", o.Selection.ToString());
        json.WriteNumber("maxDispatchBodySize", o.MaxDispatchBodySize);
        json.WriteNumber("maxJsonDepth", o.MaxJsonDepth);
        json.WriteBoolean("confirmDelivery", o.ConfirmDelivery);
        json.WriteString("pollGuardWindow", Invariant(o.EffectivePollGuardWindow));
        json.WriteString("repollWait", Invariant(o.EffectiveRepollWait));
        json.WriteStartObject("confirmation");
        json.WriteBoolean("enabled", o.Confirmation.Enabled);
        json.WriteString("timeout", Invariant(o.Confirmation.Timeout));
        json.WriteEndObject();
        json.WriteStartObject("coldStart");
        json.WriteString("mode", o.ColdStart.Mode.ToString());
        json.WriteString("timeout", Invariant(o.ColdStart.Timeout));
        json.WriteNumber("maxRetryAttempts", o.ColdStart.MaxRetryAttempts);
        json.WriteEndObject();
        json.WriteStartObject("operations");
        if (o.Operations.Port is { } port)
        {
            json.WriteNumber("port", port);
        }
        else
        {
            json.WriteNull("port");
        }

        // Whether a key is required, never the key.
        json.WriteBoolean("apiKeyRequired", o.Operations.ApiKey is not null);
        json.WriteString("supervisorCluster", o.Operations.SupervisorCluster);
        json.WriteNumber("topKeys", o.Operations.TopKeys);
        json.WriteEndObject();
        ClusterStatus.WriteConfiguration(json, o.Cluster);
        json.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter json, string name, long[] values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteNumberValue(value);
        }

        json.WriteEndArray();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Math.Round(v, 4));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string Invariant(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
