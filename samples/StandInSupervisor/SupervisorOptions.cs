using System.Globalization;

namespace StandInSupervisor;

/// <summary>
/// The stand-in supervisor's options, bound from configuration, so from the command line as
/// <c>--Broker=http://127.0.0.1:8080</c>, <c>--ColdStart:DelayMs=3000</c>, <c>--Dispatch:IntervalMs=250</c> and so on.
/// </summary>
internal sealed class SupervisorOptions
{
    /// <summary>The broker's base address; runs are dispatched to its <c>POST /warm-start</c>.</summary>
    public string Broker { get; set; } = "http://127.0.0.1:8080";

    /// <summary>How the cold-start backend behaves (for fault demos).</summary>
    public ColdStartBackendOptions ColdStart { get; set; } = new();

    /// <summary>The fake run dispatcher.</summary>
    public DispatchOptions Dispatch { get; set; } = new();

    /// <summary>Binds the options and fills in the default profiles.</summary>
    public static SupervisorOptions Bind(IConfiguration configuration)
    {
        var options = configuration.Get<SupervisorOptions>() ?? new SupervisorOptions();
        // Defaults are added only after binding: the binder appends configured items to a list, so a list that
        // started with the defaults could never be replaced from the command line.
        if (options.Dispatch.Profiles.Count == 0)
        {
            options.Dispatch.Profiles.AddRange(RunProfile.Defaults());
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

        if (ColdStart.DelayMs < 0)
        {
            return "--ColdStart:DelayMs must not be negative.";
        }

        if (ColdStart.FailWith != 0 && ColdStart.FailWith is < 400 or > 599)
        {
            return "--ColdStart:FailWith must be an error status between 400 and 599 (or 0 for none).";
        }

        if (Dispatch.IntervalMs < 1)
        {
            return "--Dispatch:IntervalMs must be at least 1.";
        }

        foreach (var profile in Dispatch.Profiles)
        {
            if (string.IsNullOrWhiteSpace(profile.Deployment) || string.IsNullOrWhiteSpace(profile.Version))
            {
                return "Every --Dispatch:Profiles:N needs a Deployment and a Version.";
            }

            if (!double.IsFinite(profile.Cpu) || profile.Cpu < 0 || !double.IsFinite(profile.Memory) || profile.Memory < 0)
            {
                return $"Profile {profile}: Cpu and Memory must be non-negative numbers.";
            }
        }

        return null;
    }
}

/// <summary>Fault simulation for the cold-start backend.</summary>
internal sealed class ColdStartBackendOptions
{
    /// <summary>Wait this long before answering a cold start (to show the broker's forward timeout).</summary>
    public int DelayMs { get; set; }

    /// <summary>Answer cold starts with this error status instead of <c>{"didWarmStart":false}</c>; 0 for none.</summary>
    public int FailWith { get; set; }
}

/// <summary>The dispatcher: what it dequeues, and how often.</summary>
internal sealed class DispatchOptions
{
    /// <summary>False switches the dispatcher off; the backends still answer.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Time between two dispatches.</summary>
    public int IntervalMs { get; set; } = 1000;

    /// <summary>
    /// The deployments, versions and machines runs are made for, e.g.
    /// <c>--Dispatch:Profiles:0:Deployment=deployment_x --Dispatch:Profiles:0:Version=1 --Dispatch:Profiles:0:Cpu=2 --Dispatch:Profiles:0:Memory=4</c>.
    /// Empty means <see cref="RunProfile.Defaults"/>.
    /// </summary>
    public List<RunProfile> Profiles { get; set; } = [];
}

/// <summary>One kind of run: the four fields the broker matches on, plus a machine name for realism.</summary>
internal sealed class RunProfile
{
    public string Deployment { get; set; } = "";

    public string Version { get; set; } = "";

    public double Cpu { get; set; }

    public double Memory { get; set; }

    /// <summary>The machine preset's name; informational only (the broker matches on Cpu and Memory).</summary>
    public string Machine { get; set; } = "custom";

    /// <summary>The two profiles the ControllerFleet sample also defaults to, so the two match out of the box.</summary>
    public static IEnumerable<RunProfile> Defaults() =>
    [
        new() { Deployment = "deployment_demo_a", Version = "20261126.1", Cpu = 0.5, Memory = 1, Machine = "small-1x" },
        new() { Deployment = "deployment_demo_b", Version = "20261126.2", Cpu = 1, Memory = 2, Machine = "medium-1x" },
    ];

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Deployment}/{Version} cpu={Cpu} mem={Memory}");
}
