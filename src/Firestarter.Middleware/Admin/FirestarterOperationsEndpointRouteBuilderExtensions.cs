using System.Text;
using Firestarter;
using Firestarter.Diagnostics;
using Firestarter.Health;
using Firestarter.Admin;
using Firestarter.Status;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// In the builder namespace, beside MapReverseProxy.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the broker's admin endpoints: health, readiness, the status JSON and the live status page.</summary>
public static partial class FirestarterOperationsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>/healthz</c> (liveness: health checks tagged <c>live</c>), <c>/readyz</c> (readiness: checks tagged
    /// <c>ready</c>, which include the broker's own: not draining, and the supervisor cluster has a healthy
    /// destination), <c>GET /firestarter/status</c> (JSON) and <c>GET /firestarter</c> (the page). They answer only
    /// on <c>Firestarter:Operations:Port</c> when it is set, and the status JSON only with
    /// <c>Firestarter:Operations:ApiKey</c> when that is set. Literal paths take precedence over YARP's catch-all
    /// route. Requires <c>services.AddFirestarter(…)</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapFirestarterOperations(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        if (services.GetService<FirestarterMarker>() is null)
        {
            throw new InvalidOperationException(
                "MapFirestarterOperations() needs the broker's services: call services.AddFirestarter(configuration) when configuring services.");
        }

        var access = services.GetRequiredService<AdminAccess>();
        var report = services.GetRequiredService<StatusReport>();
        var page = services.GetRequiredService<StatusPage>();

        var group = endpoints.MapGroup(string.Empty);
        // Probes carry no secret, and the page's files are the same for everyone: both only keep to the admin port.
        group.MapHealthChecks("/healthz", Health(ReadinessCheck.LiveTag))
            .GuardedBy(access, needsKey: false).WithDisplayName("Firestarter liveness");
        group.MapHealthChecks("/readyz", Health(ReadinessCheck.ReadyTag))
            .GuardedBy(access, needsKey: false).WithDisplayName("Firestarter readiness");
        group.MapGet("/firestarter/status", report.WriteAsync)
            .GuardedBy(access, needsKey: true).WithDisplayName("Firestarter status");
        group.MapGet("/firestarter", page.Serve(endpoints.CreateApplicationBuilder(), "index.html"))
            .GuardedBy(access, needsKey: false).WithDisplayName("Firestarter status page");
        foreach (var file in page.Files.GetDirectoryContents(string.Empty))
        {
            group.MapGet("/firestarter/" + file.Name, page.Serve(endpoints.CreateApplicationBuilder(), file.Name))
                .GuardedBy(access, needsKey: false).WithDisplayName("Firestarter status page " + file.Name);
        }

        var operations = services.GetRequiredService<IOptions<FirestarterOptions>>().Value.Operations;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Firestarter.Operations");
        Log.Mapped(logger, operations.Port is { } port ? $"port {port} only" : "every listener", access.RequiresKey, operations.SupervisorCluster);
        return group;
    }

    /// <summary>
    /// Lets only admin requests through <paramref name="app"/> (a branch such as the Prometheus scrape endpoint's):
    /// off <c>Firestarter:Operations:Port</c> it answers 404, and without <c>Firestarter:Operations:ApiKey</c>
    /// (sent as <c>X-Api-Key</c> or a bearer token) 401.
    /// </summary>
    public static IApplicationBuilder UseFirestarterAdminAccess(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var access = app.ApplicationServices.GetRequiredService<AdminAccess>();
        return app.Use(next => access.Guard(next, needsKey: true));
    }

    private static IEndpointConventionBuilder GuardedBy(this IEndpointConventionBuilder endpoint, AdminAccess access, bool needsKey)
    {
        endpoint.Add(access.Guards(needsKey));
        return endpoint;
    }

    private static HealthCheckOptions Health(string tag) => new()
    {
        Predicate = registration => registration.Tags.Contains(tag),
        ResponseWriter = WriteHealthAsync,
    };

    // The default writer gives only the status; an operator wants the reason of each check that is not healthy.
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        var text = new StringBuilder(report.Status.ToString());
        foreach (var (name, entry) in report.Entries)
        {
            if (entry.Status != HealthStatus.Healthy)
            {
                text.Append('\n').Append(name).Append(": ").Append(entry.Description);
            }
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.OperationsMapped, Level = LogLevel.Information,
            Message = "Admin endpoints (/healthz, /readyz, /firestarter, /firestarter/status) answer on {Listeners}; API key required: {ApiKeyRequired}; readiness follows cluster '{SupervisorCluster}'.")]
        public static partial void Mapped(ILogger logger, string listeners, bool apiKeyRequired, string supervisorCluster);
    }
}
