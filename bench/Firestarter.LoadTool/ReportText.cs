using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Firestarter.LoadTool;

/// <summary>Source-generated (reflection-free) JSON for the reports.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LoadReport))]
[JsonSerializable(typeof(MergeReport))]
internal sealed partial class LoadToolJsonContext : JsonSerializerContext;

/// <summary>Renders reports as one human-readable block or one JSON line (numbers formatted invariantly: the repository builds with InvariantGlobalization).</summary>
public static class ReportText
{
    public static string ToJson(LoadReport report) => JsonSerializer.Serialize(report, LoadToolJsonContext.Default.LoadReport);

    public static string ToJson(MergeReport report) => JsonSerializer.Serialize(report, LoadToolJsonContext.Default.MergeReport);

    public static string ToText(LoadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var r = report;
        var text = new StringBuilder();
        Line(text, $"Firestarter load: role {r.Role.ToString().ToLowerInvariant()}, {r.Controllers:N0} controllers, {r.Dispatchers:N0} dispatchers, {r.Keys} keys, abort rate {r.AbortRate:0.###}{(r.Cancelled ? " (CANCELLED early)" : "")}");
        if (r.Dispatchers > 0)
        {
            Line(text, $"  dispatchers  -> {string.Join(", ", r.DispatcherTargets)}, run ids {r.RunIdPrefix}N");
        }

        if (r.Controllers > 0)
        {
            Line(text, $"  controllers  -> {string.Join(", ", r.ControllerTargets)}, {r.ControllersReady:N0} polling before dispatch began");
        }

        Line(text, $"  window       {r.MeasuredSeconds:0.00} s measured after {r.WarmupSeconds:0.##} s warm-up; client CPU {r.ClientCpuPercent:0}% of one core");
        if (r.Dispatchers > 0)
        {
            var l = r.DispatchLatencyMs;
            Line(text, $"  dispatch     {r.DispatchesPerSecond:N0}/s  ({r.Dispatches:N0} answered: {r.Hits:N0} hits, {r.Misses:N0} misses, hit rate {100 * r.HitRate:0.00}%)");
            Line(text, $"  latency ms   p50 {l.P50:0.000}  p95 {l.P95:0.000}  p99 {l.P99:0.000}  max {l.Max:0.000}  mean {l.Mean:0.000}");
            if (r.HandedOnHits > 0)
            {
                var local = r.LocalHitLatencyMs;
                var handedOn = r.HandedOnHitLatencyMs;
                Line(text, $"  hits local   {local.Samples:N0}: p50 {local.P50:0.000}  p99 {local.P99:0.000} ms; handed on {handedOn.Samples:N0}: p50 {handedOn.P50:0.000}  p99 {handedOn.P99:0.000} ms");
            }
            Line(text, $"  whole run    {r.TotalDispatches:N0} dispatches, {r.TotalHits:N0} hits, {r.TotalMisses:N0} misses; errors: {r.DispatchHttpErrors:N0} http, {r.DispatchTransportErrors:N0} transport, {r.DispatchTimeouts:N0} timeouts, {r.DispatchBadAnswers:N0} bad answers; {r.DispatcherConnectionsOpened:N0} connections");
            if (r.FirstDispatchError is { } dispatchError)
            {
                Line(text, $"  first dispatch error: {dispatchError}");
            }
        }

        if (r.Controllers > 0)
        {
            Line(text, $"  polls        {r.Polls:N0}: {r.PollsDelivered:N0} delivered, {r.PollsNoContent:N0} no-content (204), {r.PollsAborted:N0} aborted ({r.PollsAbortedWithResponsePending:N0} with an answer pending), {r.PollsTimedOut:N0} timed out");
            Line(text, $"  poll errors  {r.ControllerHttpErrors:N0} http, {r.ControllerTransportErrors:N0} transport, {r.ControllerBadBodies:N0} bad bodies; {r.ControllerConnectionsOpened:N0} connections");
            if (r.FirstControllerError is { } controllerError)
            {
                Line(text, $"  first poll error: {controllerError}");
            }
        }

        var verdict = r.ExactnessPassed ? "PASS" : "FAIL";
        if (r.ExactnessChecked)
        {
            Line(text, $"  exactness    {verdict}: lost {r.Lost:N0}, duplicated {r.Duplicated:N0}, false-delivered {r.FalseDelivered:N0}, misrouted {r.Misrouted:N0}, unknown {r.UnknownReceived:N0} (received after a dispatch error {r.ReceivedAfterDispatchError:N0})");
            if (r.Lost > 0)
            {
                Line(text, $"               {r.UnexplainedLost:N0} lost beyond the client-side abort race ({r.PollsAbortedWithResponsePending:N0} polls aborted with an answer pending): {(r.ExactnessPassedAllowingAbortRace ? "PASS" : "FAIL")} allowing that race");
            }

            if (r.ForeignReceived > 0)
            {
                Line(text, $"               {r.ForeignReceived:N0} runs of other processes received: other processes share this broker, so 'lost' may be wrong here; merge the logs");
            }
        }
        else
        {
            Line(text, r.Controllers > 0
                ? $"  exactness    not checked in this process (role {r.Role.ToString().ToLowerInvariant()}: merge the logs); misrouted {r.Misrouted:N0}: {verdict}"
                : $"  exactness    not checked in this process (role {r.Role.ToString().ToLowerInvariant()}: merge the logs)");
        }

        return text.ToString();
    }

    public static string ToText(MergeReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var r = report;
        var text = new StringBuilder();
        Line(text, $"Firestarter load: merged {r.Files.Count} logs");
        Line(text, $"  dispatches   {r.Dispatches:N0}: {r.Hits:N0} hits, {r.Misses:N0} misses, {r.DispatchErrors:N0} errors; {r.Receptions:N0} receptions");
        Line(text, $"  exactness    {(r.ExactnessPassed ? "PASS" : "FAIL")}: lost {r.Lost:N0}, duplicated {r.Duplicated:N0}, false-delivered {r.FalseDelivered:N0}, misrouted {r.Misrouted:N0}, unknown {r.UnknownReceived:N0} (received after a dispatch error {r.ReceivedAfterDispatchError:N0})");
        if (r.Lost > 0)
        {
            Line(text, $"               {r.UnexplainedLost:N0} lost beyond the client-side abort race ({r.PollsAbortedWithResponsePending:N0} polls aborted with an answer pending): {(r.ExactnessPassedAllowingAbortRace ? "PASS" : "FAIL")} allowing that race");
        }
        if (r.DuplicateDispatchIds > 0 || r.MalformedLines > 0)
        {
            Line(text, $"  bad logs     {r.DuplicateDispatchIds:N0} run ids dispatched twice (give each dispatcher process its own RunIdPrefix), {r.MalformedLines:N0} malformed lines");
        }

        if (r.Dispatches == 0)
        {
            Line(text, "  no dispatch log among the files");
        }

        return text.ToString();
    }

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');
}
