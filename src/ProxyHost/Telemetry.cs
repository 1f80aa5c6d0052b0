using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Yarp.ReverseProxy.Model;

namespace Firestarter.ProxyHost;

/// <summary>
/// The host's OpenTelemetry: metrics for the Prometheus scrape endpoint (<c>/metrics</c>) always, and metrics,
/// traces and logs over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the other
/// standard <c>OTEL_*</c> variables itself).
/// </summary>
internal static class Telemetry
{
    /// <summary>
    /// The meters exported: the broker's, ASP.NET Core's and Kestrel's, HttpClient's (YARP forwards with it) and the
    /// runtime's. Not routing's: its one counter (match attempts per route) repeats what the request duration's
    /// <c>http.route</c> label says, at a cost on every request.
    /// </summary>
    internal static readonly string[] Meters =
    [
        "Firestarter",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Net.Http",
        "System.Runtime",
    ];

    /// <summary>
    /// The most label combinations kept per metric. Each metric stream allocates room for its limit up front, so
    /// OpenTelemetry's default (2,000) held megabytes of the broker's heap for a few dozen series; every exported
    /// label set here is bounded (outcomes, status codes, routes, destinations) and far below this.
    /// Combinations beyond it are summed into one overflow series, not dropped.
    /// </summary>
    internal const int CardinalityLimit = 200;

    /// <summary>
    /// Instruments not exported. ASP.NET Core's <c>http.server.active_requests</c>: every held poll is an active
    /// request, so on a broker it mostly repeats <c>firestarter.controllers.parked</c>; and it is counted up and down
    /// per request, before any middleware could opt a request out. A dropped instrument is never enabled, so ASP.NET Core skips the counting.
    /// </summary>
    internal static bool IsDropped(Instrument instrument) =>
        instrument is { Name: "http.server.active_requests", Meter.Name: "Microsoft.AspNetCore.Hosting" };

    /// <summary>YARP's activity source: forwarding and active health check spans.</summary>
    internal const string YarpActivitySource = "Yarp.ReverseProxy";

    public static void AddTelemetry(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("firestarter"))
            .WithMetrics(metrics => metrics
                .AddMeter(Meters)
                .AddView(instrument => IsDropped(instrument)
                    ? MetricStreamConfiguration.Drop
                    : new MetricStreamConfiguration { CardinalityLimit = CardinalityLimit })
                .AddPrometheusExporter());

        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // Without a collector, no tracing is set up at all, so requests pay nothing for it.
            return;
        }

        otel.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddSource(YarpActivitySource))
            .UseOtlpExporter();
    }

    /// <summary>
    /// Drops the request's span when <see cref="IsTraced"/> says so. Runs after routing, where the endpoint and its
    /// route's metadata are known (the instrumentation's own filter runs before routing); does nothing without tracing.
    /// </summary>
    public static void UseTracedRequestsOnly(this WebApplication app)
    {
        if (string.IsNullOrWhiteSpace(app.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return;
        }

        app.Use((context, next) =>
        {
            if (Activity.Current is { } activity && !IsTraced(context))
            {
                // What the instrumentation's filter does: the span is neither enriched nor exported.
                activity.IsAllDataRequested = false;
                activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }

            return next(context);
        });
    }

    /// <summary>
    /// Leaves out controllers' parked polls (a span per controller per poll, each as long as the poll is held,
    /// telling nothing), found by their route's <c>"Firestarter": "Poll"</c> metadata wherever configuration puts the
    /// route, and the admin endpoints (probes and scrapes). Dispatches, <c>/connect</c> and everything forwarded to the
    /// platform are traced; YARP forwards <c>traceparent</c> with the current span either way.
    /// </summary>
    internal static bool IsTraced(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata is { } metadata
            && metadata.TryGetValue("Firestarter", out var role)
            && string.Equals(role, "Poll", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var path = context.Request.Path;
        return !(path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase)
                 || path.StartsWithSegments("/healthz", StringComparison.OrdinalIgnoreCase)
                 || path.StartsWithSegments("/readyz", StringComparison.OrdinalIgnoreCase)
                 || path.StartsWithSegments("/firestarter", StringComparison.OrdinalIgnoreCase));
    }
}
