// The stand-in supervisor: plays the task platform's side of Firestarter on one machine.
//  - Dispatcher: offers a fake run to the broker's POST /warm-start every second and logs WARM START / COLD START.
//  - Cold-start backend (POST /cold-start/warm-start, POST /warm-start): where the broker, in Forward mode, sends a
//    run no controller was waiting for.
//  - Platform backend (any other request): the traffic the broker passes through to the supervisor.
// Options come from the command line (AddCommandLine is part of WebApplication's defaults), e.g.
//   dotnet run --project samples/StandInSupervisor -- --Dispatch:IntervalMs=250 --ColdStart:FailWith=500
using StandInSupervisor;

const string DefaultUrls = "http://127.0.0.1:8020";

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // Not the working directory: run from the repository root, that holds the broker's appsettings.json (and port).
    ContentRootPath = AppContext.BaseDirectory,
});

var options = SupervisorOptions.Bind(builder.Configuration);
if (options.Validate() is { } problem)
{
    Console.Error.WriteLine($"StandInSupervisor: {problem}");
    return 2;
}

// --urls (or ASPNETCORE_URLS) still wins; otherwise the port the broker's default configuration points at.
builder.WebHost.UseUrls(builder.Configuration["urls"] ?? DefaultUrls);
builder.Logging.ClearProviders().AddSimpleConsole(console =>
{
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss.fff ";
});
// Keep the framework quiet except for "Now listening on"; the demo's own lines are what matter.
builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

builder.Services.AddSingleton(options);
builder.Services.AddSingleton<SupervisorEndpoints>();
if (options.Dispatch.Enabled)
{
    builder.Services.AddHostedService<Dispatcher>();
}

var app = builder.Build();
var endpoints = app.Services.GetRequiredService<SupervisorEndpoints>();

// The broker's Forward mode sends cold starts to its dispatch route's cluster, by default http://127.0.0.1:8020/cold-start/,
// which makes /cold-start/warm-start; /warm-start is there too for a cluster configured without the prefix.
app.MapPost("/cold-start/warm-start", endpoints.ColdStartAsync);
app.MapPost("/warm-start", endpoints.ColdStartAsync);
// Lowest precedence: everything the routes above do not take, any method.
app.Map("/{**path}", endpoints.Platform);

app.Run();
return 0;
