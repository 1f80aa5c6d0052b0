// ControllerFleet: N stand-in Trigger.dev run controllers, each idling in a warm container and long-polling the
// broker for its next run, as the real controller does between runs. Options come from the command line:
//   dotnet run --project samples/ControllerFleet -- --Count 3 --Broker=http://127.0.0.1:8080
using System.Globalization;
using System.Runtime.InteropServices;
using ControllerFleet;
using Microsoft.Extensions.Configuration;

var options = FleetOptions.Bind(new ConfigurationBuilder().AddCommandLine(args).Build());
if (options.Validate() is { } problem)
{
    Console.Error.WriteLine($"ControllerFleet: {problem}");
    return 2;
}

using var stop = new CancellationTokenSource();
// Ctrl+C (or SIGTERM) stops the fleet cleanly: held polls are aborted and running "executions" are cut short.
// A second Ctrl+C is left to the runtime, which ends the process at once.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var broker = new Uri(options.Broker);
var controllers = Enumerable.Range(1, options.Count)
    .Select(number => new RunController(number, options.Profiles[(number - 1) % options.Profiles.Count], broker, options.WorkerInstanceName))
    .ToList();
try
{
    Output.Line($"fleet: {controllers.Count} controllers polling {broker}; Ctrl+C to stop");
    await Task.WhenAll(controllers.Select(controller => controller.RunAsync(stop.Token)));
    Output.Line($"fleet: every controller has exited; {controllers.Sum(controller => controller.Runs)} runs warm-started in all");
}
finally
{
    foreach (var controller in controllers)
    {
        controller.Dispose();
    }
}

return 0;

void Stop(PosixSignalContext context)
{
    if (stop.IsCancellationRequested)
    {
        return;
    }

    context.Cancel = true;
    Output.Line("fleet: stopping");
    stop.Cancel();
}

/// <summary>Plain console output with a timestamp; Console.Out is synchronized, so controllers may write at once.</summary>
internal static class Output
{
    public static void Line(string text) =>
        Console.Out.WriteLine($"{DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)} {text}");
}
