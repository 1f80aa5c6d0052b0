using Microsoft.Extensions.Configuration;

namespace ControllerFleet;

/// <summary>
/// The fleet's options, bound from the command line: <c>--Count 3</c>, <c>--Broker=http://127.0.0.1:8080</c>,
/// <c>--Profiles:0:Deployment=deployment_x</c> and so on.
/// </summary>
internal sealed class FleetOptions
{
    /// <summary>The broker's base address (the real controller's <c>TRIGGER_WARM_START_URL</c>).</summary>
    public string Broker { get; set; } = "http://127.0.0.1:8080";

    /// <summary>How many controllers to run.</summary>
    public int Count { get; set; } = 4;

    /// <summary>
    /// What the controllers are: controller N takes profile (N - 1) modulo the number of profiles, so the default
    /// two profiles split the fleet between them. Empty means <see cref="ControllerProfile.Defaults"/>.
    /// </summary>
    public List<ControllerProfile> Profiles { get; set; } = [];

    /// <summary>Sent as <c>x-trigger-worker-instance-name</c> (the real one names the node the container runs on).</summary>
    public string WorkerInstanceName { get; set; } = Environment.MachineName;

    /// <summary>Binds the options and fills in the default profiles.</summary>
    public static FleetOptions Bind(IConfiguration configuration)
    {
        var options = configuration.Get<FleetOptions>() ?? new FleetOptions();
        // Defaults are added only after binding: the binder appends configured items to a list, so a list that
        // started with the defaults could never be replaced from the command line.
        if (options.Profiles.Count == 0)
        {
            options.Profiles.AddRange(ControllerProfile.Defaults());
        }

        return options;
    }

    /// <summary>Returns what is wrong with the options, or null when they are usable.</summary>
    public string? Validate()
    {
        if (!Uri.TryCreate(Broker, UriKind.Absolute, out var broker) || broker.Scheme is not ("http" or "https"))
        {
            return $"--Broker must be an absolute http(s) address (was '{Broker}').";
        }

        if (Count < 1)
        {
            return "--Count must be at least 1.";
        }

        if (string.IsNullOrWhiteSpace(WorkerInstanceName))
        {
            return "--WorkerInstanceName must not be empty.";
        }

        // Values are not checked further: they go to the broker as they are, as the real controller's do, so a bad
        // one shows how the broker refuses it.
        return Profiles.Exists(p => new[] { p.Deployment, p.Version, p.Cpu, p.Memory }.Any(string.IsNullOrWhiteSpace))
            ? "Every --Profiles:N needs a Deployment, a Version, a Cpu and a Memory."
            : null;
    }
}

/// <summary>
/// What a controller's container was built and sized for: the four values it polls with. Cpu and Memory are text,
/// sent as given, the way the real controller sends its <c>TRIGGER_MACHINE_CPU</c> and <c>TRIGGER_MACHINE_MEMORY</c>.
/// </summary>
internal sealed class ControllerProfile
{
    public string Deployment { get; set; } = "";

    public string Version { get; set; } = "";

    public string Cpu { get; set; } = "";

    public string Memory { get; set; } = "";

    /// <summary>The two profiles the StandInSupervisor sample also dispatches by default.</summary>
    public static IEnumerable<ControllerProfile> Defaults() =>
    [
        new() { Deployment = "deployment_demo_a", Version = "20261126.1", Cpu = "0.5", Memory = "1" },
        new() { Deployment = "deployment_demo_b", Version = "20261126.2", Cpu = "1", Memory = "2" },
    ];

    public override string ToString() => $"{Deployment}/{Version} cpu={Cpu} mem={Memory}";
}
