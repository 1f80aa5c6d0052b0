// Firestarter's host: YARP in front of the task platform, with the warm-start broker as the first step of YARP's
// proxy pipeline. Routes, clusters and broker options come from appsettings.json (at the repository root, copied
// beside the executable).
using Firestarter;
using Firestarter.ProxyHost;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

// Run socket completions on the socket engine's own threads instead of handing each one to the thread pool: with
// Kestrel's inline scheduling (Firestarter:ConfirmDelivery) a request then runs start to finish without a thread
// hop, the largest CPU saving measured (bench/RESULTS.md). The runtime reads this once, when the first socket is made, so it is set before anything else; set the variable
// to 0 in the environment to keep the thread-pool hand-off.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The configuration ships beside the executable, so the host finds it wherever it is started from.
    ContentRootPath = AppContext.BaseDirectory,
});

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    // Kestrel reads its endpoints from the "Kestrel" section but not its limits: bind those too, so header sizes
    // and counts (431 beyond them) are set in appsettings.json.
    builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
});
builder.Services.AddFirestarter(builder.Configuration);
// Kestrel's inline scheduling, for the whole application (this host serves only the broker and YARP, neither of which
// blocks a transport thread): a response flush then completes once the bytes are in the kernel, which the broker's
// handoff needs to answer didWarmStart:true only for a run that left the process (Firestarter:ConfirmDelivery), and a
// request runs without a thread-pool hop.
builder.Services.AddOptions<SocketTransportOptions>().Configure<IOptions<FirestarterOptions>>(
    (transport, firestarter) => transport.UnsafePreferInlineScheduling = firestarter.Value.ConfirmDelivery);
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
builder.AddTelemetry();

// YARP registers data protection for session-affinity keys, and data protection's hosted service builds its key ring
// at start: it makes and stores a key (files under ~/.aspnet) and loads OpenSSL (3.7 MB resident) in every process,
// though only a cluster with session affinity ever uses a key. Without that service the ring is built on first use.
// The service's type is internal, hence the name; if it changes, start-up is only eager again (a test notices).
if (builder.Services.FirstOrDefault(descriptor => descriptor.ServiceType == typeof(IHostedService)
    && descriptor.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService") is { } eagerKeyRing)
{
    builder.Services.Remove(eagerKeyRing);
}

var app = builder.Build();
// Authorization only for endpoints with authorization metadata (a route's AuthorizationPolicy), in the place
// WebApplication would put it for every request (AuthorizationWhereNeeded.cs).
app.UseAuthorizationWhereNeeded();
// With tracing on, drops the spans of parked polls and admin requests, found once routing has chosen the endpoint.
app.UseTracedRequestsOnly();
// Applies the routes' RateLimiterPolicy (Firestarter:RateLimits); routing runs first, so the route is known here.
// Only when a limit is on: with both off (the default) the policies are no-op limiters, and the middleware would
// still take a lease from one for every dispatch. The limits are read once at start, so this cannot miss a later change.
if (app.Services.GetRequiredService<IOptions<FirestarterOptions>>().Value.RateLimits
    is { Connect.PermitsPerSecond: > 0 } or { Dispatch.PermitsPerSecond: > 0 })
{
    app.UseRateLimiter();
}
// Admin endpoints (health, status, the status page, Prometheus' /metrics): on Firestarter:Operations:Port if set.
app.MapFirestarterOperations();
app.MapPrometheusScrapingEndpoint("/metrics", meterProvider: null, configureBranchedPipeline: branch => branch.UseFirestarterAdminAccess(), optionsName: null);
app.MapReverseProxy(proxy =>
{
    proxy.UseWarmStart();
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});
app.Run();

/// <summary>The host's entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
